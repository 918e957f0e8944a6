//! Which week of the cycle a date is in, and which bell schedule applies.

use chrono::{NaiveDate, NaiveTime};

use super::*;
use crate::calendar::align::{Side, align_slots};
use crate::calendar::import::parse_bells_csv;
use crate::calendar::model::{BellSchedule, DayStatus};

#[test]
fn week_a_b_carries_on_across_a_half_term_that_is_not_a_whole_week() {
    // Half term runs Wednesday 28 October to Tuesday 3 November: the weeks
    // either side are partial school weeks and each still counts once.
    let terms = "2026-09-07,2026-10-27,term,Autumn 1\n2026-11-04,2026-12-18,term,Autumn 2\n";
    let cal = calendar(
        chrono_tz::Europe::London,
        terms,
        "A,Mon,P1,09:00,10:00,lesson\nB,Mon,P1,09:00,10:00,lesson",
    );
    assert_eq!(cal.cycle_week(d("2026-09-07")), Some(1));
    assert_eq!(cal.cycle_week(d("2026-09-14")), Some(2));
    // Week of 19 October is week 7 → A; week of 26 October (Mon–Tue taught) → B.
    assert_eq!(cal.cycle_week(d("2026-10-19")), Some(1));
    assert_eq!(cal.cycle_week(d("2026-10-26")), Some(2));
    // Week of 2 November (Wed–Fri taught) carries on: A.
    assert_eq!(cal.cycle_week(d("2026-11-04")), Some(1));
    assert_eq!(cal.day_status(d("2026-10-29")), DayStatus::Holiday);

    // A school whose holidays advance the cycle counts the calendar instead.
    let mut advancing = cal.clone();
    advancing.cycle.holidays_advance = true;
    assert_eq!(advancing.cycle_week(d("2026-11-04")), Some(1));
    let full_week_off =
        "2026-09-07,2026-10-23,term,Autumn 1\n2026-11-02,2026-12-18,term,Autumn 2\n";
    let mut cal = calendar(
        chrono_tz::Europe::London,
        full_week_off,
        "A,Mon,P1,09:00,10:00,lesson\nB,Mon,P1,09:00,10:00,lesson",
    );
    assert_eq!(cal.cycle_week(d("2026-10-19")), Some(1));
    assert_eq!(
        cal.cycle_week(d("2026-11-02")),
        Some(2),
        "the holiday week does not count"
    );
    cal.cycle.holidays_advance = true;
    assert_eq!(
        cal.cycle_week(d("2026-11-02")),
        Some(1),
        "the holiday week counts"
    );
}

#[test]
fn an_inset_day_on_the_first_monday_of_the_cycle_keeps_that_week_as_week_a() {
    let terms = "2026-09-07,2026-10-23,term,Autumn 1\n2026-09-07,2026-09-07,closure,INSET day\n";
    let cal = calendar(
        chrono_tz::Europe::London,
        terms,
        "A,Mon,TUT,08:40,09:05,tutor\nA,Tue,TUT,08:40,09:05,tutor\nB,Mon,TUT,08:40,09:05,tutor",
    );
    assert_eq!(
        cal.day_status(d("2026-09-07")),
        DayStatus::Closed {
            label: "INSET day".into()
        }
    );
    assert_eq!(cal.cycle_week(d("2026-09-08")), Some(1));
    assert_eq!(cal.cycle_week(d("2026-09-14")), Some(2));

    let other = calendar(
        chrono_tz::Europe::London,
        "2026-09-07,2026-10-23,term,Autumn 1\n",
        &weekdays("*,DAY,TUT,08:40,09:05,tutor"),
    );
    let policy = tutor_policy();
    let result = align_slots(
        Side {
            slug: "a",
            name: "Ash School",
            calendar: &cal,
            policy: &policy,
            capacity: &FOUR_IPADS,
        },
        Side {
            slug: "b",
            name: "Birch School",
            calendar: &other,
            policy: &policy,
            capacity: &FOUR_IPADS,
        },
        20,
        d("2026-09-07"),
        d("2026-09-08"),
    );
    assert_eq!(result.slots.len(), 1, "Tuesday only");
    assert_eq!(result.slots[0].schools["a"].week, "A");
    assert_eq!(
        result.empty_days[0].reasons,
        vec!["Ash School: closed (INSET day)".to_owned()]
    );
}

#[test]
fn a_bell_schedule_change_mid_term_applies_from_its_date_only() {
    let mut cal = calendar(
        chrono_tz::Europe::London,
        AUTUMN_2026,
        &weekdays("*,DAY,TUT,08:40,09:05,tutor"),
    );
    let later = parse_bells_csv(
        "new-bells.csv",
        &format!(
            "week,day,period,start,end,kind\n{}",
            weekdays("*,DAY,TUT,08:30,08:55,tutor")
        ),
        TeachingDays::default(),
    )
    .unwrap();
    cal.schedules.push(BellSchedule {
        effective_from: d("2026-11-02"),
        cycle_weeks: 1,
        periods: later.periods,
    });
    let other = calendar(
        chrono_tz::Europe::London,
        AUTUMN_2026,
        &weekdays("*,DAY,REG,08:30,09:10,registration"),
    );
    let policy = tutor_policy();
    let r = align_slots(
        Side {
            slug: "a",
            name: "A",
            calendar: &cal,
            policy: &policy,
            capacity: &FOUR_IPADS,
        },
        Side {
            slug: "b",
            name: "B",
            calendar: &other,
            policy: &policy,
            capacity: &FOUR_IPADS,
        },
        25,
        d("2026-10-23"),
        d("2026-11-02"),
    );
    let starts: Vec<(NaiveDate, NaiveTime)> = r
        .slots
        .iter()
        .map(|s| (s.schools["a"].date, s.schools["a"].start))
        .collect();
    assert_eq!(
        starts,
        vec![(d("2026-10-23"), t("08:40")), (d("2026-11-02"), t("08:30"))]
    );
}

#[test]
fn a_new_timetable_with_a_longer_cycle_starts_at_week_a_and_bad_overrides_are_refused() {
    let mut cal = calendar(
        chrono_tz::Europe::London,
        "2026-09-07,2027-03-26,term,Year\n",
        &weekdays("*,DAY,TUT,08:40,09:10,tutor"),
    );
    let two_week = parse_bells_csv("b.csv", "week,day,period,start,end,kind\nA,Mon,TUT,08:40,09:10,tutor\nB,Mon,TUT,08:40,09:10,tutor\n", TeachingDays::default()).unwrap();
    cal.schedules.push(BellSchedule {
        effective_from: d("2027-01-04"),
        cycle_weeks: 2,
        periods: two_week.periods,
    });
    assert_eq!(cal.cycle_week(d("2027-01-04")), Some(1));
    assert_eq!(cal.cycle_week(d("2027-01-11")), Some(2));
    cal.cycle.overrides.insert(d("2027-01-18"), 3);
    assert!(cal.check_overrides().unwrap_err().contains("Week C"));
    cal.cycle.overrides.clear();
    cal.cycle.overrides.insert(d("2026-08-31"), 1);
    assert!(cal.check_overrides().unwrap_err().contains("before Week A"));
}
