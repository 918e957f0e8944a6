//! Which sessions a change to a school's calendar takes: the one rule that
//! both the preview of a change ("this cancels 57 sessions of 9 pairs")
//! and the change itself use, so the two cannot disagree.
//!
//! A session is taken when the school's calendar as it stands had room for
//! it and the changed calendar has not: its day is no longer a school day
//! there (a closure, or outside every term), or no period of the bell
//! schedule in force that day holds its time any more. A session the old
//! calendar already had no room for (one booked by hand at another time)
//! is not the change's doing, and stays as it is.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::calendar::align::SlotEnd;
use crate::calendar::model::{DayStatus, SchoolCalendar, week_label};

/// A session a calendar change cancels (or, in a dry run, would cancel).
#[derive(Clone, Debug, Serialize)]
pub struct Cancellation {
    pub session_id: Uuid,
    pub match_id: Uuid,
    pub starts_at: DateTime<Utc>,
    /// Its date at the school whose calendar changes.
    pub date: NaiveDate,
    /// "08:40–09:00" at that school.
    pub time: String,
    /// The mentee's given name.
    pub mentee: String,
    /// The mentor's given name.
    pub mentor: String,
    /// What its cancellation says.
    pub reason: String,
}

/// Everything one calendar change cancels, earliest first.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Cancellations {
    /// How many sessions.
    pub sessions: usize,
    /// Of how many pairs.
    pub pairs: usize,
    pub cancels: Vec<Cancellation>,
}

impl Cancellations {
    pub fn new(mut cancels: Vec<Cancellation>) -> Self {
        cancels.sort_by_key(|c| (c.starts_at, c.session_id));
        let pairs: BTreeSet<Uuid> = cancels.iter().map(|c| c.match_id).collect();
        Cancellations {
            sessions: cancels.len(),
            pairs: pairs.len(),
            cancels,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.cancels.is_empty()
    }

    /// "57 sessions of 9 pairs", "1 session of 1 pair".
    pub fn counted(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{} of {}",
            plural(self.sessions, "session", "sessions"),
            plural(self.pairs, "pair", "pairs")
        )
    }

    /// A short digest of exactly which sessions these are. A confirmation
    /// carries it back, so a change confirmed after someone else booked or
    /// cancelled in between is shown again rather than applied.
    pub fn fingerprint(&self) -> String {
        let mut ids: Vec<Uuid> = self.cancels.iter().map(|c| c.session_id).collect();
        ids.sort();
        let mut hash = Sha256::new();
        for id in ids {
            hash.update(id.as_bytes());
        }
        hash.finalize()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Why `calendar` has no room at `school` for a session whose end there is
/// `end`, or `None` when it has.
fn no_room(calendar: &SchoolCalendar, school: &str, end: &SlotEnd) -> Option<String> {
    let date = end.date;
    match calendar.day_status(date) {
        DayStatus::InSession => {}
        DayStatus::Closed { label } => return Some(format!("{school} is closed: {label}")),
        DayStatus::Holiday => {
            return Some(format!(
                "{school} is not in term on {}",
                date.format("%a %-d %b %Y")
            ));
        }
        DayStatus::Weekend => {
            return Some(format!("{school} does not teach on {}s", date.format("%A")));
        }
    }
    let week = calendar.cycle_week(date);
    let schedule = calendar.schedule_for(date);
    let held = schedule.is_some_and(|schedule| {
        schedule.periods.iter().any(|p| {
            p.day == date.weekday()
                && p.week.is_none_or(|w| Some(w) == week)
                && p.start <= end.start
                && end.end <= p.end
        })
    });
    // A change of term dates can change which cycle week a date is in
    // (holidays do not count), so the week is worth naming.
    let which_week = match (schedule.map(|s| s.cycle_weeks), week) {
        (Some(2..), Some(w)) => format!(" (Week {})", week_label(w)),
        _ => String::new(),
    };
    (!held).then(|| {
        format!(
            "{school}'s bell schedule has no period at {}–{} on {}{which_week}",
            end.start.format("%H:%M"),
            end.end.format("%H:%M"),
            date.format("%a %-d %b %Y")
        )
    })
}

/// Whether changing a school's calendar from `old` to `new` takes a
/// session whose end at that school (named `school`) is `end`: the reason
/// its cancellation gives, or `None` when it stays.
pub fn taken_by_change(
    school: &str,
    end: &SlotEnd,
    old: &SchoolCalendar,
    new: &SchoolCalendar,
) -> Option<String> {
    match no_room(old, school, end) {
        Some(_) => None,
        None => no_room(new, school, end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::model::{
        BellSchedule, CalendarEntry, CycleRule, EntryKind, Period, PeriodKind, TeachingDays,
    };
    use chrono::{NaiveTime, Weekday};

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap_or_default()
    }

    fn calendar(term_end: &str, reg: &str) -> SchoolCalendar {
        SchoolCalendar {
            tz: chrono_tz::Europe::London,
            entries: vec![CalendarEntry {
                start: date("2027-01-04"),
                end: date(term_end),
                kind: EntryKind::Term,
                label: "Spring".into(),
            }],
            schedules: vec![BellSchedule {
                effective_from: date("2000-01-01"),
                cycle_weeks: 1,
                periods: vec![Period {
                    week: None,
                    day: Weekday::Mon,
                    code: "REG".into(),
                    start: time(reg),
                    end: time(reg) + chrono::Duration::minutes(20),
                    kind: PeriodKind::Registration,
                }],
            }],
            cycle: CycleRule::default(),
            days: TeachingDays::default(),
        }
    }

    fn end_on(day: &str, start: &str) -> SlotEnd {
        SlotEnd {
            date: date(day),
            start: time(start),
            end: time(start) + chrono::Duration::minutes(20),
            period: "REG".into(),
            kind: PeriodKind::Registration,
            week: "A".into(),
            devices: 2,
            supervisors: 1,
            supervision: 1,
        }
    }

    #[test]
    fn a_shorter_term_takes_the_sessions_after_it_and_leaves_the_rest() {
        let old = calendar("2027-03-26", "08:40");
        let new = calendar("2027-01-29", "08:40");
        assert_eq!(
            taken_by_change("Hillside", &end_on("2027-01-25", "08:40"), &old, &new),
            None
        );
        assert_eq!(
            taken_by_change("Hillside", &end_on("2027-02-01", "08:40"), &old, &new).as_deref(),
            Some("Hillside is not in term on Mon 1 Feb 2027")
        );
    }

    #[test]
    fn new_bells_take_the_sessions_no_period_holds_any_more() {
        let old = calendar("2027-03-26", "08:40");
        let new = calendar("2027-03-26", "08:50");
        assert!(
            taken_by_change("Hillside", &end_on("2027-01-25", "08:40"), &old, &new)
                .is_some_and(|r| r.contains("no period at 08:40–09:00"))
        );
    }

    #[test]
    fn a_session_the_old_calendar_had_no_room_for_is_not_the_changes_doing() {
        let old = calendar("2027-03-26", "08:40");
        let new = calendar("2027-01-29", "08:40");
        assert_eq!(
            taken_by_change("Hillside", &end_on("2027-02-01", "16:00"), &old, &new),
            None
        );
    }

    #[test]
    fn a_school_that_stops_teaching_mondays_takes_its_monday_sessions() {
        let old = calendar("2027-03-26", "08:40");
        let mut new = old.clone();
        new.days = TeachingDays::parse("Sun-Thu").unwrap();
        assert_eq!(
            taken_by_change("Hillside", &end_on("2027-01-25", "08:40"), &old, &new),
            None,
            "Sunday to Thursday still has Mondays"
        );
        new.days = TeachingDays::parse("Tue-Fri").unwrap();
        assert_eq!(
            taken_by_change("Hillside", &end_on("2027-01-25", "08:40"), &old, &new).as_deref(),
            Some("Hillside does not teach on Mondays")
        );
    }
}
