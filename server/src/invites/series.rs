//! A pair's series of sessions as one recurring calendar event: a master
//! `VEVENT` whose `RRULE` (weekly or fortnightly, `EXDATE` for the days it
//! skips) or `RDATE` list gives every session's original time in the
//! reader's school's own zone, and an override (`RECURRENCE-ID`) for each
//! session that no longer sits at its original time or is cancelled. The
//! times are local with a `TZID` and a `VTIMEZONE` built from chrono-tz's
//! rules, so 08:40 stays 08:40 across both clock changes.
//!
//! Pure functions of the sessions: the same input and stamp give the same
//! bytes (a feed's ETag and every retry of an invite depend on it).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

use super::ics::Writer;
use super::{CalendarUser, Reader};
use crate::booking::{Session, SessionNames, SessionStatus};

/// One session of a series as a calendar sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Its RECURRENCE-ID: the time it was first booked at.
    pub recurrence: DateTime<Utc>,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub status: SessionStatus,
    /// Why it was moved or cancelled.
    pub reason: Option<String>,
}

impl From<&Session> for Instance {
    fn from(s: &Session) -> Instance {
        Instance {
            recurrence: s.recurrence_at,
            starts: s.starts_at,
            ends: s.ends_at,
            status: s.status,
            reason: s.reason.clone(),
        }
    }
}

/// Whether a reader's calendar counts the sessions as busy time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transp {
    /// They take part (a supervisor, a student).
    Opaque,
    /// They only follow it (a coordinator's school calendar).
    Transparent,
}

/// A series as one reader sees it.
#[derive(Clone, Debug)]
pub struct View<'a> {
    pub uid: &'a str,
    pub sequence: i32,
    pub names: &'a SessionNames,
    pub reader: Reader,
    pub tz: Tz,
    /// Earliest RECURRENCE-ID first; cancelled ones are shown as cancelled
    /// overrides (a feed) or left out, as days it skips (an invite).
    pub instances: Vec<Instance>,
    pub transp: Transp,
}

/// Who an iTIP message is from and to.
#[derive(Clone, Copy, Debug)]
pub struct Parties<'a> {
    pub organizer: &'a CalendarUser,
    pub attendees: &'a [CalendarUser],
}

/// How a series' original times repeat, in its zone.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    /// One session.
    Single,
    /// Every `interval` weeks until `until`, skipping `exdates`.
    Weekly {
        interval: i64,
        until: DateTime<Utc>,
        exdates: Vec<NaiveDateTime>,
    },
    /// No weekly rule fits (a cycle broken by a holiday, a local time that
    /// changed): the other original times listed.
    Dates(Vec<NaiveDateTime>),
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

fn local(tz: Tz, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

fn stamp_local(at: NaiveDateTime) -> String {
    at.format("%Y%m%dT%H%M%S").to_string()
}

fn stamp_utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The rule that gives exactly `originals` (sorted, at least one) in `tz`.
fn rule(tz: Tz, originals: &[DateTime<Utc>]) -> Rule {
    let locals: Vec<NaiveDateTime> = originals.iter().map(|at| local(tz, *at)).collect();
    let Some((first, rest)) = locals.split_first() else {
        return Rule::Single;
    };
    if rest.is_empty() {
        return Rule::Single;
    }
    let same_time = rest.iter().all(|l| l.time() == first.time());
    let days: Vec<i64> = rest
        .iter()
        .map(|l| (l.date() - first.date()).num_days())
        .collect();
    if same_time && days.iter().all(|d| d % 7 == 0) {
        let interval = days.iter().fold(0, |g, d| gcd(g, d / 7)).max(1);
        let have: BTreeSet<NaiveDate> = locals.iter().map(|l| l.date()).collect();
        let last = days.last().copied().unwrap_or(0) / 7;
        let exdates: Vec<NaiveDateTime> = (0..=last / interval)
            .map(|j| first.date() + Duration::weeks(j * interval))
            .filter(|d| !have.contains(d))
            .map(|d| d.and_time(first.time()))
            .collect();
        // A rule that skips more days than it keeps says less than a list.
        if exdates.len() <= locals.len() {
            return Rule::Weekly {
                interval,
                until: originals.last().copied().unwrap_or_default(),
                exdates,
            };
        }
    }
    Rule::Dates(rest.to_vec())
}

/// How long a session of the series lasts: the length most sessions at
/// their original time have.
fn usual_length(instances: &[Instance]) -> Duration {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for i in instances.iter().filter(|i| i.starts == i.recurrence) {
        *counts.entry((i.ends - i.starts).num_seconds()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(secs, n)| (*n, -secs))
        .map(|(secs, _)| Duration::seconds(secs))
        .or_else(|| instances.first().map(|i| i.ends - i.starts))
        .unwrap_or(Duration::minutes(20))
}

/// What a title says to this reader.
pub fn title(names: &SessionNames, reader: Reader) -> String {
    let n = names;
    match reader {
        Reader::Mentee => format!("Mentoring with {} ({})", n.mentor, n.mentor_school),
        Reader::Mentor => format!("Mentoring {} ({})", n.mentee, n.mentee_school),
        Reader::Staff => format!(
            "Mentoring: {} ({}) with {} ({})",
            n.mentee, n.mentee_school, n.mentor, n.mentor_school
        ),
    }
}

fn description(view: &View<'_>, instance: Option<&Instance>, link: &str, itip: bool) -> String {
    let (word, reason) = match instance {
        Some(i) if i.status == SessionStatus::Cancelled => (Some("Cancelled"), i.reason.as_deref()),
        Some(i) if i.starts != i.recurrence || i.status == SessionStatus::Moved => {
            (Some("Moved"), i.reason.as_deref())
        }
        _ => (None, None),
    };
    // Staff wrote the reason for staff ("Asha has a detention"): a
    // student's calendar says only that the school changed it.
    let changed = word.map(|word| match (reason, view.reader) {
        (Some(reason), Reader::Staff) => format!("{word}: {reason}"),
        _ => format!("{word} by the school."),
    });
    if word == Some("Cancelled") {
        return changed.unwrap_or_default();
    }
    let mut text = format!(
        "Join on a school iPad from mentorbridge: {link}\nSign in with your own account; only the people booked can join."
    );
    if let Some(changed) = changed {
        text.push('\n');
        text.push_str(&changed);
    }
    if itip {
        text.push_str(
            "\nNo reply is needed: answers to this invite are not read. Your mentoring coordinator makes any change.",
        );
    }
    text
}

fn parties(w: &mut Writer, parties: Option<Parties<'_>>) {
    let Some(p) = parties else { return };
    w.raw(
        "ORGANIZER",
        &[("CN", &crate::text::fold_to_line(&p.organizer.name))],
        &format!("mailto:{}", p.organizer.email),
    );
    for a in p.attendees {
        w.raw(
            "ATTENDEE",
            &[
                ("CN", &crate::text::fold_to_line(&a.name)),
                ("CUTYPE", "INDIVIDUAL"),
                ("ROLE", "REQ-PARTICIPANT"),
                ("PARTSTAT", "NEEDS-ACTION"),
                ("RSVP", "FALSE"),
            ],
            &format!("mailto:{}", a.email),
        );
    }
}

/// The properties every component of the series carries: the master's
/// (`instance` is `None`) or one session's, cancelled when it is.
fn common(
    w: &mut Writer,
    view: &View<'_>,
    instance: Option<&Instance>,
    stamp: DateTime<Utc>,
    base_url: &str,
    who: Option<Parties<'_>>,
) {
    let cancelled = instance.is_some_and(|i| i.status == SessionStatus::Cancelled);
    let link = format!("{}/sessions", base_url.trim_end_matches('/'));
    let title = title(view.names, view.reader);
    w.text(
        "SUMMARY",
        &[],
        &if cancelled {
            format!("Cancelled: {title}")
        } else {
            title
        },
    );
    w.text(
        "DESCRIPTION",
        &[],
        &description(view, instance, &link, who.is_some()),
    );
    w.text("LOCATION", &[], "mentorbridge (school iPad)");
    if !cancelled {
        w.raw("URL", &[], &link);
    }
    w.raw(
        "STATUS",
        &[],
        if cancelled { "CANCELLED" } else { "CONFIRMED" },
    );
    let transp = match (cancelled, view.transp) {
        (false, Transp::Opaque) => "OPAQUE",
        _ => "TRANSPARENT",
    };
    w.raw("TRANSP", &[], transp);
    w.raw("DTSTAMP", &[], &stamp_utc(stamp));
    parties(w, who);
}

fn at_local(w: &mut Writer, name: &str, tz: Tz, at: DateTime<Utc>) {
    w.raw(name, &[("TZID", tz.name())], &stamp_local(local(tz, at)));
}

/// The series' `VEVENT`s: the master and its overrides. Nothing when it
/// has no sessions.
pub fn write_events(
    w: &mut Writer,
    view: &View<'_>,
    stamp: DateTime<Utc>,
    base_url: &str,
    who: Option<Parties<'_>>,
) {
    let Some(first) = view.instances.first() else {
        return;
    };
    let tz = view.tz;
    let length = usual_length(&view.instances);
    let originals: Vec<DateTime<Utc>> = view.instances.iter().map(|i| i.recurrence).collect();
    let sequence = view.sequence.max(0).to_string();
    w.begin("VEVENT");
    w.raw("UID", &[], view.uid);
    w.raw("SEQUENCE", &[], &sequence);
    at_local(w, "DTSTART", tz, first.recurrence);
    at_local(w, "DTEND", tz, first.recurrence + length);
    match rule(tz, &originals) {
        Rule::Single => {}
        Rule::Weekly {
            interval,
            until,
            exdates,
        } => {
            let every = if interval == 1 {
                String::new()
            } else {
                format!(";INTERVAL={interval}")
            };
            w.raw(
                "RRULE",
                &[],
                &format!("FREQ=WEEKLY{every};UNTIL={}", stamp_utc(until)),
            );
            if !exdates.is_empty() {
                let list: Vec<String> = exdates.into_iter().map(stamp_local).collect();
                w.raw("EXDATE", &[("TZID", tz.name())], &list.join(","));
            }
        }
        Rule::Dates(dates) => {
            let list: Vec<String> = dates.into_iter().map(stamp_local).collect();
            w.raw("RDATE", &[("TZID", tz.name())], &list.join(","));
        }
    }
    common(w, view, None, stamp, base_url, who);
    w.end("VEVENT");
    for instance in &view.instances {
        let cancelled = instance.status == SessionStatus::Cancelled;
        let moved = instance.starts != instance.recurrence
            || instance.ends != instance.recurrence + length
            || instance.status == SessionStatus::Moved;
        if !cancelled && !moved {
            continue;
        }
        w.begin("VEVENT");
        w.raw("UID", &[], view.uid);
        w.raw("SEQUENCE", &[], &sequence);
        at_local(w, "RECURRENCE-ID", tz, instance.recurrence);
        at_local(w, "DTSTART", tz, instance.starts);
        at_local(w, "DTEND", tz, instance.ends);
        common(w, view, Some(instance), stamp, base_url, who);
        w.end("VEVENT");
    }
}

/// A `CANCEL`'s `VEVENT`s: one per instance in `only` (with its
/// RECURRENCE-ID), or the whole series when `only` is `None`.
pub fn write_cancel(
    w: &mut Writer,
    view: &View<'_>,
    only: Option<&[Instance]>,
    stamp: DateTime<Utc>,
    base_url: &str,
    who: Parties<'_>,
) {
    let tz = view.tz;
    let sequence = view.sequence.max(0).to_string();
    match only {
        Some(instances) => {
            for instance in instances {
                w.begin("VEVENT");
                w.raw("UID", &[], view.uid);
                w.raw("SEQUENCE", &[], &sequence);
                at_local(w, "RECURRENCE-ID", tz, instance.recurrence);
                at_local(w, "DTSTART", tz, instance.starts);
                at_local(w, "DTEND", tz, instance.ends);
                let off = Instance {
                    status: SessionStatus::Cancelled,
                    ..instance.clone()
                };
                common(w, view, Some(&off), stamp, base_url, Some(who));
                w.end("VEVENT");
            }
        }
        None => {
            let Some(first) = view.instances.first() else {
                return;
            };
            w.begin("VEVENT");
            w.raw("UID", &[], view.uid);
            w.raw("SEQUENCE", &[], &sequence);
            at_local(w, "DTSTART", tz, first.starts);
            at_local(w, "DTEND", tz, first.ends);
            let all = Instance {
                status: SessionStatus::Cancelled,
                ..first.clone()
            };
            common(w, view, Some(&all), stamp, base_url, Some(who));
            w.end("VEVENT");
        }
    }
}

/// A zone's rules over `from..to` as a `VTIMEZONE`: the offset in force at
/// `from`, then one observance for each change of offset, found in
/// chrono-tz's rules to the second.
pub fn write_vtimezone(w: &mut Writer, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) {
    let offset_at = |at: DateTime<Utc>| tz.offset_from_utc_datetime(&at.naive_utc());
    let seconds = |at: DateTime<Utc>| offset_at(at).fix().local_minus_utc();
    // Start at the beginning of a day a little before, so the first
    // observance covers every time written.
    let start = (from - Duration::days(7))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let mut changes: Vec<DateTime<Utc>> = Vec::new();
    let mut day = start;
    while day < to + Duration::days(7) {
        let next = day + Duration::days(1);
        if seconds(day) != seconds(next) {
            // The second the offset changes, by halving the day.
            let (mut lo, mut hi) = (day, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if seconds(mid) == seconds(lo) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            changes.push(hi);
        }
        day = next;
    }
    let observance = |w: &mut Writer, at: DateTime<Utc>, before: i32| {
        let after = offset_at(at);
        let kind = if after.dst_offset().is_zero() {
            "STANDARD"
        } else {
            "DAYLIGHT"
        };
        let onset = at.naive_utc() + Duration::seconds(i64::from(before));
        w.begin(kind);
        w.raw("DTSTART", &[], &stamp_local(onset));
        w.raw("TZOFFSETFROM", &[], &utc_offset(before));
        w.raw(
            "TZOFFSETTO",
            &[],
            &utc_offset(after.fix().local_minus_utc()),
        );
        if let Some(name) = after.abbreviation() {
            w.text("TZNAME", &[], name);
        }
        w.end(kind);
    };
    w.begin("VTIMEZONE");
    w.raw("TZID", &[], tz.name());
    observance(w, start, seconds(start));
    for at in changes {
        observance(w, at, seconds(at - Duration::minutes(1)));
    }
    w.end("VTIMEZONE");
}

fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    if s.is_multiple_of(60) {
        format!("{sign}{:02}{:02}", s / 3600, s / 60 % 60)
    } else {
        format!("{sign}{:02}{:02}{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// The calendar's head: version, product, method, and any more properties.
pub fn write_head(w: &mut Writer, method: &str) {
    w.begin("VCALENDAR");
    w.raw("VERSION", &[], "2.0");
    w.raw("PRODID", &[], super::PRODID);
    w.raw("CALSCALE", &[], "GREGORIAN");
    w.raw("METHOD", &[], method);
}

/// The range of times a set of views writes, for its `VTIMEZONE`.
pub fn span<'a>(
    views: impl IntoIterator<Item = &'a View<'a>>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for view in views {
        for i in &view.instances {
            let lo = i.recurrence.min(i.starts);
            let hi = i.ends.max(i.recurrence);
            span = Some(match span {
                None => (lo, hi),
                Some((a, b)) => (a.min(lo), b.max(hi)),
            });
        }
    }
    span
}

/// A day and time in `tz`, for people: "Mon 7 Sep 08:40".
pub fn when(tz: Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&tz).format("%a %-d %b %H:%M").to_string()
}

/// "Mondays 08:40" for a series whose sessions share a weekday and time in
/// `tz`, else the first one's day and time.
pub fn cadence(tz: Tz, instances: &[Instance]) -> String {
    let Some(first) = instances.first() else {
        return String::new();
    };
    let l = first.starts.with_timezone(&tz);
    let same = instances.iter().all(|i| {
        let o = i.starts.with_timezone(&tz);
        o.weekday() == l.weekday() && o.time() == l.time()
    });
    if same && instances.len() > 1 {
        format!("{}s {}", l.format("%A"), l.format("%H:%M"))
    } else {
        when(tz, first.starts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn a_weekly_series_with_a_holiday_is_a_rule_with_an_exdate() {
        let london: Tz = "Europe/London".parse().unwrap();
        // Mondays 08:40 London: BST in October, GMT from 26 Oct, so the
        // UTC times change while the local one holds; half term skipped.
        let originals = [
            at(2026, 10, 12, 7, 40),
            at(2026, 10, 19, 7, 40),
            at(2026, 11, 2, 8, 40),
            at(2026, 11, 9, 8, 40),
        ];
        match rule(london, &originals) {
            Rule::Weekly {
                interval,
                until,
                exdates,
            } => {
                assert_eq!(interval, 1);
                assert_eq!(until, at(2026, 11, 9, 8, 40));
                assert_eq!(
                    exdates,
                    [NaiveDate::from_ymd_opt(2026, 10, 26)
                        .unwrap()
                        .and_hms_opt(8, 40, 0)
                        .unwrap()]
                );
            }
            other => panic!("{other:?}"),
        }
        let fortnightly = [
            at(2026, 11, 2, 8, 40),
            at(2026, 11, 16, 8, 40),
            at(2026, 11, 30, 8, 40),
        ];
        assert!(matches!(
            rule(london, &fortnightly),
            Rule::Weekly {
                interval: 2,
                ref exdates,
                ..
            } if exdates.is_empty()
        ));
        // Same UTC time across the change is two local times: a list.
        let drifting = [at(2026, 10, 19, 7, 40), at(2026, 11, 2, 7, 40)];
        assert!(matches!(rule(london, &drifting), Rule::Dates(_)));
    }

    #[test]
    fn a_vtimezone_has_the_year_s_two_changes_at_the_right_local_times() {
        let london: Tz = "Europe/London".parse().unwrap();
        let mut w = Writer::new();
        write_vtimezone(&mut w, london, at(2026, 9, 1, 0, 0), at(2027, 7, 20, 0, 0));
        let text = w.finish();
        assert!(text.contains("BEGIN:STANDARD\r\nDTSTART:20261025T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nTZNAME:GMT"), "{text}");
        assert!(text.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270328T010000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nTZNAME:BST"), "{text}");
        assert!(!text.contains("UID") && !text.contains("DTSTAMP"));
    }
}
