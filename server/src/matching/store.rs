//! Proposals, approvals, pair rules and approved matches, on both databases.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    MatchInput, MatchRule, MenteeCase, MentorCase, PeriodRef, Person, ProposalBody, RuleKind,
    SchoolRef, WeeklySlot, propose, stale, weekly_slots,
};
use crate::auth::Actor;
use crate::calendar::store::partnership_slots;
use crate::error::{Error, Result};
use crate::people::accounts::StudentKind;
use crate::people::partnerships::Partnership;
use crate::people::referrals::ReferralStatus;
use crate::store::{Constraint, Store};
use crate::{on_pool, on_tx};

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Waiting for both coordinators.
    Open,
    /// Both approved: its pairs are matches.
    Approved,
    /// A later run replaced it.
    Superseded,
}

impl ProposalStatus {
    fn parse(raw: &str) -> Result<Self> {
        match raw {
            "open" => Ok(ProposalStatus::Open),
            "approved" => Ok(ProposalStatus::Approved),
            "superseded" => Ok(ProposalStatus::Superseded),
            other => Err(Error::internal(format!("stored proposal status `{other}`"))),
        }
    }
}

/// One school's approval of a proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The school.
    pub school_id: Uuid,
    /// Its coordinator who approved.
    pub approved_by: Uuid,
    /// When.
    pub approved_at: DateTime<Utc>,
}

/// A stored proposal.
#[derive(Clone, Debug, Serialize)]
pub struct Proposal {
    /// Its id.
    pub id: Uuid,
    /// The partnership.
    pub partnership_id: Uuid,
    /// Where it stands.
    pub status: ProposalStatus,
    /// Who ran the optimiser (none when run from the command line).
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Approvals so far.
    pub approvals: Vec<Approval>,
    /// The pairs, slots and reasons.
    #[serde(flatten)]
    pub body: ProposalBody,
}

impl Proposal {
    /// Whether a school has approved it.
    pub fn approved_by_school(&self, school: Uuid) -> bool {
        self.approvals.iter().any(|a| a.school_id == school)
    }
}

/// An approved match, ready for booking.
#[derive(Clone, Debug, Serialize)]
pub struct MatchRecord {
    /// Its id.
    pub id: Uuid,
    /// The partnership.
    pub partnership_id: Uuid,
    /// The mentee's referral.
    pub referral_id: Uuid,
    /// The mentee.
    pub mentee_id: Uuid,
    /// The mentor.
    pub mentor_id: Uuid,
    /// The weekly slot.
    pub slot: WeeklySlot,
    /// The proposal it came from.
    pub proposal_id: Uuid,
    /// When the second school approved it.
    pub approved_at: DateTime<Utc>,
}

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
struct RuleRow {
    mentee_id: Uuid,
    mentor_id: Uuid,
    kind: String,
    set_by: Uuid,
    set_at: DateTime<Utc>,
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

/// What a rule change asks for: pin, forbid, or neither (clear it).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// The mentee.
    pub mentee_id: Uuid,
    /// The mentor.
    pub mentor_id: Uuid,
    /// `pin`, `forbid`, or `none` to clear.
    pub kind: RuleChoice,
}

/// A rule, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleChoice {
    /// Pin the pair.
    Pin,
    /// Forbid the pair.
    Forbid,
    /// Clear whatever rule the pair has.
    None,
}

const MATCH_COLUMNS: &str =
    "id, partnership_id, referral_id, mentee_id, mentor_id, slot, proposal_id, approved_at";

impl Store {
    /// Gathers a partnership's matching problem: slots over the next
    /// [`super::HORIZON_WEEKS`] weeks, approved referrals, mentors, rules
    /// and the last proposal's pairs.
    pub async fn match_input(&self, partnership: &Partnership) -> Result<MatchInput> {
        let first = self.school(partnership.proposed_by_school).await?;
        let from = first.today()?;
        let to = from + Duration::weeks(super::HORIZON_WEEKS) - Duration::days(1);
        let aligned = partnership_slots(self, partnership, from, to).await?;
        let mut slots = weekly_slots(&aligned.alignment.slots);
        let schools = [&aligned.a, &aligned.b];

        let used = self
            .periods_in_use(
                &[&aligned.a.slug, &aligned.b.slug],
                [aligned.a.id, aligned.b.id],
            )
            .await?;
        for slot in &mut slots {
            slot.count_use(&used);
        }

        let mut mentees = Vec::new();
        let mut mentors = Vec::new();
        for school in schools {
            for r in self.referrals_at(school.id).await? {
                if r.status != ReferralStatus::Approved {
                    continue;
                }
                mentees.push(MenteeCase {
                    referral_id: r.id,
                    person: Person {
                        id: r.mentee_id,
                        school_id: school.id,
                        given_name: r.given_name.clone(),
                        year_group: r.year_group,
                    },
                    priority: u8::try_from(r.priority).unwrap_or(1),
                    focus: r.focus.clone(),
                });
            }
            let load = self.mentor_load(school.id, &school.slug).await?;
            for m in self.mentor_profiles(school.id).await? {
                let (count, busy) = load.get(&m.user_id).cloned().unwrap_or_default();
                mentors.push(MentorCase {
                    person: Person {
                        id: m.user_id,
                        school_id: school.id,
                        given_name: m.given_name.clone(),
                        year_group: m.year_group,
                    },
                    ready: m.ready,
                    offers: m.offers.clone(),
                    capacity_left: u32::from(m.capacity).saturating_sub(count),
                    free_periods: m.free_periods.clone(),
                    busy,
                });
            }
        }
        // Same data, same order, same proposal, on either database.
        mentees.sort_by_key(|m| m.referral_id);
        mentors.sort_by_key(|m| m.person.id);
        let previous = self
            .latest_proposal(partnership.id)
            .await?
            .map(|p| {
                p.body
                    .matches
                    .iter()
                    .map(|m| (m.mentee.id, m.mentor.id))
                    .collect()
            })
            .unwrap_or_default();
        Ok(MatchInput {
            schools: schools
                .iter()
                .map(|s| SchoolRef {
                    id: s.id,
                    slug: s.slug.clone(),
                    name: s.name.clone(),
                })
                .collect(),
            slots,
            mentees,
            mentors,
            rules: self.match_rules(partnership.id).await?,
            previous,
        })
    }

    /// How many approved matches take each period of these schools, in any
    /// of their partnerships, keyed by (school slug, (week, day, period)).
    async fn periods_in_use(
        &self,
        slugs: &[&str],
        schools: [Uuid; 2],
    ) -> Result<BTreeMap<(String, PeriodRef), u32>> {
        let rows: Vec<(String,)> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT m.slot FROM matches m JOIN partnerships p ON p.id = m.partnership_id \
             WHERE m.status = 'approved' AND (p.school_low IN ($1, $2) OR p.school_high IN ($1, $2))"
        )
        .bind(schools[0])
        .bind(schools[1])
        .fetch_all(pool)
        .await
        })?;
        let mut used: BTreeMap<(String, PeriodRef), u32> = BTreeMap::new();
        for (slot,) in rows {
            let slot: WeeklySlot = serde_json::from_str(&slot)
                .map_err(|e| Error::internal_from("stored match slot", e))?;
            for (slug, end) in &slot.ends {
                if slugs.contains(&slug.as_str()) {
                    let period = (end.week.clone(), end.day.clone(), end.period.clone());
                    *used.entry((slug.clone(), period)).or_default() += 1;
                }
            }
        }
        Ok(used)
    }

    /// For each mentor at a school: approved matches in any partnership,
    /// and the periods of their own timetable those take.
    async fn mentor_load(
        &self,
        school: Uuid,
        slug: &str,
    ) -> Result<BTreeMap<Uuid, (u32, BTreeSet<PeriodRef>)>> {
        let rows: Vec<(Uuid, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT m.mentor_id, m.slot FROM matches m JOIN users u ON u.id = m.mentor_id \
             WHERE m.status = 'approved' AND u.school_id = $1"
        )
        .bind(school)
        .fetch_all(pool)
        .await)?;
        let mut load: BTreeMap<Uuid, (u32, BTreeSet<PeriodRef>)> = BTreeMap::new();
        for (mentor, slot) in rows {
            let slot: WeeklySlot = serde_json::from_str(&slot)
                .map_err(|e| Error::internal_from("stored match slot", e))?;
            let entry = load.entry(mentor).or_default();
            entry.0 += 1;
            if let Some(end) = slot.ends.get(slug) {
                entry
                    .1
                    .insert((end.week.clone(), end.day.clone(), end.period.clone()));
            }
        }
        Ok(load)
    }

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
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE match_proposals SET status = 'superseded' WHERE partnership_id = $1 AND status = 'open'"
        )
        .bind(partnership.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO match_proposals (id, partnership_id, status, created_by, created_at, body) \
             VALUES ($1, $2, 'open', $3, $4, $5)"
        )
        .bind(id)
        .bind(partnership.id)
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
            status: ProposalStatus::parse(&row.status)?,
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
        let slug_of: BTreeMap<Uuid, String> = now_input
            .schools
            .iter()
            .map(|s| (s.id, s.slug.clone()))
            .collect();
        let now = Utc::now();
        let mut tx = self.begin().await?;
        // Taking the proposal's row lock first puts two coordinators who
        // approve at the same moment in line, so the second sees the first.
        let open = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE match_proposals SET status = status WHERE id = $1 AND status = 'open'"
        )
        .bind(proposal_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if open == 0 {
            return Err(Error::conflict(
                "proposal_id",
                "this proposal is no longer open (approved or replaced)",
            ));
        }
        let inserted = on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO match_approvals (proposal_id, school_id, approved_by, approved_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(proposal_id)
        .bind(school)
        .bind(actor.user.id)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        });
        match inserted {
            Err(e) if Constraint::of(&e) == Some(Constraint::MatchApproval) => {
                return Err(Error::conflict(
                    "proposal_id",
                    "your school has already approved this proposal",
                ));
            }
            other => other?,
        };
        let (approvals,): (i64,) = on_tx!(&mut tx, |conn| sqlx::query_as(
            "SELECT COUNT(*) FROM match_approvals WHERE proposal_id = $1"
        )
        .bind(proposal_id)
        .fetch_one(conn)
        .await)?;
        if approvals >= 2 {
            for m in &latest.body.matches {
                let moved = on_tx!(&mut tx, |conn| {
                    sqlx::query(
                    "UPDATE referrals SET status = 'matched', updated_at = $1 WHERE id = $2 AND status = 'approved'"
                )
                .bind(now)
                .bind(m.referral_id)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
                })?;
                if moved == 0 {
                    return Err(Error::conflict(
                        "proposal_id",
                        format!(
                            "{}'s referral has changed since this proposal was made; run the optimiser again",
                            m.mentee.given_name
                        ),
                    ));
                }
                let slot = latest
                    .body
                    .slots
                    .iter()
                    .find(|s| s.key == m.slot_key)
                    .ok_or_else(|| Error::internal("proposal names a slot it does not hold"))?;
                let slot_json = serde_json::to_string(slot)
                    .map_err(|e| Error::internal_from("slot JSON", e))?;
                let mentor_period = slug_of
                    .get(&m.mentor.school_id)
                    .and_then(|slug| slot.ends.get(slug))
                    .map(|e| format!("{}-{}-{}", e.week, e.day, e.period))
                    .ok_or_else(|| Error::internal("slot without the mentor's end"))?;
                let inserted = on_tx!(&mut tx, |conn| {
                    sqlx::query(
                    "INSERT INTO matches (id, partnership_id, referral_id, mentee_id, mentor_id, slot_key, mentor_period, slot, proposal_id, status, approved_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'approved', $10)"
                )
                .bind(Uuid::new_v4())
                .bind(partnership.id)
                .bind(m.referral_id)
                .bind(m.mentee.id)
                .bind(m.mentor.id)
                .bind(&m.slot_key)
                .bind(&mentor_period)
                .bind(&slot_json)
                .bind(proposal_id)
                .bind(now)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
                });
                match inserted {
                    Err(e)
                        if matches!(
                            Constraint::of(&e),
                            Some(Constraint::MatchMentorPeriod | Constraint::MatchReferral)
                        ) =>
                    {
                        return Err(Error::conflict(
                            "proposal_id",
                            format!(
                                "{} already has a mentee in that period; run the optimiser again",
                                m.mentor.given_name
                            ),
                        ));
                    }
                    other => other?,
                };
            }
            on_tx!(&mut tx, |conn| sqlx::query(
                "UPDATE match_proposals SET status = 'approved' WHERE id = $1"
            )
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

    /// A partnership's pinned and forbidden pairs.
    pub async fn match_rules(&self, partnership: Uuid) -> Result<Vec<MatchRule>> {
        let rows: Vec<RuleRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT mentee_id, mentor_id, kind, set_by, set_at FROM match_rules WHERE partnership_id = $1 ORDER BY set_at"
        )
        .bind(partnership)
        .fetch_all(pool)
        .await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(MatchRule {
                    mentee_id: r.mentee_id,
                    mentor_id: r.mentor_id,
                    kind: RuleKind::parse(&r.kind)
                        .ok_or_else(|| Error::internal(format!("stored rule `{}`", r.kind)))?,
                    set_by: r.set_by,
                    set_at: r.set_at,
                })
            })
            .collect()
    }

    /// Pins, forbids or clears a pair. The mentee must be a mentee at one
    /// school of the partnership and the mentor a mentor at the other; a
    /// new pin replaces the mentee's old one.
    pub async fn set_match_rule(
        &self,
        partnership: &Partnership,
        input: &RuleInput,
        actor: &Actor,
    ) -> Result<()> {
        let mentee = match self.user(input.mentee_id).await {
            Ok(u)
                if u.kind == Some(StudentKind::Mentee)
                    && u.school_id.is_some_and(|s| partnership.includes(s)) =>
            {
                u
            }
            Ok(_) | Err(Error::NotFound(_)) => {
                return Err(Error::invalid(
                    "mentee_id",
                    "not a mentee in this partnership",
                ));
            }
            Err(e) => return Err(e),
        };
        let mentee_school = mentee.school_id.unwrap_or_default();
        match self.user(input.mentor_id).await {
            Ok(u)
                if u.kind == Some(StudentKind::Mentor)
                    && u.school_id == Some(partnership.partner_of(mentee_school)) => {}
            Ok(_) | Err(Error::NotFound(_)) => {
                return Err(Error::invalid(
                    "mentor_id",
                    "not a mentor at the mentee's partner school",
                ));
            }
            Err(e) => return Err(e),
        }
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "DELETE FROM match_rules WHERE partnership_id = $1 AND mentee_id = $2 AND (mentor_id = $3 OR kind = $4)"
        )
        .bind(partnership.id)
        .bind(input.mentee_id)
        .bind(input.mentor_id)
        .bind(if input.kind == RuleChoice::Pin { "pin" } else { "" })
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        let kind = match input.kind {
            RuleChoice::Pin => Some(RuleKind::Pin),
            RuleChoice::Forbid => Some(RuleKind::Forbid),
            RuleChoice::None => None,
        };
        // A proposal made under the old rules must not be approved under
        // the new ones.
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE match_proposals SET status = 'superseded' WHERE partnership_id = $1 AND status = 'open'"
        )
        .bind(partnership.id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        if let Some(kind) = kind {
            let inserted = on_tx!(&mut tx, |conn| {
                sqlx::query(
                "INSERT INTO match_rules (partnership_id, mentee_id, mentor_id, kind, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)"
            )
            .bind(partnership.id)
            .bind(input.mentee_id)
            .bind(input.mentor_id)
            .bind(kind.as_str())
            .bind(actor.user.id)
            .bind(Utc::now())
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
            });
            match inserted {
                // Another pin for this mentee landed first.
                Err(e)
                    if matches!(
                        Constraint::of(&e),
                        Some(Constraint::MatchRuleOnePin | Constraint::MatchRule)
                    ) =>
                {
                    return Err(Error::conflict(
                        "mentee_id",
                        "someone else pinned this mentee at the same moment; reload and try again",
                    ));
                }
                other => other?,
            };
        }
        tx.commit().await?;
        Ok(())
    }

    /// A partnership's approved matches.
    pub async fn partnership_matches(&self, partnership: Uuid) -> Result<Vec<MatchRecord>> {
        let sql = format!(
            "SELECT {MATCH_COLUMNS} FROM matches WHERE partnership_id = $1 AND status = 'approved' ORDER BY approved_at, id"
        );
        let rows: Vec<MatchRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(partnership)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(MatchRecord::try_from).collect()
    }
}
