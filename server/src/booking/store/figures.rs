//! The sessions' side of reports: how many sessions, of each status (and,
//! when cancelled, for each reason), and how long they were booked for,
//! counted by the database over a year of a whole group of schools in one
//! statement per few hundred partnerships.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::store::{IN_LIST_MAX, Store, placeholders};

/// The sessions of one partnership with one status (and, for `cancelled`,
/// one reason) that start in a report's range.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionCount {
    pub partnership_id: Uuid,
    /// A [`crate::booking::SessionStatus`]'s stored name.
    pub status: String,
    /// Why they were called off (`cancelled` only; `""` when no reason was
    /// kept). `None` for every other status.
    pub cancel_reason: Option<String>,
    pub sessions: i64,
    /// Their booked length together, in seconds (`ends_at - starts_at`).
    pub seconds: i64,
}

/// The statement, `{in}` standing for the partnerships' placeholders. The
/// length of a session is the one place the dialects differ: SQLite's
/// instants are text (see `crate::store`), read by `julianday`, which
/// understands their `+00:00` and fractions.
fn statement(length_seconds: &str, partnerships: usize) -> String {
    format!(
        "SELECT partnership_id, status, \
                CASE WHEN status = 'cancelled' THEN coalesce(reason, '') END AS cancel_reason, \
                count(*) AS sessions, \
                CAST(coalesce(sum({length_seconds}), 0) AS BIGINT) AS seconds \
         FROM mentoring_sessions \
         WHERE starts_at >= $1 AND starts_at < $2 AND partnership_id IN ({}) \
         GROUP BY partnership_id, status, CASE WHEN status = 'cancelled' THEN coalesce(reason, '') END",
        placeholders(3, partnerships)
    )
}

impl Store {
    /// The sessions of `partnerships` that start in `[from, to)`, counted
    /// by partnership, status and cancellation reason, with their booked
    /// seconds. Every session counts whatever its status (a report's
    /// "booked" is all of them); which statuses are *delivered* is
    /// [`crate::booking::SessionStatus::is_delivered`]'s business.
    pub async fn session_counts(
        &self,
        partnerships: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SessionCount>> {
        let mut out = Vec::new();
        for chunk in partnerships.chunks(IN_LIST_MAX) {
            let rows: Vec<SessionCount> = match self {
                Store::Sqlite(pool) => {
                    let sql = statement(
                        "CAST(round((julianday(ends_at) - julianday(starts_at)) * 86400) AS INTEGER)",
                        chunk.len(),
                    );
                    let mut q = sqlx::query_as(&sql).bind(from).bind(to);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    q.fetch_all(pool).await?
                }
                Store::Postgres(pool) => {
                    let sql = statement(
                        "CAST(round(EXTRACT(EPOCH FROM ends_at - starts_at)) AS BIGINT)",
                        chunk.len(),
                    );
                    let mut q = sqlx::query_as(&sql).bind(from).bind(to);
                    for id in chunk {
                        q = q.bind(id);
                    }
                    q.fetch_all(pool).await?
                }
            };
            out.extend(rows);
        }
        Ok(out)
    }
}
