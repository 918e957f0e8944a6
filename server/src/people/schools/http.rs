//! Adding and listing schools (platform administrators), as pages and JSON.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use serde::Deserialize;

use super::{NewSchool, School, SchoolInput};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error, PageError, Result};
use crate::extract::{ApiJson, PageForm};
use crate::people::accounts::{ParsedAccount, StaffInput};
use crate::state::{AppState, Routes};
use crate::web::{Nav, NoticeQuery, after_form, notice_text, render};

/// The school routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/schools", api_list)
        .post("/api/schools", api_create)
        .get("/admin/schools", admin_page)
        .post("/admin/schools", admin_create)
}

/// A school's first coordinator, created with it.
#[derive(Clone, Deserialize)]
struct CoordinatorInput {
    username: String,
    password: String,
    given_name: String,
    family_name: String,
}

#[derive(Deserialize)]
struct CreateSchoolBody {
    #[serde(flatten)]
    school: SchoolInput,
    coordinator: Option<CoordinatorInput>,
}

/// Parses everything first, then writes school and coordinator together.
async fn create(
    state: &AppState,
    actor: &Actor,
    school: &SchoolInput,
    coordinator: Option<CoordinatorInput>,
) -> Result<School> {
    authorize(actor, Action::CreateSchool)?;
    let new_school = NewSchool::parse(school)?;
    let coordinator = match coordinator {
        None => None,
        Some(c) => {
            let parsed = ParsedAccount::staff(&StaffInput {
                username: c.username,
                password: c.password,
                given_name: c.given_name,
                family_name: c.family_name,
                role: "coordinator".into(),
                email: None,
            })
            .map_err(|err| match err {
                Error::Invalid { field, message } => Error::Invalid {
                    field: match field {
                        "username" => "coordinator.username",
                        "password" => "coordinator.password",
                        "given_name" => "coordinator.given_name",
                        "family_name" => "coordinator.family_name",
                        other => other,
                    },
                    message,
                },
                other => other,
            })?;
            Some(parsed.hash().await?)
        }
    };
    let created = state
        .store
        .create_school(&new_school, coordinator.as_ref())
        .await?;
    tracing::info!(school = %created.id, slug = %created.slug, by = %actor.user.id, "school created");
    Ok(created)
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
    let school = create(&state, &actor, &body.school, body.coordinator).await?;
    Ok((StatusCode::CREATED, Json(school)))
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
    let result = create(&state, &actor, &input, coordinator).await;
    after_form(result, "/admin/schools?notice=created", |error| {
        show(&state, &actor, None, Some(error), form)
    })
    .await
}
