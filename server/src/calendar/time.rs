//! The one place local school times become instants.
//!
//! The rule is RFC 5545's (section 3.3.5), so that what we book is what a
//! calendar program shows: a local time that occurs twice (the autumn
//! fall-back) means its **first** occurrence; a local time that does not
//! occur (the spring-forward gap) is read with the UTC offset in force
//! **before** the gap, which lands it just after the gap.

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Days, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Utc,
};

/// The instant of local `date` and `time` in `tz`, by the rule above.
pub fn local_to_utc(tz: chrono_tz::Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = NaiveDateTime::new(date, time);
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => first.min(second).with_timezone(&Utc),
        LocalResult::None => {
            // The offset before the gap is the offset a day earlier: no zone
            // changes its clocks twice within a day.
            let before = local.checked_sub_days(Days::new(1)).unwrap_or(local);
            let offset = tz.offset_from_utc_datetime(&before).fix();
            DateTime::from_naive_utc_and_offset(local - offset, Utc)
        }
    }
}

/// The UTC offset in force all through local `date`, or `None` on a day the
/// clocks change. With it, every time on that date converts by plain
/// arithmetic instead of a zone look-up each.
pub fn steady_offset(tz: chrono_tz::Tz, date: NaiveDate) -> Option<FixedOffset> {
    let midnight = NaiveDateTime::new(date, NaiveTime::MIN);
    let noon_guess = tz
        .offset_from_utc_datetime(&(midnight + Duration::hours(12)))
        .fix();
    let first = midnight - noon_guess;
    let last = first + Duration::days(1) - Duration::seconds(1);
    // Midnight must also be unambiguous: where clocks fall back from 01:00
    // to 00:00, the first 00:xx belongs to the offset before.
    let steady = tz.offset_from_utc_datetime(&first).fix() == noon_guess
        && tz.offset_from_utc_datetime(&last).fix() == noon_guess
        && tz
            .offset_from_utc_datetime(&(first - Duration::seconds(1)))
            .fix()
            == noon_guess;
    steady.then_some(noon_guess)
}

/// The local date and time of an instant in `tz`.
pub fn utc_to_local(tz: chrono_tz::Tz, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn the_uk_spring_gap_is_read_with_the_winter_offset() {
        // 29 March 2026: clocks go from 01:00 GMT to 02:00 BST.
        let at = local_to_utc(London, d("2026-03-29"), t("01:30"));
        assert_eq!(at.to_rfc3339(), "2026-03-29T01:30:00+00:00");
        assert_eq!(utc_to_local(London, at).time(), t("02:30"));
    }

    #[test]
    fn the_uk_autumn_repeat_means_the_first_occurrence() {
        // 25 October 2026: 01:00–02:00 happens twice, first in BST.
        let at = local_to_utc(London, d("2026-10-25"), t("01:30"));
        assert_eq!(at.to_rfc3339(), "2026-10-25T00:30:00+00:00");
    }

    #[test]
    fn only_clock_change_days_lack_a_steady_offset() {
        assert_eq!(
            steady_offset(London, d("2026-03-28")).map(|o| o.local_minus_utc()),
            Some(0)
        );
        assert_eq!(steady_offset(London, d("2026-03-29")), None);
        assert_eq!(
            steady_offset(London, d("2026-03-30")).map(|o| o.local_minus_utc()),
            Some(3600)
        );
        assert_eq!(steady_offset(London, d("2026-10-25")), None);
        assert_eq!(
            steady_offset(chrono_tz::Australia::Sydney, d("2026-04-05")),
            None
        );
    }

    #[test]
    fn ordinary_school_mornings_follow_the_season() {
        assert_eq!(
            local_to_utc(London, d("2026-03-27"), t("08:40")).to_rfc3339(),
            "2026-03-27T08:40:00+00:00"
        );
        assert_eq!(
            local_to_utc(London, d("2026-03-30"), t("08:40")).to_rfc3339(),
            "2026-03-30T07:40:00+00:00"
        );
        assert_eq!(
            local_to_utc(London, d("2026-10-26"), t("08:40")).to_rfc3339(),
            "2026-10-26T08:40:00+00:00"
        );
    }
}
