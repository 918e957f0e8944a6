//! Approving a proposal: one school at a time, and the second approval turns
//! the pairs into matches and their referrals to `matched`, all in one
//! transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::matching::{MatchStatus, Proposal, ProposalStatus, ProposedMatch, stale};
use crate::on_tx;
use crate::people::partnerships::Partnership;
use crate::people::referrals::store::mark_matched_in_tx;
use crate::store::{Constraint, Store, Tx};

impl Store {
    /// Records a coordinator's approval for their school. The second
    /// school's approval turns the pairs into matches and moves their
    /// referrals to `matched`, all in one transaction; if anything changed
    /// since the run (a referral withdrawn, a mentor's slot taken) nothing
    /// is approved and the coordinator is asked to re-run.
    pub async fn approve_proposal(
        &self,
        partnership: &Partnership,
        proposal_id: Uuid,
        actor: &Actor,
    ) -> Result<Proposal> {
        let school = actor.school_id().ok_or(Error::Forbidden)?;
        let (latest, slug_of) = self.approvable(partnership, proposal_id).await?;
        let now = Utc::now();
        let mut tx = self.begin().await?;
        lock_open(&mut tx, proposal_id).await?;
        insert_approval(&mut tx, proposal_id, school, actor.user.id, now).await?;
        let (approvals,): (i64,) = on_tx!(&mut tx, |conn| sqlx::query_as(
            "SELECT COUNT(*) FROM match_approvals WHERE proposal_id = $1"
        )
        .bind(proposal_id)
        .fetch_one(conn)
        .await)?;
        if approvals >= 2 {
            for m in &latest.body.matches {
                make_match(&mut tx, partnership, &latest, m, &slug_of, now).await?;
            }
            on_tx!(&mut tx, |conn| sqlx::query(
                "UPDATE match_proposals SET status = $1 WHERE id = $2"
            )
            .bind(ProposalStatus::Approved.as_str())
            .bind(proposal_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        if approvals >= 2 {
            // The matches are approved whatever happens next; booking is
            // safe to repeat, and books only what has no sessions yet.
            let report = self.book_new_matches(partnership).await?;
            tracing::info!(
                partnership = %partnership.id,
                booked = report.booked.len(),
                skipped = report.skipped.len(),
                "series booked"
            );
        }
        self.latest_proposal(partnership.id)
            .await?
            .ok_or(Error::NotFound("proposal"))
    }

    /// The partnership's latest proposal, if it is the one named, has pairs,
    /// and (while open) still holds for the partnership as it is now; with
    /// each school's slug by id.
    async fn approvable(
        &self,
        partnership: &Partnership,
        proposal_id: Uuid,
    ) -> Result<(Proposal, BTreeMap<Uuid, String>)> {
        let latest = self
            .latest_proposal(partnership.id)
            .await?
            .ok_or(Error::NotFound("proposal"))?;
        if latest.id != proposal_id {
            return Err(Error::conflict(
                "proposal_id",
                "a newer proposal has replaced this one; review that one instead",
            ));
        }
        if latest.body.matches.is_empty() {
            return Err(Error::invalid(
                "proposal_id",
                "this proposal has no pairs to approve",
            ));
        }
        let now_input = self.match_input(partnership).await?;
        if latest.status == ProposalStatus::Open
            && let Some(why) = stale(&now_input, &latest.body)
        {
            return Err(Error::conflict(
                "proposal_id",
                format!("{why} since this proposal was made; run the optimiser again"),
            ));
        }
        let slug_of = now_input
            .schools
            .iter()
            .map(|s| (s.id, s.slug.clone()))
            .collect();
        Ok((latest, slug_of))
    }
}

/// Takes the proposal's row lock first, which puts two coordinators who
/// approve at the same moment in line, so the second sees the first.
async fn lock_open(tx: &mut Tx, proposal_id: Uuid) -> Result<()> {
    let open = on_tx!(tx, |conn| sqlx::query(
        "UPDATE match_proposals SET status = status WHERE id = $1 AND status = $2"
    )
    .bind(proposal_id)
    .bind(ProposalStatus::Open.as_str())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if open == 0 {
        return Err(Error::conflict(
            "proposal_id",
            "this proposal is no longer open (approved or replaced)",
        ));
    }
    Ok(())
}

async fn insert_approval(
    tx: &mut Tx,
    proposal_id: Uuid,
    school: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let inserted = on_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO match_approvals (proposal_id, school_id, approved_by, approved_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(proposal_id)
    .bind(school)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    });
    match inserted {
        Err(e) if Constraint::of(&e) == Some(Constraint::MatchApproval) => Err(Error::conflict(
            "proposal_id",
            "your school has already approved this proposal",
        )),
        other => other.map(|_| ()).map_err(Error::from),
    }
}

/// One pair of an approved proposal becomes a match, and its referral
/// `matched`; either having changed since the run refuses the approval.
async fn make_match(
    tx: &mut Tx,
    partnership: &Partnership,
    proposal: &Proposal,
    m: &ProposedMatch,
    slug_of: &BTreeMap<Uuid, String>,
    now: DateTime<Utc>,
) -> Result<()> {
    if !mark_matched_in_tx(tx, m.referral_id, now).await? {
        return Err(Error::conflict(
            "proposal_id",
            format!(
                "{}'s referral has changed since this proposal was made; run the optimiser again",
                m.mentee.given_name
            ),
        ));
    }
    let slot = proposal
        .body
        .slots
        .iter()
        .find(|s| s.key == m.slot_key)
        .ok_or_else(|| Error::internal("proposal names a slot it does not hold"))?;
    let slot_json =
        serde_json::to_string(slot).map_err(|e| Error::internal_from("slot JSON", e))?;
    // The mentor's own period, which a unique index keeps to one mentee.
    let mentor_period = slug_of
        .get(&m.mentor.school_id)
        .and_then(|slug| slot.ends.get(slug))
        .map(|e| format!("{}-{}-{}", e.week, e.day, e.period))
        .ok_or_else(|| Error::internal("slot without the mentor's end"))?;
    let row = NewMatch {
        partnership: partnership.id,
        proposal: proposal.id,
        pair: m,
        slot_json: &slot_json,
        mentor_period: &mentor_period,
        now,
    };
    match insert_match(tx, &row).await {
        Err(e)
            if matches!(
                Constraint::of(&e),
                Some(Constraint::MatchMentorPeriod | Constraint::MatchReferral)
            ) =>
        {
            Err(Error::conflict(
                "proposal_id",
                format!(
                    "{} already has a mentee in that period; run the optimiser again",
                    m.mentor.given_name
                ),
            ))
        }
        other => other.map(|_| ()).map_err(Error::from),
    }
}

struct NewMatch<'a> {
    partnership: Uuid,
    proposal: Uuid,
    pair: &'a ProposedMatch,
    slot_json: &'a str,
    mentor_period: &'a str,
    now: DateTime<Utc>,
}

async fn insert_match(tx: &mut Tx, row: &NewMatch<'_>) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO matches (id, partnership_id, referral_id, mentee_id, mentor_id, slot_key, mentor_period, slot, proposal_id, status, approved_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
    .bind(Uuid::new_v4())
    .bind(row.partnership)
    .bind(row.pair.referral_id)
    .bind(row.pair.mentee.id)
    .bind(row.pair.mentor.id)
    .bind(&row.pair.slot_key)
    .bind(row.mentor_period)
    .bind(row.slot_json)
    .bind(row.proposal)
    .bind(MatchStatus::Approved.as_str())
    .bind(row.now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    })
}
