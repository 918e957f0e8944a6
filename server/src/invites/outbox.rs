//! The invite outbox: every change to a session queues an iTIP message for
//! each member of staff who should hear of it, in the same transaction as
//! the change. A change is therefore never committed without its invites,
//! and an invite never sent for a change that rolled back; a restart loses
//! nothing, because the queue is the database.
//!
//! Who hears: the coordinators of both schools and the session's supervisor
//! at each end, where they have a work address. Students have no address
//! (they follow their sessions through their own calendar feed). Each
//! recipient's message lists as attendees only the staff of their own
//! school: a partner school's staff addresses are not passed across.
//!
//! A row holds a *snapshot* of what the message says (the session as it
//! was, its names, the attendees). The sender renders it with DTSTAMP set
//! to the row's creation time, so every retry sends the same bytes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CalendarUser, Method, SessionNames};
use crate::booking::{Session, SessionStatus};
use crate::error::{Error, Result};
use crate::store::{Store, Tx};
use crate::{on_pool, on_tx};

/// What one queued message says, as it was when the change was made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// The session after the change.
    pub session: Session,
    /// The names its entry may show.
    pub names: SessionNames,
    /// Staff of the recipient's school who receive it.
    pub attendees: Vec<CalendarUser>,
    /// The recipient's school slug (whose local time the subject gives).
    pub school_slug: String,
}

/// Where a queued message stands.
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
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
            MailStatus::Expired => "expired",
        }
    }

    fn parse(raw: &str) -> Result<Self> {
        [
            MailStatus::Pending,
            MailStatus::Sent,
            MailStatus::Failed,
            MailStatus::Expired,
        ]
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
    /// The session it is about.
    pub session_id: Uuid,
    /// The session's SEQUENCE in it.
    pub sequence: i32,
    /// `REQUEST` or `CANCEL`.
    pub method: String,
    /// The recipient.
    pub recipient_id: Uuid,
    /// Where it goes.
    pub recipient_email: String,
    /// What it says.
    #[serde(skip)]
    pub snapshot: Snapshot,
    /// Where it stands.
    pub status: MailStatus,
    /// Tries so far.
    pub attempts: i32,
    /// When it is next due.
    pub next_attempt_at: DateTime<Utc>,
    /// What the mail server said last time, when it was not a yes.
    pub last_error: Option<String>,
    /// When the change was made (the message's DTSTAMP).
    pub created_at: DateTime<Utc>,
    /// When the mail server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

impl OutboxMessage {
    /// The iTIP method.
    pub fn method(&self) -> Method {
        if self.method == Method::Cancel.as_str() {
            Method::Cancel
        } else {
            Method::Request
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    school_id: Uuid,
    session_id: Uuid,
    sequence: i32,
    method: String,
    recipient_id: Uuid,
    recipient_email: String,
    snapshot: String,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for OutboxMessage {
    type Error = Error;

    fn try_from(r: Row) -> Result<Self> {
        Ok(OutboxMessage {
            id: r.id,
            school_id: r.school_id,
            session_id: r.session_id,
            sequence: r.sequence,
            method: r.method,
            recipient_id: r.recipient_id,
            recipient_email: r.recipient_email,
            snapshot: serde_json::from_str(&r.snapshot)
                .map_err(|e| Error::internal_from("stored invite", e))?,
            status: MailStatus::parse(&r.status)?,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
    }
}

const COLUMNS: &str = "id, school_id, session_id, sequence, method, recipient_id, recipient_email, snapshot, \
     status, attempts, next_attempt_at, last_error, created_at, sent_at";

#[derive(sqlx::FromRow)]
struct Person {
    id: Uuid,
    given_name: String,
    family_name: String,
    role: String,
    email: Option<String>,
    school_id: Option<Uuid>,
    school_name: String,
    school_slug: String,
}

/// Queues, inside `tx`, the invites for sessions just changed there: a
/// `REQUEST` for a booked or moved session, a `CANCEL` for a cancelled one,
/// to each coordinator of both schools and each of the session's
/// supervisors who has a work address. Returns how many were queued.
pub async fn enqueue(tx: &mut Tx, sessions: &[Uuid]) -> Result<u64> {
    let now = Utc::now();
    let mut queued = 0;
    // A series is one pair: its two schools' people are read once.
    let mut known: Option<((Uuid, Uuid), Vec<Person>)> = None;
    for &id in sessions {
        let session = crate::booking::session_in(tx, id).await?;
        let pair = (session.mentee_id, session.mentor_id);
        if known.as_ref().is_none_or(|(p, _)| *p != pair) {
            let people: Vec<Person> = on_tx!(&mut *tx, |conn| {
                sqlx::query_as(
            "SELECT u.id, u.given_name, u.family_name, u.role, u.email, u.school_id, s.name AS school_name, \
             s.slug AS school_slug FROM users u JOIN schools s ON s.id = u.school_id \
             WHERE u.school_id IN (SELECT school_id FROM users WHERE id = $1 OR id = $2)"
        )
        .bind(session.mentee_id)
        .bind(session.mentor_id)
        .fetch_all(conn)
        .await
            })?;
            known = Some((pair, people));
        }
        let people: &[Person] = known.as_ref().map_or(&[], |(_, p)| p);
        let find = |user: Uuid| people.iter().find(|p| p.id == user);
        let (Some(mentee), Some(mentor)) = (find(session.mentee_id), find(session.mentor_id))
        else {
            return Err(Error::internal("a session's students have no school"));
        };
        let names = SessionNames {
            mentee: mentee.given_name.clone(),
            mentee_school: mentee.school_name.clone(),
            mentor: mentor.given_name.clone(),
            mentor_school: mentor.school_name.clone(),
        };
        let mut recipients: Vec<&Person> = people
            .iter()
            .filter(|p| p.email.is_some())
            .filter(|p| p.role == "coordinator" || session.supervisors.contains(&p.id))
            .collect();
        recipients.sort_by_key(|p| (p.school_slug.clone(), p.email.clone()));
        let method = if session.status == SessionStatus::Cancelled {
            Method::Cancel
        } else {
            Method::Request
        };
        for person in &recipients {
            let (Some(email), Some(school)) = (&person.email, person.school_id) else {
                continue;
            };
            let attendees = recipients
                .iter()
                .filter(|p| p.school_id == Some(school))
                .filter_map(|p| {
                    p.email.as_ref().map(|e| CalendarUser {
                        name: format!("{} {}", p.given_name, p.family_name)
                            .trim()
                            .to_owned(),
                        email: e.clone(),
                    })
                })
                .collect();
            let snapshot = Snapshot {
                session: session.clone(),
                names: names.clone(),
                attendees,
                school_slug: person.school_slug.clone(),
            };
            let json = serde_json::to_string(&snapshot)
                .map_err(|e| Error::internal_from("invite JSON", e))?;
            queued += on_tx!(&mut *tx, |conn| {
                sqlx::query(
                "INSERT INTO outbox (id, school_id, session_id, sequence, method, recipient_id, recipient_email, \
                 snapshot, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9)"
            )
            .bind(Uuid::new_v4())
            .bind(school)
            .bind(session.id)
            .bind(session.sequence)
            .bind(method.as_str())
            .bind(person.id)
            .bind(email)
            .bind(&json)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
    }
    Ok(queued)
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

impl Store {
    /// Messages due now, oldest first, each leased to this caller for
    /// `lease` so that two senders never send one message at once.
    pub async fn lease_due_mail(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY created_at, id LIMIT $2"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        let mut leased = Vec::with_capacity(rows.len());
        for row in rows {
            let got = on_pool!(self, |pool| sqlx::query(
                "UPDATE outbox SET lease_until = $1 WHERE id = $2 AND status = 'pending' \
                 AND (lease_until IS NULL OR lease_until < $3)"
            )
            .bind(now + lease)
            .bind(row.id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
            if got == 1 {
                leased.push(OutboxMessage::try_from(row)?);
            }
        }
        Ok(leased)
    }

    /// Records a try and moves the message on: sent, due again at
    /// `retry_at`, or failed for good (refused, or `retry_at` is `None`
    /// because every retry is spent).
    pub async fn record_mail(
        &self,
        message: &OutboxMessage,
        outcome: &Outcome,
        now: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let (status, detail, kind) = match outcome {
            Outcome::Sent => (
                MailStatus::Sent,
                "accepted by the mail server".to_owned(),
                "sent",
            ),
            Outcome::Deferred(why) => (
                if retry_at.is_some() {
                    MailStatus::Pending
                } else {
                    MailStatus::Failed
                },
                why.clone(),
                "deferred",
            ),
            Outcome::Refused(why) => (MailStatus::Failed, why.clone(), "refused"),
            Outcome::Expired => (
                MailStatus::Expired,
                "the session was over before the invite could be sent".to_owned(),
                "expired",
            ),
        };
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO outbox_attempts (message_id, at, outcome, detail) VALUES ($1, $2, $3, $4)"
        )
        .bind(message.id)
        .bind(now)
        .bind(kind)
        .bind(&detail)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        let error = (*outcome != Outcome::Sent).then_some(detail.as_str());
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, lease_until = NULL, \
             last_error = $3, sent_at = $4 WHERE id = $5"
        )
        .bind(status.as_str())
        .bind(retry_at.unwrap_or(now))
        .bind(error)
        .bind((*outcome == Outcome::Sent).then_some(now))
        .bind(message.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(())
    }

    /// A school's invites, newest first: what its coordinators see of the
    /// outbox (its own staff's messages only).
    pub async fn school_mail(&self, school: Uuid, limit: i64) -> Result<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE school_id = $1 ORDER BY created_at DESC, id LIMIT $2"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(OutboxMessage::try_from).collect()
    }

    /// Every try at sending a school's messages created since `since`,
    /// oldest first: (message, when, outcome, detail). One query for a
    /// whole page of invites.
    pub async fn school_mail_attempts(
        &self,
        school: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, DateTime<Utc>, String, String)>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT a.message_id, a.at, a.outcome, a.detail FROM outbox_attempts a \
                 JOIN outbox o ON o.id = a.message_id \
                 WHERE o.school_id = $1 AND o.created_at >= $2 ORDER BY a.at",
            )
            .bind(school)
            .bind(since)
            .fetch_all(pool)
            .await
        })?)
    }
}
