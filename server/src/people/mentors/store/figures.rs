//! The mentors' side of reports: which of a list of mentors were trained
//! and cleared by a given instant.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::on_pool;
use crate::store::{IN_LIST_MAX, Store, placeholders};

/// How ready one mentor was at the end of a report's range.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MentorReadiness {
    pub user_id: Uuid,
    /// Training recorded, dated on or before the range's last day.
    pub trained: bool,
    /// Cleared by a member of staff before the range's end.
    pub cleared: bool,
}

impl Store {
    /// For each of `mentors` with a profile: trained (a course dated on or
    /// before `last_day`) and cleared (before `until`). Mentors without a
    /// profile are neither, and are left out.
    pub async fn mentor_readiness(
        &self,
        mentors: &[Uuid],
        last_day: chrono::NaiveDate,
        until: DateTime<Utc>,
    ) -> Result<Vec<MentorReadiness>> {
        let mut out = Vec::new();
        for chunk in mentors.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT user_id, \
                        (training_course IS NOT NULL AND training_date IS NOT NULL AND training_date <= $1) AS trained, \
                        (cleared_at IS NOT NULL AND cleared_at < $2) AS cleared \
                 FROM mentor_profiles WHERE user_id IN ({})",
                placeholders(3, chunk.len())
            );
            let rows: Vec<MentorReadiness> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql).bind(last_day).bind(until);
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
