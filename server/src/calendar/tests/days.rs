//! Schools that do not teach Monday to Friday: their days, their weeks and
//! Week A/B, and the slots they share with a school that does.

use chrono::{Datelike, Weekday};

use super::*;
use crate::calendar::align::{Side, align_slots};
use crate::calendar::model::{DayStatus, PeriodKind};

fn days(raw: &str) -> TeachingDays {
    TeachingDays::parse(raw).unwrap()
}

#[test]
fn teaching_days_read_as_schools_write_them() {
    let sun_thu = days("Sun-Thu");
    assert_eq!(
        sun_thu.in_order(),
        [
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu
        ]
    );
    assert_eq!(sun_thu.first(), Weekday::Sun);
    assert_eq!(sun_thu.to_string(), "Sun–Thu");
    assert_eq!(sun_thu.as_stored(), "Sun,Mon,Tue,Wed,Thu");
    assert_eq!(days("sunday, monday,Tue, wed,THU"), sun_thu);
    assert_eq!(days("mon,wed,fri").to_string(), "Mon, Wed, Fri");
    assert_eq!(
        days("Sat-Wed").first(),
        Weekday::Sat,
        "a range may wrap the week"
    );
    assert_eq!(days("Mon-Fri"), TeachingDays::default());
    assert!(
        TeachingDays::parse("")
            .unwrap_err()
            .contains("at least one")
    );
    assert!(
        TeachingDays::parse("Mon-Funday")
            .unwrap_err()
            .contains("`Funday`")
    );
    assert_eq!(TeachingDays::ALL.first(), Weekday::Mon);
    // The week starts after the weekend, not after a day off midweek.
    assert_eq!(days("Mon,Wed,Fri").first(), Weekday::Mon);
    assert_eq!(days("Sun-Wed,Fri").first(), Weekday::Sun);
    assert_eq!(days("Mon-Tue,Thu-Sat").first(), Weekday::Mon);
}

#[test]
fn a_sunday_to_thursday_schools_week_starts_on_sunday() {
    let sun_thu = days("Sun-Thu");
    for date in ["2026-09-06", "2026-09-10", "2026-09-11", "2026-09-12"] {
        assert_eq!(sun_thu.week_of(d(date)), d("2026-09-06"), "{date}");
    }
    assert_eq!(sun_thu.week_of(d("2026-09-13")), d("2026-09-13"));
    assert_eq!(
        TeachingDays::default().week_of(d("2026-09-13")),
        d("2026-09-07")
    );
}

/// A Doha school: Sunday to Thursday, two-week timetable, lunch 11:30–12:15.
fn doha() -> SchoolCalendar {
    let bells: Vec<String> = ["A", "B"]
        .iter()
        .flat_map(|week| {
            ["Sun", "Mon", "Tue", "Wed", "Thu"]
                .map(|day| format!("{week},{day},LUNCH,11:30,12:15,lunch"))
        })
        .collect();
    let mut cal = calendar(
        chrono_tz::Asia::Qatar,
        "2026-08-30,2026-12-17,term,Term 1\n",
        &bells.join("\n"),
    );
    cal.days = days("Sun-Thu");
    cal
}

#[test]
fn week_a_and_b_change_on_sunday_where_the_school_week_starts_on_sunday() {
    let doha = doha();
    assert_eq!(
        doha.cycle_week(d("2026-08-30")),
        Some(1),
        "first Sunday of term"
    );
    assert_eq!(doha.cycle_week(d("2026-09-03")), Some(1), "its Thursday");
    // Counted from Mondays, this Sunday would still be in Week A.
    assert_eq!(doha.cycle_week(d("2026-09-06")), Some(2));
    assert_eq!(doha.cycle_week(d("2026-09-10")), Some(2));
    assert_eq!(doha.cycle_week(d("2026-09-13")), Some(1));
    assert_eq!(
        doha.day_status(d("2026-09-04")),
        DayStatus::Weekend,
        "Friday"
    );
    assert_eq!(
        doha.day_status(d("2026-09-06")),
        DayStatus::InSession,
        "Sunday"
    );
}

#[test]
fn a_sunday_to_thursday_school_shares_slots_with_a_monday_to_friday_one_monday_to_thursday() {
    let doha = doha();
    let london = calendar(
        chrono_tz::Europe::London,
        "2026-11-02,2026-12-18,term,Autumn 2\n",
        &weekdays("*,DAY,TUT,08:40,09:10,tutor"),
    );
    let lunch = SchoolSlotPolicy {
        kinds: [PeriodKind::Lunch].into(),
        ..SchoolSlotPolicy::default()
    };
    let tutor = tutor_policy();
    // Two weeks of winter, when London's 08:40 is Doha's 11:40.
    let found = align_slots(
        Side {
            slug: "doha",
            name: "Doha",
            calendar: &doha,
            policy: &lunch,
            capacity: &FOUR_IPADS,
        },
        Side {
            slug: "london",
            name: "London",
            calendar: &london,
            policy: &tutor,
            capacity: &FOUR_IPADS,
        },
        20,
        d("2026-11-08"),
        d("2026-11-21"),
    );
    let slot_days: Vec<Weekday> = found
        .slots
        .iter()
        .map(|s| s.schools["doha"].date.weekday())
        .collect();
    assert_eq!(slot_days.len(), 8, "Mon to Thu, two weeks: {slot_days:?}");
    assert!(slot_days.iter().all(|d| days("Mon-Thu").contains(*d)));
    let first = &found.slots[0];
    assert_eq!(
        (first.schools["doha"].start, first.schools["london"].start),
        (t("11:40"), t("08:40"))
    );
    // Doha's Sundays are school days London does not teach; its Fridays
    // and Saturdays are not school days at all.
    let sundays: Vec<_> = found
        .empty_days
        .iter()
        .map(|e| (e.date, e.reasons.clone()))
        .collect();
    assert_eq!(
        sundays,
        [d("2026-11-08"), d("2026-11-15")]
            .map(|date| (date, vec!["London: does not teach on Sundays".to_owned()]))
    );
}
