//! Reports over the JSON API, and every table of a report as CSV:
//! `GET /api/reports/{schools|partnerships|groups}/{id}?from=&to=` gives
//! the report as JSON; `&format=csv&table=NAME` one table of it
//! ([`super::TABLE_NAMES`]) as a CSV file.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{DateRange, Report, Scope, build};
use crate::auth::Actor;
use crate::error::{ApiError, Error, Result};
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/reports/schools/{school_id}", api_school)
        .get(
            "/api/reports/partnerships/{partnership_id}",
            api_partnership,
        )
        .get("/api/reports/groups/{group_id}", api_group)
}

/// What a report is asked for with: its range, and how it is wanted.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    /// `YYYY-MM-DD`, included; the school year's start when absent.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, included; the school year's end when absent.
    pub to: Option<String>,
    /// `json` (the default) or `csv`.
    pub format: Option<String>,
    /// For CSV: which table (`summary` when absent).
    pub table: Option<String>,
}

impl ReportQuery {
    pub fn range(&self) -> Result<DateRange> {
        DateRange::parse(
            self.from.as_deref(),
            self.to.as_deref(),
            chrono::Utc::now().date_naive(),
        )
    }
}

async fn respond(state: &AppState, scope: Scope, q: &ReportQuery) -> Result<Response> {
    let range = q.range()?;
    let report = build(&state.store, &scope, range).await?;
    match q.format.as_deref().map(str::trim).unwrap_or("json") {
        "json" | "" => Ok(Json(report).into_response()),
        "csv" => csv_file(&report, q.table.as_deref().unwrap_or("summary"), &scope),
        other => Err(Error::invalid(
            "format",
            format!("`{other}` is not a format; use json or csv"),
        )),
    }
}

/// One table as a CSV download, named for the scope, table and range.
pub fn csv_file(report: &Report, table: &str, scope: &Scope) -> Result<Response> {
    let table = report.table(table)?;
    let slug = match scope.kind {
        super::ScopeKind::School => scope
            .schools
            .first()
            .map(|s| s.slug.clone())
            .unwrap_or_default(),
        super::ScopeKind::Partnership => "partnership".to_owned(),
        super::ScopeKind::Group => "group".to_owned(),
    };
    let filename = format!(
        "{slug}-{}-{}-{}.csv",
        table.name, report.range.from, report.range.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        table.to_csv()?,
    )
        .into_response())
}

async fn api_school(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let school = state.store.school(id).await?;
    let scope = Scope::school(&state.store, &actor, school).await?;
    Ok(respond(&state, scope, &q).await?)
}

async fn api_partnership(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let scope = Scope::partnership(&state.store, &actor, id).await?;
    Ok(respond(&state, scope, &q).await?)
}

async fn api_group(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let scope = Scope::group(&state.store, &actor, id).await?;
    Ok(respond(&state, scope, &q).await?)
}
