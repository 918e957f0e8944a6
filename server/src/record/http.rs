//! The mentoring record over the JSON API. Every route reaches a record
//! through [`Programme::load`], which answers 404 to anyone the record is
//! not for, and then the one rule in [`super::actions`] for what they do.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::programme::{Programme, record};
use super::{
    AssessmentInput, ExitInput, FeedbackInput, Identifier, IdentifierInput, NoteInput,
    OutcomeInput, Record, ReviewInput, Target, TargetInput, actions,
};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error};
use crate::extract::ApiJson;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/me/record", api_my_record)
        .get("/api/referrals/{referral_id}/record", api_record)
        .get(
            "/api/schools/{school_id}/record-identifiers",
            api_identifiers,
        )
        .put(
            "/api/schools/{school_id}/record-identifiers",
            api_set_identifiers,
        )
        .post("/api/referrals/{referral_id}/assessments", api_assess)
        .post("/api/referrals/{referral_id}/targets", api_add_target)
        .post("/api/targets/{target_id}/agree", api_agree)
        .post("/api/targets/{target_id}/progress", api_progress)
        .post("/api/targets/{target_id}/outcome", api_outcome)
        .put("/api/sessions/{session_id}/note", api_note)
        .post("/api/referrals/{referral_id}/reviews", api_review)
        .post("/api/referrals/{referral_id}/exit", api_exit)
        .post("/api/referrals/{referral_id}/feedback", api_feedback)
}

async fn api_my_record(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Record>, ApiError> {
    let Some(programme) = Programme::own(&state.store, &actor).await? else {
        return Err(Error::NotFound("record").into());
    };
    Ok(Json(record(&state.store, &actor, &programme).await?))
}

async fn api_record(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Record>, ApiError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    Ok(Json(record(&state.store, &actor, &programme).await?))
}

async fn api_identifiers(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<Vec<Identifier>>, ApiError> {
    authorize(&actor, Action::ViewRecords { school })?;
    Ok(Json(state.store.record_identifiers(school).await?))
}

async fn api_set_identifiers(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<Vec<IdentifierInput>>,
) -> Result<Json<Vec<Identifier>>, ApiError> {
    actions::set_identifiers(&state.store, &actor, school, &input).await?;
    Ok(Json(state.store.record_identifiers(school).await?))
}

#[derive(Serialize)]
struct Created {
    id: Uuid,
}

async fn api_assess(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<AssessmentInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let id = actions::assess(&state.store, &actor, &programme, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

async fn api_add_target(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<TargetInput>,
) -> Result<(StatusCode, Json<Target>), ApiError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let target = actions::add_target(&state.store, &actor, &programme, &input).await?;
    Ok((StatusCode::CREATED, Json(target)))
}

async fn api_agree(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Target>, ApiError> {
    Ok(Json(actions::agree_target(&state.store, &actor, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgressBody {
    note: String,
    #[serde(default)]
    session_id: Option<Uuid>,
}

async fn api_progress(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ProgressBody>,
) -> Result<StatusCode, ApiError> {
    actions::add_progress(&state.store, &actor, id, body.session_id, &body.note).await?;
    Ok(StatusCode::CREATED)
}

async fn api_outcome(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<OutcomeInput>,
) -> Result<Json<Target>, ApiError> {
    Ok(Json(
        actions::set_outcome(&state.store, &actor, id, &input).await?,
    ))
}

async fn api_note(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<NoteInput>,
) -> Result<StatusCode, ApiError> {
    actions::write_note(&state.store, &actor, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct Reviewed {
    /// Sessions cancelled, when the review closed the case.
    cancelled: Option<u64>,
}

async fn api_review(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<(StatusCode, Json<Reviewed>), ApiError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let cancelled = actions::review(&state.store, &actor, &programme, &input).await?;
    Ok((StatusCode::CREATED, Json(Reviewed { cancelled })))
}

#[derive(Deserialize)]
struct DryRun {
    #[serde(default)]
    dry_run: bool,
}

#[derive(Serialize)]
struct Exited {
    dry_run: bool,
    /// The sessions it cancels (or cancelled).
    cancels: Vec<Uuid>,
    cancelled: u64,
}

/// `?dry_run=true` says what the exit would cancel and writes nothing.
async fn api_exit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<DryRun>,
    ApiJson(input): ApiJson<ExitInput>,
) -> Result<Json<Exited>, ApiError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let cancels: Vec<Uuid> = actions::exit_preview(&state.store, &actor, &programme)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    if q.dry_run {
        return Ok(Json(Exited {
            dry_run: true,
            cancelled: 0,
            cancels,
        }));
    }
    let cancelled = actions::exit(&state.store, &actor, &programme, &input).await?;
    Ok(Json(Exited {
        dry_run: false,
        cancels,
        cancelled,
    }))
}

async fn api_feedback(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<FeedbackInput>,
) -> Result<StatusCode, ApiError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    actions::give_feedback(&state.store, &actor, &programme, &input).await?;
    Ok(StatusCode::CREATED)
}
