//! Accounts: every student and member of staff signs in as themselves.
//!
//! Staff (coordinators, teachers, safeguarding leads) and students belong to
//! one school; platform administrators belong to none. Usernames are global
//! so a person never has to say which school they are from to sign in.
//! Students carry no contact details at all: nothing here could pass an email
//! address or phone number from one child to another.
//!
//! Here are the account types and the three ways staff make or change an
//! account ([`create_staff`], [`create_student`], [`reset_password`]), and
//! `cards` the fourth: first passwords for a class at once, as printed
//! sign-in cards;
//! `parse` holds the input rules a new account must pass; `store` keeps the
//! `users` table and the sign-in `sessions` a password change ends; `http` is
//! the JSON API and `pages` the Staff and Students pages (the roster upload
//! form among them).

pub mod cards;
pub mod http;
pub mod pages;
mod parse;
pub mod store;

pub use parse::{
    NewPassword, NewUser, ParsedAccount, StaffInput, StudentDetails, StudentInput, Username,
    YearGroup, parse_email,
};

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::auth::password::PasswordHash;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, Result};
use crate::store::Store;

/// What a person may do is decided by their role (and their school).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the platform: adds schools and their first coordinators. Sees no
    /// pupil data.
    Admin,
    /// Runs the scheme at one school: staff, students, partnerships.
    Coordinator,
    /// Supervises sessions at one school.
    Teacher,
    /// The designated safeguarding lead at one school: sees everything there.
    SafeguardingLead,
    /// A mentor or mentee.
    Student,
    /// Leads a scheme across a group of schools (a local authority's or a
    /// trust's officer): belongs to no school but to a group, and sees only
    /// the aggregate reports of the group's member schools, never a pupil.
    SchemeLead,
}

impl Role {
    /// For matrices and menus.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Coordinator,
        Role::Teacher,
        Role::SafeguardingLead,
        Role::Student,
        Role::SchemeLead,
    ];

    /// The stored name ([`FromStr`] reads it back).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Teacher => "teacher",
            Role::SafeguardingLead => "safeguarding_lead",
            Role::Student => "student",
            Role::SchemeLead => "scheme_lead",
        }
    }

    /// The name people are shown.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Platform administrator",
            Role::Coordinator => "Coordinator",
            Role::Teacher => "Teacher",
            Role::SafeguardingLead => "Safeguarding lead",
            Role::Student => "Student",
            Role::SchemeLead => "Scheme lead",
        }
    }

    pub fn is_school_staff(self) -> bool {
        matches!(
            self,
            Role::Coordinator | Role::Teacher | Role::SafeguardingLead
        )
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| {
                Error::invalid(
                    "role",
                    format!(
                        "`{}` is not a role; use one of admin, coordinator, teacher, safeguarding_lead, student, scheme_lead",
                        raw.trim()
                    ),
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a student gives or receives mentoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudentKind {
    /// An older student who mentors.
    Mentor,
    /// A student who is mentored.
    Mentee,
}

impl StudentKind {
    /// The stored name ([`FromStr`] reads it back).
    pub fn as_str(self) -> &'static str {
        match self {
            StudentKind::Mentor => "mentor",
            StudentKind::Mentee => "mentee",
        }
    }

    /// `raw.parse()`, for callers that name the type.
    pub fn parse(raw: &str) -> Result<Self> {
        raw.parse()
    }
}

impl FromStr for StudentKind {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        match raw.trim() {
            "mentor" => Ok(StudentKind::Mentor),
            "mentee" => Ok(StudentKind::Mentee),
            other => Err(Error::invalid(
                "kind",
                format!("`{other}` is neither `mentor` nor `mentee`"),
            )),
        }
    }
}

/// A stored account, as the school that owns it sees it.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: Uuid,
    /// `None` for a platform administrator and a scheme lead.
    pub school_id: Option<Uuid>,
    /// A scheme lead's group of schools (`None` for everyone else).
    pub group_id: Option<Uuid>,
    pub username: String,
    pub role: Role,
    pub given_name: String,
    pub family_name: String,
    /// Students only.
    pub year_group: Option<i32>,
    /// Students only.
    pub kind: Option<StudentKind>,
    /// Students only.
    pub subjects: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The school information system's id for a student, when imported.
    pub student_ref: Option<String>,
    /// Whether a password has been set (rostered accounts start without one).
    pub has_password: bool,
    /// Staff only: where calendar invites go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// When a coordinator turned the account off (it cannot sign in).
    pub disabled_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
            .trim()
            .to_owned()
    }
}

/// What the partner school's staff may see of a student: only what pairing
/// needs. No family name, no username, nothing that could identify or reach
/// the child outside mentorbridge.
#[derive(Clone, Debug, Serialize)]
pub struct PartnerStudentView {
    /// Needed to refer to the student in a match.
    pub id: Uuid,
    /// Given name only.
    pub given_name: String,
    pub year_group: Option<i32>,
    pub kind: Option<StudentKind>,
    pub subjects: Vec<String>,
}

impl From<User> for PartnerStudentView {
    fn from(u: User) -> Self {
        PartnerStudentView {
            id: u.id,
            given_name: u.given_name,
            year_group: u.year_group,
            kind: u.kind,
            subjects: u.subjects,
        }
    }
}

/// The roles of a school's staff, as the Staff page and API list them.
pub const STAFF_ROLES: [Role; 3] = [Role::Coordinator, Role::Teacher, Role::SafeguardingLead];

/// Adds a member of staff at `school`.
pub async fn create_staff(
    store: &Store,
    actor: &Actor,
    school: Uuid,
    input: &StaffInput,
) -> Result<User> {
    let first_coordinator = input.role.trim() == Role::Coordinator.as_str()
        && store
            .users_at_school(school, &[Role::Coordinator])
            .await?
            .is_empty();
    authorize(
        actor,
        Action::CreateStaff {
            school,
            first_coordinator,
        },
    )?;
    store.school(school).await?;
    let user = ParsedAccount::staff(input)?.hash().await?;
    let created = store.create_user(&user, Some(school)).await?;
    tracing::info!(user = %created.id, by = %actor.user.id, role = %created.role, "staff account created");
    Ok(created)
}

/// Adds a student at `school`.
pub async fn create_student(
    store: &Store,
    actor: &Actor,
    school: Uuid,
    input: &StudentInput,
) -> Result<User> {
    authorize(actor, Action::CreateStudent { school })?;
    let user = ParsedAccount::student(input)?.hash().await?;
    let created = store.create_user(&user, Some(school)).await?;
    tracing::info!(user = %created.id, by = %actor.user.id, "student account created");
    Ok(created)
}

/// Sets a student's password. Only students can be reset this way, so a
/// teacher cannot take over a colleague's account.
/// Turns an account at the actor's school off (`off`) or on again. Nobody
/// turns off their own account (a school cannot lose its last coordinator
/// that way).
pub async fn set_disabled(store: &Store, actor: &Actor, user_id: Uuid, off: bool) -> Result<User> {
    let user = match store.user(user_id).await {
        Ok(u) => u,
        Err(Error::NotFound(_)) => return Err(Error::NotFound("account")),
        Err(e) => return Err(e),
    };
    let school = user.school_id.ok_or(Error::NotFound("account"))?;
    authorize(actor, Action::DisableAccount { school })?;
    if off && user.id == actor.user.id {
        return Err(Error::conflict(
            "user_id",
            "you cannot turn off your own account; ask another coordinator",
        ));
    }
    store
        .set_disabled(user.id, off.then_some(actor.user.id))
        .await?;
    tracing::info!(account = %user.id, by = %actor.user.id, off, "account turned off or on");
    store.user(user.id).await
}

/// Changes the actor's own password, once they have given their current
/// one (checked as sign-in checks it, under its guessing limits, from
/// `addr`); every session of theirs ends, this one too.
pub async fn change_own_password(
    state: &crate::state::AppState,
    actor: &Actor,
    addr: Option<std::net::IpAddr>,
    current: String,
    new_password: &str,
) -> Result<()> {
    authorize(actor, Action::ChangeOwnPassword)?;
    let current_ok =
        crate::auth::password::check_own(&state.store, &state.login_limiter, actor, addr, current)
            .await?;
    if !current_ok {
        return Err(Error::invalid(
            "current_password",
            "that is not your current password",
        ));
    }
    let username = Username::parse(&actor.user.username)?;
    let hash = PasswordHash::new(NewPassword::parse(new_password, &username)?).await?;
    state.store.set_password(actor.user.id, &hash).await?;
    tracing::info!(user = %actor.user.id, "password changed");
    Ok(())
}

pub async fn reset_password(
    store: &Store,
    actor: &Actor,
    student_id: Uuid,
    password: &str,
) -> Result<()> {
    let student = match store.user(student_id).await {
        Ok(u) if u.role == Role::Student => u,
        Ok(_) | Err(Error::NotFound(_)) => return Err(Error::NotFound("student")),
        Err(e) => return Err(e),
    };
    let school = student.school_id.ok_or(Error::NotFound("student"))?;
    authorize(actor, Action::ResetStudentPassword { school })?;
    let username = Username::parse(&student.username)?;
    let hash = PasswordHash::new(NewPassword::parse(password, &username)?).await?;
    store.set_password(student.id, &hash).await?;
    tracing::info!(student = %student.id, by = %actor.user.id, "student password reset");
    Ok(())
}
