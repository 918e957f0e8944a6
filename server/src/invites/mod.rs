//! Sessions as iCalendar: subscription feeds and iTIP messages (RFC 5545,
//! RFC 5546), written by [`ics`] and checked with independent parsers.
//!
//! Choices that make every calendar (Outlook, Google, Apple) agree:
//! - a pair's run of sessions is one recurring event, a [`series`], with
//!   one UID for life in every invite and feed; a session moved alone is an
//!   override (`RECURRENCE-ID`), the rest of a series moved is a new series
//!   (the old one's rule ends), and the series' SEQUENCE rises with every
//!   round of changes announced;
//! - times are local with a `TZID`, and each calendar object carries the
//!   `VTIMEZONE` it uses, built from chrono-tz, so local times hold across
//!   clock changes;
//! - DTSTAMP is the clock passed in, so the same sessions and clock give
//!   byte-identical output (a feed's ETag, every retry of an invite);
//! - a cancelled session stays in a feed as a cancelled, transparent
//!   override, and goes out as a `CANCEL` naming it, so calendars drop it
//!   rather than keep a stale copy;
//! - nobody reads replies, so attendees are asked for none (`RSVP=FALSE`)
//!   and the invite says so.
//!
//! What a title says depends on who reads it: first names and school names
//! only, never a surname or contact detail of a student at the other school.
//!
//! Invites come after booking in the flow: a change to sessions marks
//! their series changed in the same transaction ([`store::enqueue`]); the
//! sender works out what each supervisor's calendar lacks ([`copies`] has
//! the rule, [`announce`] writes the messages and digest lines), queues it
//! in the [`outbox`] and sends it ([`mail`]), with an optional
//! daily digest for coordinators; [`feeds`] are the subscription links;
//! [`store`] holds the SQL and [`http`] the routes.

use chrono::{DateTime, Utc};

use self::ics::Writer;
use self::series::{Instance, Parties, View};
use crate::error::{Error, Result};

pub mod announce;
pub mod copies;
pub mod feeds;
pub mod http;
pub mod ics;
pub mod mail;
pub mod outbox;
pub mod series;
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

/// A subscription feed (`METHOD:PUBLISH`) of series for one reader or one
/// school, every time in `tz` (the reader's school's zone).
pub fn feed(
    name: &str,
    tz: chrono_tz::Tz,
    views: &[View<'_>],
    base_url: &str,
    stamp: DateTime<Utc>,
) -> String {
    let mut w = Writer::new();
    series::write_head(&mut w, "PUBLISH");
    w.text("X-WR-CALNAME", &[], name);
    w.raw("X-WR-TIMEZONE", &[], tz.name());
    // How often a subscribing calendar should look again (RFC 7986, and
    // the older name Outlook reads).
    w.raw("REFRESH-INTERVAL", &[("VALUE", "DURATION")], "PT1H");
    w.raw("X-PUBLISHED-TTL", &[], "PT1H");
    if let Some((from, to)) = series::span(views) {
        series::write_vtimezone(&mut w, tz, from, to);
    }
    for view in views {
        series::write_events(&mut w, view, stamp, base_url, None);
    }
    w.end("VCALENDAR");
    w.finish()
}

/// An iTIP message about one series: `REQUEST` with the whole series, or
/// `CANCEL` of the sessions in `cancelled` (all of it when `None`), from
/// the school's scheme to `attendees`.
pub fn itip(
    method: Method,
    view: &View<'_>,
    cancelled: Option<&[Instance]>,
    parties: Parties<'_>,
    base_url: &str,
    stamp: DateTime<Utc>,
) -> String {
    let mut w = Writer::new();
    series::write_head(&mut w, method.as_str());
    let mut times: Vec<&View<'_>> = vec![view];
    let only;
    if let Some(c) = cancelled {
        only = View {
            instances: c.to_vec(),
            ..view.clone()
        };
        times.push(&only);
    }
    if let Some((from, to)) = series::span(times) {
        series::write_vtimezone(&mut w, view.tz, from, to);
    }
    match method {
        Method::Request => series::write_events(&mut w, view, stamp, base_url, Some(parties)),
        Method::Cancel => series::write_cancel(&mut w, view, cancelled, stamp, base_url, parties),
    }
    w.end("VCALENDAR");
    w.finish()
}

#[cfg(test)]
mod tests;
