//! A finished session's outcome, for attendance: which sessions are waiting
//! to be settled, and setting one to `completed` or `missed`. Attendance
//! decides which (from who came); these are the booking table's side of it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::booking::SessionStatus;
use crate::error::Result;
use crate::on_pool;
use crate::store::Store;

/// How many sessions one settling pass takes on.
const SETTLE_BATCH: i64 = 500;

impl Store {
    /// Live sessions that ended before `ended_before`, earliest first (at
    /// most `SETTLE_BATCH` at a time).
    pub async fn sessions_to_settle(&self, ended_before: DateTime<Utc>) -> Result<Vec<Uuid>> {
        let ids: Vec<(Uuid,)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id FROM mentoring_sessions WHERE status IN ($1, $2) AND ends_at < $3 \
                 ORDER BY ends_at LIMIT $4",
            )
            .bind(SessionStatus::Scheduled.as_str())
            .bind(SessionStatus::Moved.as_str())
            .bind(ended_before)
            .bind(SETTLE_BATCH)
            .fetch_all(pool)
            .await
        })?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    /// Records how a finished session went: `completed` when `held`, else
    /// `missed`. A cancelled session stays cancelled; a settled one may be
    /// settled again (a correction changed who came). Returns the rows changed.
    pub async fn settle_session(&self, session: Uuid, held: bool) -> Result<u64> {
        let status = if held {
            SessionStatus::Completed
        } else {
            SessionStatus::Missed
        };
        Ok(on_pool!(self, |pool| sqlx::query(
            "UPDATE mentoring_sessions SET status = $1, updated_at = $2 \
             WHERE id = $3 AND status IN ($4, $5, $6, $7)"
        )
        .bind(status.as_str())
        .bind(Utc::now())
        .bind(session)
        .bind(SessionStatus::Scheduled.as_str())
        .bind(SessionStatus::Moved.as_str())
        .bind(SessionStatus::Completed.as_str())
        .bind(SessionStatus::Missed.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }
}
