//! Times people name in a school's own timetable (a mentee's music lesson,
//! a mentor's free period), checked against its bell schedule, so that a
//! typo is refused instead of quietly meaning nothing.

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::Store;

/// A time in a school's timetable: the period `period` (or the whole day)
/// on `day` of cycle week `week` (or every week).
pub struct TimetableTime<'a> {
    /// A week letter (A, B …); none for every week.
    pub week: Option<&'a str>,
    /// Mon, Tue … as bell schedules have them.
    pub day: &'a str,
    /// A period code; none for the whole day.
    pub period: Option<&'a str>,
    /// The time in words, for the message.
    pub label: String,
}

/// What to do when the school has no bell schedule yet.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum WithoutSchedule {
    /// Refuse: nothing can be named before the timetable is known.
    Refuse,
    /// Accept, unchecked (the school imports its bells later).
    Accept,
}

/// Refuses, as an error on `field`, the first of `times` the school's
/// timetable does not have: a week beyond its cycle, a day without
/// periods, a period code it lacks that day (naming the ones it has).
pub async fn check_timetable_times(
    store: &Store,
    school: Uuid,
    field: &'static str,
    times: &[TimetableTime<'_>],
    without: WithoutSchedule,
) -> Result<()> {
    if times.is_empty() {
        return Ok(());
    }
    let calendar = store.school_calendar(school).await?;
    let name = store.school(school).await?.name;
    if calendar.schedules.is_empty() {
        return match without {
            WithoutSchedule::Accept => Ok(()),
            WithoutSchedule::Refuse => Err(Error::invalid(
                field,
                format!("{name} has no bell schedule yet: import it first"),
            )),
        };
    }
    let cycle = calendar
        .schedules
        .iter()
        .map(|s| s.cycle_weeks)
        .max()
        .unwrap_or(1);
    for t in times {
        let week = match t.week {
            None => None,
            Some(w) => {
                let n = w
                    .bytes()
                    .next()
                    .map_or(0, |b| b.to_ascii_uppercase().saturating_sub(b'A') + 1);
                if w.len() != 1 || n == 0 || n > cycle {
                    let weeks = if cycle == 1 {
                        "one week".to_owned()
                    } else {
                        format!(
                            "{cycle} weeks (Week A to Week {})",
                            char::from(b'A' + cycle - 1)
                        )
                    };
                    return Err(Error::invalid(
                        field,
                        format!("{}: {name}'s timetable has {weeks}", t.label),
                    ));
                }
                Some(n)
            }
        };
        let mut on_day: Vec<&str> = calendar
            .schedules
            .iter()
            .flat_map(|s| &s.periods)
            .filter(|p| {
                p.day.to_string() == t.day && (week.is_none() || p.week.is_none() || p.week == week)
            })
            .map(|p| p.code.as_str())
            .collect();
        if on_day.is_empty() {
            return Err(Error::invalid(
                field,
                format!(
                    "{}: {name}'s bell schedule has no periods that day",
                    t.label
                ),
            ));
        }
        if let Some(period) = t.period
            && !on_day.iter().any(|c| c.eq_ignore_ascii_case(period))
        {
            on_day.sort_unstable();
            on_day.dedup();
            return Err(Error::invalid(
                field,
                format!(
                    "{}: {name}'s bell schedule has no period {period} that day (it has {})",
                    t.label,
                    on_day.join(", ")
                ),
            ));
        }
    }
    Ok(())
}
