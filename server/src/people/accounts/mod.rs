//! Accounts: every student and member of staff signs in as themselves.
//!
//! Staff (coordinators, teachers, safeguarding leads) and students belong to
//! one school; platform administrators belong to none. Usernames are global
//! so a person never has to say which school they are from to sign in.
//! Students carry no contact details at all: nothing here could pass an email
//! address or phone number from one child to another.

pub mod http;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::password::PasswordHash;
use crate::error::{Error, Result};
use crate::store::{Constraint, Store, Tx};
use crate::{on_pool, on_tx};

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
}

impl Role {
    /// Every role, for matrices and menus.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Coordinator,
        Role::Teacher,
        Role::SafeguardingLead,
        Role::Student,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Teacher => "teacher",
            Role::SafeguardingLead => "safeguarding_lead",
            Role::Student => "student",
        }
    }

    /// A name to show people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Platform administrator",
            Role::Coordinator => "Coordinator",
            Role::Teacher => "Teacher",
            Role::SafeguardingLead => "Safeguarding lead",
            Role::Student => "Student",
        }
    }

    /// Parses a stored or submitted role name.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| {
                Error::invalid(
                    field,
                    format!(
                        "`{}` is not a role; use one of admin, coordinator, teacher, safeguarding_lead, student",
                        raw.trim()
                    ),
                )
            })
    }

    /// Whether this is a member of a school's staff.
    pub fn is_school_staff(self) -> bool {
        matches!(
            self,
            Role::Coordinator | Role::Teacher | Role::SafeguardingLead
        )
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
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            StudentKind::Mentor => "mentor",
            StudentKind::Mentee => "mentee",
        }
    }

    /// Parses `mentor` or `mentee`.
    pub fn parse(raw: &str) -> Result<Self> {
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

/// A school year group, 1 to 13 (Year 7 is the first year of secondary
/// school in England and Wales; 12 and 13 are the sixth form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct YearGroup(u8);

impl YearGroup {
    /// Parses a year group.
    pub fn parse(n: i64) -> Result<Self> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=13).contains(n))
            .map(YearGroup)
            .ok_or_else(|| {
                Error::invalid(
                    "year_group",
                    format!("{n} is not a year group from 1 to 13"),
                )
            })
    }

    /// The year number.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// A sign-in name: 3 to 64 of lowercase letters, digits, `.`, `_`, `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses a username (stored lowercase, so sign-in ignores case).
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim().to_lowercase();
        if s.len() < 3 || s.len() > 64 {
            return Err(Error::invalid("username", "must be 3 to 64 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(Error::invalid(
                "username",
                "may use only letters, digits, `.`, `_` and `-`",
            ));
        }
        Ok(Username(s))
    }

    /// The username as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that passed the policy, not yet hashed. Its `Debug` hides it.
pub struct NewPassword(String);

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// Passwords people choose first; refused whatever their length.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "1234567890",
    "0123456789",
    "qwertyuiop",
    "iloveyou12",
    "letmein123",
    "welcome123",
    "football12",
    "abcdefghij",
    "changeme123",
    "mentorbridge",
    "school1234",
    "schoolpassword",
];

impl NewPassword {
    /// Applies the password policy: 10 to 128 characters, not a common
    /// password, not the username, not one character repeated.
    pub fn parse(raw: &str, username: &Username) -> Result<Self> {
        let len = raw.chars().count();
        if len == 0 {
            return Err(Error::invalid("password", "must not be empty"));
        }
        if len < 10 {
            return Err(Error::invalid(
                "password",
                "is too weak: use at least 10 characters (three short words work well)",
            ));
        }
        if len > 128 {
            return Err(Error::invalid("password", "must be at most 128 characters"));
        }
        let lower = raw.to_lowercase();
        let first = lower.chars().next();
        if COMMON_PASSWORDS.contains(&lower.as_str())
            || lower.contains(username.as_str())
            || lower.chars().all(|c| Some(c) == first)
        {
            return Err(Error::invalid(
                "password",
                "is too easy to guess: avoid common passwords, the username and repeated characters",
            ));
        }
        Ok(NewPassword(raw.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A person's given name (required) or family name (may be empty: not
/// everyone has one).
fn parse_name(field: &'static str, raw: &str) -> Result<String> {
    let s = raw.trim();
    if s.is_empty() && field == "given_name" {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if s.chars().count() > 80 {
        return Err(Error::invalid(field, "must be at most 80 characters"));
    }
    Ok(s.to_owned())
}

/// A staff work address: blank means none. Deliberately loose (one `@`, a
/// dotted domain, no spaces): the mail server is the judge of the rest, and
/// a refusal is recorded against the invite.
pub fn parse_email(raw: &str) -> Result<Option<String>> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let ok = s.len() <= 254
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !ok {
        return Err(Error::invalid(
            "email",
            format!("`{s}` is not an email address (like name@school.sch.uk)"),
        ));
    }
    Ok(Some(s.to_lowercase()))
}

/// Subjects a student studies, mentors in, or wants help with.
fn parse_subjects(raw: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if s.chars().count() > 60 || s.contains(',') {
            return Err(Error::invalid(
                "subjects",
                format!("`{s}` is not a subject name (at most 60 characters, no commas)"),
            ));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// A member of staff as submitted, before parsing.
#[derive(Clone, Deserialize)]
pub struct StaffInput {
    /// See [`Username`].
    pub username: String,
    /// See [`NewPassword`].
    pub password: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// `coordinator`, `teacher` or `safeguarding_lead`.
    pub role: String,
    /// A work address for calendar invites (staff only; optional).
    #[serde(default)]
    pub email: Option<String>,
}

/// A student as submitted, before parsing.
#[derive(Clone, Deserialize)]
pub struct StudentInput {
    /// See [`Username`].
    pub username: String,
    /// See [`NewPassword`].
    pub password: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// See [`YearGroup`].
    pub year_group: i64,
    /// `mentor` or `mentee`.
    pub kind: String,
    /// Subjects offered (mentors) or wanted (mentees).
    #[serde(default)]
    pub subjects: Vec<String>,
}

/// Student-only fields of a new account.
#[derive(Clone, Debug)]
pub struct StudentDetails {
    /// Year group.
    pub year_group: YearGroup,
    /// Mentor or mentee.
    pub kind: StudentKind,
    /// Subjects, de-duplicated.
    pub subjects: Vec<String>,
}

/// An account whose fields have all been parsed and whose password is hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Sign-in name.
    pub username: Username,
    /// The argon2 hash of the password.
    pub password_hash: PasswordHash,
    /// Role.
    pub role: Role,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Set for students only.
    pub student: Option<StudentDetails>,
    /// Staff only: where calendar invites go.
    pub email: Option<String>,
}

/// The parsed but not yet hashed form of [`StaffInput`] or [`StudentInput`].
#[derive(Debug)]
pub struct ParsedAccount {
    username: Username,
    password: NewPassword,
    role: Role,
    given_name: String,
    family_name: String,
    student: Option<StudentDetails>,
    email: Option<String>,
}

impl ParsedAccount {
    /// Parses a staff account. `allowed_roles` is what the caller may create.
    pub fn staff(input: &StaffInput) -> Result<Self> {
        let role = Role::parse("role", &input.role)?;
        if !role.is_school_staff() {
            return Err(Error::invalid(
                "role",
                "staff must be a coordinator, teacher or safeguarding_lead",
            ));
        }
        let username = Username::parse(&input.username)?;
        Ok(ParsedAccount {
            password: NewPassword::parse(&input.password, &username)?,
            username,
            role,
            given_name: parse_name("given_name", &input.given_name)?,
            family_name: parse_name("family_name", &input.family_name)?,
            student: None,
            email: input
                .email
                .as_deref()
                .map(parse_email)
                .transpose()?
                .flatten(),
        })
    }

    /// Parses a platform administrator's account.
    pub fn admin(username: &str, password: &str, name: &str) -> Result<Self> {
        let username = Username::parse(username)?;
        Ok(ParsedAccount {
            password: NewPassword::parse(password, &username)?,
            username,
            role: Role::Admin,
            given_name: parse_name("given_name", name)?,
            family_name: String::new(),
            student: None,
            email: None,
        })
    }

    /// Parses a student account.
    pub fn student(input: &StudentInput) -> Result<Self> {
        let username = Username::parse(&input.username)?;
        Ok(ParsedAccount {
            password: NewPassword::parse(&input.password, &username)?,
            username,
            role: Role::Student,
            given_name: parse_name("given_name", &input.given_name)?,
            family_name: parse_name("family_name", &input.family_name)?,
            student: Some(StudentDetails {
                year_group: YearGroup::parse(input.year_group)?,
                kind: StudentKind::parse(&input.kind)?,
                subjects: parse_subjects(&input.subjects)?,
            }),
            email: None,
        })
    }

    /// The role the account will have.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Hashes the password (slow on purpose: run off the async threads).
    pub async fn hash(self) -> Result<NewUser> {
        let password_hash = PasswordHash::new(self.password).await?;
        Ok(NewUser {
            username: self.username,
            password_hash,
            role: self.role,
            given_name: self.given_name,
            family_name: self.family_name,
            student: self.student,
            email: self.email,
        })
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    school_id: Option<Uuid>,
    username: String,
    role: String,
    given_name: String,
    family_name: String,
    year_group: Option<i32>,
    student_kind: Option<String>,
    subjects: String,
    created_at: DateTime<Utc>,
    student_ref: Option<String>,
    has_password: bool,
    email: Option<String>,
}

/// A stored account, as the school that owns it sees it.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    /// Stable identifier.
    pub id: Uuid,
    /// The school, or `None` for a platform administrator.
    pub school_id: Option<Uuid>,
    /// Sign-in name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Students only.
    pub year_group: Option<i32>,
    /// Students only.
    pub kind: Option<StudentKind>,
    /// Subjects (students).
    pub subjects: Vec<String>,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// The school information system's id for a student, when imported.
    pub student_ref: Option<String>,
    /// Whether a password has been set (rostered accounts start without one).
    pub has_password: bool,
    /// Staff only: where calendar invites go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl User {
    /// Given and family name.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
            .trim()
            .to_owned()
    }
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(row: UserRow) -> Result<Self> {
        Ok(User {
            id: row.id,
            school_id: row.school_id,
            username: row.username,
            role: Role::parse("role", &row.role)
                .map_err(|_| Error::internal(format!("stored role `{}` is unknown", row.role)))?,
            given_name: row.given_name,
            family_name: row.family_name,
            year_group: row.year_group,
            kind: row
                .student_kind
                .as_deref()
                .map(StudentKind::parse)
                .transpose()
                .map_err(|_| Error::internal("stored student kind is unknown"))?,
            subjects: row
                .subjects
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            created_at: row.created_at,
            student_ref: row.student_ref,
            has_password: row.has_password,
            email: row.email,
        })
    }
}

/// What the partner school's staff may see of a student: only what pairing
/// needs. No family name, no username, nothing that could identify or reach
/// the child outside mentorbridge.
#[derive(Clone, Debug, Serialize)]
pub struct PartnerStudentView {
    /// Stable identifier (needed to refer to the student in a match).
    pub id: Uuid,
    /// Given name only.
    pub given_name: String,
    /// Year group.
    pub year_group: Option<i32>,
    /// Mentor or mentee.
    pub kind: Option<StudentKind>,
    /// Subjects.
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

const USER_COLUMNS: &str = "id, school_id, username, role, given_name, family_name, \
                            year_group, student_kind, subjects, created_at, student_ref, \
                            password_hash <> '!' AS has_password, email";

fn map_user_conflict(err: sqlx::Error, username: &Username) -> Error {
    match Constraint::of(&err) {
        Some(Constraint::UserUsername) => Error::conflict(
            "username",
            format!("the username `{}` is already taken", username.as_str()),
        ),
        _ => Error::Database(err),
    }
}

/// Inserts an account inside an open transaction.
pub(crate) async fn insert_user(
    tx: &mut Tx,
    user: &NewUser,
    school_id: Option<Uuid>,
) -> Result<Uuid> {
    let id = Uuid::new_v4();
    let sql = "INSERT INTO users (id, school_id, username, password_hash, role, given_name, \
               family_name, year_group, student_kind, subjects, created_at, email) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    let student = user.student.as_ref();
    on_tx!(tx, |conn| sqlx::query(sql)
        .bind(id)
        .bind(school_id)
        .bind(user.username.as_str())
        .bind(user.password_hash.as_str())
        .bind(user.role.as_str())
        .bind(&user.given_name)
        .bind(&user.family_name)
        .bind(student.map(|s| i32::from(s.year_group.get())))
        .bind(student.map(|s| s.kind.as_str()))
        .bind(student.map(|s| s.subjects.join(",")).unwrap_or_default())
        .bind(Utc::now())
        .bind(user.email.as_deref())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|err| map_user_conflict(err, &user.username))?;
    Ok(id)
}

impl Store {
    /// Adds one account.
    pub async fn create_user(&self, user: &NewUser, school_id: Option<Uuid>) -> Result<User> {
        let mut tx = self.begin().await?;
        let id = insert_user(&mut tx, user, school_id).await?;
        tx.commit().await?;
        self.user(id).await
    }

    /// One account by id.
    pub async fn user(&self, id: Uuid) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or(Error::NotFound("account"))?.try_into()
    }

    /// An account and its password hash, by username, for signing in.
    pub async fn user_for_sign_in(&self, username: &str) -> Result<Option<(User, PasswordHash)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1");
        let row: Option<UserRowWithHash> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(username.trim().to_lowercase())
            .fetch_optional(pool)
            .await)?;
        match row {
            None => Ok(None),
            Some(r) => {
                let hash = PasswordHash::from_stored(r.password_hash);
                Ok(Some((r.user.try_into()?, hash)))
            }
        }
    }

    /// Sets (or with `None` removes) a member of staff's invite address.
    pub async fn set_email(&self, user: Uuid, email: Option<&str>) -> Result<()> {
        let done = on_pool!(self, |pool| sqlx::query(
            "UPDATE users SET email = $1 WHERE id = $2 AND role <> 'student'"
        )
        .bind(email)
        .bind(user)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(Error::NotFound("account"));
        }
        Ok(())
    }

    /// The accounts of one school with the given roles, by family then given name.
    pub async fn users_at_school(&self, school_id: Uuid, roles: &[Role]) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE school_id = $1");
        let rows: Vec<UserRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(school_id)
            .fetch_all(pool)
            .await)?;
        let mut users = rows
            .into_iter()
            .map(User::try_from)
            .filter(|u| u.as_ref().map_or(true, |u| roles.contains(&u.role)))
            .collect::<Result<Vec<_>>>()?;
        // Sorted here, not in SQL, so both databases give the same order
        // (SQLite compares bytes, PostgreSQL uses the server's collation).
        users.sort_by_cached_key(|u| (u.family_name.to_lowercase(), u.given_name.to_lowercase()));
        Ok(users)
    }

    /// Replaces an account's password and signs it out everywhere.
    pub async fn set_password(&self, user_id: Uuid, hash: &PasswordHash) -> Result<()> {
        let mut tx = self.begin().await?;
        let updated = on_tx!(&mut tx, |conn| sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE id = $2"
        )
        .bind(hash.as_str())
        .bind(user_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if updated == 0 {
            return Err(Error::NotFound("account"));
        }
        on_tx!(&mut tx, |conn| sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1"
        )
        .bind(user_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct UserRowWithHash {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Username {
        Username::parse(name).unwrap()
    }

    #[test]
    fn weak_or_empty_passwords_are_refused_with_the_field_named() {
        let u = user("amira.k");
        for bad in ["", "short", "password123", "aaaaaaaaaaaa", "amira.k-2026!"] {
            let err = NewPassword::parse(bad, &u).unwrap_err();
            assert_eq!(err.field(), Some("password"), "{bad}");
        }
        assert!(NewPassword::parse("otter-kettle-lantern", &u).is_ok());
    }

    #[test]
    fn usernames_are_case_insensitive_and_plain() {
        assert_eq!(user(" Amira.K ").as_str(), "amira.k");
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("ab").is_err());
    }

    #[test]
    fn year_groups_run_from_1_to_13() {
        assert!(YearGroup::parse(7).is_ok());
        assert!(YearGroup::parse(0).is_err());
        assert!(YearGroup::parse(14).is_err());
    }
}
