//! Managing a school's staff and students, as pages and JSON.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::{NewPassword, ParsedAccount, Role, StaffInput, StudentInput, User, Username};
use crate::auth::Actor;
use crate::auth::password::PasswordHash;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error, PageError, Result};
use crate::extract::{ApiJson, PageForm};
use crate::people::schools::School;
use crate::state::{AppState, Routes};
use crate::web::{Nav, after_form, notice_text, render};

/// The account routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/schools/{school_id}/staff", api_staff)
        .post("/api/schools/{school_id}/staff", api_create_staff)
        .get("/api/schools/{school_id}/students", api_students)
        .post("/api/schools/{school_id}/students", api_create_student)
        .post("/api/students/{user_id}/password", api_reset_password)
        .put("/api/me/email", api_set_my_email)
        .get("/school/staff", staff_page)
        .post("/school/staff", staff_create)
        .get("/school/students", students_page)
        .post("/school/students", student_create)
        .post(
            "/school/students/{user_id}/password",
            student_reset_password,
        )
}

/// A new invite address; blank or null removes it.
#[derive(Deserialize)]
struct EmailInput {
    #[serde(default)]
    email: Option<String>,
}

/// Sets where the signed-in member of staff's invites go.
async fn api_set_my_email(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<EmailInput>,
) -> Result<Json<User>, ApiError> {
    authorize(&actor, Action::OwnInviteAddress)?;
    let email = super::parse_email(input.email.as_deref().unwrap_or(""))?;
    state
        .store
        .set_email(actor.user.id, email.as_deref())
        .await?;
    Ok(Json(state.store.user(actor.user.id).await?))
}

const STAFF_ROLES: [Role; 3] = [Role::Coordinator, Role::Teacher, Role::SafeguardingLead];

async fn create_staff(
    state: &AppState,
    actor: &Actor,
    school: Uuid,
    input: &StaffInput,
) -> Result<User> {
    authorize(actor, Action::CreateStaff { school })?;
    state.store.school(school).await?;
    if actor.role() == Role::Admin {
        // The platform administrator only bootstraps a school: its first
        // coordinator. After that the school's own coordinators add staff,
        // so nobody outside the school can give themselves a way in.
        let has_coordinator = !state
            .store
            .users_at_school(school, &[Role::Coordinator])
            .await?
            .is_empty();
        if has_coordinator || input.role.trim() != Role::Coordinator.as_str() {
            return Err(Error::Forbidden);
        }
    }
    let user = ParsedAccount::staff(input)?.hash().await?;
    let created = state.store.create_user(&user, Some(school)).await?;
    tracing::info!(user = %created.id, by = %actor.user.id, role = %created.role, "staff account created");
    Ok(created)
}

async fn create_student(
    state: &AppState,
    actor: &Actor,
    school: Uuid,
    input: &StudentInput,
) -> Result<User> {
    authorize(actor, Action::CreateStudent { school })?;
    let user = ParsedAccount::student(input)?.hash().await?;
    let created = state.store.create_user(&user, Some(school)).await?;
    tracing::info!(user = %created.id, by = %actor.user.id, "student account created");
    Ok(created)
}

/// Sets a student's password. Only students can be reset this way, so a
/// teacher cannot take over a colleague's account.
async fn reset_password(
    state: &AppState,
    actor: &Actor,
    student_id: Uuid,
    password: &str,
) -> Result<()> {
    let student = match state.store.user(student_id).await {
        Ok(u) if u.role == Role::Student => u,
        Ok(_) | Err(Error::NotFound(_)) => return Err(Error::NotFound("student")),
        Err(e) => return Err(e),
    };
    let school = student.school_id.ok_or(Error::NotFound("student"))?;
    authorize(actor, Action::ResetStudentPassword { school })?;
    let username = Username::parse(&student.username)?;
    let hash = PasswordHash::new(NewPassword::parse(password, &username)?).await?;
    state.store.set_password(student.id, &hash).await?;
    tracing::info!(student = %student.id, by = %actor.user.id, "student password reset");
    Ok(())
}

async fn api_staff(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<Vec<User>>, ApiError> {
    authorize(&actor, Action::ViewStaff { school })?;
    Ok(Json(
        state.store.users_at_school(school, &STAFF_ROLES).await?,
    ))
}

async fn api_create_staff(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<StaffInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_staff(&state, &actor, school, &input).await?),
    ))
}

async fn api_students(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<Vec<User>>, ApiError> {
    authorize(&actor, Action::ViewStudents { school })?;
    Ok(Json(
        state
            .store
            .users_at_school(school, &[Role::Student])
            .await?,
    ))
}

async fn api_create_student(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    ApiJson(input): ApiJson<StudentInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_student(&state, &actor, school, &input).await?),
    ))
}

#[derive(Deserialize)]
struct PasswordBody {
    password: String,
}

async fn api_reset_password(
    State(state): State<AppState>,
    actor: Actor,
    Path(student): Path<Uuid>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    reset_password(&state, &actor, student, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in person's own school: the pages act on nothing else.
async fn own_school(state: &AppState, actor: &Actor) -> Result<School> {
    let id = actor.school_id().ok_or(Error::Forbidden)?;
    state.store.school(id).await
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
    /// After a roster import: how many accounts were new, and updated.
    created: Option<usize>,
    updated: Option<usize>,
}

#[derive(askama::Template)]
#[template(path = "staff.html")]
struct StaffPage {
    nav: Nav,
    school: School,
    staff: Vec<User>,
    can_create: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    form: StaffForm,
}

#[derive(Clone, Default, Deserialize)]
struct StaffForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    email: String,
}

async fn show_staff(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
    form: StaffForm,
) -> Result<StaffPage> {
    let school = own_school(state, actor).await?;
    authorize(actor, Action::ViewStaff { school: school.id })?;
    Ok(StaffPage {
        nav: Nav::for_actor(actor),
        staff: state.store.users_at_school(school.id, &STAFF_ROLES).await?,
        can_create: authorize(actor, Action::CreateStaff { school: school.id }).is_ok(),
        school,
        notice,
        error,
        form: StaffForm {
            password: String::new(),
            ..form
        },
    })
}

async fn staff_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    let page = show_staff(
        &state,
        &actor,
        notice_text(q.notice.as_deref()),
        None,
        StaffForm::default(),
    )
    .await?;
    Ok(Html(render(&page)))
}

async fn staff_create(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<StaffForm>,
) -> Result<Response, PageError> {
    let school = own_school(&state, &actor).await?;
    let input = StaffInput {
        username: form.username.clone(),
        password: form.password.clone(),
        given_name: form.given_name.clone(),
        family_name: form.family_name.clone(),
        role: form.role.clone(),
        email: Some(form.email.clone()),
    };
    let result = create_staff(&state, &actor, school.id, &input).await;
    after_form(result, "/school/staff?notice=created", |error| {
        show_staff(&state, &actor, None, Some(error), form)
    })
    .await
}

#[derive(askama::Template)]
#[template(path = "students.html")]
struct StudentsPage {
    nav: Nav,
    school: School,
    students: Vec<User>,
    can_create: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    form: StudentForm,
    roster: Option<String>,
}

#[derive(Clone, Default, Deserialize)]
struct StudentForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    year_group: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    subjects: String,
}

async fn show_students(
    state: &AppState,
    actor: &Actor,
    notice: Option<&'static str>,
    error: Option<String>,
    form: StudentForm,
) -> Result<StudentsPage> {
    let school = own_school(state, actor).await?;
    authorize(actor, Action::ViewStudents { school: school.id })?;
    Ok(StudentsPage {
        nav: Nav::for_actor(actor),
        students: state
            .store
            .users_at_school(school.id, &[Role::Student])
            .await?,
        can_create: authorize(actor, Action::CreateStudent { school: school.id }).is_ok(),
        school,
        notice,
        error,
        form: StudentForm {
            password: String::new(),
            ..form
        },
        roster: None,
    })
}

/// The students page showing an error (for the roster upload's handler).
pub(crate) async fn students_page_with_error(
    state: &AppState,
    actor: &Actor,
    error: String,
) -> Result<impl askama::Template + use<>> {
    show_students(state, actor, None, Some(error), StudentForm::default()).await
}

async fn students_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    let mut page = show_students(
        &state,
        &actor,
        notice_text(q.notice.as_deref()),
        None,
        StudentForm::default(),
    )
    .await?;
    if let (Some(created), Some(updated)) = (q.created, q.updated) {
        page.roster = Some(format!(
            "Roster imported: {created} new, {updated} updated. New students have no password yet: set one for each before they sign in."
        ));
    }
    Ok(Html(render(&page)))
}

async fn student_create(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<StudentForm>,
) -> Result<Response, PageError> {
    let school = own_school(&state, &actor).await?;
    let result = match form.year_group.trim().parse::<i64>() {
        Err(_) => Err(Error::invalid("year_group", "choose a year group")),
        Ok(year_group) => {
            let input = StudentInput {
                username: form.username.clone(),
                password: form.password.clone(),
                given_name: form.given_name.clone(),
                family_name: form.family_name.clone(),
                year_group,
                kind: form.kind.clone(),
                subjects: form.subjects.split(',').map(str::to_owned).collect(),
            };
            create_student(&state, &actor, school.id, &input).await
        }
    };
    after_form(result, "/school/students?notice=created", |error| {
        show_students(&state, &actor, None, Some(error), form)
    })
    .await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn student_reset_password(
    State(state): State<AppState>,
    actor: Actor,
    Path(student): Path<Uuid>,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let result = reset_password(&state, &actor, student, &form.password).await;
    after_form(result, "/school/students?notice=password", |error| {
        show_students(&state, &actor, None, Some(error), StudentForm::default())
    })
    .await
}
