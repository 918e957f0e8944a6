//! The sessions' side of reports: how many sessions, of each status (and,
//! when cancelled, for each reason), and how long they were booked for,
//! counted by the database over a year of a whole group of schools in one
//! statement per few hundred partnerships.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::on_pool;
use crate::store::{IN_LIST_MAX, Store, period_case, placeholders};

/// The sessions of one partnership with one status (and, for `cancelled`,
/// one reason) that start in a report's range and in one of its periods.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionCount {
    pub partnership_id: Uuid,
    /// A [`crate::booking::SessionStatus`]'s stored name.
    pub status: String,
    /// Why they were called off (`cancelled` only; `""` when no reason was
    /// kept). `None` for every other status.
    pub cancel_reason: Option<String>,
    /// Which of the periods asked for they start in, `-1` for none (see
    /// [`crate::store::period_of`]).
    pub period: i32,
    pub sessions: i64,
    /// Their booked length together, in seconds (`ends_at - starts_at`).
    pub seconds: i64,
}

/// The statement, the periods' parameters from `$3` and the partnerships'
/// after them. The length of a session is the one place the dialects
/// differ: SQLite's instants are text (see `crate::store`), read by
/// `julianday`, which understands their `+00:00` and fractions. The
/// buckets are worked out in a subquery and grouped outside it, so neither
/// database has to match a grouped expression that holds parameters.
fn statement(length_seconds: &str, periods: usize, partnerships: usize) -> String {
    format!(
        "SELECT partnership_id, status, cancel_reason, period, count(*) AS sessions, \
                CAST(coalesce(sum(seconds), 0) AS BIGINT) AS seconds \
         FROM ( \
             SELECT partnership_id, status, \
                    CASE WHEN status = 'cancelled' THEN coalesce(reason, '') END AS cancel_reason, \
                    {} AS period, {length_seconds} AS seconds \
             FROM mentoring_sessions \
             WHERE starts_at >= $1 AND starts_at < $2 AND partnership_id IN ({}) \
         ) AS bucketed \
         GROUP BY partnership_id, status, cancel_reason, period",
        period_case("starts_at", 3, periods),
        placeholders(3 + 2 * periods, partnerships)
    )
}

impl Store {
    /// The sessions of `partnerships` that start in `[from, to)`, counted
    /// by partnership, status, cancellation reason and which of `periods`
    /// (half-open, as a report's terms) they start in, with their booked
    /// seconds: a year and its terms in one pass. Every session counts
    /// whatever its status (a report's "booked" is all of them); which
    /// statuses are *delivered* is
    /// [`crate::booking::SessionStatus::is_delivered`]'s business.
    pub async fn session_counts(
        &self,
        partnerships: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        periods: &[(DateTime<Utc>, DateTime<Utc>)],
    ) -> Result<Vec<SessionCount>> {
        let mut out = Vec::new();
        for chunk in partnerships.chunks(IN_LIST_MAX) {
            let length = match self {
                Store::Sqlite(_) => {
                    "CAST(round((julianday(ends_at) - julianday(starts_at)) * 86400) AS INTEGER)"
                }
                Store::Postgres(_) => {
                    "CAST(round(EXTRACT(EPOCH FROM ends_at - starts_at)) AS BIGINT)"
                }
            };
            let sql = statement(length, periods.len(), chunk.len());
            let rows: Vec<SessionCount> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql).bind(from).bind(to);
                for (start, end) in periods {
                    q = q.bind(*start).bind(*end);
                }
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }
}
