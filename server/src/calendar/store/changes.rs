//! The changes coordinators make to a school's calendar: importing a term
//! dates or bell schedule file, adding a closure by hand, setting how the
//! cycle counts. Each is all or nothing.
//!
//! A change that would cancel sessions can be tried first as a dry run,
//! which writes nothing and says which sessions it would cancel. The dry
//! run and the change itself work out the sessions with the one rule
//! ([`Store::sessions_taken_by`], booking's [`taken_by_change`]), from the
//! school's calendar as it is and as it would be; the change then writes
//! the calendar and cancels those sessions in one transaction.
//!
//! [`taken_by_change`]: crate::booking::change::taken_by_change

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::{insert_closure_in_tx, put_bell_schedule_in_tx, replace_entries_in_tx};
use crate::booking::change::Cancellations;
use crate::booking::store::cancel_taken_in_tx;
use crate::calendar::model::{
    BellSchedule, CalendarEntry, EntryKind, SchoolCalendar, TeachingDays,
};
use crate::calendar::{ClosureInput, CycleInput, import, parse_cycle, since_always};
use crate::error::{Error, Result};
use crate::people::schools::store::set_teaching_days_in_tx;
use crate::store::{Store, Tx};

/// What a calendar change cancelled or, in a dry run, would cancel.
#[derive(Clone, Debug, Serialize)]
pub struct CalendarChange {
    /// Nothing was written: `cancels` is what the change would cancel.
    pub dry_run: bool,
    /// `sessions`, `pairs` and the `cancels` themselves.
    #[serde(flatten)]
    pub cancellations: Cancellations,
}

/// Works out what changing `school`'s calendar from `old` to `new` takes
/// and, unless `dry_run`, writes the change (`write`) and cancels those
/// sessions in one transaction.
async fn change_calendar<W>(
    store: &Store,
    school: Uuid,
    old: &SchoolCalendar,
    new: &SchoolCalendar,
    dry_run: bool,
    write: W,
) -> Result<CalendarChange>
where
    W: AsyncFnOnce(&mut Tx) -> Result<()>,
{
    let cancellations = store.sessions_taken_by(school, old, new).await?;
    if !dry_run {
        let mut tx = store.begin().await?;
        write(&mut tx).await?;
        cancel_taken_in_tx(&mut tx, &cancellations).await?;
        tx.commit().await?;
    }
    Ok(CalendarChange {
        dry_run,
        cancellations,
    })
}

/// Reads a term-dates file (CSV, or iCalendar when it looks like one).
fn parse_term_dates(
    file_name: &str,
    text: &str,
    order: import::DateOrder,
) -> Result<Vec<CalendarEntry>> {
    let head = text.trim_start_matches(['\u{feff}', ' ', '\r', '\n', '\t']);
    let looks_ics = head
        .get(..15)
        .is_some_and(|h| h.eq_ignore_ascii_case("BEGIN:VCALENDAR"));
    Ok(if looks_ics {
        import::parse_term_ics(file_name, text)?
    } else {
        import::parse_term_csv(file_name, text, order)?
    })
}

/// Replaces the school's terms and closures with a term-dates file's (the
/// closures added by hand stay), and cancels the sessions on days the school
/// would no longer teach, each saying why: nobody should be told to join on
/// a day the school is shut. With `dry_run`, only says which. Returns how
/// many terms and closures the file holds.
pub async fn change_term_dates(
    store: &Store,
    school: Uuid,
    file_name: &str,
    text: &str,
    dry_run: bool,
) -> Result<(usize, CalendarChange)> {
    let order = import::DateOrder::of_country(&store.school(school).await?.country);
    let entries = parse_term_dates(file_name, text, order)?;
    let old = store.school_calendar(school).await?;
    let mut new = old.clone();
    new.entries = store.manual_closures(school).await?;
    new.entries.extend(entries.iter().cloned());
    let change = change_calendar(store, school, &old, &new, dry_run, async |tx: &mut Tx| {
        replace_entries_in_tx(tx, school, &entries).await
    })
    .await?;
    Ok((entries.len(), change))
}

/// [`change_term_dates`], not a dry run: returns how many terms and
/// closures were imported.
pub async fn import_term_dates(
    store: &Store,
    school: Uuid,
    file_name: &str,
    text: &str,
) -> Result<usize> {
    Ok(change_term_dates(store, school, file_name, text, false)
        .await?
        .0)
}

/// Reads a bell-schedule CSV and stores it from `effective_from` (the start
/// of time when not given), cancelling the sessions no period of it holds
/// any more; with `dry_run`, only says which.
pub async fn change_bells(
    store: &Store,
    school: Uuid,
    file_name: &str,
    text: &str,
    effective_from: Option<NaiveDate>,
    dry_run: bool,
) -> Result<(BellSchedule, CalendarChange)> {
    let old = store.school_calendar(school).await?;
    let bells = import::parse_bells_csv(file_name, text, old.days)?;
    let schedule = BellSchedule {
        effective_from: effective_from.unwrap_or_else(since_always),
        cycle_weeks: bells.cycle_weeks,
        periods: bells.periods,
    };
    let mut new = old.clone();
    new.schedules
        .retain(|s| s.effective_from != schedule.effective_from);
    new.schedules.push(schedule.clone());
    let change = change_calendar(store, school, &old, &new, dry_run, async |tx: &mut Tx| {
        put_bell_schedule_in_tx(tx, school, &schedule).await
    })
    .await?;
    Ok((schedule, change))
}

/// [`change_bells`], not a dry run: returns the schedule stored.
pub async fn import_bells(
    store: &Store,
    school: Uuid,
    file_name: &str,
    text: &str,
    effective_from: Option<NaiveDate>,
) -> Result<BellSchedule> {
    Ok(
        change_bells(store, school, file_name, text, effective_from, false)
            .await?
            .0,
    )
}

/// Adds a closure to a school's calendar, and cancels the sessions on its
/// days; with `dry_run`, only says which. It must fall within a term, like
/// the closures in an imported file.
pub async fn change_closure(
    store: &Store,
    school: Uuid,
    input: &ClosureInput,
    dry_run: bool,
) -> Result<CalendarChange> {
    let (end, label) = input.checked()?;
    let old = store.school_calendar(school).await?;
    let in_term = old
        .entries
        .iter()
        .any(|e| e.kind == EntryKind::Term && e.start <= end && input.start <= e.end);
    if !in_term {
        return Err(Error::invalid(
            "start",
            "the closure falls outside every term; add the term dates first",
        ));
    }
    let mut new = old.clone();
    new.entries.push(CalendarEntry {
        start: input.start,
        end,
        kind: EntryKind::Closure,
        label: label.to_owned(),
    });
    change_calendar(store, school, &old, &new, dry_run, async |tx: &mut Tx| {
        insert_closure_in_tx(tx, school, input.start, end, label).await
    })
    .await
}

/// Sets the days of the week a school teaches, and cancels the sessions on
/// the days it stops teaching; with `dry_run`, only says which. Its Week
/// A/B cycle then counts weeks from the first of them (Sunday for Sunday to
/// Thursday); a bell schedule's periods on a day it does not teach are not
/// used until it teaches that day again.
pub async fn change_teaching_days(
    store: &Store,
    school: Uuid,
    days: TeachingDays,
    dry_run: bool,
) -> Result<CalendarChange> {
    let old = store.school_calendar(school).await?;
    let mut new = old.clone();
    new.days = days;
    new.cycle.overrides = old
        .cycle
        .overrides
        .iter()
        .map(|(start, week)| (days.week_of(*start), *week))
        .collect();
    let stored = days.as_stored();
    change_calendar(store, school, &old, &new, dry_run, async |tx: &mut Tx| {
        set_teaching_days_in_tx(tx, school, &stored).await
    })
    .await
}

/// [`change_closure`], not a dry run: returns how many sessions it
/// cancelled.
pub async fn add_closure(store: &Store, school: Uuid, input: &ClosureInput) -> Result<usize> {
    Ok(change_closure(store, school, input, false)
        .await?
        .cancellations
        .sessions)
}

/// Saves how a school counts its cycle, once the weeks set by hand have been
/// checked against its timetable.
pub async fn save_cycle(store: &Store, school: Uuid, input: &CycleInput) -> Result<()> {
    let mut calendar = store.school_calendar(school).await?;
    let rule = parse_cycle(input, calendar.days)?;
    calendar.cycle = rule.clone();
    calendar
        .check_overrides()
        .map_err(|message| Error::invalid("weeks", message))?;
    store.set_cycle_rule(school, &rule).await
}
