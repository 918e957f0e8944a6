//! The Partnerships page (a school's partnerships, and the forms that
//! propose and accept one) and a partner school's page (its mentors and
//! mentees, as pairing needs them).

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{PartnershipView, accept, own_school, partner_students, propose, views};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{PageError, Result};
use crate::extract::PageForm;
use crate::people::accounts::{PartnerStudentView, StudentKind};
use crate::people::schools::School;
use crate::state::{AppState, Routes};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/partnerships", list_page)
        .post("/partnerships", propose_submit)
        .post("/partnerships/{partnership_id}/accept", accept_submit)
        .get("/partnerships/{partnership_id}", partnership_page)
}

#[derive(askama::Template)]
#[template(path = "partnerships.html")]
struct ListPage {
    nav: Nav,
    partnerships: Vec<PartnershipView>,
    can_propose: bool,
    /// The partnerships the policy lets this person accept.
    acceptable: Vec<Uuid>,
    candidates: Vec<School>,
    notice: Option<&'static str>,
    error: Option<String>,
}

impl ListPage {
    fn may_accept(&self, p: &PartnershipView) -> bool {
        self.acceptable.contains(&p.partnership.id)
    }
}

async fn show_list(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<ListPage> {
    let school = own_school(actor)?;
    let partnerships = views(&state.store, actor).await?;
    let can_propose = authorize(actor, Action::ProposePartnership { school }).is_ok();
    // The schools a coordinator could still propose to: not their own, and
    // none they already have a partnership with.
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
        acceptable: partnerships
            .iter()
            .filter(|p| {
                authorize(
                    actor,
                    Action::AcceptPartnership {
                        partnership: &p.partnership,
                    },
                )
                .is_ok()
            })
            .map(|p| p.partnership.id)
            .collect(),
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
    let result = propose(&state.store, &actor, &form.partner_school).await;
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
    let result = accept(&state.store, &actor, id).await;
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
    let (_, partner, students) = partner_students(&state.store, &actor, id).await?;
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
