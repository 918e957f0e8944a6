//! Mentor readiness over the JSON API: a school's mentors, setting a
//! mentor's profile, recording training and clearance, and the partner
//! school's ready mentors.

use axum::Json;
use axum::extract::{Path, State};
use uuid::Uuid;

use super::{MentorProfile, PartnerMentorView, ProfileInput, TrainingInput, partner_mentors};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/schools/{school_id}/mentors", api_list)
        .put("/api/mentors/{user_id}/profile", api_profile)
        .post("/api/mentors/{user_id}/training", api_training)
        .post("/api/mentors/{user_id}/clearance", api_clearance)
        .get(
            "/api/partnerships/{partnership_id}/mentors",
            api_partner_view,
        )
}

async fn api_list(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<Vec<MentorProfile>>, ApiError> {
    authorize(&actor, Action::ViewStudents { school })?;
    Ok(Json(state.store.mentor_profiles(school).await?))
}

async fn api_profile(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<ProfileInput>,
) -> Result<Json<MentorProfile>, ApiError> {
    let school = state.store.mentor_school(id).await?;
    authorize(&actor, Action::ManageMentor { school })?;
    Ok(Json(state.store.set_mentor_profile(id, &input).await?))
}

async fn api_training(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<TrainingInput>,
) -> Result<Json<MentorProfile>, ApiError> {
    let school = state.store.mentor_school(id).await?;
    authorize(&actor, Action::ManageMentor { school })?;
    Ok(Json(state.store.record_training(id, &input).await?))
}

async fn api_clearance(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<MentorProfile>, ApiError> {
    let school = state.store.mentor_school(id).await?;
    authorize(&actor, Action::ClearMentor { school })?;
    let profile = state.store.clear_mentor(id, &actor).await?;
    tracing::info!(mentor = %id, by = %actor.user.id, "mentor cleared");
    Ok(Json(profile))
}

async fn api_partner_view(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<PartnerMentorView>>, ApiError> {
    Ok(Json(partner_mentors(&state.store, &actor, id).await?))
}
