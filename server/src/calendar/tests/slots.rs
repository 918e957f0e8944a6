//! Which days have slots, and why the others have none.

use chrono::NaiveDate;

use super::*;
use crate::calendar::align::{Side, align_slots};

#[test]
fn a_bank_holiday_in_one_uk_nation_only_removes_that_days_slots() {
    // St Patrick's Day is a bank holiday in Northern Ireland, not in England.
    let spring = "2027-01-05,2027-03-26,term,Spring\n";
    let bells = weekdays("*,DAY,REG,08:45,09:10,registration");
    let england = calendar(chrono_tz::Europe::London, spring, &bells);
    let ni = calendar(
        chrono_tz::Europe::London,
        &format!("{spring}2027-03-17,2027-03-17,closure,St Patrick's Day\n"),
        &bells,
    );
    let policy = tutor_policy();
    let result = align_slots(
        Side {
            slug: "hillside",
            name: "Hillside Academy",
            calendar: &england,
            policy: &policy,
            capacity: &FOUR_IPADS,
        },
        Side {
            slug: "st-columbas",
            name: "St Columba's College",
            calendar: &ni,
            policy: &policy,
            capacity: &FOUR_IPADS,
        },
        25,
        d("2027-03-15"),
        d("2027-03-19"),
    );
    let days: Vec<NaiveDate> = result
        .slots
        .iter()
        .map(|s| s.schools["hillside"].date)
        .collect();
    assert_eq!(
        days,
        vec![
            d("2027-03-15"),
            d("2027-03-16"),
            d("2027-03-18"),
            d("2027-03-19")
        ]
    );
    assert_eq!(result.empty_days.len(), 1);
    assert_eq!(result.empty_days[0].date, d("2027-03-17"));
    assert_eq!(
        result.empty_days[0].reasons,
        vec!["St Columba's College: closed (St Patrick's Day)".to_owned()]
    );
}

#[test]
fn no_ipads_or_no_supervisor_at_one_end_means_no_slot_and_says_so() {
    let bells = weekdays("*,DAY,TUT,08:40,09:05,tutor");
    let a = calendar(chrono_tz::Europe::London, AUTUMN_2026, &bells);
    let b = calendar(chrono_tz::Europe::London, AUTUMN_2026, &bells);
    let full = tutor_policy();
    let mut no_ipads = FOUR_IPADS.clone();
    no_ipads.declared[0].capacity.periods.insert(
        "TUT".into(),
        crate::calendar::capacity::PeriodCapacity {
            devices: Some(0),
            supervisors: None,
        },
    );
    let r = align_slots(
        Side {
            slug: "a",
            name: "Ash",
            calendar: &a,
            policy: &full,
            capacity: &FOUR_IPADS,
        },
        Side {
            slug: "b",
            name: "Birch",
            calendar: &b,
            policy: &full,
            capacity: &no_ipads,
        },
        20,
        d("2026-09-07"),
        d("2026-09-07"),
    );
    assert!(r.slots.is_empty());
    assert_eq!(
        r.empty_days[0].reasons,
        vec!["Birch: no iPads for mentoring in TUT".to_owned()]
    );
}

#[test]
fn a_partner_with_no_eligible_period_that_day_is_named_not_blamed_on_overlap() {
    let bells_a = weekdays("*,DAY,TUT,08:40,09:10,tutor");
    let a = calendar(chrono_tz::Europe::London, AUTUMN_2026, &bells_a);
    let b = calendar(
        chrono_tz::Europe::London,
        AUTUMN_2026,
        "*,Tue,TUT,08:40,09:10,tutor\n*,Thu,TUT,08:40,09:10,tutor",
    );
    let policy = tutor_policy();
    let r = align_slots(
        Side {
            slug: "a",
            name: "A",
            calendar: &a,
            policy: &policy,
            capacity: &FOUR_IPADS,
        },
        Side {
            slug: "b",
            name: "B",
            calendar: &b,
            policy: &policy,
            capacity: &FOUR_IPADS,
        },
        20,
        d("2026-09-14"),
        d("2026-09-14"),
    );
    assert_eq!(
        r.empty_days[0].reasons,
        vec!["B: no eligible period on Mondays".to_owned()]
    );
}
