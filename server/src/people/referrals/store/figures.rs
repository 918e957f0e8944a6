//! The referrals' side of reports: how many mentees each school referred
//! and had approved in a range, and which referrals a report's other
//! figures (matches, the record) are about.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::per_chunk;
use crate::store::Store;

/// One school's referrals written in a report's range and put forward
/// (any status past `draft`), and how many of those were countersigned.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReferralCount {
    pub school_id: Uuid,
    pub referred: i64,
    pub approved: i64,
}

/// A referral put forward (past `draft`), by its school, and whether it
/// was written in the range asked about.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReferralRef {
    pub id: Uuid,
    pub school_id: Uuid,
    pub in_range: bool,
}

impl Store {
    /// Per school of `schools`: referrals written in `[from, to)` and put
    /// forward, and how many of them a coordinator or safeguarding lead
    /// countersigned. (A referral keeps no date of submission; the date it
    /// was written stands for it.)
    pub async fn referral_counts(
        &self,
        schools: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReferralCount>> {
        let sql = "SELECT school_id, count(*) AS referred, \
                          CAST(sum(CASE WHEN countersigned_by IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS approved \
                   FROM referrals \
                   WHERE status <> 'draft' AND created_at >= $1 AND created_at < $2 \
                     AND school_id IN ({in}) \
                   GROUP BY school_id";
        Ok(per_chunk!(self, ReferralCount, sql, schools; from, to)?)
    }

    /// Every referral of `schools` put forward, whenever, with whether it
    /// was written in `[from, to)`: the programmes a report's matches and
    /// record figures are about.
    pub async fn referral_refs(
        &self,
        schools: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReferralRef>> {
        let sql = "SELECT id, school_id, (created_at >= $1 AND created_at < $2) AS in_range \
                   FROM referrals WHERE status <> 'draft' AND school_id IN ({in})";
        Ok(per_chunk!(self, ReferralRef, sql, schools; from, to)?)
    }
}
