//! How long a school's calendar feed of 2,000 sessions takes to write: 167
//! pairs' weekly series of twelve, in London time with its VTIMEZONE, one
//! session in seventeen cancelled (an override) and one in nineteen moved.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use mentorbridge::booking::{SessionNames, SessionStatus};
use mentorbridge::invites::series::{Instance, Transp, View};
use mentorbridge::invites::{Reader, feed};

fn bench(c: &mut Criterion) {
    let london = chrono_tz::Europe::London;
    let pairs = 2000 / 12 + 1;
    let names: Vec<SessionNames> = (0..pairs)
        .map(|i| SessionNames {
            mentee: format!("Mentee {i}"),
            mentee_school: "St Columba's College".into(),
            mentor: format!("Mentor {}", i / 2),
            mentor_school: "Hillside Academy".into(),
        })
        .collect();
    let uids: Vec<String> = (0..pairs)
        .map(|i| format!("series-{i:08}@mentorbridge"))
        .collect();
    let mut n = 0;
    let views: Vec<View<'_>> = (0..pairs)
        .map(|p| {
            // Weekdays in turn, 08:40 local, weekly from the autumn term
            // across the clock change, half term skipped.
            let first = london
                .with_ymd_and_hms(2026, 9, 7 + u32::try_from(p % 5).unwrap(), 8, 40, 0)
                .unwrap();
            let instances = (0..14)
                .filter(|w| *w != 7)
                .take(12)
                .filter_map(|w| {
                    n += 1;
                    (n <= 2000).then(|| {
                        let at = (first + Duration::weeks(w)).with_timezone(&Utc);
                        let local = first.naive_local() + Duration::weeks(w);
                        let recurrence = london
                            .from_local_datetime(&local)
                            .unwrap()
                            .with_timezone(&Utc);
                        let moved = n % 19 == 0;
                        let starts = if moved {
                            at + Duration::minutes(25)
                        } else {
                            recurrence
                        };
                        Instance {
                            recurrence,
                            starts,
                            ends: starts + Duration::minutes(20),
                            status: if n % 17 == 0 {
                                SessionStatus::Cancelled
                            } else if moved {
                                SessionStatus::Moved
                            } else {
                                SessionStatus::Scheduled
                            },
                            reason: (n % 17 == 0 || moved)
                                .then(|| "Mock exams, hall in use; sorry".to_owned()),
                        }
                    })
                })
                .collect();
            View {
                uid: &uids[p],
                sequence: i32::try_from(p % 3).unwrap(),
                names: &names[p],
                reader: Reader::Staff,
                tz: london,
                instances,
                transp: Transp::Transparent,
            }
        })
        .collect();
    assert_eq!(views.iter().map(|v| v.instances.len()).sum::<usize>(), 2000);
    let stamp = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    c.bench_function("school feed of 2,000 sessions in 167 series", |b| {
        b.iter(|| {
            feed(
                "Mentoring — Hillside Academy",
                london,
                black_box(&views),
                "https://mentorbridge.example",
                stamp,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
