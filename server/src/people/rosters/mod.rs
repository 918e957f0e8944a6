//! Rosters: a school's students as its information system exports them.
//!
//! Two formats come in: a plain CSV (`student_ref,given_name,family_name,
//! year_group,role,subjects,username`) and an IMS OneRoster 1.1 CSV export
//! (`manifest.csv`, `users.csv`, `orgs.csv`, `enrollments.csv`,
//! `classes.csv`). Both become [`RosterStudent`]s; [`import_roster`] then
//! creates or updates accounts by the system's own id (`student_ref`), so a
//! roster can be imported again every term without duplicating anyone.
//!
//! Contact details in an export (email, phone) are never read: mentorbridge
//! keeps none for students.

pub mod http;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use uuid::Uuid;

use crate::auth::password::PasswordHash;
use crate::error::{Error, Result};
use crate::import::{FileCtx, Header, ImportError, read_csv};
use crate::on_tx;
use crate::people::accounts::{
    NewUser, Role, StudentDetails, StudentKind, Username, YearGroup, insert_user,
};
use crate::store::{Constraint, Store};

/// One student from a roster file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterStudent {
    /// Where it came from, for errors found when storing it.
    pub file: String,
    /// Its line (or the users.csv line).
    pub line: usize,
    /// The information system's id.
    pub student_ref: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Year group.
    pub year_group: YearGroup,
    /// Mentor or mentee.
    pub kind: StudentKind,
    /// Subjects.
    pub subjects: Vec<String>,
    /// The sign-in name, if the file gives one.
    pub username: Option<Username>,
}

/// Year groups as schools write them: `8`, `08`, `Y8`, `Year 8`.
fn parse_year(raw: &str) -> Option<YearGroup> {
    let lower = raw.trim().to_ascii_lowercase();
    let digits = lower
        .strip_prefix("year")
        .or_else(|| lower.strip_prefix('y'))
        .unwrap_or(&lower)
        .trim();
    digits
        .parse::<i64>()
        .ok()
        .and_then(|n| YearGroup::parse(n).ok())
}

fn split_subjects(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in raw
        .split([';', ',', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            out.push(s.to_owned());
        }
    }
    out
}

fn check_unique(
    ctx: &FileCtx<'_>,
    students: &[RosterStudent],
) -> std::result::Result<(), ImportError> {
    let mut refs: HashMap<&str, usize> = HashMap::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    for s in students {
        if let Some(first) = refs.insert(&s.student_ref, s.line) {
            return Err(ctx.err(
                Some(s.line),
                Some("student_ref"),
                format!(
                    "`{}` is also on line {first}: each student appears once",
                    s.student_ref
                ),
            ));
        }
        if let Some(u) = &s.username
            && let Some(first) = names.insert(u.as_str(), s.line)
        {
            return Err(ctx.err(
                Some(s.line),
                Some("username"),
                format!("`{}` is also on line {first}", u.as_str()),
            ));
        }
    }
    Ok(())
}

/// Reads the plain roster CSV.
pub fn parse_roster_csv(
    file: &str,
    text: &str,
) -> std::result::Result<Vec<RosterStudent>, ImportError> {
    let ctx = FileCtx { file };
    let columns = [
        "student_ref",
        "given_name",
        "family_name",
        "year_group",
        "role",
        "subjects",
        "username",
    ];
    let csv = read_csv(&ctx, text, Header::Exactly(&columns))?;
    let mut students = Vec::new();
    for row in &csv.rows {
        let cell = |name: &str| csv.cell(row, name).to_owned();
        let student_ref = cell("student_ref");
        if student_ref.is_empty() || student_ref.chars().count() > 64 {
            return Err(ctx.err(
                Some(row.line),
                Some("student_ref"),
                "give the student's id from the school's system (at most 64 characters)",
            ));
        }
        let given_name = cell("given_name");
        if given_name.is_empty() {
            return Err(ctx.err(Some(row.line), Some("given_name"), "must not be empty"));
        }
        let year_group = parse_year(&cell("year_group")).ok_or_else(|| {
            ctx.err(
                Some(row.line),
                Some("year_group"),
                format!(
                    "`{}` is not a year group from 1 to 13 (e.g. 8 or Y8)",
                    cell("year_group")
                ),
            )
        })?;
        let kind = StudentKind::parse(&cell("role").to_ascii_lowercase()).map_err(|_| {
            ctx.err(
                Some(row.line),
                Some("role"),
                format!("`{}` is neither `mentor` nor `mentee`", cell("role")),
            )
        })?;
        let username = match cell("username").as_str() {
            "" => None,
            raw => Some(
                Username::parse(raw)
                    .map_err(|e| ctx.err(Some(row.line), Some("username"), e.public_message()))?,
            ),
        };
        students.push(RosterStudent {
            file: file.to_owned(),
            line: row.line,
            student_ref,
            given_name,
            family_name: cell("family_name"),
            year_group,
            kind,
            subjects: split_subjects(&cell("subjects")),
            username,
        });
    }
    check_unique(&ctx, &students)?;
    Ok(students)
}

/// The files of a OneRoster 1.1 CSV export, by file name.
pub type OneRosterFiles = BTreeMap<String, String>;

/// Whether a set of uploaded files is a OneRoster export.
pub fn is_oneroster(files: &OneRosterFiles) -> bool {
    files.contains_key("users.csv") && files.contains_key("manifest.csv")
}

/// Reads a OneRoster 1.1 CSV export. Every student (`role` = `student`)
/// becomes a roster student of `kind` (the export does not say who mentors);
/// their subjects are those of the classes they are enrolled in. Every
/// reference (a user's org, an enrolment's class and user, a class's school)
/// must resolve.
pub fn parse_oneroster(
    files: &OneRosterFiles,
    kind: StudentKind,
) -> std::result::Result<Vec<RosterStudent>, ImportError> {
    let file = |name: &str| {
        files.get(name).ok_or_else(|| ImportError {
            file: name.to_owned(),
            line: None,
            field: None,
            message: "this OneRoster file is missing from the export".into(),
        })
    };
    let manifest_ctx = FileCtx {
        file: "manifest.csv",
    };
    let manifest = read_csv(
        &manifest_ctx,
        file("manifest.csv")?,
        Header::Includes(&["propertyname", "value"]),
    )?;
    if let Some(row) = manifest
        .rows
        .iter()
        .find(|r| manifest.cell(r, "propertyname") == "oneroster.version")
        && !manifest.cell(row, "value").starts_with("1.1")
    {
        return Err(manifest_ctx.err(
            Some(row.line),
            Some("value"),
            format!(
                "OneRoster version {} is not supported; export version 1.1",
                manifest.cell(row, "value")
            ),
        ));
    }

    let orgs_ctx = FileCtx { file: "orgs.csv" };
    let orgs = read_csv(
        &orgs_ctx,
        file("orgs.csv")?,
        Header::Includes(&["sourcedid", "name", "type"]),
    )?;
    let org_ids: BTreeSet<&str> = orgs
        .rows
        .iter()
        .map(|r| orgs.cell(r, "sourcedid"))
        .collect();

    let classes_ctx = FileCtx {
        file: "classes.csv",
    };
    let classes = read_csv(
        &classes_ctx,
        file("classes.csv")?,
        Header::Includes(&["sourcedid", "title", "schoolsourcedid"]),
    )?;
    let mut class_subjects: HashMap<&str, Vec<String>> = HashMap::new();
    for row in &classes.rows {
        let school = classes.cell(row, "schoolsourcedid");
        if !org_ids.contains(school) {
            return Err(classes_ctx.err(
                Some(row.line),
                Some("schoolSourcedId"),
                format!("`{school}` is not an org in orgs.csv"),
            ));
        }
        let subjects = match classes.cell(row, "subjects") {
            "" => vec![classes.cell(row, "title").to_owned()],
            listed => split_subjects(listed),
        };
        class_subjects.insert(classes.cell(row, "sourcedid"), subjects);
    }

    let users_ctx = FileCtx { file: "users.csv" };
    let users = read_csv(
        &users_ctx,
        file("users.csv")?,
        Header::Includes(&[
            "sourcedid",
            "orgsourcedids",
            "role",
            "username",
            "givenname",
            "familyname",
            "grades",
        ]),
    )?;
    let mut students: Vec<RosterStudent> = Vec::new();
    let mut user_ids: BTreeSet<&str> = BTreeSet::new();
    for row in &users.rows {
        let id = users.cell(row, "sourcedid");
        user_ids.insert(id);
        for org in users
            .cell(row, "orgsourcedids")
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            if !org_ids.contains(org) {
                return Err(users_ctx.err(
                    Some(row.line),
                    Some("orgSourcedIds"),
                    format!("`{org}` is not an org in orgs.csv"),
                ));
            }
        }
        let active = !users
            .cell(row, "status")
            .eq_ignore_ascii_case("tobedeleted")
            && !users.cell(row, "enableduser").eq_ignore_ascii_case("false");
        if users.cell(row, "role") != "student" || !active {
            continue;
        }
        let given_name = users.cell(row, "givenname").to_owned();
        if given_name.is_empty() {
            return Err(users_ctx.err(Some(row.line), Some("givenName"), "must not be empty"));
        }
        let grade = users
            .cell(row, "grades")
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let year_group = parse_year(&grade).ok_or_else(|| {
            users_ctx.err(
                Some(row.line),
                Some("grades"),
                format!("`{grade}` is not a year group from 1 to 13"),
            )
        })?;
        let username = match users.cell(row, "username") {
            "" => None,
            raw => Some(Username::parse(raw).map_err(|e| {
                users_ctx.err(Some(row.line), Some("username"), e.public_message())
            })?),
        };
        students.push(RosterStudent {
            file: "users.csv".into(),
            line: row.line,
            student_ref: id.to_owned(),
            given_name,
            family_name: users.cell(row, "familyname").to_owned(),
            year_group,
            kind,
            subjects: Vec::new(),
            username,
        });
    }

    let enrol_ctx = FileCtx {
        file: "enrollments.csv",
    };
    let enrollments = read_csv(
        &enrol_ctx,
        file("enrollments.csv")?,
        Header::Includes(&["sourcedid", "classsourcedid", "usersourcedid", "role"]),
    )?;
    for row in &enrollments.rows {
        let class = enrollments.cell(row, "classsourcedid");
        let user = enrollments.cell(row, "usersourcedid");
        let Some(subjects) = class_subjects.get(class) else {
            return Err(enrol_ctx.err(
                Some(row.line),
                Some("classSourcedId"),
                format!("`{class}` is not a class in classes.csv"),
            ));
        };
        if !user_ids.contains(user) {
            return Err(enrol_ctx.err(
                Some(row.line),
                Some("userSourcedId"),
                format!("`{user}` is not a user in users.csv"),
            ));
        }
        if let Some(student) = students.iter_mut().find(|s| s.student_ref == user) {
            for subject in subjects {
                if !student
                    .subjects
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(subject))
                {
                    student.subjects.push(subject.clone());
                }
            }
        }
    }
    check_unique(&users_ctx, &students)?;
    Ok(students)
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RosterSummary {
    /// New accounts (without passwords yet).
    pub created: usize,
    /// Existing accounts brought up to date.
    pub updated: usize,
}

#[derive(sqlx::FromRow)]
struct Existing {
    id: Uuid,
    student_ref: Option<String>,
}

fn ascii_name(raw: &str) -> String {
    raw.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'á' | 'à' | 'â' | 'ä' | 'Á' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' | 'É' => Some('e'),
            'í' | 'ì' | 'î' | 'ï' | 'Í' => Some('i'),
            'ó' | 'ò' | 'ô' | 'ö' | 'Ó' => Some('o'),
            'ú' | 'ù' | 'û' | 'ü' | 'Ú' => Some('u'),
            _ => None,
        })
        .collect()
}

/// Creates or updates every student in one transaction: all or nothing.
/// New accounts have no password until staff set one. Students already
/// stored but absent from this roster are left as they are.
pub async fn import_roster(
    store: &Store,
    school: Uuid,
    students: &[RosterStudent],
) -> Result<RosterSummary> {
    let existing: Vec<Existing> = crate::on_pool!(store, |pool| sqlx::query_as(
        "SELECT id, student_ref FROM users WHERE school_id = $1 AND student_ref IS NOT NULL"
    )
    .bind(school)
    .fetch_all(pool)
    .await)?;
    let by_ref: HashMap<&str, Uuid> = existing
        .iter()
        .filter_map(|e| Some((e.student_ref.as_deref()?, e.id)))
        .collect();
    let taken: Vec<(String,)> =
        crate::on_pool!(store, |pool| sqlx::query_as("SELECT username FROM users")
            .fetch_all(pool)
            .await)?;
    let mut taken: BTreeSet<String> = taken.into_iter().map(|(u,)| u).collect();

    let mut summary = RosterSummary::default();
    let mut tx = store.begin().await?;
    for s in students {
        let conflict = |err: sqlx::Error| match Constraint::of(&err) {
            Some(Constraint::UserUsername | Constraint::UserStudentRef) => {
                Error::Import(ImportError {
                    file: s.file.clone(),
                    line: Some(s.line),
                    field: Some("username".into()),
                    message: "that username belongs to another account".into(),
                })
            }
            _ => Error::Database(err),
        };
        let subjects = s.subjects.join(",");
        match by_ref.get(s.student_ref.as_str()) {
            Some(id) => {
                on_tx!(&mut tx, |conn| sqlx::query(
                    "UPDATE users SET given_name = $1, family_name = $2, year_group = $3, \
                     student_kind = $4, subjects = $5, username = COALESCE($6, username) WHERE id = $7"
                )
                .bind(&s.given_name)
                .bind(&s.family_name)
                .bind(i32::from(s.year_group.get()))
                .bind(s.kind.as_str())
                .bind(&subjects)
                .bind(s.username.as_ref().map(Username::as_str))
                .bind(*id)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))
                .map_err(conflict)?;
                summary.updated += 1;
            }
            None => {
                let username = match &s.username {
                    Some(u) => u.clone(),
                    None => {
                        let base = format!(
                            "{}.{}",
                            ascii_name(&s.given_name),
                            ascii_name(&s.family_name)
                        );
                        let base = base.trim_matches('.').to_owned();
                        let base = if base.len() < 3 {
                            format!("student.{}", ascii_name(&s.student_ref))
                        } else {
                            base
                        };
                        let mut candidate = base.clone();
                        let mut n = 2;
                        while taken.contains(&candidate) {
                            candidate = format!("{base}{n}");
                            n += 1;
                        }
                        Username::parse(&candidate)?
                    }
                };
                taken.insert(username.as_str().to_owned());
                let user = NewUser {
                    username,
                    password_hash: PasswordHash::from_stored(PasswordHash::NONE.to_owned()),
                    role: Role::Student,
                    given_name: s.given_name.clone(),
                    family_name: s.family_name.clone(),
                    student: Some(StudentDetails {
                        year_group: s.year_group,
                        kind: s.kind,
                        subjects: s.subjects.clone(),
                    }),
                    email: None,
                };
                let id = insert_user(&mut tx, &user, Some(school))
                    .await
                    .map_err(|e| match e {
                        Error::Conflict { .. } => Error::Import(ImportError {
                            file: s.file.clone(),
                            line: Some(s.line),
                            field: Some("username".into()),
                            message: format!(
                                "`{}` belongs to another account",
                                user.username.as_str()
                            ),
                        }),
                        other => other,
                    })?;
                on_tx!(&mut tx, |conn| sqlx::query(
                    "UPDATE users SET student_ref = $1 WHERE id = $2"
                )
                .bind(&s.student_ref)
                .bind(id)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
                summary.created += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(summary)
}

#[cfg(test)]
mod tests;
