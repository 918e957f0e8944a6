//! How long a school's calendar feed of 2,000 sessions takes to write.
#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use mentorbridge::booking::SessionNames;
use mentorbridge::booking::{Session, SessionStatus};
use mentorbridge::invites::{Entry, Reader, feed};
use uuid::Uuid;

fn bench(c: &mut Criterion) {
    let start = Utc.with_ymd_and_hms(2027, 1, 4, 8, 40, 0).unwrap();
    let sessions: Vec<Session> = (0..2000u128)
        .map(|i| {
            let starts_at = start + Duration::days(i64::try_from(i % 120).unwrap());
            Session {
                id: Uuid::from_u128(i),
                match_id: Uuid::from_u128(i / 12),
                partnership_id: Uuid::from_u128(1),
                mentee_id: Uuid::from_u128(10_000 + i / 12),
                mentor_id: Uuid::from_u128(20_000 + i / 24),
                uid: format!("{}@mentorbridge", Uuid::from_u128(i)),
                sequence: i32::try_from(i % 3).unwrap(),
                starts_at,
                ends_at: starts_at + Duration::minutes(20),
                slot_key: "hillside:A-Mon-TUT|st-columbas:A-Mon-FORM".into(),
                local: BTreeMap::new(),
                status: if i % 17 == 0 {
                    SessionStatus::Cancelled
                } else {
                    SessionStatus::Scheduled
                },
                reason: (i % 17 == 0).then(|| "Mock exams, hall in use; sorry".to_owned()),
                supervisors: Vec::new(),
                updated_at: start,
            }
        })
        .collect();
    let names: Vec<SessionNames> = (0..2000)
        .map(|i| SessionNames {
            mentee: format!("Mentee {i}"),
            mentee_school: "St Columba's College".into(),
            mentor: format!("Mentor {}", i / 2),
            mentor_school: "Hillside Academy".into(),
        })
        .collect();
    let entries: Vec<Entry<'_>> = sessions
        .iter()
        .zip(&names)
        .map(|(session, names)| Entry {
            session,
            names,
            reader: Reader::Staff,
        })
        .collect();
    let stamp = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    c.bench_function("school feed of 2,000 sessions", |b| {
        b.iter(|| {
            feed(
                "Mentoring — Hillside Academy",
                black_box(&entries),
                "https://mentorbridge.example",
                stamp,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
