//! Schools in different zones: clock changes and the date line.

use super::*;
use crate::calendar::align::{SchoolSlotPolicy, Side, align_slots};

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
        capacity: &FOUR_IPADS,
    };
    let side_b = Side {
        slug: "b",
        name: "B",
        calendar: &b,
        policy: &policy,
        capacity: &FOUR_IPADS,
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
                capacity: &FOUR_IPADS,
            },
            Side {
                slug: "brooklyn",
                name: "Brooklyn Prep",
                calendar: &new_york,
                policy: &ny_policy,
                capacity: &FOUR_IPADS,
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
                capacity: &FOUR_IPADS,
            },
            Side {
                slug: "sydney",
                name: "Sydney",
                calendar: &sydney,
                policy: &policy,
                capacity: &FOUR_IPADS,
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
                capacity: &FOUR_IPADS,
            },
            Side {
                slug: "la",
                name: "Los Angeles",
                calendar: &la,
                policy: &policy,
                capacity: &FOUR_IPADS,
            },
            20,
            d(date),
            d(date),
        )
        .empty_days
    };
    assert_eq!(
        run("2026-10-12")[0].reasons,
        vec!["Los Angeles: does not teach on Sundays".to_owned()]
    );
    assert_eq!(
        run("2026-10-13")[0].reasons,
        vec!["Los Angeles: closed (Staff day)".to_owned()]
    );
}
