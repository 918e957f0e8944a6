//! The calendar's JSON API: a school's calendar, uploading term dates and
//! bell schedules, the teaching days, the cycle and closures; a school's iPads and supervisors
//! (`capacity`); a partnership's slot policy and
//! its aligned slots. The same as HTML is in [`super::pages`].
//!
//! The four changes that can cancel sessions (term dates, bells, teaching
//! days, a closure) take `?dry_run=true`: nothing is written, and the answer lists
//! the sessions the change would cancel. Every answer of theirs carries
//! `dry_run`, `sessions`, `pairs` and `cancels` (each session's id, match,
//! start, local date and time, the pair's first names and the reason).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::capacity::{CapacityInput, CapacityPlan};
use super::import::uploaded_text;
use super::model::{SchoolCalendar, TeachingDays};
use super::store::{
    change_bells, change_closure, change_teaching_days, change_term_dates, declare_capacity,
    parse_policy, partnership_slots, policy_input, save_cycle,
};
use super::{ClosureInput, CycleInput, PartnershipSlots, PolicyInput};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error};
use crate::extract::ApiJson;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/schools/{school_id}/calendar", api_calendar)
        .put("/api/schools/{school_id}/calendar/terms", api_put_terms)
        .put("/api/schools/{school_id}/calendar/bells", api_put_bells)
        .put("/api/schools/{school_id}/calendar/cycle", api_put_cycle)
        .put("/api/schools/{school_id}/calendar/days", api_put_days)
        .post(
            "/api/schools/{school_id}/calendar/closures",
            api_add_closure,
        )
        .delete(
            "/api/schools/{school_id}/calendar/entries/{entry_id}",
            api_delete_entry,
        )
        .get("/api/schools/{school_id}/capacity", api_capacity)
        .put("/api/schools/{school_id}/capacity", api_put_capacity)
        .delete(
            "/api/schools/{school_id}/capacity/{from}",
            api_delete_capacity,
        )
        .get("/api/partnerships/{partnership_id}/policy", api_policy)
        .put("/api/partnerships/{partnership_id}/policy", api_put_policy)
        .get("/api/partnerships/{partnership_id}/slots", api_slots)
}

async fn api_calendar(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<SchoolCalendar>, ApiError> {
    authorize(&actor, Action::ViewCalendar { school })?;
    Ok(Json(state.store.school_calendar(school).await?))
}

#[derive(Deserialize)]
struct UploadQuery {
    /// The file's name, for error messages.
    file: Option<String>,
    /// Bells only: the first date the schedule applies to.
    effective_from: Option<NaiveDate>,
    /// Write nothing; list what the change would cancel.
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
struct DryRunQuery {
    /// Write nothing; list what the change would cancel.
    #[serde(default)]
    dry_run: bool,
}

/// A change's answer: its own fields beside what it cancels (or would).
fn with_change(
    mut fields: serde_json::Value,
    change: &super::store::CalendarChange,
) -> Result<serde_json::Value, Error> {
    let extra = serde_json::to_value(change)
        .map_err(|e| Error::internal_from("calendar change JSON", e))?;
    if let (Some(out), serde_json::Value::Object(extra)) = (fields.as_object_mut(), extra) {
        out.extend(extra);
    }
    Ok(fields)
}

async fn api_put_terms(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    let name = q.file.unwrap_or_else(|| "terms".into());
    let text = uploaded_text(&body, &name)?;
    let (n, change) = change_term_dates(&state.store, school, &name, &text, q.dry_run).await?;
    Ok(Json(with_change(
        serde_json::json!({ "imported": if q.dry_run { 0 } else { n }, "entries": n }),
        &change,
    )?))
}

async fn api_put_bells(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    let name = q.file.unwrap_or_else(|| "bells".into());
    let (schedule, change) = change_bells(
        &state.store,
        school,
        &name,
        &uploaded_text(&body, &name)?,
        q.effective_from,
        q.dry_run,
    )
    .await?;
    Ok(Json(with_change(
        serde_json::json!({
            "effective_from": schedule.effective_from,
            "cycle_weeks": schedule.cycle_weeks,
            "periods": schedule.periods.len(),
        }),
        &change,
    )?))
}

async fn api_put_cycle(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<CycleInput>,
) -> Result<Json<CycleInput>, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    save_cycle(&state.store, school, &input).await?;
    Ok(Json(input))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DaysInput {
    /// `Sun-Thu`, or `Mon,Tue,Wed,Thu,Fri`.
    days: TeachingDays,
}

/// Sets the days the school teaches; `?dry_run=true` only lists the
/// sessions on the days it would stop teaching.
async fn api_put_days(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    Query(q): Query<DryRunQuery>,
    ApiJson(input): ApiJson<DaysInput>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    let change = change_teaching_days(&state.store, school, input.days, q.dry_run).await?;
    let cancelled = if q.dry_run {
        0
    } else {
        change.cancellations.sessions
    };
    Ok(Json(with_change(
        serde_json::json!({ "days": input.days, "sessions_cancelled": cancelled }),
        &change,
    )?))
}

async fn api_add_closure(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    Query(q): Query<DryRunQuery>,
    ApiJson(input): ApiJson<ClosureInput>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    let change = change_closure(&state.store, school, &input, q.dry_run).await?;
    let cancelled = if q.dry_run {
        0
    } else {
        change.cancellations.sessions
    };
    let status = if q.dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(with_change(
            serde_json::json!({ "sessions_cancelled": cancelled }),
            &change,
        )?),
    ))
}

async fn api_delete_entry(
    State(state): State<AppState>,
    actor: Actor,
    Path((school, entry)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    state.store.delete_calendar_entry(school, entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A school's iPads and supervisors, each declaration with its date.
async fn api_capacity(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<CapacityPlan>, ApiError> {
    authorize(&actor, Action::ViewCalendar { school })?;
    Ok(Json(state.store.school_capacity(school).await?))
}

async fn api_put_capacity(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<CapacityInput>,
) -> Result<Json<CapacityPlan>, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    declare_capacity(&state.store, school, &input).await?;
    Ok(Json(state.store.school_capacity(school).await?))
}

async fn api_delete_capacity(
    State(state): State<AppState>,
    actor: Actor,
    Path((school, from)): Path<(Uuid, NaiveDate)>,
) -> Result<StatusCode, ApiError> {
    authorize(&actor, Action::ManageCalendar { school })?;
    state.store.delete_school_capacity(school, from).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn api_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<PolicyInput>, ApiError> {
    let p = state.store.partnership(id).await?;
    authorize(&actor, Action::ViewSlots { partnership: &p })?;
    let policy = state
        .store
        .slot_policy(id)
        .await?
        .ok_or(Error::NotFound("slot policy"))?;
    Ok(Json(policy_input(&state.store, &policy).await?))
}

async fn api_put_policy(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<PolicyInput>,
) -> Result<Json<PolicyInput>, ApiError> {
    let p = state.store.partnership(id).await?;
    authorize(&actor, Action::SetSlotPolicy { partnership: &p })?;
    let policy = parse_policy(&state.store, &p, &input, actor.school_id()).await?;
    state.store.put_slot_policy(id, &policy).await?;
    Ok(Json(input))
}

#[derive(Deserialize)]
struct RangeQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

async fn api_slots(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<PartnershipSlots>, ApiError> {
    let p = state.store.partnership(id).await?;
    authorize(&actor, Action::ViewSlots { partnership: &p })?;
    // Dates are the first school's local dates, so "today" is too.
    let from = match q.from {
        Some(from) => from,
        None => state.store.school(p.proposed_by_school).await?.today()?,
    };
    let to = q.to.unwrap_or(from + Days::new(27));
    Ok(Json(partnership_slots(&state.store, &p, from, to).await?))
}
