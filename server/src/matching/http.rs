//! Match proposals over the JSON API: the latest proposal, a run, a
//! school's approval, the pair rules and the approved matches. The review
//! page is in [`super::pages`]; both go through the loaders here.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use uuid::Uuid;

use super::{MatchRecord, MatchRule, Proposal, RuleInput};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error, Result};
use crate::extract::ApiJson;
use crate::people::partnerships::Partnership;
use crate::state::{AppState, Routes};

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
}

/// Loads the partnership and checks the actor may do `action` to it.
pub(super) async fn partnership_for(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    action: fn(&Partnership) -> Action<'_>,
) -> Result<Partnership> {
    let p = state.store.partnership(id).await?;
    authorize(actor, action(&p))?;
    Ok(p)
}

pub(super) fn view(p: &Partnership) -> Action<'_> {
    Action::ViewMatches { partnership: p }
}

pub(super) fn manage(p: &Partnership) -> Action<'_> {
    Action::ManageMatching { partnership: p }
}

/// A proposal as the actor's school may see it.
pub(super) fn for_viewer(mut proposal: Proposal, actor: &Actor) -> Proposal {
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

pub(super) async fn run(state: &AppState, actor: &Actor, p: &Partnership) -> Result<Proposal> {
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
    let approved = state
        .store
        .approve_proposal(&p, proposal_id, &actor)
        .await?;
    Ok(Json(for_viewer(approved, &actor)))
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
