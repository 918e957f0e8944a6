//! A school's calendar as local rules: terms and closures, bell schedules,
//! and which week of the timetable cycle each school week is.
//!
//! Everything here is in the school's own local dates and times; only
//! [`super::time::local_to_utc`] turns them into instants.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// What a timetabled period is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// Morning or afternoon registration.
    Registration,
    /// Tutor time (form time).
    Tutor,
    Lesson,
    Break,
    Lunch,
    /// Anything else (assembly, enrichment …).
    Other,
}

impl PeriodKind {
    /// Registration or tutor time: when every student is out of lessons,
    /// so a mentee can be booked without missing one.
    pub fn is_form_time(self) -> bool {
        matches!(self, PeriodKind::Registration | PeriodKind::Tutor)
    }

    /// Every kind, in the order people list them.
    pub const ALL: [PeriodKind; 6] = [
        PeriodKind::Registration,
        PeriodKind::Tutor,
        PeriodKind::Lesson,
        PeriodKind::Break,
        PeriodKind::Lunch,
        PeriodKind::Other,
    ];

    /// The name used in files and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Registration => "registration",
            PeriodKind::Tutor => "tutor",
            PeriodKind::Lesson => "lesson",
            PeriodKind::Break => "break",
            PeriodKind::Lunch => "lunch",
            PeriodKind::Other => "other",
        }
    }

    /// Parses a kind name (case-insensitive).
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim().to_ascii_lowercase();
        PeriodKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

impl fmt::Display for PeriodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One timetabled period on one weekday of one (or every) cycle week.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// The cycle week (1 = Week A), or `None` for every week.
    pub week: Option<u8>,
    pub day: Weekday,
    /// The school's code for the period, e.g. `REG`, `P1`.
    pub code: String,
    pub start: NaiveTime,
    /// Local end time (after `start`).
    pub end: NaiveTime,
    /// What it is for.
    pub kind: PeriodKind,
}

/// A bell schedule, in force from `effective_from` until the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BellSchedule {
    /// The first date it applies to.
    pub effective_from: NaiveDate,
    /// Weeks in the timetable cycle (1, or 2 for Week A/B, or more).
    pub cycle_weeks: u8,
    pub periods: Vec<Period>,
}

/// Whether a span of dates is teaching time or a closure within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A term (or half term): the school is open on its weekdays.
    Term,
    /// A closure: holiday, INSET day, bank holiday.
    Closure,
}

impl EntryKind {
    /// The name used in files and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Term => "term",
            EntryKind::Closure => "closure",
        }
    }
}

/// A name that is neither `term` nor `closure`.
#[derive(Debug)]
pub struct UnknownEntryKind;

impl std::str::FromStr for EntryKind {
    type Err = UnknownEntryKind;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        [EntryKind::Term, EntryKind::Closure]
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or(UnknownEntryKind)
    }
}

/// A term or a closure, from `start` to `end` inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
    pub kind: EntryKind,
    /// What people call it ("Autumn 1", "INSET day", "St Patrick's Day").
    pub label: String,
}

/// How the timetable cycle counts weeks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleRule {
    /// A date in Week 1 (Week A). Defaults to the first day of the first term.
    pub anchor: Option<NaiveDate>,
    /// Whether weeks with no teaching (holidays) still advance the cycle.
    /// Most UK schools say no: the week after half term carries on where the
    /// week before it left off.
    pub holidays_advance: bool,
    /// Weeks the school has declared by hand, by their Monday (1 = Week A).
    /// Counting carries on from an override.
    pub overrides: BTreeMap<NaiveDate, u8>,
}

/// Why a school is not teaching on a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DayStatus {
    InSession,
    /// Saturday or Sunday.
    Weekend,
    /// A closure within term.
    Closed {
        label: String,
    },
    Holiday,
}

/// One school's local rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchoolCalendar {
    /// The zone every local time is read in.
    pub tz: chrono_tz::Tz,
    pub entries: Vec<CalendarEntry>,
    /// Bell schedules, any order.
    pub schedules: Vec<BellSchedule>,
    pub cycle: CycleRule,
}

/// The Monday of `date`'s week.
pub fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

impl SchoolCalendar {
    /// Every period code of its bell schedules, once each, in order.
    pub fn period_codes(&self) -> Vec<String> {
        let codes: std::collections::BTreeSet<String> = self
            .schedules
            .iter()
            .flat_map(|s| s.periods.iter().map(|p| p.code.clone()))
            .collect();
        codes.into_iter().collect()
    }

    /// Whether the school teaches on `date`, and if not, why.
    pub fn day_status(&self, date: NaiveDate) -> DayStatus {
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            return DayStatus::Weekend;
        }
        if let Some(closure) = self
            .entries
            .iter()
            .find(|e| e.kind == EntryKind::Closure && e.start <= date && date <= e.end)
        {
            return DayStatus::Closed {
                label: closure.label.clone(),
            };
        }
        if self
            .entries
            .iter()
            .any(|e| e.kind == EntryKind::Term && e.start <= date && date <= e.end)
        {
            DayStatus::InSession
        } else {
            DayStatus::Holiday
        }
    }

    /// The bell schedule in force on `date`.
    pub fn schedule_for(&self, date: NaiveDate) -> Option<&BellSchedule> {
        self.schedules
            .iter()
            .filter(|s| s.effective_from <= date)
            .max_by_key(|s| s.effective_from)
    }

    fn is_school_week(&self, monday: NaiveDate) -> bool {
        (0..5).any(|i| self.day_status(monday + Days::new(i)) == DayStatus::InSession)
    }

    /// The Monday of Week A's first week: of the anchor date, or of the
    /// first day of the first term.
    pub fn anchor_monday(&self) -> Option<NaiveDate> {
        self.cycle
            .anchor
            .or_else(|| {
                self.entries
                    .iter()
                    .filter(|e| e.kind == EntryKind::Term)
                    .map(|e| e.start)
                    .min()
            })
            .map(monday_of)
    }

    /// The cycle week (1-based) of every school week from the anchor up to
    /// and including the week of `until`, keyed by Monday. Weeks with no
    /// teaching are absent unless holidays advance the cycle.
    pub fn cycle_weeks_until(&self, until: NaiveDate) -> BTreeMap<NaiveDate, u8> {
        let mut weeks = BTreeMap::new();
        let Some(anchor) = self.anchor_monday() else {
            return weeks;
        };
        let last = monday_of(until);
        let mut index: Option<u8> = None;
        let mut previous_len: Option<u8> = None;
        let mut monday = anchor;
        while monday <= last {
            // The cycle length is the one in force on the week's first
            // teaching day (a schedule may start midweek).
            let first_day = (0..5)
                .map(|i| monday + Days::new(i))
                .find(|d| self.day_status(*d) == DayStatus::InSession)
                .unwrap_or(monday);
            let len = self
                .schedule_for(first_day)
                .map_or(1, |s| s.cycle_weeks.max(1));
            // A new timetable with a different cycle starts again at Week A.
            if previous_len.is_some_and(|p| p != len) {
                index = None;
            }
            previous_len = Some(len);
            let counts = self.cycle.holidays_advance || self.is_school_week(monday);
            if let Some(&forced) = self.cycle.overrides.get(&monday) {
                index = Some(forced.saturating_sub(1) % len);
            } else if counts {
                index = Some(match index {
                    None => 0,
                    Some(i) => (i + 1) % len,
                });
            }
            if (counts || self.cycle.overrides.contains_key(&monday))
                && let Some(i) = index
            {
                weeks.insert(monday, i + 1);
            }
            monday = monday + Days::new(7);
        }
        weeks
    }

    /// Checks weeks set by hand against the timetable: each must fall on or
    /// after Week A's anchor and name a week the cycle in force has.
    pub fn check_overrides(&self) -> Result<(), String> {
        let anchor = self.anchor_monday();
        for (monday, week) in &self.cycle.overrides {
            if anchor.is_some_and(|a| *monday < a) {
                return Err(format!(
                    "the week of {monday} is before Week A's first week ({}); move the anchor or remove it",
                    anchor.map(|a| a.to_string()).unwrap_or_default()
                ));
            }
            let len = self
                .schedule_for(*monday + Days::new(4))
                .map_or(1, |s| s.cycle_weeks.max(1));
            if *week > len {
                return Err(format!(
                    "the week of {monday} is set to Week {}, but the timetable then has {len} week{}",
                    week_label(*week),
                    if len == 1 { "" } else { "s" }
                ));
            }
        }
        Ok(())
    }

    /// The cycle week of `date` (1 = Week A), if it is in a school week.
    pub fn cycle_week(&self, date: NaiveDate) -> Option<u8> {
        self.cycle_weeks_until(date).get(&monday_of(date)).copied()
    }
}

/// A cycle week as people say it: A, B, C … for up to 26 weeks.
pub fn week_label(week: u8) -> String {
    match week {
        1..=26 => char::from(b'A' + week - 1).to_string(),
        n => n.to_string(),
    }
}
