//! Bookings: an approved match becomes a series of weekly sessions. Booking
//! sits between matching (which says who meets whom, in which weekly slot)
//! and invites and calls (which tell people and let them meet).
//!
//! A series is the next *N* dated occurrences of the match's weekly slot,
//! where *N* is the referral's planned length in weeks: the aligned slots
//! already leave out every day either school is closed, so closures are
//! skipped, not counted. Each session is its own row with its own state and
//! a UID it keeps for life.
//!
//! Double booking is stopped by the database, not by code that checks
//! first: a session *claims* ([`Claim`]) each student, and one iPad and one
//! place with a supervisor at each school, for its time, and
//! `session_claims` refuses two claims on one resource for overlapping
//! times (an exclusion constraint on PostgreSQL, a trigger on SQLite, whose
//! single writer makes the trigger's check and the insert one step). Any
//! number of simultaneous attempts therefore leave exactly one booking.
//!
//! Layout: this file holds the types and rules; [`change`] the rule for
//! which sessions a calendar change takes; [`store`] all the SQL (on
//! `mentoring_sessions` and `session_claims`), [`listing`] the sessions
//! page's rows, [`http`] the JSON API and [`pages`] the Sessions page.

pub mod change;
pub mod http;
pub mod listing;
pub mod pages;
pub mod store;

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::align::{Slot, SlotEnd};
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Booked at its original time.
    Scheduled,
    /// Booked, at a time it was moved to.
    Moved,
    /// Called off, with a reason.
    Cancelled,
    Completed,
    /// Nobody came.
    Missed,
}

impl SessionStatus {
    const ALL: [SessionStatus; 5] = [
        SessionStatus::Scheduled,
        SessionStatus::Moved,
        SessionStatus::Cancelled,
        SessionStatus::Completed,
        SessionStatus::Missed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Moved => "moved",
            SessionStatus::Cancelled => "cancelled",
            SessionStatus::Completed => "completed",
            SessionStatus::Missed => "missed",
        }
    }

    /// Whether the session still holds its people and iPads.
    pub fn is_live(self) -> bool {
        matches!(self, SessionStatus::Scheduled | SessionStatus::Moved)
    }

    /// Whether the session counts as mentoring *delivered*: the status
    /// [`DELIVERED`], which settling sets from attendance when both
    /// students were present. Reports, the record and certificates all use
    /// this one definition, and [`delivered_minutes`] for its hours.
    pub fn is_delivered(self) -> bool {
        self == DELIVERED
    }
}

impl FromStr for SessionStatus {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| Error::internal(format!("stored session status `{raw}`")))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub id: Uuid,
    pub match_id: Uuid,
    pub partnership_id: Uuid,
    pub mentee_id: Uuid,
    pub mentor_id: Uuid,
    /// Its own id for life (the `session-…` part of links and logs).
    pub uid: String,
    /// The UID of the series it is an instance of: one calendar event for
    /// a pair's run of weekly sessions.
    pub series_uid: String,
    /// Its RECURRENCE-ID: the time it was first booked at, which a move of
    /// this one session keeps.
    pub recurrence_at: DateTime<Utc>,
    /// Its iCalendar SEQUENCE: rises on every change.
    pub sequence: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The weekly slot it was booked in.
    pub slot_key: String,
    /// Each school's local view, by school slug.
    pub local: BTreeMap<String, SlotEnd>,
    pub status: SessionStatus,
    /// Why it was moved or cancelled.
    pub reason: Option<String>,
    /// The staff supervising it, one at each school.
    pub supervisors: Vec<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// The names a session may show: first names and school names only, never
/// a surname or contact detail of a student at the other school.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SessionNames {
    /// The mentee's given name.
    pub mentee: String,
    pub mentee_school: String,
    /// The mentor's given name.
    pub mentor: String,
    pub mentor_school: String,
}

/// The status of a *delivered* session: one that took place, as attendance
/// settled it (both students were present, by what the signalling saw or
/// by a teacher's correction). Reports, certificates and anything else
/// that counts mentoring delivered count these and only these.
pub const DELIVERED: SessionStatus = SessionStatus::Completed;

/// The minutes of mentoring `session` delivered: its booked length
/// (`ends_at - starts_at`) when its status is [`DELIVERED`], else none.
///
/// The booked length, not the minutes anyone was connected: a session is
/// timetabled, supervised and counted as a whole, as a lesson is, and the
/// connection times the signalling records are partial (an iPad that
/// dropped and rejoined, or a correction with no minutes given). This is
/// the one definition of hours delivered; reports use it too.
pub fn delivered_minutes(session: &Session) -> i64 {
    if session.status == DELIVERED {
        (session.ends_at - session.starts_at).num_minutes().max(0)
    } else {
        0
    }
}

/// What booking a series did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SeriesReport {
    pub booked: Vec<Session>,
    /// Dates left out, and why (a student or every iPad already booked).
    pub skipped: Vec<String>,
}

/// Which live sessions still to come a cancellation takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancel {
    /// This one session.
    Session(Uuid),
    /// Every session still to come of this match (its referral has closed).
    RestOfMatch(Uuid),
}

/// A resource a session claims for its time; `session_claims` refuses two
/// overlapping claims on one. Stored as text (`student:<id>`,
/// `device:<school>:<n>`, `supervisor:<user>:<n>`), mapped only here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Claim {
    Student(Uuid),
    /// The school's iPad number `number` (from 1).
    Device {
        school: Uuid,
        number: u32,
    },
    /// Place `place` (from 1) of the pairs one member of staff can watch.
    Supervisor {
        user: Uuid,
        place: u32,
    },
}

impl Claim {
    pub fn to_stored(self) -> String {
        match self {
            Claim::Student(id) => format!("student:{id}"),
            Claim::Device { school, number } => format!("device:{school}:{number}"),
            Claim::Supervisor { user, place } => format!("supervisor:{user}:{place}"),
        }
    }

    /// A stored claim; `None` for text this version does not write.
    pub fn parse(stored: &str) -> Option<Claim> {
        let (kind, rest) = stored.split_once(':')?;
        let numbered = || -> Option<(Uuid, u32)> {
            let (id, n) = rest.split_once(':')?;
            Some((id.parse().ok()?, n.parse().ok()?))
        };
        match kind {
            "student" => rest.parse().ok().map(Claim::Student),
            "device" => numbered().map(|(school, number)| Claim::Device { school, number }),
            "supervisor" => numbered().map(|(user, place)| Claim::Supervisor { user, place }),
            _ => None,
        }
    }

    /// What a booking says when another booking holds this claim. An iPad
    /// or a supervisor's place lost to a booking a moment before is worth
    /// another try (the next picks another); a student is not.
    fn taken(self, slot: &Slot) -> Taken {
        let (retry, field, message) = match self {
            Claim::Device { .. } => (
                true,
                "device",
                format!("{}: the iPad it was given has just been booked", when(slot)),
            ),
            Claim::Supervisor { .. } => (
                true,
                "supervisor",
                format!(
                    "{}: the supervisor's place it was given has just been booked",
                    when(slot)
                ),
            ),
            Claim::Student(_) => (
                false,
                "starts_at",
                format!(
                    "{} is taken: a student in it is already booked then",
                    when(slot)
                ),
            ),
        };
        Taken {
            retry,
            error: Error::conflict(field, message),
        }
    }
}

/// A claim the database refused, and whether trying again may succeed.
struct Taken {
    retry: bool,
    error: Error,
}

/// Why one try at a booking step failed: the step is run again for a
/// [`Attempt::Deadlock`] or a retryable [`Attempt::Taken`], up to five times.
enum Attempt {
    /// PostgreSQL broke a deadlock or a serialization failure.
    Deadlock(Error),
    Taken(Taken),
    Failed(Error),
}

impl Attempt {
    fn retryable(&self) -> bool {
        match self {
            Attempt::Deadlock(_) => true,
            Attempt::Taken(t) => t.retry,
            Attempt::Failed(_) => false,
        }
    }

    fn into_error(self) -> Error {
        match self {
            Attempt::Deadlock(e) | Attempt::Failed(e) | Attempt::Taken(Taken { error: e, .. }) => e,
        }
    }
}

impl From<Error> for Attempt {
    fn from(e: Error) -> Self {
        match e {
            Error::Database(db) if deadlock(&db) => Attempt::Deadlock(Error::Database(db)),
            other => Attempt::Failed(other),
        }
    }
}

impl From<sqlx::Error> for Attempt {
    fn from(e: sqlx::Error) -> Self {
        Error::Database(e).into()
    }
}

/// Runs a booking step again when it lost a race it can win on a second
/// try: a PostgreSQL deadlock, or an iPad or supervisor's place another
/// booking took a moment before (the next try picks another).
async fn with_retries<T, F, Fut>(mut step: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, Attempt>>,
{
    let mut attempts = 0;
    loop {
        match step().await {
            Ok(done) => return Ok(done),
            Err(failed) if failed.retryable() && attempts < 5 => attempts += 1,
            Err(failed) => return Err(failed.into_error()),
        }
    }
}

/// Whether a database error is the double-booking guard refusing a claim.
pub fn overlap_violation(err: &sqlx::Error) -> bool {
    crate::store::Constraint::of(err) == Some(crate::store::Constraint::SessionClaimOverlap)
}

/// Whether PostgreSQL gave up on a transaction to break a deadlock (or a
/// serialization failure): safe to try again.
fn deadlock(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

/// A reason as people typed it, made safe for every calendar: line breaks
/// become `\n` (a stray carriage return breaks strict parsers), other
/// control characters go, and the ends are trimmed.
fn clean_reason(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The reason a cancellation gives, cleaned, once the session is found
/// live and the reason says something.
fn cancellable(session: &Session, reason: &str) -> Result<String> {
    let reason = clean_reason(reason);
    if reason.is_empty() || reason.chars().count() > 300 {
        return Err(Error::invalid(
            "reason",
            "say why it is cancelled (at most 300 characters)",
        ));
    }
    if !session.status.is_live() {
        return Err(Error::conflict(
            "status",
            format!("this session is already {}", session.status.as_str()),
        ));
    }
    Ok(reason)
}

/// The reason a move gives, cleaned (it may be empty), once the session
/// is found live and `to` in the future.
fn movable(session: &Session, to: DateTime<Utc>, reason: &str) -> Result<String> {
    let reason = clean_reason(reason);
    if reason.chars().count() > 300 {
        return Err(Error::invalid("reason", "at most 300 characters"));
    }
    if !session.status.is_live() {
        return Err(Error::conflict(
            "status",
            format!("a {} session cannot be moved", session.status.as_str()),
        ));
    }
    if to <= Utc::now() {
        return Err(Error::invalid("starts_at", "choose a time in the future"));
    }
    Ok(reason)
}

/// Who cannot make a slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unfit {
    /// The mentor is not free in their own period.
    Mentor,
    /// The slot has no end at the mentee's school (none of the periods its
    /// share of the policy names).
    Mentee,
    /// The mentee's referral says they are not free then (a lesson, an
    /// intervention group).
    MenteeBusy(crate::people::referrals::Unavailable),
}

/// Whether both students can take a session in `slot` (the optimiser's
/// rules): the mentor's own end among their free periods, and an end at
/// the mentee's school (a period its share of the policy names) that the
/// mentee's referral does not rule out. The move menus and the move itself
/// both ask this, so a menu never offers a time the move would refuse.
pub fn slot_fits(
    mentor_free: &[crate::people::mentors::FreePeriod],
    mentee_unavailable: &[crate::people::referrals::Unavailable],
    mentor_slug: Option<&str>,
    mentee_slug: Option<&str>,
    slot: &Slot,
) -> Option<Unfit> {
    let own = mentor_slug.and_then(|s| slot.schools.get(s));
    let free = own.is_some_and(|end| {
        let day = end.date.format("%a").to_string();
        mentor_free
            .iter()
            .any(|p| p.covers(&end.week, &day, &end.period))
    });
    if !free {
        return Some(Unfit::Mentor);
    }
    let Some(theirs) = mentee_slug.and_then(|s| slot.schools.get(s)) else {
        return Some(Unfit::Mentee);
    };
    let day = theirs.date.format("%a").to_string();
    mentee_unavailable
        .iter()
        .find(|u| u.covers(&theirs.week, &day, &theirs.period))
        .map(|u| Unfit::MenteeBusy(u.clone()))
}

/// A slot's start, for messages people read.
fn when(slot: &Slot) -> String {
    slot.start_utc.format("%a %-d %b %Y %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_lose_carriage_returns_and_control_characters() {
        assert_eq!(
            clean_reason("  Trip\r\nback\rlate\u{7}\u{0}  "),
            "Trip\nback\nlate"
        );
        assert_eq!(clean_reason("Sports day"), "Sports day");
    }

    #[test]
    fn claims_read_back_what_they_store() {
        let id = Uuid::from_u128(42);
        for claim in [
            Claim::Student(id),
            Claim::Device {
                school: id,
                number: 3,
            },
            Claim::Supervisor { user: id, place: 1 },
        ] {
            assert_eq!(Claim::parse(&claim.to_stored()), Some(claim));
        }
        assert_eq!(Claim::parse("room:1"), None);
    }

    #[test]
    fn only_completed_sessions_deliver_minutes_and_they_deliver_their_booked_length() {
        let start: DateTime<Utc> = "2026-11-02T08:40:00Z".parse().unwrap();
        let session = |status| Session {
            id: Uuid::nil(),
            match_id: Uuid::nil(),
            partnership_id: Uuid::nil(),
            mentee_id: Uuid::nil(),
            mentor_id: Uuid::nil(),
            uid: "session-1".into(),
            series_uid: "session-1".into(),
            recurrence_at: start,
            sequence: 0,
            starts_at: start,
            ends_at: start + chrono::Duration::minutes(25),
            slot_key: String::new(),
            local: BTreeMap::new(),
            status,
            reason: None,
            supervisors: Vec::new(),
            updated_at: start,
        };
        assert_eq!(delivered_minutes(&session(SessionStatus::Completed)), 25);
        for status in [
            SessionStatus::Scheduled,
            SessionStatus::Moved,
            SessionStatus::Cancelled,
            SessionStatus::Missed,
        ] {
            assert_eq!(delivered_minutes(&session(status)), 0, "{status:?}");
        }
    }
}
