//! The Groups page: a coordinator sees the groups their school is invited
//! to or in, and agrees or leaves; a scheme lead sees their group's
//! schools (and the way to its report); the administrator sees every group.

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use uuid::Uuid;

use super::GroupView;
use crate::auth::Actor;
use crate::error::{PageError, Result};
use crate::people::accounts::Role;
use crate::state::{AppState, Routes};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/groups", groups_page)
        .post("/groups/{group_id}/agree", agree_submit)
        .post("/groups/{group_id}/leave", leave_submit)
}

#[derive(askama::Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    nav: Nav,
    groups: Vec<GroupView>,
    /// A coordinator answers for their school: the forms are theirs.
    answers_for_school: bool,
    /// A scheme lead's group, for the link to its report.
    is_lead: bool,
    /// The school the coordinator answers for.
    school: Option<Uuid>,
    notice: Option<&'static str>,
    error: Option<String>,
}

impl GroupsPage {
    /// Whether the coordinator's school has agreed to `g`.
    fn agreed(&self, g: &GroupView) -> bool {
        g.schools
            .iter()
            .any(|m| Some(m.school.id) == self.school && m.agreed_at.is_some())
    }
}

async fn show(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<GroupsPage> {
    Ok(GroupsPage {
        nav: Nav::for_actor(actor),
        groups: super::visible(&state.store, actor).await?,
        answers_for_school: actor.role() == Role::Coordinator,
        is_lead: actor.role() == Role::SchemeLead,
        school: actor.school_id(),
        notice,
        error,
    })
}

async fn groups_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    Ok(Html(render(
        &show(&state, &actor, notice_text(q.notice.as_deref()), None).await?,
    )))
}

async fn agree_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let result = super::agree(&state.store, &actor, id).await;
    after_form(result, "/groups?notice=group_joined", |error| {
        show(&state, &actor, None, Some(error))
    })
    .await
}

async fn leave_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let result = super::leave(&state.store, &actor, id).await;
    after_form(result, "/groups?notice=group_left", |error| {
        show(&state, &actor, None, Some(error))
    })
    .await
}
