//! A school's staff and students, and a member of staff's own invite
//! address, over the JSON API.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Role, STAFF_ROLES, StaffInput, StudentInput, User, change_own_password, create_staff,
    create_student, parse_email, reset_password, set_disabled,
};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::extract::ClientAddr;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/schools/{school_id}/staff", api_staff)
        .post("/api/schools/{school_id}/staff", api_create_staff)
        .get("/api/schools/{school_id}/students", api_students)
        .post("/api/schools/{school_id}/students", api_create_student)
        .post("/api/students/{user_id}/password", api_reset_password)
        .put("/api/me/email", api_set_my_email)
        .post("/api/me/password", api_change_my_password)
        .post("/api/users/{user_id}/disable", api_disable)
        .post("/api/users/{user_id}/enable", api_enable)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// Changes the signed-in person's password; they sign in again with it.
async fn api_change_my_password(
    State(state): State<AppState>,
    actor: Actor,
    addr: ClientAddr,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    change_own_password(
        &state,
        &actor,
        addr.0,
        body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns an account off: sign-in is refused and its sessions end; its
/// records stay.
async fn api_disable(
    State(state): State<AppState>,
    actor: Actor,
    Path(user): Path<Uuid>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(set_disabled(&state.store, &actor, user, true).await?))
}

/// Turns an account on again.
async fn api_enable(
    State(state): State<AppState>,
    actor: Actor,
    Path(user): Path<Uuid>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(set_disabled(&state.store, &actor, user, false).await?))
}

/// A new invite address; blank or null removes it.
#[derive(Deserialize)]
struct EmailInput {
    #[serde(default)]
    email: Option<String>,
}

/// Sets where the signed-in member of staff's invites go.
async fn api_set_my_email(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<EmailInput>,
) -> Result<Json<User>, ApiError> {
    authorize(&actor, Action::OwnInviteAddress)?;
    let email = parse_email(input.email.as_deref().unwrap_or(""))?;
    state
        .store
        .set_email(actor.user.id, email.as_deref())
        .await?;
    Ok(Json(state.store.user(actor.user.id).await?))
}

async fn api_staff(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<Vec<User>>, ApiError> {
    authorize(&actor, Action::ViewStaff { school })?;
    Ok(Json(
        state.store.users_at_school(school, &STAFF_ROLES).await?,
    ))
}

async fn api_create_staff(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<StaffInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_staff(&state.store, &actor, school, &input).await?),
    ))
}

async fn api_students(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<Vec<User>>, ApiError> {
    authorize(&actor, Action::ViewStudents { school })?;
    Ok(Json(
        state
            .store
            .users_at_school(school, &[Role::Student])
            .await?,
    ))
}

async fn api_create_student(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<StudentInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_student(&state.store, &actor, school, &input).await?),
    ))
}

#[derive(Deserialize)]
struct PasswordBody {
    password: String,
}

async fn api_reset_password(
    State(state): State<AppState>,
    actor: Actor,
    Path(student): Path<Uuid>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    reset_password(&state.store, &actor, student, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
