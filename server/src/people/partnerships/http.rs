//! Proposing, accepting and viewing partnerships over the JSON API.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::{Partnership, PartnershipView, accept, partner_students, propose, views};
use crate::auth::Actor;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::people::accounts::PartnerStudentView;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/partnerships", api_list)
        .post("/api/partnerships", api_propose)
        .post("/api/partnerships/{partnership_id}/accept", api_accept)
        .get(
            "/api/partnerships/{partnership_id}/students",
            api_partner_students,
        )
}

async fn api_list(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<PartnershipView>>, ApiError> {
    Ok(Json(views(&state.store, &actor).await?))
}

#[derive(Deserialize)]
struct ProposeBody {
    /// The partner school's slug or id.
    partner_school: String,
}

async fn api_propose(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<ProposeBody>,
) -> Result<(StatusCode, Json<Partnership>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(propose(&state.store, &actor, &body.partner_school).await?),
    ))
}

async fn api_accept(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Partnership>, ApiError> {
    Ok(Json(accept(&state.store, &actor, id).await?))
}

async fn api_partner_students(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<PartnerStudentView>>, ApiError> {
    Ok(Json(partner_students(&state.store, &actor, id).await?.2))
}
