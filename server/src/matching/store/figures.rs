//! Matching's side of reports: which referrals were matched.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::per_chunk;
use crate::store::Store;

impl Store {
    /// Those of `referrals` that had a match approved before `until`
    /// (whether it is still running or has ended), each once.
    pub async fn matched_referrals(
        &self,
        referrals: &[Uuid],
        until: DateTime<Utc>,
    ) -> Result<Vec<Uuid>> {
        let sql = "SELECT DISTINCT referral_id FROM matches \
                   WHERE approved_at < $1 AND referral_id IN ({in})";
        let rows = per_chunk!(self, (Uuid,), sql, referrals; until)?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
