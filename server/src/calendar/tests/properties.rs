//! Properties that hold for any dates: round trips, slots inside periods, A/B alternation.

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};
use proptest::prelude::*;
use std::collections::BTreeMap;

use super::*;
use crate::calendar::align::{Side, align_slots};

use crate::calendar::model::{DayStatus, monday_of};
use crate::calendar::time::{local_to_utc, utc_to_local};

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
            Side { slug: "a", name: "A", calendar: &a, policy: &policy, capacity: &FOUR_IPADS },
            Side { slug: "b", name: "B", calendar: &b, policy: &policy, capacity: &FOUR_IPADS },
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
