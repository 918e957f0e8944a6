//! The platform administrators' Schools page: the list, and the form that
//! adds a school with its first coordinator.

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use serde::Deserialize;

use super::{CoordinatorInput, School, SchoolInput, create};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{PageError, Result};
use crate::extract::PageForm;
use crate::state::{AppState, Routes};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/admin/schools", admin_page)
        .post("/admin/schools", admin_create)
}

#[derive(askama::Template)]
#[template(path = "admin_schools.html")]
struct AdminSchoolsPage {
    nav: Nav,
    schools: Vec<School>,
    notice: Option<&'static str>,
    error: Option<String>,
    form: SchoolForm,
}

#[derive(Clone, Default, Deserialize)]
struct SchoolForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    coordinator_username: String,
    #[serde(default)]
    coordinator_password: String,
    #[serde(default)]
    coordinator_given_name: String,
    #[serde(default)]
    coordinator_family_name: String,
}

async fn show(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
    form: SchoolForm,
) -> Result<AdminSchoolsPage> {
    authorize(actor, Action::ListSchools)?;
    authorize(actor, Action::CreateSchool)?;
    Ok(AdminSchoolsPage {
        nav: Nav::for_actor(actor),
        schools: state.store.list_schools().await?,
        notice,
        error,
        // A password is never sent back into the page.
        form: SchoolForm {
            coordinator_password: String::new(),
            ..form
        },
    })
}

async fn admin_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    let page = show(
        &state,
        &actor,
        notice_text(q.notice.as_deref()),
        None,
        SchoolForm::default(),
    )
    .await?;
    Ok(Html(render(&page)))
}

async fn admin_create(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<SchoolForm>,
) -> Result<Response, PageError> {
    let input = SchoolInput {
        slug: form.slug.clone(),
        name: form.name.clone(),
        time_zone: form.time_zone.clone(),
        country: Some(form.country.clone()).filter(|c| !c.trim().is_empty()),
        region: Some(form.region.clone()),
    };
    let coordinator = (!form.coordinator_username.trim().is_empty()).then(|| CoordinatorInput {
        username: form.coordinator_username.clone(),
        password: form.coordinator_password.clone(),
        given_name: form.coordinator_given_name.clone(),
        family_name: form.coordinator_family_name.clone(),
    });
    let result = create(&state.store, &actor, &input, coordinator).await;
    after_form(result, "/admin/schools?notice=created", |error| {
        show(&state, &actor, None, Some(error), form)
    })
    .await
}
