//! A pair's messages: one thread per approved match, written on the thread
//! page or in a call, so a pair's conversation is one record. Every message
//! is kept whatever moderation decided ([`Status`]); what each reader sees
//! of it is decided here ([`Entry::for_reader`]): the sender sees their
//! own message and what became of it, the other student only what was
//! delivered, and only once it is visible (inside the school's messaging
//! hours, or once a safeguarding lead released it).
//!
//! Layout: this module holds the types and rules; [`threads`] opening a
//! thread as the policy allows and each reader's view of it; [`store`] its
//! SQL (the `messages` and `message_reads` tables); [`http`] the JSON API
//! and sending; [`pages`] the thread pages.

pub mod http;
pub mod pages;
pub mod store;
pub mod threads;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The other student sees it (from `visible_at`).
    Delivered,
    /// Waiting for a safeguarding lead; the other student sees nothing.
    Held,
    /// Stopped by the filter; the sender was told why.
    Blocked,
    /// A safeguarding lead decided it is not to be delivered.
    Rejected,
}

impl Status {
    const ALL: [Status; 4] = [
        Status::Delivered,
        Status::Held,
        Status::Blocked,
        Status::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Held => "held",
            Status::Blocked => "blocked",
            Status::Rejected => "rejected",
        }
    }
}

/// A stored status this build does not know.
#[derive(Debug, thiserror::Error)]
#[error("stored message status `{0}`")]
pub struct UnknownStatus(String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl TryFrom<String> for Status {
    type Error = UnknownStatus;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored message, in full: what safeguarding leads read.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    /// The pair's match: the thread.
    pub match_id: Uuid,
    pub sender_id: Uuid,
    /// The call it was written in, if any.
    pub session_id: Option<Uuid>,
    /// What the sender wrote (cleaned of invisible characters).
    pub text: String,
    /// What the other student sees once it is visible.
    pub shown: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: Status,
    /// The moderation category that decided it, if any.
    pub category: Option<String>,
    /// The moderation findings, as JSON (`[{category, start, end}]`).
    pub findings: String,
    pub sent_at: DateTime<Utc>,
    /// When the other student may see it.
    pub visible_at: Option<DateTime<Utc>>,
}

/// A message about to be stored.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    pub match_id: Uuid,
    pub sender_id: Uuid,
    pub session_id: Option<Uuid>,
    pub text: &'a str,
    pub status: Status,
    pub category: Option<&'a str>,
    pub findings: String,
    pub sent_at: DateTime<Utc>,
    pub visible_at: Option<DateTime<Utc>>,
}

/// One message as one reader of the thread sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub id: i64,
    /// Written by the reader.
    pub mine: bool,
    pub sender_id: Uuid,
    pub text: String,
    /// For the sender: what became of it, in their words (`None` once it
    /// is simply sent).
    pub note: Option<&'static str>,
    /// `sent`, `scheduled`, `waiting`, `not_sent` or `removed`.
    pub state: &'static str,
    pub in_call: bool,
    pub at: DateTime<Utc>,
}

impl Entry {
    /// What `reader` (a student in the pair) sees of `message` at `now`,
    /// or nothing: the other student sees only delivered, visible messages.
    pub fn for_reader(message: &Message, reader: Uuid, now: DateTime<Utc>) -> Option<Entry> {
        let mine = message.sender_id == reader;
        let visible =
            message.status == Status::Delivered && message.visible_at.is_some_and(|at| at <= now);
        if !mine && !visible {
            return None;
        }
        let (state, note) = match message.status {
            Status::Delivered if visible => ("sent", None),
            Status::Delivered => (
                "scheduled",
                Some("Sent outside messaging hours: it will be delivered when they open."),
            ),
            Status::Held => (
                "waiting",
                Some("Waiting for a teacher to check before it is delivered."),
            ),
            Status::Blocked => (
                "not_sent",
                Some("Not sent: it had something in it that can't be shared here."),
            ),
            Status::Rejected => (
                "removed",
                Some("A teacher checked this message and it was not delivered."),
            ),
        };
        let text = if mine {
            message.text.clone()
        } else {
            message.shown.clone().unwrap_or_default()
        };
        Some(Entry {
            id: message.id,
            mine,
            sender_id: message.sender_id,
            text,
            note,
            state,
            in_call: message.session_id.is_some(),
            at: message
                .visible_at
                .filter(|_| !mine)
                .unwrap_or(message.sent_at),
        })
    }
}

/// What the students are told about who reads their messages.
pub const WHO_CAN_READ: &str =
    "Your teachers and safeguarding leads at both schools can read these messages.";

#[cfg(test)]
mod tests {
    use super::*;

    fn message(status: Status, visible_at: Option<DateTime<Utc>>) -> Message {
        Message {
            id: 1,
            match_id: Uuid::nil(),
            sender_id: Uuid::from_u128(1),
            session_id: None,
            text: "call me on 07700 900123".into(),
            shown: (status == Status::Delivered).then(|| "call me on █████ ██████".into()),
            status,
            category: Some("contact".into()),
            findings: "[]".into(),
            sent_at: Utc::now(),
            visible_at,
        }
    }

    #[test]
    fn the_other_student_sees_only_what_was_delivered_and_is_visible() {
        let (sender, other, now) = (Uuid::from_u128(1), Uuid::from_u128(2), Utc::now());
        for status in [Status::Held, Status::Blocked, Status::Rejected] {
            assert!(Entry::for_reader(&message(status, None), other, now).is_none());
            let own = Entry::for_reader(&message(status, None), sender, now).unwrap();
            assert!(own.note.is_some(), "{status}: the sender is told");
        }
        let later = now + chrono::Duration::hours(10);
        assert!(Entry::for_reader(&message(Status::Delivered, Some(later)), other, now).is_none());
        let seen = Entry::for_reader(&message(Status::Delivered, Some(now)), other, now).unwrap();
        assert_eq!(seen.text, "call me on █████ ██████", "the redacted text");
    }
}
