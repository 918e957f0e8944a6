//! Match proposals over the JSON API and the proposal review page.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::store::{MatchRecord, Proposal, ProposalStatus, RuleChoice, RuleInput};
use super::{MatchRule, RuleKind};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error, PageError, Result};
use crate::extract::{ApiJson, PageForm};
use crate::people::partnerships::Partnership;
use crate::state::{AppState, Routes};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

/// The matching routes: API and pages.
pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/partnerships/{partnership_id}/proposal", api_latest)
        .post("/api/partnerships/{partnership_id}/proposal", api_run)
        .post(
            "/api/partnerships/{partnership_id}/proposal/{proposal_id}/approve",
            api_approve,
        )
        .get("/api/partnerships/{partnership_id}/match-rules", api_rules)
        .put(
            "/api/partnerships/{partnership_id}/match-rules",
            api_set_rule,
        )
        .get("/api/partnerships/{partnership_id}/matches", api_matches)
        .get("/partnerships/{partnership_id}/matching", matching_page)
        .post("/partnerships/{partnership_id}/matching/run", run_submit)
        .post(
            "/partnerships/{partnership_id}/matching/approve",
            approve_submit,
        )
        .post("/partnerships/{partnership_id}/matching/rules", rule_submit)
}

/// Loads the partnership and checks the actor may do `action` to it.
async fn partnership_for(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    action: fn(&Partnership) -> Action<'_>,
) -> Result<Partnership> {
    let p = state.store.partnership(id).await?;
    authorize(actor, action(&p))?;
    Ok(p)
}

fn view(p: &Partnership) -> Action<'_> {
    Action::ViewMatches { partnership: p }
}

fn manage(p: &Partnership) -> Action<'_> {
    Action::ManageMatching { partnership: p }
}

/// A proposal as the actor's school may see it.
fn for_viewer(mut proposal: Proposal, actor: &Actor) -> Proposal {
    proposal
        .body
        .for_school(actor.school_id().unwrap_or_default());
    proposal
}

async fn api_latest(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Proposal>, ApiError> {
    let p = partnership_for(&state, &actor, id, view).await?;
    let proposal = state
        .store
        .latest_proposal(p.id)
        .await?
        .ok_or(Error::NotFound("proposal"))?;
    Ok(Json(for_viewer(proposal, &actor)))
}

async fn run(state: &AppState, actor: &Actor, p: &Partnership) -> Result<Proposal> {
    let proposal = state.store.run_matching(p, Some(actor.user.id)).await?;
    tracing::info!(
        partnership = %p.id,
        proposal = %proposal.id,
        matched = proposal.body.summary.matched,
        mentees = proposal.body.summary.mentees,
        "matching run"
    );
    Ok(proposal)
}

async fn api_run(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<Proposal>), ApiError> {
    let p = partnership_for(&state, &actor, id, manage).await?;
    let proposal = run(&state, &actor, &p).await?;
    Ok((StatusCode::CREATED, Json(for_viewer(proposal, &actor))))
}

async fn api_approve(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, proposal_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<Proposal>, ApiError> {
    let p = partnership_for(&state, &actor, id, manage).await?;
    Ok(Json(
        state
            .store
            .approve_proposal(&p, proposal_id, &actor)
            .await?,
    ))
}

async fn api_rules(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<MatchRule>>, ApiError> {
    let p = partnership_for(&state, &actor, id, view).await?;
    Ok(Json(state.store.match_rules(p.id).await?))
}

async fn api_set_rule(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<Vec<MatchRule>>, ApiError> {
    let p = partnership_for(&state, &actor, id, manage).await?;
    state.store.set_match_rule(&p, &input, &actor).await?;
    Ok(Json(state.store.match_rules(p.id).await?))
}

async fn api_matches(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<MatchRecord>>, ApiError> {
    let p = partnership_for(&state, &actor, id, view).await?;
    Ok(Json(state.store.partnership_matches(p.id).await?))
}

// ---- Pages ----

/// One weekly slot's use, for the chart.
pub struct SlotUse {
    /// The slot in words.
    pub label: String,
    /// Pairs the proposal puts in it (plus approved matches).
    pub used: u32,
    /// Pairs it can hold.
    pub devices: u32,
}

/// A rule as the page lists it.
pub struct RuleRow {
    /// The rule.
    pub rule: MatchRule,
    /// The mentee's first name.
    pub mentee: String,
    /// The mentor's first name.
    pub mentor: String,
}

/// An approved match as the page lists it.
pub struct ApprovedRow {
    /// The mentee's first name.
    pub mentee: String,
    /// The mentor's first name.
    pub mentor: String,
    /// The weekly slot in words.
    pub slot: String,
}

/// Someone to pick in the pin form.
pub struct Pick {
    /// Their id.
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

async fn show(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<MatchingPage> {
    let p = partnership_for(state, actor, id, view).await?;
    let own = actor.school_id().ok_or(Error::Forbidden)?;
    // Each school once: names by id for the people, by slug for the slots.
    let mut school_names = BTreeMap::new();
    let mut slug_names = BTreeMap::new();
    for school in [p.proposed_by_school, p.partner_of(p.proposed_by_school)] {
        let s = state.store.school(school).await?;
        school_names.insert(school, s.name.clone());
        slug_names.insert(s.slug, s.name);
    }
    let proposal = state
        .store
        .latest_proposal(p.id)
        .await?
        .map(|proposal| for_viewer(proposal, actor));
    let approved = state.store.partnership_matches(p.id).await?;
    let can_manage = authorize(actor, manage(&p)).is_ok();

    // Who can be pinned: approved referrals and ready mentors, first names only.
    let mut mentees = Vec::new();
    let mut mentors = Vec::new();
    let mut names = BTreeMap::new();
    for (&school, school_name) in &school_names {
        for r in state.store.referrals_at(school).await? {
            names.insert(r.mentee_id, r.given_name.clone());
            if r.status == crate::people::referrals::ReferralStatus::Approved {
                mentees.push(Pick {
                    id: r.mentee_id,
                    label: pick_label(&r.given_name, r.year_group, school_name),
                });
            }
        }
        for m in state.store.mentor_profiles(school).await? {
            names.insert(m.user_id, m.given_name.clone());
            if m.ready {
                mentors.push(Pick {
                    id: m.user_id,
                    label: pick_label(&m.given_name, m.year_group, school_name),
                });
            }
        }
    }
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

    let approved = approved
        .into_iter()
        .map(|m| ApprovedRow {
            mentee: names.get(&m.mentee_id).cloned().unwrap_or_default(),
            mentor: names.get(&m.mentor_id).cloned().unwrap_or_default(),
            slot: m.slot.label(&slug_names),
        })
        .collect();
    let mut slot_use = Vec::new();
    let mut approved_by = Vec::new();
    let mut waiting_for = Vec::new();
    if let Some(proposal) = &proposal {
        for slot in &proposal.body.slots {
            let proposed = proposal
                .body
                .matches
                .iter()
                .filter(|m| m.slot_key == slot.key)
                .count();
            let proposed = u32::try_from(proposed).unwrap_or(u32::MAX);
            slot_use.push(SlotUse {
                label: slot.label(&slug_names),
                used: slot.in_use + proposed,
                devices: slot.devices,
            });
        }
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
        proposal,
        school_names,
        slot_use,
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

fn done(id: Uuid, notice: &str) -> String {
    format!("/partnerships/{id}/matching?notice={notice}")
}

async fn run_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let p = partnership_for(&state, &actor, id, manage).await?;
    let result = run(&state, &actor, &p).await;
    after_form(result, &done(id, "matched"), |error| {
        show(&state, &actor, id, None, Some(error))
    })
    .await
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
    after_form(result, &done(id, notice), |error| {
        show(&state, &actor, id, None, Some(error))
    })
    .await
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
            kind: match form.kind.as_str() {
                "pin" => RuleChoice::Pin,
                "forbid" => RuleChoice::Forbid,
                "none" => RuleChoice::None,
                _ => return Err(Error::invalid("kind", "pin, forbid or clear")),
            },
        };
        state.store.set_match_rule(&p, &input, &actor).await?;
        // Re-run at once, so the coordinator sees what the rule changed.
        run(&state, &actor, &p).await
    }
    .await;
    after_form(result, &done(id, "rule"), |error| {
        show(&state, &actor, id, None, Some(error))
    })
    .await
}

/// Whether a rule is a pin, for the template.
pub fn is_pin(rule: &MatchRule) -> bool {
    rule.kind == RuleKind::Pin
}
