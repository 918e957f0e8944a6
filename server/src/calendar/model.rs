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
    /// Weeks the school has declared by hand, by their first day (1 = Week A).
    /// Counting carries on from an override.
    pub overrides: BTreeMap<NaiveDate, u8>,
}

/// The days of the week a school teaches: Monday to Friday in most of the
/// world, Sunday to Thursday in much of the Middle East. The school's week
/// (the one its Week A/B cycle counts) starts on its first teaching day.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TeachingDays(u8);

/// Days people write them, for the messages that say which ones.
const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A weekday as files, forms and grids write it: "Sat".
pub fn short_day(day: Weekday) -> &'static str {
    DAY_NAMES[day.num_days_from_monday() as usize]
}

/// A weekday's whole name: "Saturday".
pub fn long_day(day: Weekday) -> &'static str {
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ][day.num_days_from_monday() as usize]
}

impl Default for TeachingDays {
    fn default() -> Self {
        Self::MONDAY_TO_FRIDAY
    }
}

impl TeachingDays {
    pub const MONDAY_TO_FRIDAY: TeachingDays = TeachingDays(0b001_1111);
    /// Every day of the week (tests, and files read before the school's
    /// days are known).
    pub const ALL: TeachingDays = TeachingDays(0b111_1111);

    /// The school teaches on these days; none is refused.
    pub fn of(days: impl IntoIterator<Item = Weekday>) -> Option<Self> {
        let bits = days
            .into_iter()
            .fold(0u8, |bits, d| bits | 1 << d.num_days_from_monday());
        (bits != 0).then_some(TeachingDays(bits))
    }

    /// Days as people write them: `Sun-Thu`, `Mon,Tue,Thu`, `monday-friday`.
    /// A range runs forward through the week and may wrap (`Sat-Wed`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut days = Vec::new();
        for part in raw
            .split([',', ' '])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let day = |s: &str| {
                super::import::parse_day(s)
                    .ok_or_else(|| format!("`{s}` is not a day of the week (Mon … Sun)"))
            };
            match part.split_once(['-', '–']) {
                Some((from, to)) => {
                    let (mut d, to) = (day(from)?, day(to)?);
                    days.push(d);
                    while d != to {
                        d = d.succ();
                        days.push(d);
                    }
                }
                None => days.push(day(part)?),
            }
        }
        Self::of(days).ok_or_else(|| "give at least one teaching day, e.g. Mon-Fri".to_owned())
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & 1 << day.num_days_from_monday() != 0
    }

    /// The first day of the school's week: the teaching day after its
    /// longest run of days off, its weekend (Sunday for Sunday to
    /// Thursday), or after the run with a Saturday or Sunday in it where
    /// two are as long; Monday for a school that never stops.
    pub fn first(self) -> Weekday {
        let mut best: Option<(Weekday, (u32, bool))> = None;
        for day in std::iter::successors(Some(Weekday::Mon), |d| Some(d.succ())).take(7) {
            if !self.contains(day) || self.contains(day.pred()) {
                continue;
            }
            let off: Vec<Weekday> = std::iter::successors(Some(day.pred()), |d| Some(d.pred()))
                .take_while(|d| !self.contains(*d))
                .collect();
            let weight = (
                off.len() as u32,
                off.iter().any(|d| matches!(d, Weekday::Sat | Weekday::Sun)),
            );
            if best.is_none_or(|(_, w)| weight > w) {
                best = Some((day, weight));
            }
        }
        best.map_or(Weekday::Mon, |(day, _)| day)
    }

    /// The teaching days in the order the school's week runs.
    pub fn in_order(self) -> Vec<Weekday> {
        let first = self.first();
        std::iter::successors(Some(first), |d| Some(d.succ()))
            .take(7)
            .filter(|d| self.contains(*d))
            .collect()
    }

    /// Both schools' days: what a partnership's week shows.
    pub fn union(self, other: TeachingDays) -> TeachingDays {
        TeachingDays(self.0 | other.0)
    }

    /// The first day of `date`'s school week.
    pub fn week_of(self, date: NaiveDate) -> NaiveDate {
        let back =
            (7 + date.weekday().num_days_from_monday() - self.first().num_days_from_monday()) % 7;
        date - Days::new(u64::from(back))
    }

    /// As it is stored: `Sun,Mon,Tue,Wed,Thu`, in the school's week order.
    pub fn as_stored(self) -> String {
        self.in_order()
            .iter()
            .map(|d| short_day(*d))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `Mon–Fri` for a run of days, `Mon, Wed, Fri` otherwise.
impl fmt::Display for TeachingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.in_order();
        let name = |d: &Weekday| short_day(*d);
        let run = days.windows(2).all(|w| w[0].succ() == w[1]);
        match (days.first(), days.last()) {
            (Some(first), Some(last)) if run && days.len() > 2 => {
                write!(f, "{}–{}", name(first), name(last))
            }
            _ => f.write_str(&days.iter().map(name).collect::<Vec<_>>().join(", ")),
        }
    }
}

impl fmt::Debug for TeachingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TeachingDays({})", self.as_stored())
    }
}

impl Serialize for TeachingDays {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_stored())
    }
}

impl<'de> Deserialize<'de> for TeachingDays {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        TeachingDays::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Why a school is not teaching on a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DayStatus {
    InSession,
    /// A day of the week the school does not teach (Saturday and Sunday,
    /// or Friday and Saturday).
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
    /// The days of the week it teaches.
    #[serde(default)]
    pub days: TeachingDays,
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
        if !self.days.contains(date.weekday()) {
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

    /// The first day of `date`'s school week: the Monday, or the Sunday of
    /// a school that teaches Sunday to Thursday. Cycle weeks are keyed by it.
    pub fn week_of(&self, date: NaiveDate) -> NaiveDate {
        self.days.week_of(date)
    }

    fn is_school_week(&self, start: NaiveDate) -> bool {
        (0..7).any(|i| self.day_status(start + Days::new(i)) == DayStatus::InSession)
    }

    /// The first day of Week A's first week: of the anchor date's week, or
    /// of the first term's first week.
    pub fn anchor_week(&self) -> Option<NaiveDate> {
        self.cycle
            .anchor
            .or_else(|| {
                self.entries
                    .iter()
                    .filter(|e| e.kind == EntryKind::Term)
                    .map(|e| e.start)
                    .min()
            })
            .map(|d| self.week_of(d))
    }

    /// The cycle week (1-based) of every school week from the anchor up to
    /// and including the week of `until`, keyed by the week's first day
    /// ([`Self::week_of`]). Weeks with no
    /// teaching are absent unless holidays advance the cycle.
    pub fn cycle_weeks_until(&self, until: NaiveDate) -> BTreeMap<NaiveDate, u8> {
        let mut weeks = BTreeMap::new();
        let Some(anchor) = self.anchor_week() else {
            return weeks;
        };
        let last = self.week_of(until);
        let mut index: Option<u8> = None;
        let mut previous_len: Option<u8> = None;
        let mut start = anchor;
        while start <= last {
            // The cycle length is the one in force on the week's first
            // teaching day (a schedule may start midweek).
            let first_day = (0..7)
                .map(|i| start + Days::new(i))
                .find(|d| self.day_status(*d) == DayStatus::InSession)
                .unwrap_or(start);
            let len = self
                .schedule_for(first_day)
                .map_or(1, |s| s.cycle_weeks.max(1));
            // A new timetable with a different cycle starts again at Week A.
            if previous_len.is_some_and(|p| p != len) {
                index = None;
            }
            previous_len = Some(len);
            let counts = self.cycle.holidays_advance || self.is_school_week(start);
            if let Some(&forced) = self.cycle.overrides.get(&start) {
                index = Some(forced.saturating_sub(1) % len);
            } else if counts {
                index = Some(match index {
                    None => 0,
                    Some(i) => (i + 1) % len,
                });
            }
            if (counts || self.cycle.overrides.contains_key(&start))
                && let Some(i) = index
            {
                weeks.insert(start, i + 1);
            }
            start = start + Days::new(7);
        }
        weeks
    }

    /// Checks weeks set by hand against the timetable: each must fall on or
    /// after Week A's anchor and name a week the cycle in force has.
    pub fn check_overrides(&self) -> Result<(), String> {
        let anchor = self.anchor_week();
        for (start, week) in &self.cycle.overrides {
            if anchor.is_some_and(|a| *start < a) {
                return Err(format!(
                    "the week of {start} is before Week A's first week ({}); move the anchor or remove it",
                    anchor.map(|a| a.to_string()).unwrap_or_default()
                ));
            }
            let len = self
                .schedule_for(*start + Days::new(6))
                .map_or(1, |s| s.cycle_weeks.max(1));
            if *week > len {
                return Err(format!(
                    "the week of {start} is set to Week {}, but the timetable then has {len} week{}",
                    week_label(*week),
                    if len == 1 { "" } else { "s" }
                ));
            }
        }
        Ok(())
    }

    /// The cycle week of `date` (1 = Week A), if it is in a school week.
    pub fn cycle_week(&self, date: NaiveDate) -> Option<u8> {
        self.cycle_weeks_until(date)
            .get(&self.week_of(date))
            .copied()
    }
}

/// A cycle week as people say it: A, B, C … for up to 26 weeks.
pub fn week_label(week: u8) -> String {
    match week {
        1..=26 => char::from(b'A' + week - 1).to_string(),
        n => n.to_string(),
    }
}
