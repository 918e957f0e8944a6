//! Calendar subscriptions: private links (a random token, of which only
//! the hash is kept) to a person's or a school's sessions as an `.ics`
//! feed. Each link has a name (where it is used: "Phone", "Laptop") and is
//! revoked on its own, so a new one never silently breaks another. The SQL
//! is in [`super::store`], the routes in [`super::http`].

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::Reader;
use crate::people::accounts::{Role, StudentKind};

/// Whose calendar a feed is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedOwner {
    /// A person's own sessions.
    User(Uuid),
    /// Every session with a student of the school.
    School(Uuid),
}

impl FeedOwner {
    /// The `(user_id, school_id)` columns of a feed row: one is set.
    pub(crate) fn columns(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            FeedOwner::User(u) => (Some(u), None),
            FeedOwner::School(s) => (None, Some(s)),
        }
    }

    pub(crate) fn from_columns(user: Option<Uuid>, school: Option<Uuid>) -> Option<FeedOwner> {
        match (user, school) {
            (Some(u), _) => Some(FeedOwner::User(u)),
            (None, Some(s)) => Some(FeedOwner::School(s)),
            _ => None,
        }
    }
}

/// One live link as its owner sees it.
#[derive(Clone, Debug, Serialize)]
pub struct FeedLink {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Where a new feed can be subscribed to.
#[derive(Debug, Serialize)]
pub struct FeedLinks {
    /// Its id, to revoke it by.
    pub id: Uuid,
    pub name: String,
    /// For calendar apps (`webcal://…`).
    pub webcal: String,
    /// The same over http(s).
    pub url: String,
}

/// The subscription links for a feed token.
pub fn feed_links(base: &str, id: Uuid, name: &str, token: &str) -> FeedLinks {
    let url = format!("{base}/calendar/{token}.ics");
    let webcal = url
        .replacen("https://", "webcal://", 1)
        .replacen("http://", "webcal://", 1);
    FeedLinks {
        id,
        name: name.to_owned(),
        webcal,
        url,
    }
}

/// How a person reads their own sessions.
pub(crate) fn reader_for(role: Role, kind: Option<StudentKind>) -> Reader {
    match (role, kind) {
        (Role::Student, Some(StudentKind::Mentee)) => Reader::Mentee,
        (Role::Student, _) => Reader::Mentor,
        _ => Reader::Staff,
    }
}

/// The sessions a feed holds: the last term behind (about four months) and
/// the whole booked series ahead (a school year and more), cancelled ones
/// included so calendars drop them. Four months ahead cut a term's series
/// in half once its holidays were counted.
pub(crate) fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - Duration::days(120), now + Duration::days(400))
}
