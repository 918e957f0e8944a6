//! Matching's side of reports: which referrals were matched.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::on_pool;
use crate::store::{IN_LIST_MAX, Store, placeholders};

impl Store {
    /// Those of `referrals` that had a match approved before `until`
    /// (whether it is still running or has ended), each once.
    pub async fn matched_referrals(
        &self,
        referrals: &[Uuid],
        until: DateTime<Utc>,
    ) -> Result<Vec<Uuid>> {
        let mut out = Vec::new();
        for chunk in referrals.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT DISTINCT referral_id FROM matches \
                 WHERE approved_at < $1 AND referral_id IN ({})",
                placeholders(2, chunk.len())
            );
            let rows: Vec<(Uuid,)> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql).bind(until);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows.into_iter().map(|(id,)| id));
        }
        Ok(out)
    }
}
