//! Groups of schools over the JSON API: the administrator makes a group,
//! invites schools and adds scheme leads; a coordinator agrees to join or
//! leaves; everyone allowed reads the groups they may see.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::{Group, GroupView, LeadInput, LeadView, Membership};
use crate::auth::Actor;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/groups", api_list)
        .post("/api/groups", api_create)
        .get("/api/groups/{group_id}", api_view)
        .post("/api/groups/{group_id}/schools", api_invite)
        .post("/api/groups/{group_id}/leads", api_add_lead)
        .post("/api/groups/{group_id}/agree", api_agree)
        .post("/api/groups/{group_id}/leave", api_leave)
}

async fn api_list(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<GroupView>>, ApiError> {
    Ok(Json(super::visible(&state.store, &actor).await?))
}

#[derive(Deserialize)]
struct CreateBody {
    name: String,
}

async fn api_create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Group>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::create(&state.store, &actor, &body.name).await?),
    ))
}

async fn api_view(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<GroupView>, ApiError> {
    Ok(Json(super::view(&state.store, &actor, id).await?))
}

#[derive(Deserialize)]
struct InviteBody {
    /// The school's slug or id.
    school: String,
}

async fn api_invite(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<(StatusCode, Json<Membership>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::invite(&state.store, &actor, id, &body.school).await?),
    ))
}

async fn api_add_lead(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<LeadInput>,
) -> Result<(StatusCode, Json<LeadView>), ApiError> {
    let lead = super::add_lead(&state.store, &actor, id, &body).await?;
    Ok((StatusCode::CREATED, Json(lead.into())))
}

async fn api_agree(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Membership>, ApiError> {
    Ok(Json(super::agree(&state.store, &actor, id).await?))
}

async fn api_leave(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    super::leave(&state.store, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
