//! School calendars, and their alignment into bookable slots.
//!
//! Each school keeps its own local rules — terms and closures, bell
//! schedules with a Week A/B (or longer) cycle — in its own IANA zone
//! ([`model`]). Files come in through [`import`]; [`time`] is the one place
//! local times become instants; [`align`] turns two schools' rules and the
//! partnership's policy into concrete slots in UTC, each with both schools'
//! local view.
//!
//! # Layout
//! - this file: what people send (a slot policy, a cycle rule, a closure)
//!   and the rules those must keep, with no storage or HTTP;
//! - [`model`], [`time`], [`import`], [`align`]: local rules, the one
//!   local-to-UTC conversion, reading files, aligning two calendars;
//! - [`capacity`]: a school's iPads and supervisors, declared once and
//!   shared by all its partnerships;
//! - [`store`]: the calendar tables (`calendar_entries`, `bell_schedules`,
//!   `bell_periods`, `cycle_overrides`, `slot_policies`) and the steps that
//!   combine them (import a file, add a closure, align a partnership);
//! - [`http`]: the JSON API; [`pages`]: the calendar and slot-grid pages.

pub mod align;
pub mod capacity;
pub mod http;
pub mod import;
pub mod model;
pub mod pages;
pub mod store;
pub mod time;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::people::schools::School;
use align::{Alignment, SchoolSlotPolicy};
use model::{CycleRule, EntryKind};

/// A partnership's slot policy: session length and each school's share.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotPolicy {
    pub session_minutes: u32,
    /// Each school's eligible periods, by school id.
    pub schools: BTreeMap<Uuid, SchoolSlotPolicy>,
}

/// A slot policy as people write it: schools named by slug.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// Minutes per mentoring session (5 to 120).
    pub session_minutes: u32,
    /// Each school's share, by slug.
    pub schools: BTreeMap<String, SchoolSlotPolicy>,
}

/// Sessions shorter than five minutes are not mentoring, and longer than
/// two hours do not fit a school day's periods.
pub fn check_session_minutes(minutes: u32) -> Result<()> {
    if (5..=120).contains(&minutes) {
        Ok(())
    } else {
        Err(Error::invalid(
            "session_minutes",
            "must be between 5 and 120 minutes",
        ))
    }
}

/// Checks one school's share of a policy. The iPads and supervisors a
/// share once carried are the school's now; a script still sending them is
/// told where they went rather than having them ignored.
pub fn check_share(school: &School, share: &SchoolSlotPolicy) -> Result<()> {
    if let Some(field) = share.moved_field() {
        return Err(Error::invalid(
            field,
            format!(
                "{}: iPads and supervisors are the school's, shared by all its partnerships: \
                 set them once on the school's Mentoring capacity page (or with \
                 `mentorbridge school capacity`), not in each partnership's policy",
                school.name
            ),
        ));
    }
    Ok(())
}

/// A partnership's slots over a range, with what a page needs to show them.
#[derive(Debug, Serialize)]
pub struct PartnershipSlots {
    /// The school listed first.
    pub a: School,
    pub b: School,
    pub session_minutes: u32,
    /// The slots and the empty days.
    #[serde(flatten)]
    pub alignment: Alignment,
    /// When this was worked out.
    pub computed_at: DateTime<Utc>,
}

/// The `effective_from` of a bell schedule given no date: before any school
/// year mentorbridge will see, and a date every database can store.
pub fn since_always() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// How a school counts its cycle, as people write it: weeks by letter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleInput {
    /// A date in Week A; empty for the first day of the first term.
    #[serde(default)]
    pub anchor: Option<NaiveDate>,
    /// Whether holiday weeks advance the cycle.
    #[serde(default)]
    pub holidays_advance: bool,
    /// Weeks declared by hand: any date in the week, and its letter (or number).
    #[serde(default)]
    pub weeks: BTreeMap<NaiveDate, String>,
}

/// Parses a cycle rule, naming a bad week; a week set by hand is keyed by
/// its first day in a school that teaches `days`.
pub fn parse_cycle(input: &CycleInput, days: model::TeachingDays) -> Result<CycleRule> {
    let mut overrides = BTreeMap::new();
    for (date, label) in &input.weeks {
        let raw = label.trim().to_ascii_uppercase();
        let week = match (raw.parse::<u8>(), raw.as_bytes()) {
            (Ok(n), _) if (1..=26).contains(&n) => n,
            (_, [c @ b'A'..=b'Z']) => c - b'A' + 1,
            _ => {
                return Err(Error::invalid(
                    "weeks",
                    format!("`{label}` for the week of {date} is not a week; use A, B … or 1, 2 …"),
                ));
            }
        };
        overrides.insert(days.week_of(*date), week);
    }
    Ok(CycleRule {
        anchor: input.anchor,
        holidays_advance: input.holidays_advance,
        overrides,
    })
}

/// A stored term or closure, with the id that removing it needs.
#[derive(Clone, Debug, Serialize)]
pub struct StoredEntry {
    pub id: Uuid,
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    pub kind: EntryKind,
    pub label: String,
}

/// A closure as a coordinator adds one by hand (a snow day, a strike day).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureInput {
    pub start: NaiveDate,
    /// Last day (inclusive); the first day when left out.
    #[serde(default)]
    pub end: Option<NaiveDate>,
    pub label: String,
}

impl ClosureInput {
    /// The closure's last day and its trimmed label, once both are sound
    /// (whether it falls in a term needs the calendar: see
    /// [`store::add_closure`]).
    pub fn checked(&self) -> Result<(NaiveDate, &str)> {
        let end = self.end.unwrap_or(self.start);
        if end < self.start {
            return Err(Error::invalid(
                "end",
                format!("ends ({end}) before it starts ({})", self.start),
            ));
        }
        let label = self.label.trim();
        if label.is_empty() || label.chars().count() > 80 {
            return Err(Error::invalid(
                "label",
                "say what the closure is, in at most 80 characters",
            ));
        }
        if let Some(problem) = crate::text::one_line_problem(label) {
            return Err(Error::invalid("label", problem));
        }
        Ok((end, label))
    }
}
