//! Calendar behaviour a coordinator would notice: which week is Week A, which
//! days have slots, and at what time each school sees them.

use chrono::{NaiveDate, NaiveTime};

use super::align::SchoolSlotPolicy;
use super::capacity::{CapacityPlan, Declared, SchoolCapacity};
use super::import::{parse_bells_csv, parse_term_csv};
use super::model::{BellSchedule, CycleRule, SchoolCalendar, TeachingDays};

mod cycle;
mod days;
mod properties;
mod slots;
mod zones;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn t(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap()
}

/// A calendar from the same CSV files a coordinator uploads.
fn calendar(tz: chrono_tz::Tz, terms: &str, bells: &str) -> SchoolCalendar {
    let entries = parse_term_csv(
        "terms.csv",
        &format!("start_date,end_date,kind,label\n{terms}"),
        crate::calendar::import::DateOrder::DayFirst,
    )
    .unwrap();
    let bells = parse_bells_csv(
        "bells.csv",
        &format!("week,day,period,start,end,kind\n{bells}"),
        TeachingDays::ALL,
    )
    .unwrap();
    SchoolCalendar {
        tz,
        entries,
        schedules: vec![BellSchedule {
            effective_from: d("2000-01-01"),
            cycle_weeks: bells.cycle_weeks,
            periods: bells.periods,
        }],
        cycle: CycleRule::default(),
        days: TeachingDays::default(),
    }
}

fn weekdays(day: &str) -> String {
    ["Mon", "Tue", "Wed", "Thu", "Fri"]
        .iter()
        .map(|d| day.replace("DAY", d))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tutor_policy() -> SchoolSlotPolicy {
    SchoolSlotPolicy {
        kinds: [
            super::model::PeriodKind::Tutor,
            super::model::PeriodKind::Registration,
        ]
        .into(),
        ..SchoolSlotPolicy::default()
    }
}

/// Four iPads and one supervisor in every period, from the start.
static FOUR_IPADS: std::sync::LazyLock<CapacityPlan> = std::sync::LazyLock::new(|| CapacityPlan {
    declared: vec![Declared {
        from: d("2000-01-01"),
        capacity: SchoolCapacity {
            devices: 4,
            supervisors: vec!["teacher".into()],
            ..SchoolCapacity::default()
        },
    }],
});

const AUTUMN_2026: &str =
    "2026-09-02,2026-10-23,term,Autumn 1\n2026-11-02,2026-12-18,term,Autumn 2\n";
