//! Referrals over the JSON API. (Pages for referrals come with the rest of
//! the matching work.)

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::{PartnerReferralView, Referral, ReferralInput, ReferralStatus};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Result};
use crate::extract::ApiJson;
use crate::state::{AppState, Routes};

/// The referral routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/schools/{school_id}/referrals", api_list)
        .post("/api/schools/{school_id}/referrals", api_create)
        .get("/api/referrals/{referral_id}", api_get)
        .put("/api/referrals/{referral_id}", api_update)
        .post("/api/referrals/{referral_id}/status", api_status)
        .get(
            "/api/partnerships/{partnership_id}/referrals",
            api_partner_view,
        )
}

/// A referral the actor may see: only its own school's staff may.
async fn visible(state: &AppState, actor: &Actor, id: uuid::Uuid) -> Result<Referral> {
    let referral = state.store.referral(id).await?;
    authorize(
        actor,
        Action::ViewReferrals {
            school: referral.school_id,
        },
    )?;
    Ok(referral)
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
    Ok(Json(visible(&state, &actor, id).await?))
}

async fn api_update(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<ReferralInput>,
) -> Result<Json<Referral>, ApiError> {
    let referral = visible(&state, &actor, id).await?;
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
    let referral = visible(&state, &actor, id).await?;
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

/// The partner school's approved referrals, cut down to what matching needs.
async fn api_partner_view(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<PartnerReferralView>>, ApiError> {
    let (_, partner) =
        crate::people::partnerships::http::partner_school(&state, &actor, id).await?;
    let views = state
        .store
        .referrals_at(partner)
        .await?
        .into_iter()
        .filter(|r| {
            matches!(
                r.status,
                ReferralStatus::Approved | ReferralStatus::Matched | ReferralStatus::Active
            )
        })
        .map(|r| PartnerReferralView {
            id: r.id,
            given_name: r.given_name,
            year_group: r.year_group,
            focus: r.focus,
        })
        .collect();
    Ok(Json(views))
}

// ---- Pages ----

use axum::extract::Query;
use axum::response::{Html, Response};

use super::CONCERNS;
use crate::error::{Error, PageError};
use crate::extract::PageForm;
use crate::people::accounts::{Role, StudentKind, User};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

/// The referral page routes.
pub fn page_routes(routes: Routes) -> Routes {
    routes
        .get("/school/referrals", referrals_page)
        .post("/school/referrals", referral_submit)
        .post("/school/referrals/{referral_id}/status", status_submit)
}

/// A referral as a row on the page, with the moves the viewer may make.
pub struct ReferralRow {
    /// The referral.
    pub referral: Referral,
    /// Buttons: (target status, label).
    pub moves: Vec<(&'static str, &'static str)>,
}

#[derive(askama::Template)]
#[template(path = "referrals.html")]
struct ReferralsPage {
    nav: Nav,
    rows: Vec<ReferralRow>,
    mentees: Vec<User>,
    concerns: &'static [&'static str],
    notice: Option<&'static str>,
    error: Option<String>,
}

fn moves(referral: &Referral, actor: &Actor) -> Vec<(&'static str, &'static str)> {
    let candidates = [
        (
            ReferralStatus::Submitted,
            "submitted",
            "Submit for countersignature",
        ),
        (
            ReferralStatus::Approved,
            "approved",
            "Countersign and approve",
        ),
        (ReferralStatus::Draft, "draft", "Return to draft"),
        (ReferralStatus::Active, "active", "Mark active"),
        (ReferralStatus::Review, "review", "Start review"),
    ];
    candidates
        .into_iter()
        .filter(|(to, _, _)| super::next_status(referral, actor, *to, Some("-")).is_ok())
        .map(|(_, value, label)| (value, label))
        .collect()
}

async fn show(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<ReferralsPage> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ViewReferrals { school })?;
    let referrals = state.store.referrals_at(school).await?;
    let open: Vec<Uuid> = referrals
        .iter()
        .filter(|r| r.status != ReferralStatus::Closed)
        .map(|r| r.mentee_id)
        .collect();
    let mentees = state
        .store
        .users_at_school(school, &[Role::Student])
        .await?
        .into_iter()
        .filter(|u| u.kind == Some(StudentKind::Mentee) && !open.contains(&u.id))
        .collect();
    Ok(ReferralsPage {
        nav: Nav::for_actor(actor),
        rows: referrals
            .into_iter()
            .map(|r| ReferralRow {
                moves: moves(&r, actor),
                referral: r,
            })
            .collect(),
        mentees,
        concerns: CONCERNS,
        notice,
        error,
    })
}

async fn referrals_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    Ok(Html(render(
        &show(&state, &actor, notice_text(q.notice.as_deref()), None).await?,
    )))
}

/// The referral form: repeated `concerns` checkboxes arrive as one string per tick.
async fn referral_submit(
    State(state): State<AppState>,
    actor: Actor,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::WriteReferral { school })?;
    let result = async {
        let mut fields: Vec<(String, String)> =
            form_urlencoded::parse(&body).into_owned().collect();
        let take = |fields: &mut Vec<(String, String)>, key: &str| -> Vec<String> {
            let (taken, rest): (Vec<_>, Vec<_>) = std::mem::take(fields)
                .into_iter()
                .partition(|(k, _)| k == key);
            *fields = rest;
            taken.into_iter().map(|(_, v)| v).collect()
        };
        let one = |fields: &mut Vec<(String, String)>, key: &str| {
            take(fields, key).into_iter().next().unwrap_or_default()
        };
        let mentee_id = one(&mut fields, "mentee_id")
            .parse::<Uuid>()
            .map_err(|_| Error::invalid("mentee_id", "choose the mentee"))?;
        let consent_by = one(&mut fields, "consent_given_by");
        let consent_date = one(&mut fields, "consent_date");
        let consent = match (consent_by.trim(), consent_date.trim()) {
            ("", "") => None,
            (by, date) => Some(super::ConsentInput {
                given_by: by.to_owned(),
                date: date.parse().map_err(|_| {
                    Error::invalid("consent.date", "give the date consent was given")
                })?,
            }),
        };
        let input = ReferralInput {
            mentee_id,
            priority: one(&mut fields, "priority").parse().unwrap_or(2),
            strengths: one(&mut fields, "strengths"),
            concerns: take(&mut fields, "concerns"),
            reasons: one(&mut fields, "reasons"),
            focus: one(&mut fields, "focus")
                .split(',')
                .map(str::to_owned)
                .collect(),
            support_received: one(&mut fields, "support_received"),
            strategies_tried: one(&mut fields, "strategies_tried"),
            agencies: one(&mut fields, "agencies"),
            consent,
            entry_criteria_met: !take(&mut fields, "entry_criteria_met").is_empty(),
            planned_weeks: one(&mut fields, "planned_weeks").parse().unwrap_or(0),
            review_date: match one(&mut fields, "review_date").trim() {
                "" => None,
                raw => Some(raw.parse().map_err(|_| {
                    Error::invalid("review_date", format!("`{raw}` is not a date"))
                })?),
            },
        };
        state.store.create_referral(school, &actor, &input).await
    }
    .await;
    after_form(result, "/school/referrals?notice=referred", |error| {
        show(&state, &actor, None, Some(error))
    })
    .await
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

async fn status_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<StatusForm>,
) -> Result<Response, PageError> {
    let referral = visible(&state, &actor, id).await?;
    authorize(
        &actor,
        Action::WriteReferral {
            school: referral.school_id,
        },
    )?;
    let result = async {
        let to: ReferralStatus = serde_json::from_value(serde_json::Value::String(form.to.clone()))
            .map_err(|_| Error::invalid("to", format!("`{}` is not a referral status", form.to)))?;
        let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
        state
            .store
            .set_referral_status(&referral, &actor, to, reason)
            .await
    }
    .await;
    after_form(result, "/school/referrals?notice=referral", |error| {
        show(&state, &actor, None, Some(error))
    })
    .await
}
