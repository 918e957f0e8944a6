//! Referrals: how a mentee comes to be mentored.
//!
//! A member of staff refers a mentee at their own school, following UK
//! learning-mentor practice (strengths, areas of concern, reasons, the focus
//! requested, support already received, strategies tried, other agencies,
//! parental consent, entry criteria, planned length and review date). A
//! coordinator or safeguarding lead — not the referrer — countersigns it.
//! The life of a referral is a small state machine ([`ReferralStatus`]);
//! every move is checked in [`next_status`]. Only the mentee's school sees a
//! referral; the partner school sees first name, year group and focus.

pub mod http;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::people::accounts::{Role, StudentKind};
use crate::store::{Store, unique_violation};
use crate::{on_pool, on_tx};

/// Where a referral stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Being written.
    Draft,
    /// Waiting for a countersignature.
    Submitted,
    /// Countersigned: ready to be matched.
    Approved,
    /// A match has been approved.
    Matched,
    /// Sessions are running.
    Active,
    /// At its review point.
    Review,
    /// Finished (or withdrawn), with a reason.
    Closed,
}

impl ReferralStatus {
    const ALL: [ReferralStatus; 7] = [
        ReferralStatus::Draft,
        ReferralStatus::Submitted,
        ReferralStatus::Approved,
        ReferralStatus::Matched,
        ReferralStatus::Active,
        ReferralStatus::Review,
        ReferralStatus::Closed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Draft => "draft",
            ReferralStatus::Submitted => "submitted",
            ReferralStatus::Approved => "approved",
            ReferralStatus::Matched => "matched",
            ReferralStatus::Active => "active",
            ReferralStatus::Review => "review",
            ReferralStatus::Closed => "closed",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        ReferralStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// The areas of concern a referral can tick.
pub const CONCERNS: &[&str] = &[
    "attendance",
    "behaviour",
    "confidence",
    "friendships",
    "organisation",
    "reading",
    "writing",
    "numeracy",
    "exam anxiety",
    "motivation",
    "transition",
    "wellbeing",
];

/// Parental consent, as recorded by staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Who gave it (a parent or carer's name and relationship).
    pub given_by: String,
    /// When.
    pub date: NaiveDate,
}

/// A referral as staff write it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// The mentee (a student at the referrer's school).
    pub mentee_id: Uuid,
    /// 3 = most urgent, 1 = least; matched in that order.
    #[serde(default = "default_priority")]
    pub priority: u8,
    /// What the mentee is good at.
    #[serde(default)]
    pub strengths: String,
    /// Ticked areas of concern, from [`CONCERNS`].
    #[serde(default)]
    pub concerns: Vec<String>,
    /// Why mentoring, in the referrer's words.
    pub reasons: String,
    /// The focus requested: subjects or skills (e.g. "English poetry").
    pub focus: Vec<String>,
    /// Support the mentee already has.
    #[serde(default)]
    pub support_received: String,
    /// Strategies already tried.
    #[serde(default)]
    pub strategies_tried: String,
    /// Other agencies involved.
    #[serde(default)]
    pub agencies: String,
    /// Parental consent, once given.
    #[serde(default)]
    pub consent: Option<ConsentInput>,
    /// Whether the scheme's entry criteria are met.
    #[serde(default)]
    pub entry_criteria_met: bool,
    /// Planned length in weeks (e.g. 6 or 12).
    pub planned_weeks: u32,
    /// When to review.
    #[serde(default)]
    pub review_date: Option<NaiveDate>,
}

fn default_priority() -> u8 {
    2
}

/// A stored referral, as the mentee's school sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Referral {
    /// Its id.
    pub id: Uuid,
    /// The mentee's school.
    pub school_id: Uuid,
    /// The mentee.
    pub mentee_id: Uuid,
    /// The mentee's name, for lists.
    pub mentee_name: String,
    /// The mentee's given name (all the partner school sees).
    pub given_name: String,
    /// The mentee's year group.
    pub year_group: Option<i32>,
    /// Who referred.
    pub referred_by: Uuid,
    /// Who countersigned.
    pub countersigned_by: Option<Uuid>,
    /// Where it stands.
    pub status: ReferralStatus,
    /// 1 to 3.
    pub priority: i32,
    /// Strengths.
    pub strengths: String,
    /// Areas of concern.
    pub concerns: Vec<String>,
    /// Reasons.
    pub reasons: String,
    /// Focus requested.
    pub focus: Vec<String>,
    /// Support received.
    pub support_received: String,
    /// Strategies tried.
    pub strategies_tried: String,
    /// Other agencies.
    pub agencies: String,
    /// Who gave consent.
    pub consent_given_by: Option<String>,
    /// When.
    pub consent_date: Option<NaiveDate>,
    /// Which member of staff recorded it.
    pub consent_recorded_by: Option<Uuid>,
    /// Entry criteria met.
    pub entry_criteria_met: bool,
    /// Planned weeks.
    pub planned_weeks: i32,
    /// Review date.
    pub review_date: Option<NaiveDate>,
    /// Why it was closed.
    pub closed_reason: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What the partner school sees of a referral: enough to find a mentor.
#[derive(Clone, Debug, Serialize)]
pub struct PartnerReferralView {
    /// The referral (to refer to it in a match).
    pub id: Uuid,
    /// The mentee's given name.
    pub given_name: String,
    /// Year group.
    pub year_group: Option<i32>,
    /// Focus requested.
    pub focus: Vec<String>,
}

fn list(raw: &str) -> Vec<String> {
    raw.split('\n')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    school_id: Uuid,
    mentee_id: Uuid,
    given_name: String,
    family_name: String,
    year_group: Option<i32>,
    referred_by: Uuid,
    countersigned_by: Option<Uuid>,
    status: String,
    priority: i32,
    strengths: String,
    concerns: String,
    reasons: String,
    focus: String,
    support_received: String,
    strategies_tried: String,
    agencies: String,
    consent_given_by: Option<String>,
    consent_date: Option<NaiveDate>,
    consent_recorded_by: Option<Uuid>,
    entry_criteria_met: bool,
    planned_weeks: i32,
    review_date: Option<NaiveDate>,
    closed_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Referral {
    type Error = Error;

    fn try_from(r: Row) -> Result<Self> {
        Ok(Referral {
            id: r.id,
            school_id: r.school_id,
            mentee_id: r.mentee_id,
            mentee_name: format!("{} {}", r.given_name, r.family_name)
                .trim()
                .to_owned(),
            given_name: r.given_name,
            year_group: r.year_group,
            referred_by: r.referred_by,
            countersigned_by: r.countersigned_by,
            status: ReferralStatus::parse(&r.status)
                .ok_or_else(|| Error::Internal(format!("stored referral status `{}`", r.status)))?,
            priority: r.priority,
            strengths: r.strengths,
            concerns: list(&r.concerns),
            reasons: r.reasons,
            focus: list(&r.focus),
            support_received: r.support_received,
            strategies_tried: r.strategies_tried,
            agencies: r.agencies,
            consent_given_by: r.consent_given_by,
            consent_date: r.consent_date,
            consent_recorded_by: r.consent_recorded_by,
            entry_criteria_met: r.entry_criteria_met,
            planned_weeks: r.planned_weeks,
            review_date: r.review_date,
            closed_reason: r.closed_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const SELECT: &str = "SELECT r.id, r.school_id, r.mentee_id, u.given_name, u.family_name, u.year_group, \
     r.referred_by, r.countersigned_by, r.status, r.priority, r.strengths, r.concerns, r.reasons, \
     r.focus, r.support_received, r.strategies_tried, r.agencies, r.consent_given_by, r.consent_date, \
     r.consent_recorded_by, r.entry_criteria_met, r.planned_weeks, r.review_date, r.closed_reason, \
     r.created_at, r.updated_at FROM referrals r JOIN users u ON u.id = r.mentee_id";

fn text(field: &'static str, raw: &str, required: bool) -> Result<String> {
    let s = raw.trim();
    if required && s.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if s.chars().count() > 4000 {
        return Err(Error::invalid(field, "must be at most 4,000 characters"));
    }
    Ok(s.to_owned())
}

/// A checked referral, ready to store.
struct Checked {
    priority: i32,
    strengths: String,
    concerns: String,
    reasons: String,
    focus: String,
    support_received: String,
    strategies_tried: String,
    agencies: String,
    consent: Option<ConsentInput>,
    entry_criteria_met: bool,
    planned_weeks: i32,
    review_date: Option<NaiveDate>,
}

fn check(input: &ReferralInput) -> Result<Checked> {
    if !(1..=3).contains(&input.priority) {
        return Err(Error::invalid(
            "priority",
            "must be 1 (low), 2 (medium) or 3 (high)",
        ));
    }
    let mut concerns = Vec::new();
    for c in &input.concerns {
        let c = c.trim().to_lowercase();
        if !CONCERNS.contains(&c.as_str()) {
            return Err(Error::invalid(
                "concerns",
                format!("`{c}` is not on the checklist ({})", CONCERNS.join(", ")),
            ));
        }
        if !concerns.contains(&c) {
            concerns.push(c);
        }
    }
    let focus: Vec<String> = input
        .focus
        .iter()
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    if focus.is_empty()
        || focus
            .iter()
            .any(|f| f.chars().count() > 80 || f.contains('\n'))
    {
        return Err(Error::invalid(
            "focus",
            "name at least one subject or skill to work on (each at most 80 characters)",
        ));
    }
    if !(1..=52).contains(&input.planned_weeks) {
        return Err(Error::invalid(
            "planned_weeks",
            "must be between 1 and 52 weeks",
        ));
    }
    let consent = match &input.consent {
        Some(c) if c.given_by.trim().is_empty() => {
            return Err(Error::invalid(
                "consent.given_by",
                "say who gave consent (e.g. \"Mrs Murphy, mother\")",
            ));
        }
        Some(c) if c.date > Utc::now().date_naive() => {
            return Err(Error::invalid(
                "consent.date",
                "consent cannot be dated in the future",
            ));
        }
        other => other.clone(),
    };
    Ok(Checked {
        priority: i32::from(input.priority),
        strengths: text("strengths", &input.strengths, false)?,
        concerns: concerns.join("\n"),
        reasons: text("reasons", &input.reasons, true)?,
        focus: focus.join("\n"),
        support_received: text("support_received", &input.support_received, false)?,
        strategies_tried: text("strategies_tried", &input.strategies_tried, false)?,
        agencies: text("agencies", &input.agencies, false)?,
        consent,
        entry_criteria_met: input.entry_criteria_met,
        planned_weeks: i32::try_from(input.planned_weeks).unwrap_or(52),
        review_date: input.review_date,
    })
}

/// Whether `actor` may move a referral from its status to `to`, and what
/// else the move needs. The rules:
/// - any of the school's staff submit a draft;
/// - a coordinator or safeguarding lead who did not write it approves a
///   submitted referral (with consent and entry criteria recorded), or
///   returns it to draft;
/// - `matched` is set by approving a match, not by hand;
/// - a coordinator moves matched → active → review → active;
/// - a coordinator or safeguarding lead closes any open referral, saying why.
pub fn next_status(
    referral: &Referral,
    actor: &Actor,
    to: ReferralStatus,
    reason: Option<&str>,
) -> Result<()> {
    use ReferralStatus::*;
    let senior = matches!(actor.role(), Role::Coordinator | Role::SafeguardingLead);
    let refuse = |why: &str| {
        Err(Error::conflict(
            "status",
            format!(
                "a {} referral cannot become {}: {why}",
                referral.status.as_str(),
                to.as_str()
            ),
        ))
    };
    match (referral.status, to) {
        (Draft, Submitted) => Ok(()),
        (Submitted, Approved) => {
            if !senior {
                return Err(Error::Forbidden);
            }
            if actor.user.id == referral.referred_by {
                return refuse("it needs a second person's countersignature");
            }
            if referral.consent_date.is_none() {
                return Err(Error::invalid(
                    "consent",
                    "record parental consent before approving",
                ));
            }
            if !referral.entry_criteria_met {
                return Err(Error::invalid(
                    "entry_criteria_met",
                    "the entry criteria must be met before approving",
                ));
            }
            Ok(())
        }
        (Submitted, Draft) if senior => Ok(()),
        (_, Matched) => refuse("a referral is matched by approving a match"),
        (Matched | Review, Active) | (Active, Review) if actor.role() == Role::Coordinator => {
            Ok(())
        }
        (status, Closed) if status != Closed && senior => {
            if reason.is_none_or(|r| r.trim().is_empty()) {
                return Err(Error::invalid(
                    "reason",
                    "say why the referral is being closed",
                ));
            }
            Ok(())
        }
        (_, _) if !senior && to != Submitted => Err(Error::Forbidden),
        _ => refuse("that is not a step in a referral's life"),
    }
}

impl Store {
    /// Creates a draft referral for a mentee at `school`.
    pub async fn create_referral(
        &self,
        school: Uuid,
        actor: &Actor,
        input: &ReferralInput,
    ) -> Result<Referral> {
        let mentee = match self.user(input.mentee_id).await {
            Ok(u) if u.school_id == Some(school) && u.kind == Some(StudentKind::Mentee) => u,
            Ok(_) | Err(Error::NotFound(_)) => {
                return Err(Error::invalid(
                    "mentee_id",
                    "choose a mentee at your own school",
                ));
            }
            Err(e) => return Err(e),
        };
        let c = check(input)?;
        let id = Uuid::new_v4();
        let now = Utc::now();
        let sql = "INSERT INTO referrals (id, school_id, mentee_id, referred_by, status, priority, strengths, \
                   concerns, reasons, focus, support_received, strategies_tried, agencies, consent_given_by, \
                   consent_date, consent_recorded_by, entry_criteria_met, planned_weeks, review_date, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(school)
            .bind(mentee.id)
            .bind(actor.user.id)
            .bind(ReferralStatus::Draft.as_str())
            .bind(c.priority)
            .bind(&c.strengths)
            .bind(&c.concerns)
            .bind(&c.reasons)
            .bind(&c.focus)
            .bind(&c.support_received)
            .bind(&c.strategies_tried)
            .bind(&c.agencies)
            .bind(c.consent.as_ref().map(|c| c.given_by.trim().to_owned()))
            .bind(c.consent.as_ref().map(|c| c.date))
            .bind(c.consent.as_ref().map(|_| actor.user.id))
            .bind(c.entry_criteria_met)
            .bind(c.planned_weeks)
            .bind(c.review_date)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(|err| match unique_violation(&err) {
            Some(_) => Error::conflict(
                "mentee_id",
                format!("{} already has an open referral", mentee.given_name),
            ),
            None => Error::Database(err),
        })?;
        self.referral(id).await
    }

    /// Rewrites a referral's content (not its status) while it is a draft
    /// or waiting for a countersignature.
    pub async fn update_referral(
        &self,
        referral: &Referral,
        actor: &Actor,
        input: &ReferralInput,
    ) -> Result<Referral> {
        if !matches!(
            referral.status,
            ReferralStatus::Draft | ReferralStatus::Submitted
        ) {
            return Err(Error::conflict(
                "status",
                "an approved referral is no longer edited; close it and refer again",
            ));
        }
        if input.mentee_id != referral.mentee_id {
            return Err(Error::invalid(
                "mentee_id",
                "a referral stays with its mentee",
            ));
        }
        let c = check(input)?;
        let consent_recorded_by = match (&c.consent, referral.consent_date) {
            (Some(_), None) => Some(actor.user.id),
            (Some(_), Some(_)) => referral.consent_recorded_by,
            (None, _) => None,
        };
        let sql = "UPDATE referrals SET priority = $1, strengths = $2, concerns = $3, reasons = $4, focus = $5, \
                   support_received = $6, strategies_tried = $7, agencies = $8, consent_given_by = $9, consent_date = $10, \
                   consent_recorded_by = $11, entry_criteria_met = $12, planned_weeks = $13, review_date = $14, updated_at = $15 \
                   WHERE id = $16";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(c.priority)
            .bind(&c.strengths)
            .bind(&c.concerns)
            .bind(&c.reasons)
            .bind(&c.focus)
            .bind(&c.support_received)
            .bind(&c.strategies_tried)
            .bind(&c.agencies)
            .bind(c.consent.as_ref().map(|c| c.given_by.trim().to_owned()))
            .bind(c.consent.as_ref().map(|c| c.date))
            .bind(consent_recorded_by)
            .bind(c.entry_criteria_met)
            .bind(c.planned_weeks)
            .bind(c.review_date)
            .bind(Utc::now())
            .bind(referral.id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        self.referral(referral.id).await
    }

    /// Moves a referral on, once [`next_status`] has allowed it. The old
    /// status is part of the statement, so two people acting at once cannot
    /// both succeed.
    pub async fn set_referral_status(
        &self,
        referral: &Referral,
        actor: &Actor,
        to: ReferralStatus,
        reason: Option<&str>,
    ) -> Result<Referral> {
        next_status(referral, actor, to, reason)?;
        let countersigned = (to == ReferralStatus::Approved)
            .then_some(actor.user.id)
            .or(referral.countersigned_by);
        let closed_reason =
            (to == ReferralStatus::Closed).then(|| reason.unwrap_or("").trim().to_owned());
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE referrals SET status = $1, countersigned_by = $2, closed_reason = $3, updated_at = $4 \
             WHERE id = $5 AND status = $6"
        )
        .bind(to.as_str())
        .bind(countersigned)
        .bind(closed_reason)
        .bind(Utc::now())
        .bind(referral.id)
        .bind(referral.status.as_str())
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        if to == ReferralStatus::Closed {
            // The match ends with the referral: the mentor's place, their
            // period and the iPads are free for someone else.
            on_tx!(&mut tx, |conn| sqlx::query(
                "UPDATE matches SET status = 'ended' WHERE referral_id = $1 AND status = 'approved'"
            )
            .bind(referral.id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
            // Its sessions still to come are off: they let go of their
            // students and iPads, and every calendar drops them.
            crate::booking::cancel_in_tx(
                &mut tx,
                "match_id IN (SELECT id FROM matches WHERE referral_id = $1)",
                referral.id,
                "The mentoring has ended",
            )
            .await?;
        }
        tx.commit().await?;
        if done == 0 {
            return Err(Error::conflict(
                "status",
                "someone else changed this referral first; reload it",
            ));
        }
        self.referral(referral.id).await
    }

    /// One referral.
    pub async fn referral(&self, id: Uuid) -> Result<Referral> {
        let sql = format!("{SELECT} WHERE r.id = $1");
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or(Error::NotFound("referral"))?.try_into()
    }

    /// A school's referrals, most urgent and newest first.
    pub async fn referrals_at(&self, school: Uuid) -> Result<Vec<Referral>> {
        let sql =
            format!("{SELECT} WHERE r.school_id = $1 ORDER BY r.priority DESC, r.created_at DESC");
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Referral::try_from).collect()
    }
}

// ---- Called by matching (moves into this domain's store.rs when the folder is reshaped) ----

/// Moves an approved referral to `matched` inside the caller's transaction
/// (the second approval of a match proposal). `false` when the referral was
/// no longer `approved`, so the caller can refuse the whole approval.
pub async fn mark_matched_in_tx(
    tx: &mut crate::store::Tx,
    referral: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let moved = on_tx!(tx, |conn| sqlx::query(
        "UPDATE referrals SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4"
    )
    .bind(ReferralStatus::Matched.as_str())
    .bind(now)
    .bind(referral)
    .bind(ReferralStatus::Approved.as_str())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(moved > 0)
}

// ---- End of the block called by matching ----

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReferralInput {
        ReferralInput {
            mentee_id: Uuid::new_v4(),
            priority: 2,
            strengths: String::new(),
            concerns: vec!["Confidence".into()],
            reasons: "Quiet in lessons".into(),
            focus: vec!["English poetry".into()],
            support_received: String::new(),
            strategies_tried: String::new(),
            agencies: String::new(),
            consent: None,
            entry_criteria_met: false,
            planned_weeks: 6,
            review_date: None,
        }
    }

    #[test]
    fn a_referral_needs_reasons_a_focus_and_concerns_from_the_checklist() {
        assert!(check(&input()).is_ok());
        let mut bad = input();
        bad.concerns = vec!["naughtiness".into()];
        assert_eq!(check(&bad).err().and_then(|e| e.field()), Some("concerns"));
        let mut bad = input();
        bad.focus = vec![" ".into()];
        assert_eq!(check(&bad).err().and_then(|e| e.field()), Some("focus"));
        let mut bad = input();
        bad.reasons = "  ".into();
        assert_eq!(check(&bad).err().and_then(|e| e.field()), Some("reasons"));
        let mut bad = input();
        bad.planned_weeks = 0;
        assert_eq!(
            check(&bad).err().and_then(|e| e.field()),
            Some("planned_weeks")
        );
    }
}
