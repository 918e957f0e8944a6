//! The mentors' side of reports: which of a list of mentors were trained
//! and cleared by a given instant.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::per_chunk;
use crate::store::Store;

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
        let sql = "SELECT user_id, \
                          (training_course IS NOT NULL AND training_date IS NOT NULL AND training_date <= $1) AS trained, \
                          (cleared_at IS NOT NULL AND cleared_at < $2) AS cleared \
                   FROM mentor_profiles WHERE user_id IN ({in})";
        Ok(per_chunk!(self, MentorReadiness, sql, mentors; last_day, until)?)
    }
}
