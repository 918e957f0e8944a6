//! Adding and listing schools (platform administrators) over the JSON API.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::{CoordinatorInput, School, SchoolInput, create};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/schools", api_list)
        .post("/api/schools", api_create)
}

#[derive(Deserialize)]
struct CreateSchoolBody {
    #[serde(flatten)]
    school: SchoolInput,
    coordinator: Option<CoordinatorInput>,
}

async fn api_list(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<School>>, ApiError> {
    authorize(&actor, Action::ListSchools)?;
    Ok(Json(state.store.list_schools().await?))
}

async fn api_create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateSchoolBody>,
) -> Result<(StatusCode, Json<School>), ApiError> {
    let school = create(&state.store, &actor, &body.school, body.coordinator).await?;
    Ok((StatusCode::CREATED, Json(school)))
}
