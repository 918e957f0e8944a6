//! The Staff and Students pages of a school, and their forms: adding staff,
//! adding a student, setting a student's password, and uploading a roster
//! (the upload is the Students page's own form, so its errors are shown on
//! that page; reading and importing the files is [`crate::people::rosters`]'s).

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::cards::{CardsFor, make_cards};
use super::{
    Role, STAFF_ROLES, StaffInput, StudentInput, StudentKind, User, change_own_password,
    create_staff, create_student, reset_password, set_disabled,
};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::import::uploaded_text;
use crate::people::rosters;
use crate::people::schools::School;
use crate::state::{AppState, Routes};
use crate::web::{Nav, after_form, notice_text, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/school/staff", staff_page)
        .post("/school/staff", staff_create)
        .get("/school/students", students_page)
        .post("/school/students", student_create)
        .post(
            "/school/students/{user_id}/password",
            student_reset_password,
        )
        .post("/school/students/roster", upload_roster)
        .post("/school/students/cards", make_sign_in_cards)
        .post("/school/accounts/{user_id}/disable", account_disable)
        .post("/school/accounts/{user_id}/enable", account_enable)
        .get("/account", account_page)
        .post("/account/password", account_password)
}

/// Turns an account off or on from the Staff or Students page, and goes
/// back to the page it was on.
async fn set_account(
    state: &AppState,
    actor: &Actor,
    user: Uuid,
    off: bool,
) -> Result<Response, PageError> {
    let result = set_disabled(&state.store, actor, user, off).await;
    let page = match &result {
        Ok(u) if u.role == Role::Student => "/school/students",
        _ => "/school/staff",
    };
    let notice = if off { "disabled" } else { "enabled" };
    after_form(result, &format!("{page}?notice={notice}"), |error| {
        show_staff(state, actor, None, Some(error), StaffForm::default())
    })
    .await
}

async fn account_disable(
    State(state): State<AppState>,
    actor: Actor,
    Path(user): Path<Uuid>,
    PageForm(_): PageForm<Empty>,
) -> Result<Response, PageError> {
    set_account(&state, &actor, user, true).await
}

async fn account_enable(
    State(state): State<AppState>,
    actor: Actor,
    Path(user): Path<Uuid>,
    PageForm(_): PageForm<Empty>,
) -> Result<Response, PageError> {
    set_account(&state, &actor, user, false).await
}

/// A form with nothing in it but its CSRF token.
#[derive(Deserialize)]
struct Empty {}

#[derive(askama::Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    user: User,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn account_page(actor: Actor) -> Result<Html<String>, PageError> {
    authorize(&actor, Action::ChangeOwnPassword)?;
    Ok(Html(render(&AccountPage {
        nav: Nav::for_actor(&actor),
        user: actor.user.clone(),
        notice: None,
        error: None,
    })))
}

#[derive(Deserialize)]
struct ChangePasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// Changes the person's own password; they then sign in with the new one.
async fn account_password(
    State(state): State<AppState>,
    actor: Actor,
    addr: crate::extract::ClientAddr,
    PageForm(form): PageForm<ChangePasswordForm>,
) -> Result<Response, PageError> {
    let result = change_own_password(
        &state,
        &actor,
        addr.0,
        form.current_password,
        &form.new_password,
    )
    .await;
    after_form(result, "/login?password_changed=1", |error| async {
        Ok(AccountPage {
            nav: Nav::for_actor(&actor),
            user: actor.user.clone(),
            notice: None,
            error: Some(error),
        })
    })
    .await
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
    /// Whether the viewer may turn accounts off and on.
    can_disable: bool,
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
        can_create: authorize(
            actor,
            Action::CreateStaff {
                school: school.id,
                first_coordinator: false,
            },
        )
        .is_ok(),
        can_disable: crate::auth::policy::allowed(
            actor.role(),
            actor.school_id(),
            Action::DisableAccount { school: school.id },
        ),
        school,
        notice,
        error,
        // A password is never sent back into the page.
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
    let result = create_staff(&state.store, &actor, school.id, &input).await;
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
    /// Whether the viewer may turn accounts off and on.
    can_disable: bool,
    /// Whether the viewer may set students' passwords (and print cards).
    can_reset: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    form: StudentForm,
    roster: Option<String>,
}

impl StudentsPage {
    /// The year groups the school's students are in.
    fn years(&self) -> Vec<i32> {
        let years: std::collections::BTreeSet<i32> =
            self.students.iter().filter_map(|u| u.year_group).collect();
        years.into_iter().collect()
    }

    fn without_password(&self) -> usize {
        self.students
            .iter()
            .filter(|u| !u.has_password && u.disabled_at.is_none())
            .count()
    }
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
        can_disable: crate::auth::policy::allowed(
            actor.role(),
            actor.school_id(),
            Action::DisableAccount { school: school.id },
        ),
        can_reset: crate::auth::policy::allowed(
            actor.role(),
            actor.school_id(),
            Action::ResetStudentPassword { school: school.id },
        ),
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
            create_student(&state.store, &actor, school.id, &input).await
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
    let result = reset_password(&state.store, &actor, student, &form.password).await;
    after_form(result, "/school/students?notice=password", |error| {
        show_students(&state, &actor, None, Some(error), StudentForm::default())
    })
    .await
}

/// The upload form's files (by lowercase name, empty ones skipped) and the
/// kind of student a OneRoster export's students become.
async fn read_roster_form(mut form: Multipart) -> Result<(BTreeMap<String, String>, StudentKind)> {
    let mut files = BTreeMap::new();
    let mut kind = StudentKind::Mentee;
    let bad = |e: axum::extract::multipart::MultipartError| {
        Error::Malformed(format!("the upload could not be read: {e}"))
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or("") {
            "kind" => kind = field.text().await.map_err(bad)?.parse()?,
            "files" => {
                let name = field
                    .file_name()
                    .unwrap_or("roster.csv")
                    .to_ascii_lowercase();
                let bytes = field.bytes().await.map_err(bad)?;
                if bytes.is_empty() {
                    continue;
                }
                let text = uploaded_text(&bytes, &name, "files", rosters::MAX_FILE_BYTES)?;
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
        let (files, kind) = read_roster_form(form).await?;
        let students = rosters::parse_upload(&files, kind)?;
        rosters::import_roster(&state.store, school, &students).await
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
        show_students(&state, &actor, None, Some(error), StudentForm::default())
    })
    .await
}

#[derive(Deserialize)]
struct CardsForm {
    #[serde(default)]
    year_group: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    replace_existing: Option<String>,
}

impl CardsForm {
    /// Which students the form chose; empty choices mean all of them.
    fn chosen(&self) -> Result<CardsFor> {
        Ok(CardsFor {
            year_group: match self.year_group.trim() {
                "" => None,
                y => Some(
                    y.parse()
                        .map_err(|_| Error::invalid("year_group", "choose a year group"))?,
                ),
            },
            kind: match self.kind.trim() {
                "" => None,
                k => Some(k.parse()?),
            },
            replace_existing: self.replace_existing.is_some(),
        })
    }
}

/// One printed card: the QR code is inline SVG, so it prints sharp and
/// needs nothing the page's Content-Security-Policy forbids.
struct PrintedCard {
    name: String,
    year_group: Option<i32>,
    username: String,
    password: String,
    qr_svg: String,
}

#[derive(askama::Template)]
#[template(path = "sign_in_cards.html")]
struct SignInCardsPage {
    nav: Nav,
    school: School,
    sign_in_at: String,
    cards: Vec<PrintedCard>,
}

/// The sign-in address on a card, with the username filled in.
fn sign_in_link(base: &str, username: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("username", username)
        .finish();
    format!("{}/login?{query}", base.trim_end_matches('/'))
}

fn qr_svg(text: &str) -> Result<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| Error::internal_from("drawing a sign-in card's QR code", e))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(132, 132)
        .quiet_zone(true)
        .build();
    // The renderer writes a standalone document; inline in HTML the XML
    // declaration has no place.
    Ok(match svg.find("<svg") {
        Some(at) => svg[at..].to_owned(),
        None => svg,
    })
}

/// Makes first passwords for the chosen students and shows them once, as
/// cards to print: the passwords are not kept anywhere they could be read
/// again, so the answer is the page itself, not a redirect.
async fn make_sign_in_cards(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<CardsForm>,
) -> Result<Response, PageError> {
    let school = own_school(&state, &actor).await?;
    let result = match form.chosen() {
        Ok(chosen) => make_cards(&state.store, &actor, &chosen).await,
        Err(e) => Err(e),
    };
    let cards = match result {
        Ok(cards) => cards,
        Err(err) => {
            return after_form(Err::<(), _>(err), "", |error| {
                show_students(&state, &actor, None, Some(error), StudentForm::default())
            })
            .await;
        }
    };
    let base = state.settings.base_url();
    let cards = cards
        .into_iter()
        .map(|card| {
            Ok(PrintedCard {
                name: card.student.full_name(),
                year_group: card.student.year_group,
                qr_svg: qr_svg(&sign_in_link(&base, &card.student.username))?,
                username: card.student.username,
                password: card.password,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Html(render(&SignInCardsPage {
        nav: Nav::for_actor(&actor),
        sign_in_at: format!("{}/login", base.trim_end_matches('/')),
        school,
        cards,
    }))
    .into_response())
}
