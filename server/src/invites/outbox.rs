//! The invite outbox: every message to a member of staff waits here until a
//! mail server takes it. A change to sessions marks their series changed in
//! the same transaction, so a change is never committed without its
//! invites, and none is sent for a change that rolled back; the sender
//! turns each changed series into messages ([`super::announce`]) and queues
//! them here, and a restart loses nothing, because the queue is the
//! database. This file holds the outbox's types and rules; its SQL is in
//! [`super::store`].
//!
//! Who hears: the teachers who supervise a series at each school, where
//! they have a work address. Coordinators are not attendees (they have the
//! school feed, and may ask for a daily digest); students have no address
//! (they follow their sessions through their own calendar feed). Each
//! recipient's message lists as attendees only the staff of their own
//! school: a partner school's staff addresses are not passed across.
//!
//! A row holds a *snapshot* of the message as it was made (subject, text
//! and calendar, DTSTAMP its creation time), so every retry sends the same
//! bytes.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Method;
use crate::error::{Error, Result};

/// One queued message, as it was made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// The series it is about.
    pub series_uid: String,
    pub subject: String,
    /// The plain-text part, for people.
    pub text: String,
    /// The iCalendar object, for calendars.
    pub ics: String,
    /// The recipient's name, for the `To:` header.
    pub to_name: Option<String>,
    /// When the last session it is about ends: not sent after that.
    pub until: DateTime<Utc>,
    /// Its first session's day and time, where the recipient is, for a
    /// coordinator's list of problems.
    pub when: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting for its first or next try.
    Pending,
    /// Accepted by the mail server.
    Sent,
    /// Refused for good, or given up after every retry.
    Failed,
    /// Not sent: the session was over before it could be.
    Expired,
}

impl MailStatus {
    const ALL: [MailStatus; 4] = [
        MailStatus::Pending,
        MailStatus::Sent,
        MailStatus::Failed,
        MailStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
            MailStatus::Expired => "expired",
        }
    }
}

impl FromStr for MailStatus {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| Error::internal(format!("stored mail status `{raw}`")))
    }
}

/// One queued invite.
#[derive(Clone, Debug, Serialize)]
pub struct OutboxMessage {
    /// Its id (also its `Message-ID`).
    pub id: Uuid,
    /// The recipient's school.
    pub school_id: Uuid,
    /// The first session of the series it is about.
    pub session_id: Uuid,
    /// The series' SEQUENCE in it.
    pub sequence: i32,
    pub method: Method,
    pub recipient_id: Uuid,
    pub recipient_email: String,
    #[serde(skip)]
    pub snapshot: Snapshot,
    pub status: MailStatus,
    /// Tries so far.
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// What the mail server said last time, when it was not a yes.
    pub last_error: Option<String>,
    /// When the change was made (the message's DTSTAMP).
    pub created_at: DateTime<Utc>,
    /// When the mail server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

/// What came of one try at sending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The mail server accepted it.
    Sent,
    /// A temporary failure: try again later.
    Deferred(String),
    /// Refused for good (a 5xx reply, such as an unknown mailbox).
    Refused(String),
    /// Not sent: the session was already over.
    Expired,
}

impl Outcome {
    pub fn kind(&self) -> TryKind {
        match self {
            Outcome::Sent => TryKind::Sent,
            Outcome::Deferred(_) => TryKind::Deferred,
            Outcome::Refused(_) => TryKind::Refused,
            Outcome::Expired => TryKind::Expired,
        }
    }

    /// What a coordinator reads about the try.
    pub fn detail(&self) -> String {
        match self {
            Outcome::Sent => "accepted by the mail server".to_owned(),
            Outcome::Deferred(why) | Outcome::Refused(why) => why.clone(),
            Outcome::Expired => "the session was over before the invite could be sent".to_owned(),
        }
    }

    /// What becomes of the message: a deferred one is due again at
    /// `retry_at`, or fails once every retry is spent (`None`).
    pub fn next(&self, retry_at: impl FnOnce() -> Option<DateTime<Utc>>) -> Next {
        match self {
            Outcome::Sent => Next::Sent,
            Outcome::Deferred(_) => retry_at().map_or(Next::Failed, Next::RetryAt),
            Outcome::Refused(_) => Next::Failed,
            Outcome::Expired => Next::Expired,
        }
    }
}

/// A try as the outbox's history keeps it (`outbox_attempts.outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TryKind {
    Sent,
    Deferred,
    Refused,
    Expired,
}

impl TryKind {
    const ALL: [TryKind; 4] = [
        TryKind::Sent,
        TryKind::Deferred,
        TryKind::Refused,
        TryKind::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TryKind::Sent => "sent",
            TryKind::Deferred => "deferred",
            TryKind::Refused => "refused",
            TryKind::Expired => "expired",
        }
    }
}

impl FromStr for TryKind {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| Error::internal(format!("stored invite try `{raw}`")))
    }
}

/// What becomes of a message after a try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Sent,
    /// Deferred: due again then.
    RetryAt(DateTime<Utc>),
    /// Refused, or deferred with every retry spent.
    Failed,
    Expired,
}

impl Next {
    pub fn status(self) -> MailStatus {
        match self {
            Next::Sent => MailStatus::Sent,
            Next::RetryAt(_) => MailStatus::Pending,
            Next::Failed => MailStatus::Failed,
            Next::Expired => MailStatus::Expired,
        }
    }
}

/// How a school's emailed invites stand, for its coordinators.
pub struct InviteSummary {
    /// Accepted by the mail server.
    pub sent: usize,
    /// Waiting for a first try or a retry.
    pub pending: usize,
    /// Refused, or given up.
    pub failed: usize,
    /// The failed ones (at most 20): who, about which session, and what
    /// the server said.
    pub problems: Vec<(String, String, String)>,
    /// Series whose changes are not yet messages (no sender has run).
    pub unsent_changes: usize,
}

impl InviteSummary {
    pub fn of(mail: &[OutboxMessage]) -> InviteSummary {
        let count = |status: MailStatus| mail.iter().filter(|m| m.status == status).count();
        let problems = mail
            .iter()
            .filter(|m| m.status == MailStatus::Failed)
            .take(20)
            .map(|m| {
                (
                    m.recipient_email.clone(),
                    m.snapshot.when.clone(),
                    m.last_error.clone().unwrap_or_default(),
                )
            })
            .collect();
        InviteSummary {
            sent: count(MailStatus::Sent),
            pending: count(MailStatus::Pending),
            failed: count(MailStatus::Failed),
            problems,
            unsent_changes: 0,
        }
    }
}

/// A plain email to a member of staff: what it says and where it leads.
/// It never holds a pupil's message, only that something waits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub subject: String,
    pub text: String,
    /// The page it leads to (joined to the server's address when sent).
    pub path: String,
}

/// A notice taken from the outbox to send.
#[derive(Clone, Debug)]
pub struct QueuedNotice {
    pub id: Uuid,
    pub recipient_email: String,
    pub notice: Notice,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}
