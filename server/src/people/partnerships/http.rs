//! Proposing, accepting and viewing partnerships, as pages and JSON.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Partnership, PartnershipStatus};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error, PageError, Result};
use crate::extract::{ApiJson, PageForm};
use crate::people::accounts::{PartnerStudentView, Role, StudentKind};
use crate::people::schools::School;
use crate::state::{AppState, Routes};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

/// The partnership routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/partnerships", api_list)
        .post("/api/partnerships", api_propose)
        .post("/api/partnerships/{partnership_id}/accept", api_accept)
        .get(
            "/api/partnerships/{partnership_id}/students",
            api_partner_students,
        )
        .get("/partnerships", list_page)
        .post("/partnerships", propose_submit)
        .post("/partnerships/{partnership_id}/accept", accept_submit)
        .get("/partnerships/{partnership_id}", partnership_page)
}

/// The other school, as a partnership shows it.
#[derive(Clone, Debug, Serialize)]
pub struct PartnerSchool {
    /// Its id.
    pub id: Uuid,
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Its time zone.
    pub time_zone: String,
}

/// A partnership seen from one of its schools.
#[derive(Clone, Debug, Serialize)]
pub struct PartnershipView {
    /// The partnership.
    #[serde(flatten)]
    pub partnership: Partnership,
    /// The other school.
    pub partner: PartnerSchool,
    /// Whether this school proposed it.
    pub proposed_by_us: bool,
}

impl PartnershipView {
    /// Whether it is live.
    pub fn accepted(&self) -> bool {
        self.partnership.status == PartnershipStatus::Accepted
    }
}

fn own_school(actor: &Actor) -> Result<Uuid> {
    actor.school_id().ok_or(Error::Forbidden)
}

async fn views(state: &AppState, actor: &Actor) -> Result<Vec<PartnershipView>> {
    let school = own_school(actor)?;
    authorize(actor, Action::ViewPartnerships { school })?;
    let mut out = Vec::new();
    for p in state.store.partnerships_of(school).await? {
        let partner = state.store.school(p.partner_of(school)).await?;
        out.push(PartnershipView {
            proposed_by_us: p.proposed_by_school == school,
            partnership: p,
            partner: PartnerSchool {
                id: partner.id,
                slug: partner.slug,
                name: partner.name,
                time_zone: partner.time_zone,
            },
        });
    }
    Ok(out)
}

/// Finds the school a coordinator names, by slug or id.
async fn resolve_school(state: &AppState, raw: &str) -> Result<School> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid(
            "partner_school",
            "choose the school to partner with",
        ));
    }
    let found = match Uuid::parse_str(raw) {
        Ok(id) => state.store.school(id).await,
        Err(_) => state.store.school_by_slug(raw).await,
    };
    match found {
        Err(Error::NotFound(_)) => Err(Error::invalid(
            "partner_school",
            format!("no school is called `{raw}`"),
        )),
        other => other,
    }
}

async fn propose(state: &AppState, actor: &Actor, partner: &str) -> Result<Partnership> {
    let school = own_school(actor)?;
    authorize(actor, Action::ProposePartnership { school })?;
    let partner = resolve_school(state, partner).await?;
    let p = state
        .store
        .propose_partnership(school, actor.user.id, partner.id)
        .await?;
    tracing::info!(partnership = %p.id, by = %actor.user.id, "partnership proposed");
    Ok(p)
}

async fn accept(state: &AppState, actor: &Actor, id: Uuid) -> Result<Partnership> {
    let p = state.store.partnership(id).await?;
    authorize(actor, Action::AcceptPartnership { partnership: &p })?;
    let p = state.store.accept_partnership(id, actor.user.id).await?;
    tracing::info!(partnership = %p.id, by = %actor.user.id, "partnership accepted");
    Ok(p)
}

/// The partner school's students, cut down to what pairing needs.
/// The partnership and the *other* school's id, once the actor may see
/// partner data: what every partner view (students, referrals, mentors)
/// starts from.
pub(crate) async fn partner_school(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<(Partnership, Uuid)> {
    let p = state.store.partnership(id).await?;
    authorize(actor, Action::ViewPartnerStudents { partnership: &p })?;
    let partner = p.partner_of(own_school(actor)?);
    Ok((p, partner))
}

async fn partner_students(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<(Partnership, School, Vec<PartnerStudentView>)> {
    let (p, partner) = partner_school(state, actor, id).await?;
    let partner = state.store.school(partner).await?;
    let students = state
        .store
        .users_at_school(partner.id, &[Role::Student])
        .await?
        .into_iter()
        .map(PartnerStudentView::from)
        .collect();
    Ok((p, partner, students))
}

async fn api_list(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<PartnershipView>>, ApiError> {
    Ok(Json(views(&state, &actor).await?))
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
        Json(propose(&state, &actor, &body.partner_school).await?),
    ))
}

async fn api_accept(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Partnership>, ApiError> {
    Ok(Json(accept(&state, &actor, id).await?))
}

async fn api_partner_students(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<PartnerStudentView>>, ApiError> {
    Ok(Json(partner_students(&state, &actor, id).await?.2))
}

#[derive(askama::Template)]
#[template(path = "partnerships.html")]
struct ListPage {
    nav: Nav,
    partnerships: Vec<PartnershipView>,
    can_propose: bool,
    can_accept: bool,
    candidates: Vec<School>,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn show_list(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<ListPage> {
    let school = own_school(actor)?;
    let partnerships = views(state, actor).await?;
    let can_propose = authorize(actor, Action::ProposePartnership { school }).is_ok();
    let candidates = if can_propose {
        state
            .store
            .list_schools()
            .await?
            .into_iter()
            .filter(|s| s.id != school && !partnerships.iter().any(|p| p.partner.id == s.id))
            .collect()
    } else {
        Vec::new()
    };
    Ok(ListPage {
        nav: Nav::for_actor(actor),
        can_accept: actor.role() == Role::Coordinator,
        partnerships,
        can_propose,
        candidates,
        notice,
        error,
    })
}

async fn list_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    Ok(Html(render(
        &show_list(&state, &actor, notice_text(q.notice.as_deref()), None).await?,
    )))
}

#[derive(Deserialize)]
struct ProposeForm {
    #[serde(default)]
    partner_school: String,
}

async fn propose_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<ProposeForm>,
) -> Result<Response, PageError> {
    let result = propose(&state, &actor, &form.partner_school).await;
    after_form(result, "/partnerships?notice=proposed", |error| {
        show_list(&state, &actor, None, Some(error))
    })
    .await
}

async fn accept_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let result = accept(&state, &actor, id).await;
    after_form(result, "/partnerships?notice=accepted", |error| {
        show_list(&state, &actor, None, Some(error))
    })
    .await
}

#[derive(askama::Template)]
#[template(path = "partnership.html")]
struct PartnerPage {
    nav: Nav,
    partner: School,
    mentors: Vec<PartnerStudentView>,
    mentees: Vec<PartnerStudentView>,
}

async fn partnership_page(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Html<String>, PageError> {
    let (_, partner, students) = partner_students(&state, &actor, id).await?;
    let (mentors, mentees) = students
        .into_iter()
        .partition(|s| s.kind == Some(StudentKind::Mentor));
    Ok(Html(render(&PartnerPage {
        nav: Nav::for_actor(&actor),
        partner,
        mentors,
        mentees,
    })))
}
