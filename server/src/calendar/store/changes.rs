//! The changes coordinators make to a school's calendar: importing a term
//! dates or bell schedule file, adding a closure by hand, setting how the
//! cycle counts. Each is all or nothing.

use chrono::NaiveDate;
use uuid::Uuid;

use super::insert_closure_in_tx;
use crate::calendar::model::{BellSchedule, EntryKind};
use crate::calendar::{ClosureInput, CycleInput, import, parse_cycle, since_always};
use crate::error::{Error, Result};
use crate::store::Store;

/// Reads a term-dates file (CSV, or iCalendar when it looks like one) and
/// replaces the school's terms and closures with it: all or nothing.
pub async fn import_term_dates(
    store: &Store,
    school: Uuid,
    file_name: &str,
    text: &str,
) -> Result<usize> {
    let head = text.trim_start_matches(['\u{feff}', ' ', '\r', '\n', '\t']);
    let looks_ics = head
        .get(..15)
        .is_some_and(|h| h.eq_ignore_ascii_case("BEGIN:VCALENDAR"));
    let entries = if looks_ics {
        import::parse_term_ics(file_name, text)?
    } else {
        import::parse_term_csv(file_name, text)?
    };
    store.replace_calendar_entries(school, &entries).await?;
    // Sessions on days the school no longer teaches (a closure the new file
    // brings, or a day now outside every term) are cancelled, saying why:
    // nobody should be told to join on a day the school is shut.
    store.cancel_on_days_off(school).await?;
    Ok(entries.len())
}

/// Reads a bell-schedule CSV and stores it from `effective_from` (the start
/// of time when not given): all or nothing.
pub async fn import_bells(
    store: &Store,
    school: Uuid,
    file_name: &str,
    text: &str,
    effective_from: Option<NaiveDate>,
) -> Result<BellSchedule> {
    let bells = import::parse_bells_csv(file_name, text)?;
    let schedule = BellSchedule {
        effective_from: effective_from.unwrap_or_else(since_always),
        cycle_weeks: bells.cycle_weeks,
        periods: bells.periods,
    };
    store.put_bell_schedule(school, &schedule).await?;
    Ok(schedule)
}

/// Adds a closure to a school's calendar. It must fall within a term, like
/// the closures in an imported file.
pub async fn add_closure(store: &Store, school: Uuid, input: &ClosureInput) -> Result<usize> {
    let (end, label) = input.checked()?;
    let calendar = store.school_calendar(school).await?;
    let in_term = calendar
        .entries
        .iter()
        .any(|e| e.kind == EntryKind::Term && e.start <= end && input.start <= e.end);
    if !in_term {
        return Err(Error::invalid(
            "start",
            "the closure falls outside every term; add the term dates first",
        ));
    }
    // The closure and the cancelling of the sessions on its days are one
    // step: both happen, or neither.
    let affected = store.sessions_on_days(school, input.start, end).await?;
    let reason = store.closure_reason(school, label).await?;
    let mut tx = store.begin().await?;
    insert_closure_in_tx(&mut tx, school, input.start, end, label).await?;
    let mut cancelled = 0;
    for id in affected {
        cancelled += crate::booking::store::cancel_in_tx(
            &mut tx,
            crate::booking::Cancel::Session(id),
            &reason,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(usize::try_from(cancelled).unwrap_or(usize::MAX))
}

/// Saves how a school counts its cycle, once the weeks set by hand have been
/// checked against its timetable.
pub async fn save_cycle(store: &Store, school: Uuid, input: &CycleInput) -> Result<()> {
    let rule = parse_cycle(input)?;
    let mut calendar = store.school_calendar(school).await?;
    calendar.cycle = rule.clone();
    calendar
        .check_overrides()
        .map_err(|message| Error::invalid("weeks", message))?;
    store.set_cycle_rule(school, &rule).await
}
