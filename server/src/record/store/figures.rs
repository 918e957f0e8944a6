//! The record's figures for reports: sums over many programmes at once.
//!
//! Each takes the referrals (programmes) a report is about and its range
//! `[from, to)`, and returns sums rather than averages, so that a list of
//! referrals too long for one statement can be counted a few hundred at a
//! time and the parts added up.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::per_chunk;
use crate::store::Store;

/// One identifier over the programmes whose mentee-view exit assessment
/// falls in the range and who scored it at their baseline too.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct IdentifierChange {
    /// The identifier's key (`confidence`, `attendance` …).
    pub identifier: String,
    /// Its label as the mentees read it at the exit.
    pub label: String,
    /// Where it comes in the school's list, for the order of a table.
    pub position: i32,
    /// Programmes with both scores.
    pub programmes: i64,
    pub baseline_sum: i64,
    pub exit_sum: i64,
}

/// Targets by outcome: `met`, `partly_met` and `dropped` for those decided
/// in the range, `open` for those set before its end and not decided by
/// then.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TargetOutcome {
    pub outcome: String,
    pub targets: i64,
}

/// Feedback given in the range, by who gave it (`mentee`, `mentor`,
/// `teacher`): how many forms and their ratings (1–5) added up.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedbackCount {
    pub from_role: String,
    pub responses: i64,
    pub rating_sum: i64,
}

impl Store {
    /// Per identifier, the mentees' own baseline and exit scores added up,
    /// over the programmes of `referrals` that exited in the range. The
    /// school's view (`staff`) and the midway assessment are left out: the
    /// change reported is the mentee's own, from start to end.
    pub async fn identifier_changes(
        &self,
        referrals: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<IdentifierChange>> {
        let sql = "SELECT se.identifier AS identifier, max(se.label) AS label, \
                          CAST(min(se.position) AS INTEGER) AS position, count(*) AS programmes, \
                          CAST(sum(sb.score) AS BIGINT) AS baseline_sum, \
                          CAST(sum(se.score) AS BIGINT) AS exit_sum \
                   FROM record_assessments e \
                   JOIN record_scores se ON se.assessment_id = e.id \
                   JOIN record_assessments b ON b.referral_id = e.referral_id \
                        AND b.stage = 'baseline' AND b.view = 'mentee' \
                   JOIN record_scores sb ON sb.assessment_id = b.id AND sb.identifier = se.identifier \
                   WHERE e.stage = 'exit' AND e.view = 'mentee' AND e.at >= $1 AND e.at < $2 \
                     AND e.referral_id IN ({in}) \
                   GROUP BY se.identifier";
        let parts = per_chunk!(self, IdentifierChange, sql, referrals; from, to)?;
        // Chunks each give a row per identifier: add them up.
        let mut out: Vec<IdentifierChange> = Vec::new();
        for part in parts {
            match out.iter_mut().find(|c| c.identifier == part.identifier) {
                Some(c) => {
                    c.programmes += part.programmes;
                    c.baseline_sum += part.baseline_sum;
                    c.exit_sum += part.exit_sum;
                    c.position = c.position.min(part.position);
                }
                None => out.push(part),
            }
        }
        out.sort_by(|a, b| (a.position, &a.identifier).cmp(&(b.position, &b.identifier)));
        Ok(out)
    }

    /// The targets of `referrals` by outcome (see [`TargetOutcome`]).
    pub async fn target_outcomes(
        &self,
        referrals: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<TargetOutcome>> {
        // The bucket is worked out in a subquery and grouped outside it, so
        // neither database has to match a grouped expression that holds
        // parameters.
        let sql = "SELECT outcome, count(*) AS targets FROM ( \
                       SELECT CASE WHEN outcome_at >= $1 AND outcome_at < $2 THEN outcome \
                                   WHEN set_at < $2 AND (outcome_at IS NULL OR outcome_at >= $2) THEN 'open' \
                              END AS outcome \
                       FROM record_targets WHERE referral_id IN ({in}) \
                   ) AS bucketed WHERE outcome IS NOT NULL GROUP BY outcome";
        let parts = per_chunk!(self, TargetOutcome, sql, referrals; from, to)?;
        let mut out: Vec<TargetOutcome> = Vec::new();
        for part in parts {
            match out.iter_mut().find(|t| t.outcome == part.outcome) {
                Some(t) => t.targets += part.targets,
                None => out.push(part),
            }
        }
        Ok(out)
    }

    /// Feedback on `referrals` given in the range, by who gave it.
    pub async fn feedback_counts(
        &self,
        referrals: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<FeedbackCount>> {
        let sql = "SELECT from_role, count(*) AS responses, CAST(sum(rating) AS BIGINT) AS rating_sum \
                   FROM record_feedback WHERE at >= $1 AND at < $2 AND referral_id IN ({in}) \
                   GROUP BY from_role";
        let parts = per_chunk!(self, FeedbackCount, sql, referrals; from, to)?;
        let mut out: Vec<FeedbackCount> = Vec::new();
        for part in parts {
            match out.iter_mut().find(|f| f.from_role == part.from_role) {
                Some(f) => {
                    f.responses += part.responses;
                    f.rating_sum += part.rating_sum;
                }
                None => out.push(part),
            }
        }
        Ok(out)
    }
}
