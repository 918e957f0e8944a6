//! How long aligning a full school year takes for 100 partnerships.
//!
//! Each school has six terms with half terms, five INSET days, bank holidays
//! (some only in one nation), a two-week timetable of seven periods a day,
//! and a time zone from a realistic mix (most in the UK, some abroad).
#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::hint::black_box;

use chrono::{Days, NaiveDate, NaiveTime, Weekday};
use criterion::{Criterion, criterion_group, criterion_main};
use mentorbridge::calendar::align::{SchoolSlotPolicy, Side, align_slots};
use mentorbridge::calendar::capacity::{CapacityPlan, Declared, SchoolCapacity};
use mentorbridge::calendar::model::{
    BellSchedule, CalendarEntry, CycleRule, EntryKind, Period, PeriodKind, SchoolCalendar,
    TeachingDays,
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// A two-week bell schedule: registration, five lessons and (in Week 1)
/// lunch, every weekday.
fn two_week_periods() -> Vec<Period> {
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let mut periods = Vec::new();
    for week in [1u8, 2] {
        for day in days {
            periods.push(Period {
                week: None,
                day,
                code: "REG".into(),
                start: hm(8, 40),
                end: hm(9, 5),
                kind: PeriodKind::Registration,
            });
            for (n, h) in [9u32, 10, 11, 13, 14].iter().enumerate() {
                periods.push(Period {
                    week: Some(week),
                    day,
                    code: format!("P{}", n + 1),
                    start: hm(*h, 5),
                    end: hm(*h + 1, 0),
                    kind: PeriodKind::Lesson,
                });
            }
            if week == 1 {
                periods.push(Period {
                    week: None,
                    day,
                    code: "LUN".into(),
                    start: hm(12, 5),
                    end: hm(13, 0),
                    kind: PeriodKind::Lunch,
                });
            }
        }
    }
    periods
}

fn school(i: usize) -> SchoolCalendar {
    let zones = [
        chrono_tz::Europe::London,
        chrono_tz::Europe::London,
        chrono_tz::Europe::London,
        chrono_tz::Europe::Dublin,
        chrono_tz::America::New_York,
        chrono_tz::Europe::London,
    ];
    let shift = Days::new((i % 3) as u64);
    let term = |a: NaiveDate, b: NaiveDate, label: &str| CalendarEntry {
        start: a + shift,
        end: b,
        kind: EntryKind::Term,
        label: label.into(),
    };
    let closure = |a: NaiveDate, label: &str| CalendarEntry {
        start: a,
        end: a,
        kind: EntryKind::Closure,
        label: label.into(),
    };
    let mut entries = vec![
        term(d(2026, 9, 2), d(2026, 10, 23), "Autumn 1"),
        term(d(2026, 11, 2), d(2026, 12, 18), "Autumn 2"),
        term(d(2027, 1, 5), d(2027, 2, 12), "Spring 1"),
        term(d(2027, 2, 22), d(2027, 3, 26), "Spring 2"),
        term(d(2027, 4, 12), d(2027, 5, 28), "Summer 1"),
        term(d(2027, 6, 7), d(2027, 7, 21), "Summer 2"),
        closure(d(2026, 9, 2), "INSET day"),
        closure(d(2026, 11, 2), "INSET day"),
        closure(d(2027, 1, 5), "INSET day"),
        closure(d(2027, 5, 3), "Early May bank holiday"),
        closure(d(2027, 7, 21), "INSET day"),
    ];
    if i % 4 == 1 {
        entries.push(closure(d(2027, 3, 17), "St Patrick's Day"));
    }
    let periods = two_week_periods();
    SchoolCalendar {
        tz: zones[i % zones.len()],
        entries,
        schedules: vec![BellSchedule {
            effective_from: d(2026, 9, 1),
            cycle_weeks: 2,
            periods,
        }],
        cycle: CycleRule::default(),
        days: TeachingDays::default(),
    }
}

fn policy() -> SchoolSlotPolicy {
    SchoolSlotPolicy {
        kinds: BTreeSet::from([PeriodKind::Registration]),
        codes: BTreeSet::from(["P1".to_owned()]),
        ..SchoolSlotPolicy::default()
    }
}

fn capacity() -> CapacityPlan {
    CapacityPlan {
        declared: vec![Declared {
            from: d(2026, 9, 1),
            capacity: SchoolCapacity {
                devices: 6,
                supervisors: vec!["teacher".into()],
                ..SchoolCapacity::default()
            },
        }],
    }
}

fn bench(c: &mut Criterion) {
    let schools: Vec<SchoolCalendar> = (0..200).map(school).collect();
    let policy = policy();
    let capacity = capacity();
    let names: Vec<String> = (0..200).map(|i| format!("school-{i}")).collect();
    let (from, to) = (d(2026, 9, 1), d(2027, 8, 31));
    let run = || {
        let mut slots = 0;
        for p in 0..100 {
            let (a, b) = (2 * p, 2 * p + 1);
            let r = align_slots(
                Side {
                    slug: &names[a],
                    name: &names[a],
                    calendar: &schools[a],
                    policy: &policy,
                    capacity: &capacity,
                },
                Side {
                    slug: &names[b],
                    name: &names[b],
                    calendar: &schools[b],
                    policy: &policy,
                    capacity: &capacity,
                },
                25,
                from,
                to,
            );
            slots += r.slots.len();
        }
        slots
    };
    assert!(run() > 10_000, "the instance should have many slots");
    c.bench_function("align a school year for 100 partnerships", |bench| {
        bench.iter(|| black_box(run()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
