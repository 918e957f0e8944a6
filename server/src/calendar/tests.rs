//! Calendar behaviour a coordinator would notice: which week is Week A, which
//! days have slots, and at what time each school sees them.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};
use proptest::prelude::*;

use super::align::{SchoolSlotPolicy, Side, align_slots};
use super::import::{parse_bells_csv, parse_term_csv};
use super::model::{BellSchedule, CycleRule, DayStatus, SchoolCalendar, monday_of};
use super::time::{local_to_utc, utc_to_local};

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
    )
    .unwrap();
    let bells = parse_bells_csv(
        "bells.csv",
        &format!("week,day,period,start,end,kind\n{bells}"),
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
        devices: 4,
        supervisors: vec!["teacher".into()],
        ..SchoolSlotPolicy::default()
    }
}

const AUTUMN_2026: &str =
    "2026-09-02,2026-10-23,term,Autumn 1\n2026-11-02,2026-12-18,term,Autumn 2\n";

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
        },
        Side {
            slug: "b",
            name: "Birch School",
            calendar: &other,
            policy: &policy,
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
        },
        Side {
            slug: "st-columbas",
            name: "St Columba's College",
            calendar: &ni,
            policy: &policy,
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
fn both_uk_clock_changes_keep_local_times_and_move_utc() {
    let terms = "2026-03-02,2026-03-31,term,Spring 2\n2026-10-12,2026-10-30,term,Autumn 1\n";
    let bells = weekdays("*,DAY,TUT,08:40,09:05,tutor");
    let a = calendar(chrono_tz::Europe::London, terms, &bells);
    let b = calendar(chrono_tz::Europe::London, terms, &bells);
    let policy = tutor_policy();
    let side_a = Side {
        slug: "a",
        name: "A",
        calendar: &a,
        policy: &policy,
    };
    let side_b = Side {
        slug: "b",
        name: "B",
        calendar: &b,
        policy: &policy,
    };
    let at = |date: &str| {
        let r = align_slots(side_a, side_b, 25, d(date), d(date));
        assert_eq!(r.slots.len(), 1, "{date}: {:?}", r.empty_days);
        let s = &r.slots[0];
        assert_eq!(
            (s.schools["a"].start, s.schools["b"].start),
            (t("08:40"), t("08:40"))
        );
        s.start_utc.to_rfc3339()
    };
    // Spring forward on Sunday 29 March 2026.
    assert_eq!(at("2026-03-27"), "2026-03-27T08:40:00+00:00");
    assert_eq!(at("2026-03-30"), "2026-03-30T07:40:00+00:00");
    // Fall back on Sunday 25 October 2026.
    assert_eq!(at("2026-10-23"), "2026-10-23T07:40:00+00:00");
    assert_eq!(at("2026-10-26"), "2026-10-26T08:40:00+00:00");
}

#[test]
fn a_new_york_partner_lines_up_except_in_the_weeks_the_clocks_disagree() {
    // Hillside's enrichment period (14:00–15:00 London) against a New York
    // school's advisory (09:00–10:00). The US springs forward on 8 March
    // 2026, the UK on 29 March: for three weeks the gap is four hours, not five.
    let terms = "2026-01-05,2026-06-26,term,Spring and Summer\n";
    let london = calendar(
        chrono_tz::Europe::London,
        terms,
        &weekdays("*,DAY,ENR,14:00,15:00,other"),
    );
    let new_york = calendar(
        chrono_tz::America::New_York,
        terms,
        &weekdays("*,DAY,ADV,09:00,10:00,tutor"),
    );
    let london_policy = SchoolSlotPolicy {
        codes: ["ENR".to_owned()].into(),
        ..tutor_policy()
    };
    let ny_policy = tutor_policy();
    let run = |date: &str| {
        align_slots(
            Side {
                slug: "hillside",
                name: "Hillside",
                calendar: &london,
                policy: &london_policy,
            },
            Side {
                slug: "brooklyn",
                name: "Brooklyn Prep",
                calendar: &new_york,
                policy: &ny_policy,
            },
            30,
            d(date),
            d(date),
        )
    };
    let winter = run("2026-03-02");
    assert_eq!(
        winter.slots[0].start_utc.to_rfc3339(),
        "2026-03-02T14:00:00+00:00"
    );
    assert_eq!(winter.slots[0].schools["brooklyn"].start, t("09:00"));

    let between = run("2026-03-16");
    assert!(between.slots.is_empty());
    assert!(
        between.empty_days[0].reasons[0].contains("do not overlap"),
        "{:?}",
        between.empty_days
    );

    let summer = run("2026-04-13");
    assert_eq!(
        summer.slots[0].start_utc.to_rfc3339(),
        "2026-04-13T13:00:00+00:00"
    );
    assert_eq!(summer.slots[0].schools["hillside"].start, t("14:00"));
    assert_eq!(summer.slots[0].schools["brooklyn"].start, t("09:00"));
}

#[test]
fn a_sydney_partner_meets_a_london_afternoon_across_both_hemispheres_changes() {
    // Sydney's clocks go back on 5 April 2026 while London's went forward on
    // 29 March: the difference is 11, then 10, then 9 hours.
    let terms = "2026-02-02,2026-12-18,term,School year\n";
    let london = calendar(
        chrono_tz::Europe::London,
        terms,
        &weekdays("*,DAY,REG,08:00,08:30,registration"),
    );
    let sydney = calendar(
        chrono_tz::Australia::Sydney,
        terms,
        &weekdays("*,DAY,ENR,17:00,19:00,tutor"),
    );
    let policy = tutor_policy();
    let start_in_sydney = |date: &str| {
        let r = align_slots(
            Side {
                slug: "london",
                name: "London",
                calendar: &london,
                policy: &policy,
            },
            Side {
                slug: "sydney",
                name: "Sydney",
                calendar: &sydney,
                policy: &policy,
            },
            30,
            d(date),
            d(date),
        );
        r.slots
            .first()
            .map(|s| (s.schools["sydney"].date, s.schools["sydney"].start))
    };
    assert_eq!(
        start_in_sydney("2026-03-23"),
        None,
        "19:00 in Sydney is 08:00 in London: they only touch"
    );
    assert_eq!(
        start_in_sydney("2026-03-31"),
        Some((d("2026-03-31"), t("18:00")))
    );
    assert_eq!(
        start_in_sydney("2026-04-07"),
        Some((d("2026-04-07"), t("17:00")))
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
        },
        Side {
            slug: "b",
            name: "B",
            calendar: &other,
            policy: &policy,
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
fn no_ipads_or_no_supervisor_at_one_end_means_no_slot_and_says_so() {
    let bells = weekdays("*,DAY,TUT,08:40,09:05,tutor");
    let a = calendar(chrono_tz::Europe::London, AUTUMN_2026, &bells);
    let b = calendar(chrono_tz::Europe::London, AUTUMN_2026, &bells);
    let full = tutor_policy();
    let mut no_ipads = tutor_policy();
    no_ipads.periods.insert(
        "TUT".into(),
        super::align::PeriodCapacity {
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
        },
        Side {
            slug: "b",
            name: "Birch",
            calendar: &b,
            policy: &no_ipads,
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
        },
        Side {
            slug: "b",
            name: "B",
            calendar: &b,
            policy: &policy,
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

#[test]
fn the_partners_reason_is_for_its_own_local_day_across_the_date_line() {
    // Auckland's Monday morning is Los Angeles' Sunday afternoon.
    let terms = "2026-09-01,2026-12-18,term,Term\n2026-10-12,2026-10-12,closure,Staff day\n";
    let auckland = calendar(
        chrono_tz::Pacific::Auckland,
        "2026-09-01,2026-12-18,term,Term\n",
        &weekdays("*,DAY,TUT,08:40,09:10,tutor"),
    );
    let la = calendar(
        chrono_tz::America::Los_Angeles,
        terms,
        &weekdays("*,DAY,ADV,13:00,14:30,tutor"),
    );
    let policy = tutor_policy();
    let run = |date: &str| {
        align_slots(
            Side {
                slug: "akl",
                name: "Auckland",
                calendar: &auckland,
                policy: &policy,
            },
            Side {
                slug: "la",
                name: "Los Angeles",
                calendar: &la,
                policy: &policy,
            },
            20,
            d(date),
            d(date),
        )
        .empty_days
    };
    assert_eq!(
        run("2026-10-12")[0].reasons,
        vec!["Los Angeles: weekend".to_owned()]
    );
    assert_eq!(
        run("2026-10-13")[0].reasons,
        vec!["Los Angeles: closed (Staff day)".to_owned()]
    );
}

#[test]
fn a_new_timetable_with_a_longer_cycle_starts_at_week_a_and_bad_overrides_are_refused() {
    let mut cal = calendar(
        chrono_tz::Europe::London,
        "2026-09-07,2027-03-26,term,Year\n",
        &weekdays("*,DAY,TUT,08:40,09:10,tutor"),
    );
    let two_week = parse_bells_csv("b.csv", "week,day,period,start,end,kind\nA,Mon,TUT,08:40,09:10,tutor\nB,Mon,TUT,08:40,09:10,tutor\n").unwrap();
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

fn london_or_new_york() -> impl Strategy<Value = chrono_tz::Tz> {
    prop_oneof![
        Just(chrono_tz::Europe::London),
        Just(chrono_tz::America::New_York),
        Just(chrono_tz::Australia::Sydney),
        Just(chrono_tz::Europe::Dublin),
    ]
}

proptest! {
    #[test]
    fn local_times_round_trip_except_in_a_gap_where_they_move_forward(
        tz in london_or_new_york(),
        day in 0u64..3650,
        minute in 0u32..1440,
    ) {
        let date = d("2020-01-01") + Days::new(day);
        let time = NaiveTime::from_num_seconds_from_midnight_opt(minute * 60, 0).unwrap();
        let back = utc_to_local(tz, local_to_utc(tz, date, time));
        let wanted = chrono::NaiveDateTime::new(date, time);
        let shift = back - wanted;
        prop_assert!(shift == chrono::Duration::zero() || shift == chrono::Duration::hours(1), "{wanted} came back as {back}");
    }

    #[test]
    fn every_slot_lies_inside_both_schools_eligible_periods_on_teaching_days(
        tz_a in london_or_new_york(),
        tz_b in london_or_new_york(),
        start_a in 420u32..900,
        start_b in 420u32..900,
        len in 20u32..120,
        session in 10u32..40,
        first in 0u64..300,
    ) {
        let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        let terms = "2026-01-05,2026-07-17,term,Spring\n2026-09-01,2026-12-18,term,Autumn\n2026-10-26,2026-10-30,closure,Half term\n";
        let a = calendar(tz_a, terms, &weekdays(&format!("*,DAY,P,{},{},tutor", hhmm(start_a), hhmm(start_a + len))));
        let b = calendar(tz_b, terms, &weekdays(&format!("*,DAY,P,{},{},tutor", hhmm(start_b), hhmm(start_b + len))));
        let policy = tutor_policy();
        let from = d("2026-01-01") + Days::new(first);
        let r = align_slots(
            Side { slug: "a", name: "A", calendar: &a, policy: &policy },
            Side { slug: "b", name: "B", calendar: &b, policy: &policy },
            session,
            from,
            from + Days::new(40),
        );
        for slot in &r.slots {
            prop_assert_eq!((slot.end_utc - slot.start_utc).num_minutes(), i64::from(session));
            for (key, cal, start) in [("a", &a, start_a), ("b", &b, start_b)] {
                let end = &slot.schools[key];
                prop_assert_eq!(cal.day_status(end.date), DayStatus::InSession);
                let p_start = local_to_utc(cal.tz, end.date, NaiveTime::from_num_seconds_from_midnight_opt(start * 60, 0).unwrap());
                let p_end = p_start + chrono::Duration::minutes(i64::from(len));
                prop_assert!(p_start <= slot.start_utc && slot.end_utc <= p_end);
            }
        }
        let mut seen: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        for slot in &r.slots {
            *seen.entry(slot.schools["a"].date).or_default() += 1;
        }
        for empty in &r.empty_days {
            prop_assert!(!seen.contains_key(&empty.date));
            prop_assert!(!empty.reasons.is_empty());
        }
    }

    #[test]
    fn without_overrides_consecutive_school_weeks_alternate(first in 0u64..200) {
        let cal = calendar(chrono_tz::Europe::London, "2026-01-05,2026-07-17,term,Spring\n2026-02-16,2026-02-20,closure,Half term\n",
            "A,Mon,P,09:00,10:00,lesson\nB,Mon,P,09:00,10:00,lesson");
        let from = monday_of(d("2026-01-05") + Days::new(first % 150));
        let weeks = cal.cycle_weeks_until(from + Days::new(28));
        let numbers: Vec<u8> = weeks.range(from..).map(|(_, w)| *w).collect();
        for pair in numbers.windows(2) {
            prop_assert_ne!(pair[0], pair[1]);
        }
        prop_assert!(weeks.keys().all(|m| m.weekday() == Weekday::Mon));
    }
}
