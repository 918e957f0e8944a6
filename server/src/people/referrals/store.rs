//! The `referrals` and `referral_changes` tables. A referral's mentee (name, year group) is the
//! accounts domain's: it is read through the accounts store and joined to
//! the rows here, not in SQL.

mod figures;
pub use figures::{ReferralCount, ReferralRef};

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    Referral, ReferralChange, ReferralInput, ReferralStatus, changed_fields, check, check_edit,
    consent_recorder, next_status,
};
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::people::accounts::{Role, StudentKind, User};
use crate::store::{Constraint, Store, Tx};
use crate::{on_pool, on_tx};

const COLUMNS: &str = "id, school_id, mentee_id, referred_by, countersigned_by, status, priority, \
     strengths, concerns, reasons, focus, support_received, strategies_tried, agencies, \
     consent_given_by, consent_date, consent_recorded_by, editors, entry_criteria_met, planned_weeks, \
     review_date, closed_reason, created_at, updated_at, unavailable, preferred_days";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    school_id: Uuid,
    mentee_id: Uuid,
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
    /// Space-separated ids.
    editors: String,
    entry_criteria_met: bool,
    planned_weeks: i32,
    review_date: Option<NaiveDate>,
    closed_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// One [`Unavailable`](super::Unavailable) a line.
    unavailable: String,
    /// `Wed,Fri`.
    preferred_days: String,
}

/// A stored list: one item a line.
fn list(raw: &str) -> Vec<String> {
    raw.split('\n')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Row {
    fn into_referral(self, mentee: &User) -> Result<Referral> {
        Ok(Referral {
            id: self.id,
            school_id: self.school_id,
            mentee_id: self.mentee_id,
            mentee_name: mentee.full_name(),
            given_name: mentee.given_name.clone(),
            year_group: mentee.year_group,
            referred_by: self.referred_by,
            countersigned_by: self.countersigned_by,
            status: self.status.parse().map_err(|_| {
                Error::internal(format!("stored referral status `{}`", self.status))
            })?,
            priority: self.priority,
            strengths: self.strengths,
            concerns: list(&self.concerns),
            reasons: self.reasons,
            focus: list(&self.focus),
            support_received: self.support_received,
            strategies_tried: self.strategies_tried,
            agencies: self.agencies,
            consent_given_by: self.consent_given_by,
            consent_date: self.consent_date,
            consent_recorded_by: self.consent_recorded_by,
            editors: self
                .editors
                .split_ascii_whitespace()
                .map(|id| {
                    id.parse()
                        .map_err(|e| Error::internal_from("stored referral editor", e))
                })
                .collect::<Result<_>>()?,
            entry_criteria_met: self.entry_criteria_met,
            planned_weeks: self.planned_weeks,
            review_date: self.review_date,
            unavailable: unavailable_from(&self.unavailable)?,
            preferred_days: self
                .preferred_days
                .split(',')
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect(),
            closed_reason: self.closed_reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The stored times back, as [`unavailable_text`] wrote them.
fn unavailable_from(text: &str) -> Result<Vec<super::Unavailable>> {
    list(text).iter().map(|u| u.parse()).collect()
}

fn unavailable_text(times: &[super::Unavailable]) -> String {
    times
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Store {
    /// Refuses a time the school's timetable does not have (a typo would
    /// otherwise quietly mean nothing).
    async fn check_unavailable_times(
        &self,
        school: Uuid,
        times: &[super::Unavailable],
    ) -> Result<()> {
        use crate::calendar::store::{TimetableTime, WithoutSchedule, check_timetable_times};
        let times: Vec<TimetableTime<'_>> = times
            .iter()
            .map(|t| TimetableTime {
                week: t.week.as_deref(),
                day: &t.day,
                period: t.period.as_deref(),
                label: t.label(),
            })
            .collect();
        check_timetable_times(self, school, "unavailable", &times, WithoutSchedule::Refuse).await
    }

    /// Refuses a preferred day the school does not teach.
    async fn check_preferred_days(&self, school: Uuid, days: &[String]) -> Result<()> {
        let taught = self.teaching_days(school).await?;
        for day in days {
            if let Some(d) = crate::calendar::import::parse_day(day)
                && !taught.contains(d)
            {
                return Err(Error::invalid(
                    "preferred_days",
                    format!(
                        "the school does not teach on {}s (it teaches {taught})",
                        crate::calendar::model::long_day(d)
                    ),
                ));
            }
        }
        Ok(())
    }

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
        self.check_unavailable_times(school, &c.unavailable).await?;
        self.check_preferred_days(school, &c.preferred_days).await?;
        let id = Uuid::new_v4();
        let now = Utc::now();
        let sql = "INSERT INTO referrals (id, school_id, mentee_id, referred_by, status, priority, strengths, \
                   concerns, reasons, focus, support_received, strategies_tried, agencies, consent_given_by, \
                   consent_date, consent_recorded_by, entry_criteria_met, planned_weeks, review_date, created_at, updated_at, unavailable, preferred_days) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $21, $22)";
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
            .bind(unavailable_text(&c.unavailable))
            .bind(c.preferred_days.join(","))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(|err| match Constraint::of(&err) {
            Some(Constraint::ReferralOpenMentee) => Error::conflict(
                "mentee_id",
                format!("{} already has an open referral", mentee.given_name),
            ),
            _ => Error::Database(err),
        })?;
        self.referral(id).await
    }

    /// Rewrites a referral's content (not its status), once `check_edit`
    /// allows it, and records who changed which fields.
    pub async fn update_referral(
        &self,
        referral: &Referral,
        actor: &Actor,
        input: &ReferralInput,
    ) -> Result<Referral> {
        check_edit(referral, input)?;
        let c = check(input)?;
        self.check_unavailable_times(referral.school_id, &c.unavailable)
            .await?;
        self.check_preferred_days(referral.school_id, &c.preferred_days)
            .await?;
        let fields = changed_fields(referral, &c);
        if fields.is_empty() {
            return Ok(referral.clone());
        }
        let consent_recorded_by = consent_recorder(referral, &c, actor.user.id);
        let mut editors = referral.editors.clone();
        if actor.user.id != referral.referred_by && !editors.contains(&actor.user.id) {
            editors.push(actor.user.id);
        }
        let editors: Vec<String> = editors.iter().map(Uuid::to_string).collect();
        let now = Utc::now();
        let sql = "UPDATE referrals SET priority = $1, strengths = $2, concerns = $3, reasons = $4, focus = $5, \
                   support_received = $6, strategies_tried = $7, agencies = $8, consent_given_by = $9, consent_date = $10, \
                   consent_recorded_by = $11, entry_criteria_met = $12, planned_weeks = $13, review_date = $14, updated_at = $15, \
                   editors = $17, unavailable = $19, preferred_days = $20 WHERE id = $16 AND updated_at = $18";
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |conn| sqlx::query(sql)
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
            .bind(now)
            .bind(referral.id)
            .bind(editors.join(" "))
            .bind(referral.updated_at)
            .bind(unavailable_text(&c.unavailable))
            .bind(c.preferred_days.join(","))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(Error::conflict(
                "updated_at",
                "someone else changed this referral a moment ago; open it again to see their changes",
            ));
        }
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO referral_changes (id, referral_id, changed_by, changed_at, fields) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(Uuid::new_v4())
        .bind(referral.id)
        .bind(actor.user.id)
        .bind(now)
        .bind(fields.join(" "))
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        self.referral(referral.id).await
    }

    /// What was changed in a referral after it was written, oldest first.
    pub async fn referral_changes(&self, id: Uuid) -> Result<Vec<ReferralChange>> {
        let rows: Vec<(Option<Uuid>, DateTime<Utc>, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT changed_by, changed_at, fields FROM referral_changes \
                 WHERE referral_id = $1 ORDER BY changed_at",
            )
            .bind(id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(changed_by, changed_at, fields)| ReferralChange {
                changed_by,
                changed_at,
                fields: fields.split_ascii_whitespace().map(str::to_owned).collect(),
            })
            .collect())
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
            end_programme_in_tx(&mut tx, referral.id).await?;
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

    /// A mentee's newest referral that reached a match (running or
    /// closed): the programme their own pages show.
    pub async fn newest_referral_of(&self, mentee: Uuid) -> Result<Option<Uuid>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT id FROM referrals WHERE mentee_id = $1 AND status IN ($2, $3, $4, $5) \
             ORDER BY created_at DESC LIMIT 1"
        )
        .bind(mentee)
        .bind(ReferralStatus::Matched.as_str())
        .bind(ReferralStatus::Active.as_str())
        .bind(ReferralStatus::Review.as_str())
        .bind(ReferralStatus::Closed.as_str())
        .fetch_optional(pool)
        .await)?)
    }

    /// The times each of `referrals` says its mentee cannot make, for the
    /// referrals that name any.
    pub async fn unavailable_of_referrals(
        &self,
        referrals: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<super::Unavailable>>> {
        let sql = "SELECT id, unavailable FROM referrals WHERE unavailable <> '' AND id IN ({in})";
        let rows = crate::per_chunk!(self, (Uuid, String), sql, referrals;)?;
        rows.into_iter()
            .map(|(id, text)| Ok((id, unavailable_from(&text)?)))
            .collect()
    }

    pub async fn referral(&self, id: Uuid) -> Result<Referral> {
        let sql = format!("SELECT {COLUMNS} FROM referrals WHERE id = $1");
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        let row = row.ok_or(Error::NotFound("referral"))?;
        let mentee = self.user(row.mentee_id).await?;
        row.into_referral(&mentee)
    }

    /// A school's referrals, most urgent and newest first (two queries:
    /// the referrals, then the school's students for their names).
    pub async fn referrals_at(&self, school: Uuid) -> Result<Vec<Referral>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM referrals WHERE school_id = $1 \
             ORDER BY priority DESC, created_at DESC"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school)
            .fetch_all(pool)
            .await)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let students: HashMap<Uuid, User> = self
            .users_at_school(school, &[Role::Student])
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            // A mentee is always at the referral's school; looked up alone
            // only if that ever stopped being so.
            let mentee = match students.get(&row.mentee_id) {
                Some(u) => u.clone(),
                None => self.user(row.mentee_id).await?,
            };
            out.push(row.into_referral(&mentee)?);
        }
        Ok(out)
    }
}

/// Ends what a closing referral leaves running, inside the caller's
/// transaction: its match (the mentor's place, their period and the iPads
/// are free for someone else) and its sessions still to come (they let go
/// of their students and iPads, and every calendar drops them). A match is
/// the one link from a session to its referral. Returns how many sessions
/// were cancelled.
async fn end_programme_in_tx(tx: &mut Tx, referral: Uuid) -> Result<u64> {
    crate::matching::store::end_matches_in_tx(tx, referral).await?;
    let mut cancelled = 0;
    for id in crate::matching::store::match_ids_in_tx(tx, referral).await? {
        cancelled += crate::booking::store::cancel_in_tx(
            tx,
            crate::booking::Cancel::RestOfMatch(id),
            "The mentoring has ended",
        )
        .await?;
    }
    Ok(cancelled)
}

/// Closes a referral that is under way (matched, active or at review)
/// inside the caller's transaction, as the mentoring record's exit does:
/// the status, its reason, the match ended and the sessions still to come
/// cancelled. Returns how many sessions were cancelled, or a conflict when
/// the referral was not under way (someone closed it first).
pub(crate) async fn close_in_tx(tx: &mut Tx, referral: Uuid, reason: &str) -> Result<u64> {
    let moved = on_tx!(&mut *tx, |conn| sqlx::query(
        "UPDATE referrals SET status = $1, closed_reason = $2, updated_at = $3 \
         WHERE id = $4 AND status IN ($5, $6, $7)"
    )
    .bind(ReferralStatus::Closed.as_str())
    .bind(reason)
    .bind(Utc::now())
    .bind(referral)
    .bind(ReferralStatus::Matched.as_str())
    .bind(ReferralStatus::Active.as_str())
    .bind(ReferralStatus::Review.as_str())
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if moved == 0 {
        return Err(Error::conflict(
            "status",
            "this mentoring is not under way (it may have been closed a moment ago); reload the record",
        ));
    }
    end_programme_in_tx(tx, referral).await
}

/// Moves an approved referral to `matched` inside the caller's transaction
/// (the second approval of a match proposal). `false` when the referral was
/// no longer `approved`, so the caller can refuse the whole approval.
pub(crate) async fn mark_matched_in_tx(
    tx: &mut Tx,
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
