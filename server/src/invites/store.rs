//! Invites' SQL, on its own tables: `outbox` and `outbox_attempts` (the
//! emailed invites and every try at sending them) and `calendar_feeds`
//! (the private subscription links).

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::feeds::{FeedLink, FeedOwner};
use std::collections::BTreeMap;

use super::announce::Person;
use super::copies::CopyState;
use super::outbox::{
    InviteSummary, MailStatus, Next, Notice, OutboxMessage, Outcome, QueuedNotice, TryKind,
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

/// Everyone at the schools of two students, with their school's name and
/// zone.
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
                school_name: school.name.clone(),
                school_tz: school.time_zone.parse().unwrap_or(chrono_tz::UTC),
                given_name: u.given_name,
                family_name: u.family_name,
                email: u.email,
                school_id: u.school_id,
            })
        })
        .collect())
}

/// Marks, inside `tx`, the series `uids` as changed, to be announced from
/// `due`. A change to a series already booked raises its SEQUENCE (feeds
/// show it at once; invites when announced); sessions added while a series
/// is first being booked do not.
async fn mark(tx: &mut Tx, uids: &[String], due: DateTime<Utc>, bump: bool) -> Result<()> {
    let now = Utc::now();
    for uid in uids {
        on_tx!(&mut *tx, |conn| sqlx::query(
            "INSERT INTO invite_series (uid, sequence, due_at, changed_at) VALUES ($1, 0, $2, $3) \
             ON CONFLICT (uid) DO UPDATE SET due_at = $2, changed_at = $3, \
             sequence = invite_series.sequence + $4"
        )
        .bind(uid)
        .bind(due)
        .bind(now)
        .bind(i32::from(bump))
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Marks, inside `tx`, the series of sessions just changed there, to be
/// announced by the sender's next round: what each supervisor's calendar
/// lacks of them, at most one message each.
pub async fn enqueue(tx: &mut Tx, sessions: &[Uuid]) -> Result<()> {
    let uids = crate::booking::store::series_of_in(tx, sessions).await?;
    mark(tx, &uids, Utc::now(), true).await
}

/// Marks series changed inside `tx` (such as one whose later sessions just
/// moved to a series of their own), to be announced by the next round.
pub async fn enqueue_series(tx: &mut Tx, uids: &[String]) -> Result<()> {
    mark(tx, uids, Utc::now(), true).await
}

/// How long a series still being booked waits to be announced, should its
/// booking never finish (the server stopped half way).
const BOOKING_GRACE: i64 = 120;

/// Like [`enqueue`], for a session of a series still being booked: it is
/// announced by [`announce`] once the run is done, so a calendar gets the
/// series once, not once per session.
pub async fn enqueue_later(tx: &mut Tx, sessions: &[Uuid]) -> Result<()> {
    let uids = crate::booking::store::series_of_in(tx, sessions).await?;
    mark(
        tx,
        &uids,
        Utc::now() + Duration::seconds(BOOKING_GRACE),
        false,
    )
    .await
}

/// A series whose booking run is done is announced by the next round.
pub async fn announce(store: &Store, uid: &str) -> Result<()> {
    on_pool!(store, |pool| sqlx::query(
        "UPDATE invite_series SET due_at = $1 WHERE uid = $2 AND due_at IS NOT NULL"
    )
    .bind(Utc::now())
    .bind(uid)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A member of staff's address changed: every series they supervise is
/// sent again, to the new address, and cancelled at the old one.
pub async fn recipient_changed(store: &Store, user: Uuid) -> Result<()> {
    let mut tx = store.begin().await?;
    let mut uids = crate::booking::store::series_supervised_by(&mut tx, user).await?;
    let held: Vec<(String,)> = on_tx!(&mut tx, |conn| sqlx::query_as(
        "SELECT series_uid FROM invite_copies WHERE holder = $1"
    )
    .bind(user.to_string())
    .fetch_all(conn)
    .await)?;
    uids.extend(held.into_iter().map(|(u,)| u));
    uids.sort();
    uids.dedup();
    mark(&mut tx, &uids, Utc::now(), true).await?;
    tx.commit().await?;
    Ok(())
}

/// One copy of a series as the sender last left it.
struct HeldCopy {
    school: Uuid,
    email: Option<String>,
    state: CopyState,
}

/// What the sender needs to announce series: the scheme's mailbox and
/// where links point.
pub struct Announcer<'a> {
    pub from_email: &'a str,
    pub base_url: &'a str,
}

impl Store {
    /// Announces every series whose changes are due: for each, the
    /// messages each supervisor's calendar needs (queued in the outbox, in
    /// the order of the series' first sessions), its new copies, and the
    /// lines of the schools' digests, in one transaction per series.
    /// Returns how many messages were queued.
    pub async fn announce_due(
        &self,
        announcer: &Announcer<'_>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let due: Vec<(String,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT uid FROM invite_series WHERE due_at IS NOT NULL AND due_at <= $1"
        )
        .bind(now)
        .fetch_all(pool)
        .await)?;
        let mut due: Vec<String> = due.into_iter().map(|(u,)| u).collect();
        // In the order of the series' first sessions, so one change's
        // messages go out in date order.
        let starts = self.series_starts(&due).await?;
        due.sort_by_key(|u| (starts.get(u).copied(), u.clone()));
        let mut queued = 0;
        let mut clock = now;
        for uid in due {
            let mut tx = self.begin().await?;
            queued += announce_in(&mut tx, &uid, announcer, &mut clock).await?;
            tx.commit().await?;
        }
        Ok(queued)
    }
}

/// Announces one series inside `tx`; `clock` gives each message a later
/// creation time than the last, so they are sent in order.
async fn announce_in(
    tx: &mut Tx,
    uid: &str,
    announcer: &Announcer<'_>,
    clock: &mut DateTime<Utc>,
) -> Result<usize> {
    let (sequence, sent): (i32, Option<i32>) = on_tx!(&mut *tx, |conn| sqlx::query_as(
        "SELECT sequence, sent_sequence FROM invite_series WHERE uid = $1"
    )
    .bind(uid)
    .fetch_one(conn)
    .await)?;
    let sessions = crate::booking::store::series_in(tx, uid).await?;
    let held: Vec<(String, Uuid, Option<String>, String)> =
        on_tx!(&mut *tx, |conn| sqlx::query_as(
            "SELECT holder, school_id, email, state FROM invite_copies WHERE series_uid = $1"
        )
        .bind(uid)
        .fetch_all(conn)
        .await)?;
    let mut copies: BTreeMap<String, HeldCopy> = BTreeMap::new();
    for (holder, school, email, state) in held {
        let state = serde_json::from_str(&state)
            .map_err(|e| Error::internal_from("stored invite copy", e))?;
        copies.insert(
            holder,
            HeldCopy {
                school,
                email,
                state,
            },
        );
    }
    let people = match sessions.first() {
        Some(s) => people_of_pair(tx, s.mentee_id, s.mentor_id).await?,
        None => Vec::new(),
    };
    let wanted = super::announce::wanted_copies(&sessions, &people)?;
    let mut holders: Vec<String> = copies.keys().chain(wanted.keys()).cloned().collect();
    holders.sort();
    holders.dedup();
    let mut queued = 0;
    for holder in holders {
        let before = copies.get(&holder);
        let after = wanted.get(&holder);
        let messages = super::announce::messages_for(
            &holder,
            uid,
            sequence,
            before.map(|c| (c.email.as_deref(), &c.state)),
            after,
            &sessions,
            &people,
            announcer,
            *clock,
        )?;
        for m in &messages {
            *clock += Duration::milliseconds(1);
            queue_in(tx, m, &sessions, sequence, *clock).await?;
            queued += 1;
        }
        if let Some(lines) = super::announce::digest_lines(
            &holder,
            before.map(|c| &c.state),
            after,
            &sessions,
            &people,
        ) {
            let school = after.map(|a| a.school).or(before.map(|b| b.school));
            if let Some(school) = school {
                for line in lines {
                    on_tx!(&mut *tx, |conn| {
                        sqlx::query(
                        "INSERT INTO invite_digest_lines (id, school_id, at, line) VALUES ($1, $2, $3, $4)"
                    )
                    .bind(Uuid::new_v4())
                    .bind(school)
                    .bind(*clock)
                    .bind(&line)
                    .execute(conn)
                    .await
                    .map(|r| r.rows_affected())
                    })?;
                }
            }
        }
        match after {
            Some(copy) => {
                let state = serde_json::to_string(&copy.state)
                    .map_err(|e| Error::internal_from("invite copy JSON", e))?;
                on_tx!(&mut *tx, |conn| {
                    sqlx::query(
                    "INSERT INTO invite_copies (series_uid, holder, school_id, email, state) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (series_uid, holder) DO UPDATE SET school_id = $3, email = $4, state = $5"
                )
                .bind(uid)
                .bind(&holder)
                .bind(copy.school)
                .bind(copy.email.as_deref())
                .bind(&state)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
                })?;
            }
            None => {
                on_tx!(&mut *tx, |conn| sqlx::query(
                    "DELETE FROM invite_copies WHERE series_uid = $1 AND holder = $2"
                )
                .bind(uid)
                .bind(&holder)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
            }
        }
    }
    let sent_now = if queued > 0 { Some(sequence) } else { sent };
    on_tx!(&mut *tx, |conn| sqlx::query(
        "UPDATE invite_series SET due_at = NULL, sent_sequence = $2 WHERE uid = $1"
    )
    .bind(uid)
    .bind(sent_now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(queued)
}

/// Queues one message inside `tx`.
async fn queue_in(
    tx: &mut Tx,
    message: &super::announce::Composed,
    sessions: &[crate::booking::Session],
    sequence: i32,
    at: DateTime<Utc>,
) -> Result<()> {
    let json = serde_json::to_string(&message.snapshot)
        .map_err(|e| Error::internal_from("invite JSON", e))?;
    // The row names a session of the series (its first), which the
    // outbox's own rules ask every invite for.
    let first = sessions
        .first()
        .map(|s| s.id)
        .ok_or_else(|| Error::internal("an invite for a series with no sessions"))?;
    on_tx!(&mut *tx, |conn| {
        sqlx::query(
        "INSERT INTO outbox (id, school_id, session_id, sequence, method, recipient_id, recipient_email, \
         snapshot, status, attempts, next_attempt_at, created_at, series_uid) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, 0, $9, $9, $11)"
    )
    .bind(Uuid::new_v4())
    .bind(message.school)
    .bind(first)
    .bind(sequence)
    .bind(message.method.as_str())
    .bind(message.recipient)
    .bind(&message.email)
    .bind(&json)
    .bind(at)
    .bind(MailStatus::Pending.as_str())
    .bind(&message.snapshot.series_uid)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The most live links one person or school may have.
const MAX_FEEDS: i64 = 10;

/// A link's name as typed: one line, 1 to 40 characters; none given is
/// "Calendar link".
fn feed_label(raw: &str) -> Result<String> {
    let label = crate::text::fold_to_line(raw.trim());
    let label = if label.is_empty() {
        "Calendar link".to_owned()
    } else {
        label
    };
    if label.chars().count() > 40 {
        return Err(Error::invalid(
            "name",
            "a link's name is at most 40 characters, such as “Phone” or “Laptop”",
        ));
    }
    Ok(label)
}

/// Revokes every live link of `owner` inside `tx`.
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
        let mut summary = InviteSummary::of(&self.school_mail(school, 500).await?);
        summary.unsent_changes = self.changes_waiting(school).await?;
        Ok(summary)
    }

    /// How many series with a student of `school` have changes the sender
    /// has not yet turned into messages (none is set up, or it has not
    /// run since).
    async fn changes_waiting(&self, school: Uuid) -> Result<usize> {
        let due: Vec<(String,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT uid FROM invite_series WHERE due_at IS NOT NULL"
        )
        .fetch_all(pool)
        .await)?;
        if due.is_empty() {
            return Ok(0);
        }
        let due: std::collections::HashSet<String> = due.into_iter().map(|(u,)| u).collect();
        let now = Utc::now();
        let (from, to) = super::feeds::window(now);
        let mut at_school: Vec<String> = self
            .sessions_at_school(school, from, to)
            .await?
            .into_iter()
            .map(|s| s.series_uid)
            .filter(|u| due.contains(u))
            .collect();
        at_school.sort();
        at_school.dedup();
        Ok(at_school.len())
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

    /// A new private feed link for `owner`, named `label` (where it is
    /// used: "Phone", "Laptop"), beside any others it has. Returns its id,
    /// token (only the token's hash is kept) and name as kept.
    pub async fn new_feed(&self, owner: FeedOwner, label: &str) -> Result<(Uuid, String, String)> {
        let label = feed_label(label)?;
        let token = random_token();
        let id = Uuid::new_v4();
        let (user, school) = owner.columns();
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let (live,): (i64,) = on_tx!(&mut tx, |conn| {
            sqlx::query_as(
            "SELECT COUNT(*) FROM calendar_feeds WHERE revoked_at IS NULL AND (user_id = $1 OR school_id = $2)"
        )
        .bind(user)
        .bind(school)
        .fetch_one(conn)
        .await
        })?;
        if live >= MAX_FEEDS {
            return Err(Error::conflict(
                "name",
                format!(
                    "there are already {MAX_FEEDS} calendar links: revoke one you no longer use first"
                ),
            ));
        }
        let inserted = on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO calendar_feeds (id, token_hash, user_id, school_id, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(id)
        .bind(token_hash(&token))
        .bind(user)
        .bind(school)
        .bind(&label)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        });
        match inserted {
            Err(e)
                if matches!(
                    Constraint::of(&e),
                    Some(Constraint::FeedLiveUser | Constraint::FeedLiveSchool)
                ) =>
            {
                return Err(Error::conflict(
                    "name",
                    format!(
                        "there is already a calendar link called “{label}”: give this one another name, or revoke that one first"
                    ),
                ));
            }
            other => other?,
        };
        tx.commit().await?;
        Ok((id, token, label))
    }

    /// `owner`'s live calendar links, oldest first (names and dates: the
    /// tokens themselves are not kept).
    pub async fn feed_links_of(&self, owner: FeedOwner) -> Result<Vec<FeedLink>> {
        let (user, school) = owner.columns();
        let rows: Vec<(Uuid, String, DateTime<Utc>)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, label, created_at FROM calendar_feeds WHERE revoked_at IS NULL \
             AND (user_id = $1 OR school_id = $2) ORDER BY created_at, label"
        )
        .bind(user)
        .bind(school)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at)| FeedLink {
                id,
                name,
                created_at,
            })
            .collect())
    }

    /// Revokes one of `owner`'s links: calendars using it stop updating.
    pub async fn revoke_feed_link(&self, owner: FeedOwner, id: Uuid) -> Result<()> {
        let (user, school) = owner.columns();
        let done = on_pool!(self, |pool| sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             AND (user_id = $3 OR school_id = $4)"
        )
        .bind(Utc::now())
        .bind(id)
        .bind(user)
        .bind(school)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(Error::NotFound("calendar link"));
        }
        Ok(())
    }

    /// Revokes every link of a person or a school.
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

impl Store {
    /// The SEQUENCE each of these series is at (a series never announced
    /// is at 0, and is left out).
    pub async fn series_sequences(
        &self,
        uids: &[String],
    ) -> Result<std::collections::HashMap<String, i32>> {
        let mut out = std::collections::HashMap::new();
        for chunk in uids.chunks(crate::store::IN_LIST_MAX) {
            let sql = format!(
                "SELECT uid, sequence FROM invite_series WHERE uid IN ({})",
                crate::store::placeholders(1, chunk.len())
            );
            let rows: Vec<(String, i32)> = on_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql);
                for uid in chunk {
                    query = query.bind(uid);
                }
                query.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }
}

/// A coordinator's digest as the sender reads it.
#[derive(sqlx::FromRow)]
struct Subscriber {
    user_id: Uuid,
    since: DateTime<Utc>,
    last_sent_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Whether a member of staff gets the daily digest of changes.
    pub async fn wants_digest(&self, user: Uuid) -> Result<bool> {
        let row: Option<(Uuid,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT user_id FROM invite_digest_subscribers WHERE user_id = $1"
        )
        .bind(user)
        .fetch_optional(pool)
        .await)?;
        Ok(row.is_some())
    }

    /// Starts or stops a member of staff's daily digest. Starting lists
    /// changes from now on.
    pub async fn set_digest(&self, user: Uuid, daily: bool) -> Result<()> {
        if daily {
            on_pool!(self, |pool| sqlx::query(
                "INSERT INTO invite_digest_subscribers (user_id, since) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO NOTHING"
            )
            .bind(user)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        } else {
            on_pool!(self, |pool| sqlx::query(
                "DELETE FROM invite_digest_subscribers WHERE user_id = $1"
            )
            .bind(user)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Queues each subscriber's digest once a day, after `at` local time at
    /// their school, when something changed there since their last one: a
    /// plain email listing the changes, with no calendar in it.
    pub async fn queue_digests(&self, at: chrono::NaiveTime, now: DateTime<Utc>) -> Result<()> {
        let subscribers: Vec<Subscriber> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT user_id, since, last_sent_at FROM invite_digest_subscribers"
        )
        .fetch_all(pool)
        .await)?;
        for sub in subscribers {
            let user = self.user(sub.user_id).await?;
            let (Some(school), Some(email)) = (user.school_id, user.email.clone()) else {
                continue;
            };
            let school = self.school(school).await?;
            let tz: chrono_tz::Tz = school.time_zone.parse().unwrap_or(chrono_tz::UTC);
            let local = now.with_timezone(&tz);
            if local.time() < at {
                continue;
            }
            let today = local.date_naive();
            if sub
                .last_sent_at
                .is_some_and(|last| last.with_timezone(&tz).date_naive() >= today)
            {
                continue;
            }
            let from = sub.last_sent_at.unwrap_or(sub.since);
            let lines: Vec<(String,)> = on_pool!(self, |pool| {
                sqlx::query_as(
                "SELECT line FROM invite_digest_lines WHERE school_id = $1 AND at > $2 AND at <= $3 ORDER BY at, id"
            )
            .bind(school.id)
            .bind(from)
            .bind(now)
            .fetch_all(pool)
            .await
            })?;
            if lines.is_empty() {
                continue;
            }
            let count = lines.len();
            let mut text = format!(
                "Changes to mentoring sessions at {} since {}:\n\n",
                school.name,
                from.with_timezone(&tz).format("%a %-d %b %H:%M")
            );
            for (line,) in &lines {
                text.push_str(&format!("- {line}\n"));
            }
            text.push_str("\nThe supervising teachers have had their invites. The school calendar and the sessions page show every session:");
            let notice = Notice {
                subject: format!(
                    "Mentoring at {}: {count} {} today",
                    school.name,
                    if count == 1 { "change" } else { "changes" }
                ),
                text,
                path: "/sessions".into(),
            };
            self.queue_notice(school.id, user.id, &email, &notice)
                .await?;
            on_pool!(self, |pool| sqlx::query(
                "UPDATE invite_digest_subscribers SET last_sent_at = $1 WHERE user_id = $2"
            )
            .bind(now)
            .bind(user.id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}
