//! Sessions as iCalendar: subscription feeds and iTIP messages (RFC 5545,
//! RFC 5546), written with the `icalendar` crate.
//!
//! Choices that make every calendar (Outlook, Google, Apple) agree:
//! - a session's UID never changes, and its SEQUENCE rises on every change,
//!   cancellation included, so a calendar replaces its copy rather than
//!   adding a second;
//! - times are in UTC (`…Z`), so no VTIMEZONE is needed and no calendar has
//!   to know a school's zone rules; each calendar shows local time;
//! - DTSTAMP is the clock passed in, so the same sessions and clock give
//!   byte-identical output (tests use a fixed clock);
//! - a cancelled session stays in a feed with `STATUS:CANCELLED` for a
//!   while, and goes out as `METHOD:CANCEL`, so calendars drop it rather
//!   than keep a stale copy.
//!
//! What a title says depends on who reads it: first names and school names
//! only, never a surname or contact detail of a student at the other school.
//!
//! Invites come after booking in the flow: booking queues a message in the
//! [`outbox`] with every change, [`mail`] sends it; [`feeds`] are the
//! subscription links; [`store`] holds the SQL and [`http`] the routes.

use chrono::{DateTime, Utc};
use icalendar::{Attendee, Calendar, Component, EventLike, EventStatus, Property};

use crate::booking::{Session, SessionNames, SessionStatus};
use crate::error::{Error, Result};

pub mod feeds;
pub mod http;
pub mod mail;
pub mod outbox;
pub mod store;

/// The product identifier every calendar object carries.
pub const PRODID: &str = "-//mentorbridge//mentorbridge sessions//EN";

/// Who is reading: what their calendar entry should say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// The mentee in the session.
    Mentee,
    /// The mentor in the session.
    Mentor,
    /// A member of staff.
    Staff,
}

/// One session as a reader sees it.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub session: &'a Session,
    pub names: &'a SessionNames,
    pub reader: Reader,
}

/// An iTIP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// A new or changed session.
    Request,
    /// A cancelled session.
    Cancel,
}

impl Method {
    /// The name in `METHOD:` and the MIME `method=` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        [Method::Request, Method::Cancel]
            .into_iter()
            .find(|m| m.as_str() == raw)
            .ok_or_else(|| Error::internal(format!("stored iTIP method `{raw}`")))
    }
}

/// A calendar user: a name and a `mailto:` address.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CalendarUser {
    pub name: String,
    /// Without `mailto:`.
    pub email: String,
}

fn summary(entry: &Entry<'_>) -> String {
    let n = entry.names;
    let what = match entry.reader {
        Reader::Mentee => format!("Mentoring with {} ({})", n.mentor, n.mentor_school),
        Reader::Mentor => format!("Mentoring {} ({})", n.mentee, n.mentee_school),
        Reader::Staff => format!(
            "Mentoring: {} ({}) with {} ({})",
            n.mentee, n.mentee_school, n.mentor, n.mentor_school
        ),
    };
    if entry.session.status == SessionStatus::Cancelled {
        format!("Cancelled: {what}")
    } else {
        what
    }
}

fn event(entry: &Entry<'_>, base_url: &str, stamp: DateTime<Utc>) -> icalendar::Event {
    let session = entry.session;
    let link = format!("{}/sessions", base_url.trim_end_matches('/'));
    let mut description = format!(
        "Join on a school iPad from mentorbridge: {link}\nSign in with your own account; only the people booked can join."
    );
    let word = match session.status {
        SessionStatus::Cancelled => Some("Cancelled"),
        SessionStatus::Moved => Some("Moved"),
        _ => None,
    };
    if let Some(word) = word {
        // Staff wrote the reason for staff ("Asha has a detention"): a
        // student's calendar says only that the school changed it.
        match (&session.reason, entry.reader) {
            (Some(reason), Reader::Staff) => description.push_str(&format!("\n{word}: {reason}")),
            _ => description.push_str(&format!("\n{word} by the school.")),
        }
    }
    let status = if session.status == SessionStatus::Cancelled {
        EventStatus::Cancelled
    } else {
        EventStatus::Confirmed
    };
    icalendar::Event::new()
        .uid(&session.uid)
        .sequence(u32::try_from(session.sequence).unwrap_or(0))
        .timestamp(stamp)
        .starts(session.starts_at)
        .ends(session.ends_at)
        .summary(&summary(entry))
        .description(&description)
        .location("mentorbridge (school iPad)")
        .url(&link)
        .status(status)
        .done()
}

fn calendar(method: &str) -> Calendar {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", PRODID))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", method));
    cal
}

/// A subscription feed (`METHOD:PUBLISH`) of sessions for one reader or
/// one school.
pub fn feed(name: &str, entries: &[Entry<'_>], base_url: &str, stamp: DateTime<Utc>) -> String {
    let mut cal = calendar("PUBLISH");
    cal.append_property(("X-WR-CALNAME", name));
    // How often a subscribing calendar should look again (RFC 7986, and
    // the older name Outlook reads).
    cal.append_property(
        icalendar::Property::new("REFRESH-INTERVAL", "PT1H")
            .add_parameter("VALUE", "DURATION")
            .done(),
    );
    cal.append_property(("X-PUBLISHED-TTL", "PT1H"));
    for entry in entries {
        cal.push(event(entry, base_url, stamp));
    }
    cal.to_string()
}

/// An iTIP message for one session: `REQUEST` for a new or changed session,
/// `CANCEL` for a cancelled one, from the scheme's mailbox to `attendees`.
pub fn itip(
    method: Method,
    entry: &Entry<'_>,
    organizer: &CalendarUser,
    attendees: &[CalendarUser],
    base_url: &str,
    stamp: DateTime<Utc>,
) -> String {
    let mut cal = calendar(method.as_str());
    let mut ev = event(entry, base_url, stamp);
    // A CN is a quoted parameter: a double quote inside one cannot be
    // escaped in iCalendar, so it goes, and so does a line break.
    let cn = |name: &str| crate::text::fold_to_line(name).replace('"', "");
    ev.append_property(
        Property::new("ORGANIZER", format!("mailto:{}", organizer.email))
            .add_parameter("CN", &cn(&organizer.name))
            .done(),
    );
    for a in attendees {
        ev.attendee(Attendee::new(format!("mailto:{}", a.email)).cn(cn(&a.name)));
    }
    cal.push(ev);
    cal.to_string()
}

#[cfg(test)]
mod tests;
