//! Referrals over the JSON API: a school's referrals, writing one, moving
//! it on, and the partner school's view of those ready to match.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    PartnerReferralView, Referral, ReferralChange, ReferralInput, ReferralStatus,
    partner_referrals, visible,
};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/schools/{school_id}/referrals", api_list)
        .post("/api/schools/{school_id}/referrals", api_create)
        .get("/api/referrals/{referral_id}", api_get)
        .put("/api/referrals/{referral_id}", api_update)
        .get("/api/referrals/{referral_id}/changes", api_changes)
        .post("/api/referrals/{referral_id}/status", api_status)
        .get(
            "/api/partnerships/{partnership_id}/referrals",
            api_partner_view,
        )
}

async fn api_list(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<Vec<Referral>>, ApiError> {
    authorize(&actor, Action::ViewReferrals { school })?;
    Ok(Json(state.store.referrals_at(school).await?))
}

async fn api_create(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<ReferralInput>,
) -> Result<(StatusCode, Json<Referral>), ApiError> {
    authorize(&actor, Action::WriteReferral { school })?;
    let referral = state.store.create_referral(school, &actor, &input).await?;
    tracing::info!(referral = %referral.id, by = %actor.user.id, "referral created");
    Ok((StatusCode::CREATED, Json(referral)))
}

async fn api_get(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Referral>, ApiError> {
    Ok(Json(visible(&state.store, &actor, id).await?))
}

/// Who changed the referral after it was written, when, and which fields.
async fn api_changes(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<ReferralChange>>, ApiError> {
    let referral = visible(&state.store, &actor, id).await?;
    Ok(Json(state.store.referral_changes(referral.id).await?))
}

async fn api_update(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<ReferralInput>,
) -> Result<Json<Referral>, ApiError> {
    let referral = visible(&state.store, &actor, id).await?;
    authorize(
        &actor,
        Action::WriteReferral {
            school: referral.school_id,
        },
    )?;
    Ok(Json(
        state
            .store
            .update_referral(&referral, &actor, &input)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    to: ReferralStatus,
    #[serde(default)]
    reason: Option<String>,
}

async fn api_status(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<Referral>, ApiError> {
    let referral = visible(&state.store, &actor, id).await?;
    authorize(
        &actor,
        Action::WriteReferral {
            school: referral.school_id,
        },
    )?;
    let moved = state
        .store
        .set_referral_status(&referral, &actor, body.to, body.reason.as_deref())
        .await?;
    tracing::info!(referral = %moved.id, by = %actor.user.id, to = moved.status.as_str(), "referral status changed");
    Ok(Json(moved))
}

async fn api_partner_view(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<PartnerReferralView>>, ApiError> {
    Ok(Json(partner_referrals(&state.store, &actor, id).await?))
}
