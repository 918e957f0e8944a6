//! Invites' SQL, on its own tables: `outbox` and `outbox_attempts` (the
//! emailed invites and every try at sending them) and `calendar_feeds`
//! (the private subscription links).

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::feeds::FeedOwner;
use super::outbox::{
    InviteSummary, MailStatus, Next, Notice, OutboxMessage, Outcome, Person, QueuedNotice, TryKind,
    address,
};
use crate::auth::{random_token, token_hash};
use crate::error::{Error, Result};
use crate::store::{Constraint, Store, Tx};
use crate::{on_pool, on_tx};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    school_id: Uuid,
    session_id: Option<Uuid>,
    sequence: Option<i32>,
    method: Option<String>,
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
            session_id: r
                .session_id
                .ok_or_else(|| Error::internal("an invite without its session"))?,
            sequence: r
                .sequence
                .ok_or_else(|| Error::internal("an invite without its SEQUENCE"))?,
            method: r
                .method
                .ok_or_else(|| Error::internal("an invite without its method"))?
                .parse()?,
            recipient_id: r.recipient_id,
            recipient_email: r.recipient_email,
            snapshot: serde_json::from_str(&r.snapshot)
                .map_err(|e| Error::internal_from("stored invite", e))?,
            status: r.status.parse()?,
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

/// Everyone at the schools of two students, with their school's name.
async fn people_of_pair(tx: &mut Tx, mentee: Uuid, mentor: Uuid) -> Result<Vec<Person>> {
    let users = crate::people::accounts::store::at_schools_of_in_tx(tx, mentee, mentor).await?;
    let mut ids: Vec<Uuid> = users.iter().filter_map(|u| u.school_id).collect();
    ids.sort();
    ids.dedup();
    let schools = crate::people::schools::store::schools_in_tx(tx, &ids).await?;
    Ok(users
        .into_iter()
        .filter_map(|u| {
            let school = schools.iter().find(|s| Some(s.id) == u.school_id)?;
            Some(Person {
                id: u.id,
                role: u.role.as_str().to_owned(),
                school_name: school.name.clone(),
                school_slug: school.slug.clone(),
                given_name: u.given_name,
                family_name: u.family_name,
                email: u.email,
                school_id: u.school_id,
            })
        })
        .collect())
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
        let session = crate::booking::store::session_in(tx, id).await?;
        let pair = (session.mentee_id, session.mentor_id);
        if known.as_ref().is_none_or(|(p, _)| *p != pair) {
            known = Some((pair, people_of_pair(tx, pair.0, pair.1).await?));
        }
        let people: &[Person] = known.as_ref().map_or(&[], |(_, p)| p);
        for invite in address(&session, people)? {
            let json = serde_json::to_string(&invite.snapshot)
                .map_err(|e| Error::internal_from("invite JSON", e))?;
            queued += on_tx!(&mut *tx, |conn| {
                sqlx::query(
                "INSERT INTO outbox (id, school_id, session_id, sequence, method, recipient_id, recipient_email, \
                 snapshot, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, 0, $9, $9)"
            )
            .bind(Uuid::new_v4())
            .bind(invite.school)
            .bind(session.id)
            .bind(session.sequence)
            .bind(invite.snapshot.method().as_str())
            .bind(invite.recipient)
            .bind(&invite.email)
            .bind(&json)
            .bind(now)
            .bind(MailStatus::Pending.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
    }
    Ok(queued)
}

/// Revokes `owner`'s live feed inside `tx`, if there is one.
async fn revoke_in(tx: &mut Tx, owner: FeedOwner, now: DateTime<Utc>) -> Result<()> {
    let (user, school) = owner.columns();
    on_tx!(&mut *tx, |conn| {
        sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $1 WHERE revoked_at IS NULL AND (user_id = $2 OR school_id = $3)",
        )
        .bind(now)
        .bind(user)
        .bind(school)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
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
            "SELECT {COLUMNS} FROM outbox WHERE kind = 'invite' AND status = $3 AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY created_at, id LIMIT $2"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(now)
            .bind(limit)
            .bind(MailStatus::Pending.as_str())
            .fetch_all(pool)
            .await)?;
        let mut leased = Vec::with_capacity(rows.len());
        for row in rows {
            if self.lease(row.id, now, lease).await? {
                leased.push(OutboxMessage::try_from(row)?);
            }
        }
        Ok(leased)
    }

    /// Records a try and moves the message on to `next`: sent, due again,
    /// or failed (or expired) for good.
    pub async fn record_mail(
        &self,
        message: &OutboxMessage,
        outcome: &Outcome,
        next: Next,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.record_try(message.id, outcome, next, now).await
    }

    /// Queues a notice to `recipient` (staff with a work address), to go
    /// with the next round of the mail sender.
    pub async fn queue_notice(
        &self,
        school: Uuid,
        recipient: Uuid,
        email: &str,
        notice: &Notice,
    ) -> Result<()> {
        let json =
            serde_json::to_string(notice).map_err(|e| Error::internal_from("notice JSON", e))?;
        let now = Utc::now();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO outbox (id, kind, school_id, recipient_id, recipient_email, snapshot, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, 'notice', $2, $3, $4, $5, $6, 0, $7, $7)"
        )
        .bind(Uuid::new_v4())
        .bind(school)
        .bind(recipient)
        .bind(email)
        .bind(&json)
        .bind(MailStatus::Pending.as_str())
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Notices due now, each leased to this caller for `lease`.
    pub async fn lease_due_notices(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<QueuedNotice>> {
        let rows: Vec<(Uuid, String, String, i32, DateTime<Utc>)> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, recipient_email, snapshot, attempts, created_at FROM outbox WHERE kind = 'notice' \
             AND status = $3 AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
             ORDER BY created_at, id LIMIT $2"
        )
        .bind(now)
        .bind(limit)
        .bind(MailStatus::Pending.as_str())
        .fetch_all(pool)
        .await
        })?;
        let mut leased = Vec::new();
        for (id, email, snapshot, attempts, created_at) in rows {
            if self.lease(id, now, lease).await? {
                leased.push(QueuedNotice {
                    id,
                    recipient_email: email,
                    notice: serde_json::from_str(&snapshot)
                        .map_err(|e| Error::internal_from("stored notice", e))?,
                    attempts,
                    created_at,
                });
            }
        }
        Ok(leased)
    }

    /// Takes one due message for `lease`, unless another sender holds it.
    async fn lease(&self, id: Uuid, now: DateTime<Utc>, lease: Duration) -> Result<bool> {
        let got = on_pool!(self, |pool| sqlx::query(
            "UPDATE outbox SET lease_until = $1 WHERE id = $2 AND status = $4 \
             AND (lease_until IS NULL OR lease_until < $3)"
        )
        .bind(now + lease)
        .bind(id)
        .bind(now)
        .bind(MailStatus::Pending.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(got == 1)
    }

    /// Records a try at sending a notice.
    pub async fn record_notice(
        &self,
        notice: &QueuedNotice,
        outcome: &Outcome,
        next: Next,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.record_try(notice.id, outcome, next, now).await
    }

    async fn record_try(
        &self,
        id: Uuid,
        outcome: &Outcome,
        next: Next,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let detail = outcome.detail();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO outbox_attempts (message_id, at, outcome, detail) VALUES ($1, $2, $3, $4)"
        )
        .bind(id)
        .bind(now)
        .bind(outcome.kind().as_str())
        .bind(&detail)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        let sent = next == Next::Sent;
        let due = match next {
            Next::RetryAt(at) => at,
            _ => now,
        };
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, lease_until = NULL, \
             last_error = $3, sent_at = $4 WHERE id = $5"
        )
        .bind(next.status().as_str())
        .bind(due)
        .bind((!sent).then_some(detail.as_str()))
        .bind(sent.then_some(now))
        .bind(id)
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
            "SELECT {COLUMNS} FROM outbox WHERE school_id = $1 AND kind = 'invite' ORDER BY created_at DESC, id LIMIT $2"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(OutboxMessage::try_from).collect()
    }

    /// How the school's last 500 invites stand, for its coordinators.
    pub async fn invite_summary(&self, school: Uuid) -> Result<InviteSummary> {
        Ok(InviteSummary::of(&self.school_mail(school, 500).await?))
    }

    /// Every try at sending a school's messages created since `since`,
    /// oldest first: (message, when, what came of it, detail). One query
    /// for a whole page of invites.
    pub async fn school_mail_attempts(
        &self,
        school: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, DateTime<Utc>, TryKind, String)>> {
        let rows: Vec<(Uuid, DateTime<Utc>, String, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT a.message_id, a.at, a.outcome, a.detail FROM outbox_attempts a \
                 JOIN outbox o ON o.id = a.message_id \
                 WHERE o.school_id = $1 AND o.kind = 'invite' AND o.created_at >= $2 ORDER BY a.at",
            )
            .bind(school)
            .bind(since)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|(id, at, kind, detail)| Ok((id, at, kind.parse()?, detail)))
            .collect()
    }

    /// A new private feed token for `owner`, revoking any earlier one.
    pub async fn new_feed(&self, owner: FeedOwner) -> Result<String> {
        let token = random_token();
        let (user, school) = owner.columns();
        let now = Utc::now();
        let mut tx = self.begin().await?;
        revoke_in(&mut tx, owner, now).await?;
        let inserted = on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO calendar_feeds (token_hash, user_id, school_id, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(token_hash(&token))
        .bind(user)
        .bind(school)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        });
        match inserted {
            // Someone made a link for the same calendar at the same moment.
            Err(e)
                if matches!(
                    Constraint::of(&e),
                    Some(Constraint::FeedLiveUser | Constraint::FeedLiveSchool)
                ) =>
            {
                return Err(Error::conflict(
                    "calendar",
                    "a new link was made at the same moment; try again",
                ));
            }
            other => other?,
        };
        tx.commit().await?;
        Ok(token)
    }

    /// Revokes a person's or a school's feed, if there is one.
    pub async fn revoke_feed(&self, owner: FeedOwner) -> Result<()> {
        let mut tx = self.begin().await?;
        revoke_in(&mut tx, owner, Utc::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whose live feed a token opens, if any.
    pub async fn feed_owner(&self, token: &str) -> Result<Option<FeedOwner>> {
        let row: Option<(Option<Uuid>, Option<Uuid>)> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT user_id, school_id FROM calendar_feeds WHERE token_hash = $1 AND revoked_at IS NULL"
        )
        .bind(token_hash(token))
        .fetch_optional(pool)
        .await
        })?;
        Ok(row.and_then(|(user, school)| FeedOwner::from_columns(user, school)))
    }
}
