//! Importing a roster over the JSON API: a plain roster CSV as the body.
//! (The upload form is the Students page's, in `accounts::pages`.)

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use uuid::Uuid;

use super::{MAX_FILE_BYTES, RosterSummary, import_roster, parse_roster_csv};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::ApiError;
use crate::import::uploaded_text;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes.put("/api/schools/{school_id}/roster", api_put_roster)
}

#[derive(Deserialize)]
struct RosterQuery {
    /// The file's name, for errors; `roster.csv` if not given.
    file: Option<String>,
}

async fn api_put_roster(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    Query(q): Query<RosterQuery>,
    body: Bytes,
) -> Result<Json<RosterSummary>, ApiError> {
    authorize(&actor, Action::CreateStudent { school })?;
    let name = q.file.unwrap_or_else(|| "roster.csv".into());
    let text = uploaded_text(&body, &name, "file", MAX_FILE_BYTES)?;
    let students = parse_roster_csv(&name, &text)?;
    Ok(Json(import_roster(&state.store, school, &students).await?))
}
