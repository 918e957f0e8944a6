//! The proposal review page: the latest proposal as the viewer's school may
//! see it (pairs and reasons, who is left out and why, iPads per slot), the
//! schools' approvals, the pair rules, and the forms that run the
//! optimiser, approve, and pin or forbid a pair.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::http::{for_viewer, manage, partnership_for, run, view};
use super::{MatchRecord, MatchRule, Proposal, ProposalStatus, RuleInput};
use crate::auth::Actor;
use crate::auth::policy::authorize;
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::people::partnerships::Partnership;
use crate::people::referrals::ReferralStatus;
use crate::state::{AppState, Routes};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/partnerships/{partnership_id}/matching", matching_page)
        .post("/partnerships/{partnership_id}/matching/run", run_submit)
        .post(
            "/partnerships/{partnership_id}/matching/approve",
            approve_submit,
        )
        .post("/partnerships/{partnership_id}/matching/rules", rule_submit)
}

/// One weekly slot's use, for the chart.
pub struct SlotUse {
    pub label: String,
    /// Pairs the proposal puts in it (plus approved matches).
    pub used: u32,
    pub devices: u32,
}

/// A rule as the page lists it, with first names.
pub struct RuleRow {
    pub rule: MatchRule,
    pub mentee: String,
    pub mentor: String,
}

/// An approved match as the page lists it, with first names.
pub struct ApprovedRow {
    pub mentee: String,
    pub mentor: String,
    /// The weekly slot in words.
    pub slot: String,
}

/// Someone to pick in the pin form.
pub struct Pick {
    pub id: Uuid,
    /// "Kai (Year 8, St Columba's)".
    pub label: String,
}

#[derive(askama::Template)]
#[template(path = "matching.html")]
struct MatchingPage {
    nav: Nav,
    partnership_id: Uuid,
    partner_name: String,
    own_name: String,
    proposal: Option<Proposal>,
    school_names: BTreeMap<Uuid, String>,
    slot_use: Vec<SlotUse>,
    approved_by: Vec<String>,
    waiting_for: Vec<String>,
    can_manage: bool,
    can_approve: bool,
    rules: Vec<RuleRow>,
    mentees: Vec<Pick>,
    mentors: Vec<Pick>,
    approved: Vec<ApprovedRow>,
    notice: Option<&'static str>,
    error: Option<String>,
}

impl MatchingPage {
    fn school(&self, id: &Uuid) -> &str {
        self.school_names.get(id).map_or("", String::as_str)
    }

    fn is_open(&self) -> bool {
        self.proposal
            .as_ref()
            .is_some_and(|p| p.status == ProposalStatus::Open)
    }

    fn priority_word(priority: &u8) -> &'static str {
        match priority {
            3 => "high",
            2 => "medium",
            _ => "low",
        }
    }

    fn width(used: &u32, devices: &u32) -> u32 {
        (used * 100).checked_div(*devices).unwrap_or(0).min(100)
    }
}

fn pick_label(name: &str, year: Option<i32>, school: &str) -> String {
    match year {
        Some(y) => format!("{name} (Year {y}, {school})"),
        None => format!("{name} ({school})"),
    }
}

/// The partnership's two schools' names, by id (for people) and by slug
/// (for the ends of slots), each school looked up once.
async fn school_names(
    state: &AppState,
    p: &Partnership,
) -> Result<(BTreeMap<Uuid, String>, BTreeMap<String, String>)> {
    let mut by_id = BTreeMap::new();
    let mut by_slug = BTreeMap::new();
    for school in [p.proposed_by_school, p.partner_of(p.proposed_by_school)] {
        let s = state.store.school(school).await?;
        by_id.insert(school, s.name.clone());
        by_slug.insert(s.slug, s.name);
    }
    Ok((by_id, by_slug))
}

/// Who can be pinned (approved referrals and ready mentors, first names
/// only), and every mentee's and mentor's first name by id.
struct People {
    mentees: Vec<Pick>,
    mentors: Vec<Pick>,
    names: BTreeMap<Uuid, String>,
}

async fn people(state: &AppState, school_names: &BTreeMap<Uuid, String>) -> Result<People> {
    let mut people = People {
        mentees: Vec::new(),
        mentors: Vec::new(),
        names: BTreeMap::new(),
    };
    for (&school, school_name) in school_names {
        for r in state.store.referrals_at(school).await? {
            people.names.insert(r.mentee_id, r.given_name.clone());
            if r.status == ReferralStatus::Approved {
                people.mentees.push(Pick {
                    id: r.mentee_id,
                    label: pick_label(&r.given_name, r.year_group, school_name),
                });
            }
        }
        for m in state.store.mentor_profiles(school).await? {
            people.names.insert(m.user_id, m.given_name.clone());
            if m.ready {
                people.mentors.push(Pick {
                    id: m.user_id,
                    label: pick_label(&m.given_name, m.year_group, school_name),
                });
            }
        }
    }
    Ok(people)
}

/// Each slot of the proposal: pairs it would hold (with approved matches)
/// against what it can hold, in timetable order (week, weekday, time at
/// the first school), as a coordinator reads a week, not in the order of
/// the slots' next dates.
fn slot_use(proposal: &Proposal, slug_names: &BTreeMap<String, String>) -> Vec<SlotUse> {
    let mut slots: Vec<_> = proposal.body.slots.iter().collect();
    slots.sort_by_key(|slot| {
        slot.ends.values().next().map(|e| {
            let day = crate::calendar::import::parse_day(&e.day).map(|d| d.num_days_from_monday());
            (e.week.clone(), day, e.start)
        })
    });
    slots
        .into_iter()
        .map(|slot| {
            let proposed = proposal
                .body
                .matches
                .iter()
                .filter(|m| m.slot_key == slot.key)
                .count();
            let proposed = u32::try_from(proposed).unwrap_or(u32::MAX);
            SlotUse {
                label: slot.label(slug_names),
                used: slot.in_use + proposed,
                devices: slot.devices,
            }
        })
        .collect()
}

fn approved_rows(
    approved: Vec<MatchRecord>,
    names: &BTreeMap<Uuid, String>,
    slug_names: &BTreeMap<String, String>,
) -> Vec<ApprovedRow> {
    approved
        .into_iter()
        .map(|m| ApprovedRow {
            mentee: names.get(&m.mentee_id).cloned().unwrap_or_default(),
            mentor: names.get(&m.mentor_id).cloned().unwrap_or_default(),
            slot: m.slot.label(slug_names),
        })
        .collect()
}

async fn show(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<MatchingPage> {
    let p = partnership_for(state, actor, id, view).await?;
    let own = actor.school_id().ok_or(Error::Forbidden)?;
    let (school_names, slug_names) = school_names(state, &p).await?;
    let proposal = state
        .store
        .latest_proposal(p.id)
        .await?
        .map(|proposal| for_viewer(proposal, actor));
    let approved = state.store.partnership_matches(p.id).await?;
    let can_manage = authorize(actor, manage(&p)).is_ok();
    let People {
        mentees,
        mentors,
        names,
    } = people(state, &school_names).await?;
    let rules = state
        .store
        .match_rules(p.id)
        .await?
        .into_iter()
        .map(|rule| RuleRow {
            mentee: names.get(&rule.mentee_id).cloned().unwrap_or_default(),
            mentor: names.get(&rule.mentor_id).cloned().unwrap_or_default(),
            rule,
        })
        .collect();
    let approved = approved_rows(approved, &names, &slug_names);
    let mut approved_by = Vec::new();
    let mut waiting_for = Vec::new();
    if let Some(proposal) = &proposal {
        for (&school, name) in &school_names {
            if proposal.approved_by_school(school) {
                approved_by.push(name.clone());
            } else {
                waiting_for.push(name.clone());
            }
        }
    }
    let can_approve = can_manage
        && proposal.as_ref().is_some_and(|p| {
            p.status == ProposalStatus::Open
                && !p.approved_by_school(own)
                && !p.body.matches.is_empty()
        });
    Ok(MatchingPage {
        nav: Nav::for_actor(actor),
        partnership_id: p.id,
        partner_name: school_names
            .get(&p.partner_of(own))
            .cloned()
            .unwrap_or_default(),
        own_name: school_names.get(&own).cloned().unwrap_or_default(),
        slot_use: proposal
            .as_ref()
            .map(|proposal| slot_use(proposal, &slug_names))
            .unwrap_or_default(),
        proposal,
        school_names,
        approved_by,
        waiting_for,
        can_manage,
        can_approve,
        rules,
        mentees,
        mentors,
        approved,
        notice,
        error,
    })
}

async fn matching_page(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    Ok(Html(render(
        &show(&state, &actor, id, notice_text(q.notice.as_deref()), None).await?,
    )))
}

/// After a form's step: back to the page with `notice`, or the page again
/// with the error when the input was refused.
async fn back_to_page<T>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    result: Result<T>,
    notice: &str,
) -> Result<Response, PageError> {
    let done = format!("/partnerships/{id}/matching?notice={notice}");
    after_form(result, &done, |error| {
        show(state, actor, id, None, Some(error))
    })
    .await
}

async fn run_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let p = partnership_for(&state, &actor, id, manage).await?;
    let result = run(&state, &actor, &p).await;
    back_to_page(&state, &actor, id, result, "matched").await
}

#[derive(Deserialize)]
struct ApproveForm {
    #[serde(default)]
    proposal_id: String,
}

async fn approve_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<ApproveForm>,
) -> Result<Response, PageError> {
    let p = partnership_for(&state, &actor, id, manage).await?;
    let result = async {
        let proposal_id = form
            .proposal_id
            .trim()
            .parse()
            .map_err(|_| Error::invalid("proposal_id", "no proposal named"))?;
        state.store.approve_proposal(&p, proposal_id, &actor).await
    }
    .await;
    let notice = match &result {
        Ok(p) if p.status == ProposalStatus::Approved => "match_approved",
        _ => "match_approval",
    };
    back_to_page(&state, &actor, id, result, notice).await
}

#[derive(Deserialize)]
struct RuleForm {
    #[serde(default)]
    mentee_id: String,
    #[serde(default)]
    mentor_id: String,
    #[serde(default)]
    kind: String,
}

async fn rule_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<RuleForm>,
) -> Result<Response, PageError> {
    let p = partnership_for(&state, &actor, id, manage).await?;
    let result = async {
        let input = RuleInput {
            mentee_id: form
                .mentee_id
                .trim()
                .parse()
                .map_err(|_| Error::invalid("mentee_id", "choose a mentee"))?,
            mentor_id: form
                .mentor_id
                .trim()
                .parse()
                .map_err(|_| Error::invalid("mentor_id", "choose a mentor"))?,
            kind: form.kind.parse()?,
        };
        state.store.set_match_rule(&p, &input, &actor).await?;
        // Re-run at once, so the coordinator sees what the rule changed.
        run(&state, &actor, &p).await
    }
    .await;
    back_to_page(&state, &actor, id, result, "rule").await
}
