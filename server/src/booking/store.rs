//! Booking's SQL, on its own tables: `mentoring_sessions` and
//! `session_claims`. Reading and cancelling sessions live here; booking and
//! moving them (which take claims) in `book`, restoring a cancelled one and
//! booking a pair again in `restore`, the sessions a calendar change takes
//! in `change`, the display names of a list of sessions in `names`, the
//! sessions a mentor delivered in `delivered`, a page of sessions in
//! [`listing`], and the counts reports are made of in `figures`.

mod book;
mod change;
mod delivered;
mod figures;
pub mod listing;
mod names;
mod restore;
mod settle;

pub use change::cancel_taken_in_tx;
pub use figures::SessionCount;
pub use restore::Unbooked;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Cancel, Session, SessionStatus, cancellable};
use crate::error::{Error, Result};
use crate::store::{IN_LIST_MAX, Store, Tx, placeholders};
use crate::{on_pool, on_tx};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    match_id: Uuid,
    partnership_id: Uuid,
    mentee_id: Uuid,
    mentor_id: Uuid,
    uid: String,
    series_uid: Option<String>,
    recurrence_at: Option<DateTime<Utc>>,
    sequence: i32,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    slot_key: String,
    local: String,
    status: String,
    reason: Option<String>,
    supervisors: String,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Session {
    type Error = Error;

    fn try_from(r: Row) -> Result<Self> {
        Ok(Session {
            id: r.id,
            match_id: r.match_id,
            partnership_id: r.partnership_id,
            mentee_id: r.mentee_id,
            mentor_id: r.mentor_id,
            series_uid: r.series_uid.unwrap_or_else(|| r.uid.clone()),
            recurrence_at: r.recurrence_at.unwrap_or(r.starts_at),
            uid: r.uid,
            sequence: r.sequence,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            slot_key: r.slot_key,
            local: serde_json::from_str(&r.local)
                .map_err(|e| Error::internal_from("stored session times", e))?,
            status: r.status.parse()?,
            reason: r.reason,
            supervisors: serde_json::from_str(&r.supervisors)
                .map_err(|e| Error::internal_from("stored session supervisors", e))?,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, match_id, partnership_id, mentee_id, mentor_id, uid, series_uid, recurrence_at, sequence, starts_at, \
     ends_at, slot_key, local, status, reason, supervisors, updated_at";

/// The live sessions still to come that a [`Cancel`] takes.
fn cancel_select(which: Cancel) -> (&'static str, Uuid) {
    match which {
        Cancel::Session(id) => (
            "SELECT id FROM mentoring_sessions WHERE id = $1 \
             AND status IN ($3, $4) AND starts_at > $2",
            id,
        ),
        Cancel::RestOfMatch(id) => (
            "SELECT id FROM mentoring_sessions WHERE match_id = $1 \
             AND status IN ($3, $4) AND starts_at > $2",
            id,
        ),
    }
}

/// Lets go of every claim of `session`, inside `tx`.
async fn release_claims(tx: &mut Tx, session: Uuid) -> Result<()> {
    on_tx!(&mut *tx, |conn| sqlx::query(
        "DELETE FROM session_claims WHERE session_id = $1"
    )
    .bind(session)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Cancels, inside `tx`, every live session still to come that `which`
/// selects: status, reason, a higher SEQUENCE, and the claims let go, and
/// the cancellations queued for everyone's calendars. Returns how many.
pub async fn cancel_in_tx(tx: &mut Tx, which: Cancel, reason: &str) -> Result<u64> {
    let now = Utc::now();
    let (select, key) = cancel_select(which);
    let ids: Vec<(Uuid,)> = on_tx!(&mut *tx, |conn| sqlx::query_as(select)
        .bind(key)
        .bind(now)
        .bind(SessionStatus::Scheduled.as_str())
        .bind(SessionStatus::Moved.as_str())
        .fetch_all(conn)
        .await)?;
    let ids: Vec<Uuid> = ids.into_iter().map(|(id,)| id).collect();
    for id in &ids {
        release_claims(tx, *id).await?;
        on_tx!(&mut *tx, |conn| {
            sqlx::query(
            "UPDATE mentoring_sessions SET status = $4, reason = $1, sequence = sequence + 1, updated_at = $2 \
             WHERE id = $3"
        )
        .bind(reason)
        .bind(now)
        .bind(id)
        .bind(SessionStatus::Cancelled.as_str())
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    crate::invites::store::enqueue(tx, &ids).await?;
    Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX))
}

/// Every session of a series, earliest RECURRENCE-ID first, read inside
/// `tx`.
pub(crate) async fn series_in(tx: &mut Tx, series_uid: &str) -> Result<Vec<Session>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM mentoring_sessions WHERE series_uid = $1 ORDER BY recurrence_at, id"
    );
    let rows: Vec<Row> = on_tx!(&mut *tx, |conn| sqlx::query_as(&sql)
        .bind(series_uid)
        .fetch_all(conn)
        .await)?;
    rows.into_iter().map(Session::try_from).collect()
}

/// The series of these sessions, read inside `tx`.
pub(crate) async fn series_of_in(tx: &mut Tx, sessions: &[Uuid]) -> Result<Vec<String>> {
    let mut uids = Vec::new();
    for chunk in sessions.chunks(IN_LIST_MAX) {
        let sql = format!(
            "SELECT DISTINCT series_uid FROM mentoring_sessions WHERE id IN ({})",
            placeholders(1, chunk.len())
        );
        let rows: Vec<(Option<String>,)> = on_tx!(&mut *tx, |conn| {
            let mut query = sqlx::query_as(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            query.fetch_all(conn).await
        })?;
        uids.extend(rows.into_iter().filter_map(|(u,)| u));
    }
    uids.sort();
    uids.dedup();
    Ok(uids)
}

/// The series a member of staff supervises any session of.
pub(crate) async fn series_supervised_by(tx: &mut Tx, user: Uuid) -> Result<Vec<String>> {
    // `supervisors` is a JSON array of ids: a pattern finds them on both
    // databases, and the id's own hyphens make it exact.
    let rows: Vec<(Option<String>,)> = on_tx!(&mut *tx, |conn| sqlx::query_as(
        "SELECT DISTINCT series_uid FROM mentoring_sessions WHERE supervisors LIKE $1"
    )
    .bind(format!("%{user}%"))
    .fetch_all(conn)
    .await)?;
    Ok(rows.into_iter().filter_map(|(u,)| u).collect())
}

impl Store {
    /// When each of these series first meets (its earliest RECURRENCE-ID).
    pub async fn series_starts(
        &self,
        uids: &[String],
    ) -> Result<std::collections::HashMap<String, DateTime<Utc>>> {
        let mut out = std::collections::HashMap::new();
        for chunk in uids.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT series_uid, MIN(recurrence_at) FROM mentoring_sessions WHERE series_uid IN ({}) GROUP BY series_uid",
                placeholders(1, chunk.len())
            );
            let rows: Vec<(String, Option<DateTime<Utc>>)> = on_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql);
                for uid in chunk {
                    query = query.bind(uid);
                }
                query.fetch_all(pool).await
            })?;
            out.extend(rows.into_iter().filter_map(|(u, at)| Some((u, at?))));
        }
        Ok(out)
    }

    pub async fn session(&self, id: Uuid) -> Result<Session> {
        let sql = format!("SELECT {COLUMNS} FROM mentoring_sessions WHERE id = $1");
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or(Error::NotFound("session"))?.try_into()
    }

    /// A student's sessions starting in `from..to`.
    pub async fn sessions_of_student(
        &self,
        user: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mentoring_sessions WHERE (mentee_id = $1 OR mentor_id = $1) \
             AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at, id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Session::try_from).collect()
    }

    /// Sessions with a student of `school` in them, starting in `from..to`:
    /// one query for the school's students, then one per [`IN_LIST_MAX`] of them.
    pub async fn sessions_at_school(
        &self,
        school: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Session>> {
        let students = self.student_ids_at_school(school).await?;
        let mut sessions = Vec::new();
        for chunk in students.chunks(IN_LIST_MAX) {
            let marks = placeholders(3, chunk.len());
            let sql = format!(
                "SELECT {COLUMNS} FROM mentoring_sessions \
                 WHERE (mentee_id IN ({marks}) OR mentor_id IN ({marks})) \
                 AND starts_at >= $1 AND starts_at < $2"
            );
            let rows: Vec<Row> = on_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql).bind(from).bind(to);
                for id in chunk {
                    query = query.bind(id);
                }
                query.fetch_all(pool).await
            })?;
            for row in rows {
                sessions.push(Session::try_from(row)?);
            }
        }
        sessions.sort_by_key(|s| (s.starts_at, s.id));
        sessions.dedup_by_key(|s| s.id);
        Ok(sessions)
    }

    /// `session` and every later live session of its match, earliest first.
    async fn rest_of_series(&self, session: &Session) -> Result<Vec<Session>> {
        // A year ahead holds any series (at most 52 weeks, holidays skipped).
        Ok(self
            .sessions_of_student(
                session.mentee_id,
                session.starts_at,
                session.starts_at + Duration::days(400),
            )
            .await?
            .into_iter()
            .filter(|s| s.match_id == session.match_id && s.status.is_live())
            .collect())
    }

    /// Cancels a session and every later live session of its match, in
    /// one transaction, saying why (the pair stops meeting, or stops until
    /// the coordinators book them again). Returns them, earliest first.
    pub async fn cancel_series(&self, session: &Session, reason: &str) -> Result<Vec<Session>> {
        let reason = cancellable(session, reason)?;
        let series: Vec<Uuid> = self
            .rest_of_series(session)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut tx = self.begin().await?;
        for id in &series {
            cancel_in_tx(&mut tx, Cancel::Session(*id), &reason).await?;
        }
        tx.commit().await?;
        let mut out = Vec::with_capacity(series.len());
        for id in series {
            out.push(self.session(id).await?);
        }
        Ok(out)
    }

    /// Cancels a session, saying why: it lets go of its students and iPads,
    /// and its SEQUENCE rises so every calendar drops it.
    pub async fn cancel_session(&self, session: &Session, reason: &str) -> Result<Session> {
        let reason = cancellable(session, reason)?;
        let reason = reason.as_str();
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE mentoring_sessions SET status = $4, reason = $1, sequence = sequence + 1, updated_at = $2 \
             WHERE id = $3 AND status IN ($5, $6)"
        )
        .bind(reason)
        .bind(Utc::now())
        .bind(session.id)
        .bind(SessionStatus::Cancelled.as_str())
        .bind(SessionStatus::Scheduled.as_str())
        .bind(SessionStatus::Moved.as_str())
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(Error::conflict(
                "status",
                "someone else changed this session first; reload it",
            ));
        }
        release_claims(&mut tx, session.id).await?;
        crate::invites::store::enqueue(&mut tx, &[session.id]).await?;
        tx.commit().await?;
        self.session(session.id).await
    }

    /// Every session of a match, earliest first.
    pub async fn sessions_of_match(&self, match_id: Uuid) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mentoring_sessions WHERE match_id = $1 ORDER BY starts_at, id"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(match_id)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Session::try_from).collect()
    }
}
