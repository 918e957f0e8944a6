//! Importing a roster: through the students page (one CSV, or the files of
//! a OneRoster export) and the JSON API (a CSV body).

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::{RosterSummary, import_roster, is_oneroster, parse_oneroster, parse_roster_csv};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error, PageError, Result};
use crate::import::uploaded_text;
use crate::people::accounts::StudentKind;
use crate::state::{AppState, Routes};
use crate::web::after_form;

/// The roster routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .put("/api/schools/{school_id}/roster", api_put_roster)
        .post("/school/students/roster", upload_roster)
}

const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Deserialize)]
struct RosterQuery {
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

async fn read_files(mut form: Multipart) -> Result<(BTreeMap<String, String>, StudentKind)> {
    let mut files = BTreeMap::new();
    let mut kind = StudentKind::Mentee;
    let bad = |e: axum::extract::multipart::MultipartError| {
        Error::Malformed(format!("the upload could not be read: {e}"))
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or("") {
            "kind" => kind = StudentKind::parse(&field.text().await.map_err(bad)?)?,
            "files" => {
                let name = field
                    .file_name()
                    .unwrap_or("roster.csv")
                    .to_ascii_lowercase();
                let bytes = field.bytes().await.map_err(bad)?;
                if bytes.is_empty() {
                    continue;
                }
                let text = uploaded_text(&bytes, &name, "files", MAX_FILE_BYTES)?;
                files.insert(name, text);
            }
            _ => {}
        }
    }
    if files.is_empty() {
        return Err(Error::invalid(
            "files",
            "choose the roster file (or a OneRoster export's files)",
        ));
    }
    Ok((files, kind))
}

async fn upload_roster(
    State(state): State<AppState>,
    actor: Actor,
    form: Multipart,
) -> Result<Response, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::CreateStudent { school })?;
    let result = async {
        let (files, kind) = read_files(form).await?;
        let students = if is_oneroster(&files) {
            parse_oneroster(&files, kind)?
        } else if let [(name, text)] = files.iter().collect::<Vec<_>>()[..] {
            parse_roster_csv(name, text)?
        } else {
            return Err(Error::invalid(
                "files",
                "choose one roster CSV, or all five files of a OneRoster export (manifest, users, orgs, classes, enrollments)",
            ));
        };
        import_roster(&state.store, school, &students).await
    }
    .await;
    let done = match &result {
        Ok(s) => format!(
            "/school/students?notice=roster&created={}&updated={}",
            s.created, s.updated
        ),
        Err(_) => String::new(),
    };
    after_form(result, &done, |error| {
        crate::people::accounts::http::students_page_with_error(&state, &actor, error)
    })
    .await
}
