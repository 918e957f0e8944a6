//! Aligning two schools' calendars into concrete bookable slots.
//!
//! For each date in the range (the first school's local dates), each school's
//! eligible periods become UTC windows through [`local_to_utc`]; a slot is
//! any pair of windows that overlap for at least the session length, with
//! iPads and a supervisor free at both ends. Working in UTC is what makes two
//! schools in zones that change their clocks on different dates line up.
//! Days with no slot say why, so a coordinator can see that a week is empty
//! because of a closure at the other school rather than a bug.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, Duration, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::capacity::{CapacityPlan, SchoolCapacity};
use super::model::{DayStatus, Period, PeriodKind, SchoolCalendar, week_label};
use super::time::{local_to_utc, steady_offset, utc_to_local};

/// Which periods at one school may host a partnership's mentoring. What
/// the school has in them (iPads, supervisors) is the school's own, in
/// [`super::capacity`], shared by all its partnerships.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolSlotPolicy {
    /// Kinds of period that may host sessions (e.g. registration, tutor).
    #[serde(default)]
    pub kinds: BTreeSet<PeriodKind>,
    /// Period codes that may host sessions, besides those of `kinds`.
    #[serde(default)]
    pub codes: BTreeSet<String>,
    /// Whether this school's students wait in a call until a supervisor
    /// is in it (default yes). A partnership's calls wait if either school
    /// says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_supervisor: Option<bool>,
    /// Capacity fields a policy held before they became the school's: read
    /// so that a script still sending them is told where they went.
    #[serde(
        default,
        skip_serializing,
        rename = "devices",
        deserialize_with = "present"
    )]
    pub moved_devices: bool,
    #[serde(
        default,
        skip_serializing,
        rename = "supervisors",
        deserialize_with = "present"
    )]
    pub moved_supervisors: bool,
    #[serde(
        default,
        skip_serializing,
        rename = "pairs_per_supervisor",
        deserialize_with = "present"
    )]
    pub moved_pairs: bool,
    #[serde(
        default,
        skip_serializing,
        rename = "periods",
        deserialize_with = "present"
    )]
    pub moved_periods: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

impl SchoolSlotPolicy {
    fn eligible(&self, period: &Period) -> bool {
        self.kinds.contains(&period.kind) || self.codes.contains(&period.code)
    }

    /// Whether students wait for a supervisor before a call starts.
    pub fn require_supervisor(&self) -> bool {
        self.require_supervisor.unwrap_or(true)
    }

    /// The capacity field this share still carries from before capacity
    /// was the school's, if any.
    pub fn moved_field(&self) -> Option<&'static str> {
        [
            (self.moved_devices, "devices"),
            (self.moved_supervisors, "supervisors"),
            (self.moved_pairs, "pairs_per_supervisor"),
            (self.moved_periods, "periods"),
        ]
        .into_iter()
        .find_map(|(moved, name)| moved.then_some(name))
    }

    /// The share without the fields that moved (as a stored share written
    /// before the move is read).
    #[must_use]
    pub fn without_moved(self) -> SchoolSlotPolicy {
        SchoolSlotPolicy {
            kinds: self.kinds,
            codes: self.codes,
            require_supervisor: self.require_supervisor,
            ..SchoolSlotPolicy::default()
        }
    }
}

/// One school as alignment sees it.
#[derive(Clone, Copy, Debug)]
pub struct Side<'a> {
    /// The school's slug (the key of its half of each slot).
    pub slug: &'a str,
    /// The school's name, for reasons.
    pub name: &'a str,
    pub calendar: &'a SchoolCalendar,
    /// Its share of the partnership's policy.
    pub policy: &'a SchoolSlotPolicy,
    /// Its iPads and supervisors, shared by all its partnerships.
    pub capacity: &'a CapacityPlan,
}

/// One school's end of a slot, in its own local time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotEnd {
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub period: String,
    /// What the period is for (a mentee is free in registration and tutor
    /// time; a mentor also needs it among their free periods).
    pub kind: PeriodKind,
    /// The cycle week, as a letter (A, B …).
    pub week: String,
    pub devices: u32,
    /// Staff who can supervise.
    pub supervisors: u32,
    /// Pairs those supervisors can watch at once between them.
    #[serde(default)]
    pub supervision: u32,
}

/// A bookable slot: both schools in session, both windows overlapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub start_utc: DateTime<Utc>,
    /// When it ends (start plus the session length).
    pub end_utc: DateTime<Utc>,
    /// Each school's end, keyed by slug.
    pub schools: BTreeMap<String, SlotEnd>,
}

/// A date with no slot, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoSlot {
    /// The first school's local date.
    pub date: NaiveDate,
    /// Why, in words a coordinator can act on.
    pub reasons: Vec<String>,
}

/// What [`align_slots`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alignment {
    /// Bookable slots, in time order.
    pub slots: Vec<Slot>,
    /// Weekdays with none, and why.
    pub empty_days: Vec<NoSlot>,
}

/// An eligible period as a UTC window.
struct Window<'a> {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    period: &'a Period,
    week: u8,
    /// The school's offset all that day, when the clocks do not change.
    offset: Option<FixedOffset>,
}

impl Window<'_> {
    /// The school's local time of an instant within this window.
    fn local(&self, tz: chrono_tz::Tz, at: DateTime<Utc>) -> chrono::NaiveDateTime {
        match self.offset {
            Some(offset) => at.naive_utc() + offset,
            None => utc_to_local(tz, at),
        }
    }
}

fn status_reason(side: &Side<'_>, date: NaiveDate, status: &DayStatus) -> Option<String> {
    match status {
        DayStatus::InSession => None,
        DayStatus::Weekend => Some(format!(
            "{}: does not teach on {}s",
            side.name,
            super::model::long_day(chrono::Datelike::weekday(&date))
        )),
        DayStatus::Closed { label } => Some(format!("{}: closed ({label})", side.name)),
        DayStatus::Holiday => Some(format!("{}: not in term", side.name)),
    }
}

/// Why a teaching day offers nothing: no eligible period on this weekday
/// (of this cycle week), or no bell schedule at all.
fn no_period(side: &Side<'_>, date: NaiveDate, weeks: &BTreeMap<NaiveDate, u8>) -> String {
    let day = date.format("%A");
    match (
        side.calendar.schedule_for(date),
        weeks.get(&side.calendar.week_of(date)),
    ) {
        (None, _) => format!("{}: no bell schedule for this date", side.name),
        (Some(_), None) => match side.calendar.anchor_week() {
            Some(anchor) if date < anchor => format!(
                "{}: before the timetable's first Week A (week of {})",
                side.name,
                anchor.format("%-d %b %Y")
            ),
            _ => format!("{}: no timetable week for this date", side.name),
        },
        (Some(s), Some(&week)) if s.cycle_weeks > 1 => {
            format!(
                "{}: no eligible period on Week {} {day}s",
                side.name,
                week_label(week)
            )
        }
        _ => format!("{}: no eligible period on {day}s", side.name),
    }
}

fn windows<'a>(
    side: &Side<'a>,
    date: NaiveDate,
    weeks: &BTreeMap<NaiveDate, u8>,
) -> Vec<Window<'a>> {
    if side.calendar.day_status(date) != DayStatus::InSession {
        return Vec::new();
    }
    let (Some(schedule), Some(&week)) = (
        side.calendar.schedule_for(date),
        weeks.get(&side.calendar.week_of(date)),
    ) else {
        return Vec::new();
    };
    let tz = side.calendar.tz;
    // One zone look-up for the day rather than one per period.
    let offset = steady_offset(tz, date);
    let instant = |time: NaiveTime| match offset {
        Some(offset) => DateTime::from_naive_utc_and_offset(date.and_time(time) - offset, Utc),
        None => local_to_utc(tz, date, time),
    };
    schedule
        .periods
        .iter()
        .filter(|p| p.day == chrono::Datelike::weekday(&date))
        .filter(|p| p.week.is_none_or(|w| w == week))
        .filter(|p| side.policy.eligible(p))
        .map(|p| Window {
            start: instant(p.start),
            end: instant(p.end),
            period: p,
            week,
            offset,
        })
        .collect()
}

fn slot_end(side: &Side<'_>, w: &Window<'_>, start: DateTime<Utc>, end: DateTime<Utc>) -> SlotEnd {
    let local_start = w.local(side.calendar.tz, start);
    let none = SchoolCapacity::default();
    let capacity = side.capacity.on(local_start.date()).unwrap_or(&none);
    let code = &w.period.code;
    SlotEnd {
        date: local_start.date(),
        start: local_start.time(),
        end: w.local(side.calendar.tz, end).time(),
        period: w.period.code.clone(),
        kind: w.period.kind,
        week: week_label(w.week),
        devices: capacity.devices_in(code),
        supervisors: u32::try_from(capacity.supervisors_in(code).len()).unwrap_or(u32::MAX),
        supervision: capacity.supervision_in(code),
    }
}

/// Every bookable slot for `a` and `b` on `a`'s local dates `from..=to`,
/// and the weekdays that have none.
pub fn align_slots(
    a: Side<'_>,
    b: Side<'_>,
    session_minutes: u32,
    from: NaiveDate,
    to: NaiveDate,
) -> Alignment {
    let mut out = Alignment::default();
    if to < from || session_minutes == 0 {
        return out;
    }
    let session = Duration::minutes(i64::from(session_minutes));
    // The other school's local date can be a day either side of ours.
    let weeks_a = a.calendar.cycle_weeks_until(to);
    let weeks_b = b.calendar.cycle_weeks_until(to + Days::new(1));
    let mut b_days: BTreeMap<NaiveDate, Vec<Window<'_>>> = BTreeMap::new();
    let mut date = from;
    while date <= to {
        let status_a = a.calendar.day_status(date);
        if status_a == DayStatus::Weekend {
            date = date + Days::new(1);
            continue;
        }
        let found_before = out.slots.len();
        let mut reasons: Vec<String> = Vec::new();
        let wa = windows(&a, date, &weeks_a);
        if let Some(r) = status_reason(&a, date, &status_a) {
            reasons.push(r);
        } else if wa.is_empty() {
            reasons.push(no_period(&a, date, &weeks_a));
        } else {
            // The partner's side of our windows: its own local date(s), which
            // differ from ours when the zones are far apart.
            let mut b_dates: Vec<NaiveDate> = wa
                .iter()
                .flat_map(|w| [w.start, w.end - Duration::seconds(1)])
                .map(|t| utc_to_local(b.calendar.tz, t).date())
                .collect();
            b_dates.sort();
            b_dates.dedup();
            for d in &b_dates {
                b_days
                    .entry(*d)
                    .or_insert_with(|| windows(&b, *d, &weeks_b));
            }
            let wb: Vec<&Window<'_>> = b_dates
                .iter()
                .filter_map(|d| b_days.get(d))
                .flatten()
                .collect();
            let overlapped = pair_windows(&a, &b, &wa, &wb, session, &mut out.slots, &mut reasons);
            if !overlapped {
                why_no_overlap(
                    &b,
                    &b_dates,
                    &b_days,
                    &weeks_b,
                    session_minutes,
                    &mut reasons,
                );
            }
        }
        if out.slots.len() == found_before {
            // Several pairs of periods can fail for the same reason.
            let mut seen = std::collections::BTreeSet::new();
            reasons.retain(|r| seen.insert(r.clone()));
            out.empty_days.push(NoSlot { date, reasons });
        }
        // Windows of dates already passed are never needed again.
        if let Some(old) = date.pred_opt().and_then(|d| d.pred_opt()) {
            b_days.remove(&old);
        }
        date = date + Days::new(1);
    }
    out.slots.sort_by_key(|s| s.start_utc);
    out
}

/// Every pair of windows (ours, the partner's) that overlaps for a whole
/// session becomes a slot, unless an end has no iPad or no supervisor (which
/// goes into `reasons`). Whether any pair overlapped at all.
fn pair_windows(
    a: &Side<'_>,
    b: &Side<'_>,
    wa: &[Window<'_>],
    wb: &[&Window<'_>],
    session: Duration,
    slots: &mut Vec<Slot>,
    reasons: &mut Vec<String>,
) -> bool {
    let mut overlapped = false;
    for x in wa {
        for y in wb {
            let start = x.start.max(y.start);
            let end = x.end.min(y.end);
            if end - start < session {
                continue;
            }
            overlapped = true;
            let (ea, eb) = (
                slot_end(a, x, start, start + session),
                slot_end(b, y, start, start + session),
            );
            let mut short = Vec::new();
            for (side, e) in [(a, &ea), (b, &eb)] {
                if side.capacity.on(e.date).is_none() {
                    short.push(format!(
                        "{}: has not yet said how many iPads and supervisors it has for mentoring",
                        side.name
                    ));
                    continue;
                }
                if e.devices == 0 {
                    short.push(format!(
                        "{}: no iPads for mentoring in {}",
                        side.name, e.period
                    ));
                }
                if e.supervisors == 0 {
                    short.push(format!("{}: no supervisor in {}", side.name, e.period));
                }
            }
            if short.is_empty() {
                slots.push(Slot {
                    start_utc: start,
                    end_utc: start + session,
                    schools: BTreeMap::from([(a.slug.to_owned(), ea), (b.slug.to_owned(), eb)]),
                });
            } else {
                reasons.extend(short);
            }
        }
    }
    overlapped
}

/// Why no window of ours met one of the partner's: what is wrong on the
/// partner's own day comes before blaming the timetables for not
/// overlapping.
fn why_no_overlap(
    b: &Side<'_>,
    b_dates: &[NaiveDate],
    b_days: &BTreeMap<NaiveDate, Vec<Window<'_>>>,
    weeks_b: &BTreeMap<NaiveDate, u8>,
    session_minutes: u32,
    reasons: &mut Vec<String>,
) {
    for d in b_dates {
        let status_b = b.calendar.day_status(*d);
        if let Some(r) = status_reason(b, *d, &status_b) {
            reasons.push(r);
        } else if b_days.get(d).is_none_or(Vec::is_empty) {
            reasons.push(no_period(b, *d, weeks_b));
        }
    }
    if reasons.is_empty() {
        reasons.push(format!(
            "the schools' eligible periods do not overlap for {session_minutes} minutes"
        ));
    }
}
