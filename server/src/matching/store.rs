//! Matching's tables on both databases — `match_proposals`,
//! `match_approvals`, `match_rules` and `matches` — and the runs, approvals
//! and rule changes that write them. `input` gathers a partnership's
//! problem through the other domains' store functions; `approve` is the
//! two-school approval; `rules` the pins and forbids.

mod figures;

mod approve;
mod input;
mod rules;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Approval, MatchStatus, propose};
use crate::error::{Error, Result};
use crate::people::partnerships::Partnership;
use crate::store::{Store, Tx};
use crate::{on_pool, on_tx};

use super::{MatchRecord, Proposal, ProposalStatus};

#[derive(sqlx::FromRow)]
struct ProposalRow {
    id: Uuid,
    partnership_id: Uuid,
    status: String,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    body: String,
}

#[derive(sqlx::FromRow)]
struct ApprovalRow {
    school_id: Uuid,
    approved_by: Uuid,
    approved_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct MatchRow {
    id: Uuid,
    partnership_id: Uuid,
    referral_id: Uuid,
    mentee_id: Uuid,
    mentor_id: Uuid,
    slot: String,
    proposal_id: Uuid,
    approved_at: DateTime<Utc>,
}

impl TryFrom<MatchRow> for MatchRecord {
    type Error = Error;

    fn try_from(r: MatchRow) -> Result<Self> {
        Ok(MatchRecord {
            id: r.id,
            partnership_id: r.partnership_id,
            referral_id: r.referral_id,
            mentee_id: r.mentee_id,
            mentor_id: r.mentor_id,
            slot: serde_json::from_str(&r.slot)
                .map_err(|e| Error::internal_from("stored match slot", e))?,
            proposal_id: r.proposal_id,
            approved_at: r.approved_at,
        })
    }
}

const MATCH_COLUMNS: &str =
    "id, partnership_id, referral_id, mentee_id, mentor_id, slot, proposal_id, approved_at";

impl Store {
    /// Runs the optimiser for a partnership and keeps its proposal (the
    /// previous open one is superseded, and with it any approval).
    pub async fn run_matching(
        &self,
        partnership: &Partnership,
        created_by: Option<Uuid>,
    ) -> Result<Proposal> {
        let input = self.match_input(partnership).await?;
        let body = propose(&input);
        let text =
            serde_json::to_string(&body).map_err(|e| Error::internal_from("proposal JSON", e))?;
        let id = Uuid::new_v4();
        let now = Utc::now();
        let mut tx = self.begin().await?;
        supersede_open_in_tx(&mut tx, partnership.id).await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO match_proposals (id, partnership_id, status, created_by, created_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(id)
        .bind(partnership.id)
        .bind(ProposalStatus::Open.as_str())
        .bind(created_by)
        .bind(now)
        .bind(&text)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(Proposal {
            id,
            partnership_id: partnership.id,
            status: ProposalStatus::Open,
            created_by,
            created_at: now,
            approvals: Vec::new(),
            body,
        })
    }

    async fn proposal_from(&self, row: ProposalRow) -> Result<Proposal> {
        let approvals: Vec<ApprovalRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT school_id, approved_by, approved_at FROM match_approvals WHERE proposal_id = $1 ORDER BY approved_at"
        )
        .bind(row.id)
        .fetch_all(pool)
        .await
        })?;
        Ok(Proposal {
            id: row.id,
            partnership_id: row.partnership_id,
            status: row.status.parse()?,
            created_by: row.created_by,
            created_at: row.created_at,
            approvals: approvals
                .into_iter()
                .map(|a| Approval {
                    school_id: a.school_id,
                    approved_by: a.approved_by,
                    approved_at: a.approved_at,
                })
                .collect(),
            body: serde_json::from_str(&row.body)
                .map_err(|e| Error::internal_from("stored proposal", e))?,
        })
    }

    /// The partnership's most recent proposal, if it has one.
    pub async fn latest_proposal(&self, partnership: Uuid) -> Result<Option<Proposal>> {
        let row: Option<ProposalRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, partnership_id, status, created_by, created_at, body FROM match_proposals \
             WHERE partnership_id = $1 ORDER BY created_at DESC, id LIMIT 1"
        )
        .bind(partnership)
        .fetch_optional(pool)
        .await
        })?;
        match row {
            Some(row) => Ok(Some(self.proposal_from(row).await?)),
            None => Ok(None),
        }
    }

    /// A partnership's approved matches.
    pub async fn partnership_matches(&self, partnership: Uuid) -> Result<Vec<MatchRecord>> {
        let sql = format!(
            "SELECT {MATCH_COLUMNS} FROM matches WHERE partnership_id = $1 AND status = $2 ORDER BY approved_at, id"
        );
        let rows: Vec<MatchRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(partnership)
            .bind(MatchStatus::Approved.as_str())
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(MatchRecord::try_from).collect()
    }

    /// The matches `ids` name, whatever their status now (a match that has
    /// ended still says which referral its sessions served).
    pub async fn matches_by_id(&self, ids: &[Uuid]) -> Result<Vec<MatchRecord>> {
        let mut records = Vec::new();
        for chunk in ids.chunks(crate::store::IN_LIST_MAX) {
            let sql = format!(
                "SELECT {MATCH_COLUMNS} FROM matches WHERE id IN ({}) ORDER BY approved_at, id",
                crate::store::placeholders(1, chunk.len())
            );
            let rows: Vec<MatchRow> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            for row in rows {
                records.push(MatchRecord::try_from(row)?);
            }
        }
        Ok(records)
    }
}

/// A proposal made under the old rules (or replaced by a new run) must not
/// be approved: the partnership's open proposal is superseded.
async fn supersede_open_in_tx(tx: &mut Tx, partnership: Uuid) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE match_proposals SET status = $1 WHERE partnership_id = $2 AND status = $3",
        )
        .bind(ProposalStatus::Superseded.as_str())
        .bind(partnership)
        .bind(ProposalStatus::Open.as_str())
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Every match ever made for a referral, inside the caller's transaction.
pub(crate) async fn match_ids_in_tx(tx: &mut Tx, referral: Uuid) -> Result<Vec<Uuid>> {
    Ok(on_tx!(tx, |conn| sqlx::query_scalar(
        "SELECT id FROM matches WHERE referral_id = $1"
    )
    .bind(referral)
    .fetch_all(conn)
    .await)?)
}

/// Ends a referral's approved match inside the caller's transaction (the
/// referral is closed): the mentor's place, their period and the iPads are
/// free for someone else.
pub(crate) async fn end_matches_in_tx(tx: &mut Tx, referral: Uuid) -> Result<u64> {
    Ok(on_tx!(tx, |conn| sqlx::query(
        "UPDATE matches SET status = $1 WHERE referral_id = $2 AND status = $3"
    )
    .bind(MatchStatus::Ended.as_str())
    .bind(referral)
    .bind(MatchStatus::Approved.as_str())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?)
}

/// The columns of a [`crate::matching::Pair`] (`open` from the match's
/// status).
const PAIR_COLUMNS: &str =
    "id, partnership_id, mentee_id, mentor_id, (status = 'approved') AS open";

impl Store {
    /// A match as a pair, for its thread.
    pub async fn pair(&self, id: Uuid) -> Result<crate::matching::Pair> {
        let sql = format!("SELECT {PAIR_COLUMNS} FROM matches WHERE id = $1");
        let pair: Option<crate::matching::Pair> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        pair.ok_or(crate::error::Error::NotFound("thread"))
    }

    /// The referral a match was made for.
    pub async fn referral_of_match(&self, match_id: Uuid) -> Result<Uuid> {
        let id: Option<Uuid> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT referral_id FROM matches WHERE id = $1"
        )
        .bind(match_id)
        .fetch_optional(pool)
        .await)?;
        id.ok_or(Error::NotFound("match"))
    }

    /// The referral of each of `matches`, as (match, referral).
    pub async fn referrals_of_matches(&self, matches: &[Uuid]) -> Result<Vec<(Uuid, Uuid)>> {
        let sql = "SELECT id, referral_id FROM matches WHERE id IN ({in})";
        Ok(crate::per_chunk!(self, (Uuid, Uuid), sql, matches;)?)
    }

    /// Every match a referral has had, running or ended, oldest first.
    pub async fn pairs_of_referral(&self, referral: Uuid) -> Result<Vec<crate::matching::Pair>> {
        let sql = format!(
            "SELECT {PAIR_COLUMNS} FROM matches WHERE referral_id = $1 ORDER BY approved_at, id"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(referral)
            .fetch_all(pool)
            .await)?)
    }

    /// Every match `user` is or was in, newest first.
    pub async fn pairs_of(&self, user: Uuid) -> Result<Vec<crate::matching::Pair>> {
        let sql = format!(
            "SELECT {PAIR_COLUMNS} FROM matches WHERE mentee_id = $1 OR mentor_id = $1 ORDER BY approved_at DESC, id"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(user)
            .fetch_all(pool)
            .await)?)
    }

    /// Every match, running or ended, in the partnerships `partnerships`.
    pub async fn pairs_in(&self, partnerships: &[Uuid]) -> Result<Vec<crate::matching::Pair>> {
        let mut pairs = Vec::new();
        for chunk in partnerships.chunks(crate::store::IN_LIST_MAX) {
            let sql = format!(
                "SELECT {PAIR_COLUMNS} FROM matches WHERE partnership_id IN ({}) ORDER BY approved_at DESC, id",
                crate::store::placeholders(1, chunk.len())
            );
            let rows: Vec<crate::matching::Pair> = on_pool!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            pairs.extend(rows);
        }
        Ok(pairs)
    }
}
