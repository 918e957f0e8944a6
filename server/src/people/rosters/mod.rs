//! Rosters: a school's students as its information system exports them.
//!
//! Two formats come in: a plain CSV (`student_ref,given_name,family_name,
//! year_group,role,subjects,username`, read in `plain`) and an IMS
//! OneRoster 1.1 CSV export (`manifest.csv`, `users.csv`, `orgs.csv`,
//! `enrollments.csv`, `classes.csv`, read in `oneroster`). Both become
//! [`RosterStudent`]s; [`import_roster`] then creates or updates accounts by
//! the system's own id (`student_ref`), so a roster can be imported again
//! every term without duplicating anyone.
//!
//! Rosters have no table of their own: accounts are written through
//! [`crate::people::accounts::store`]. The upload form is the Students page's
//! (`accounts::pages`); `http` takes a CSV body over the JSON API.
//!
//! Contact details in an export (email, phone) are never read: mentorbridge
//! keeps none for students.

pub mod http;
mod oneroster;
mod plain;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use uuid::Uuid;

use crate::auth::password::PasswordHash;
use crate::error::{Error, Result};
use crate::import::{FileCtx, ImportError};
use crate::people::accounts::store::{insert_user, set_student_ref, update_rostered_student};
use crate::people::accounts::{NewUser, Role, StudentDetails, StudentKind, Username, YearGroup};
use crate::store::{Store, Tx};

pub use oneroster::{OneRosterFiles, is_oneroster, parse_oneroster};
pub use plain::parse_roster_csv;

/// The largest roster file taken, per file.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// One student from a roster file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterStudent {
    /// Where it came from, for errors found when storing it.
    pub file: String,
    /// Its line (or the users.csv line).
    pub line: usize,
    /// The information system's id.
    pub student_ref: String,
    pub given_name: String,
    pub family_name: String,
    pub year_group: YearGroup,
    pub kind: StudentKind,
    pub subjects: Vec<String>,
    /// The sign-in name, if the file gives one.
    pub username: Option<Username>,
}

impl RosterStudent {
    fn details(&self) -> StudentDetails {
        StudentDetails {
            year_group: self.year_group,
            kind: self.kind,
            subjects: self.subjects.clone(),
        }
    }

    /// An error about this student's username, where the file gave it.
    fn username_error(&self, message: String) -> Error {
        Error::Import(ImportError {
            file: self.file.clone(),
            line: Some(self.line),
            field: Some("username".into()),
            message,
        })
    }
}

/// Reads what the upload form sent: all five files of a OneRoster export,
/// or one roster CSV.
pub fn parse_upload(files: &OneRosterFiles, kind: StudentKind) -> Result<Vec<RosterStudent>> {
    if is_oneroster(files) {
        Ok(parse_oneroster(files, kind)?)
    } else if let [(name, text)] = files.iter().collect::<Vec<_>>()[..] {
        Ok(parse_roster_csv(name, text)?)
    } else {
        Err(Error::invalid(
            "files",
            "choose one roster CSV, or all five files of a OneRoster export (manifest, users, orgs, classes, enrollments)",
        ))
    }
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

/// Each student, and each username given, appears once in a roster.
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

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RosterSummary {
    /// New accounts (without passwords yet).
    pub created: usize,
    /// Existing accounts brought up to date.
    pub updated: usize,
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

/// A new student's username: the roster's, or `given.family` (plain ASCII;
/// `student.<ref>` if that is too short) with the first free number added.
fn username_for(s: &RosterStudent, taken: &BTreeSet<String>) -> Result<Username> {
    if let Some(u) = &s.username {
        return Ok(u.clone());
    }
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
    Username::parse(&candidate)
}

/// Creates or updates every student in one transaction: all or nothing.
/// New accounts have no password until staff set one. Students already
/// stored but absent from this roster are left as they are.
pub async fn import_roster(
    store: &Store,
    school: Uuid,
    students: &[RosterStudent],
) -> Result<RosterSummary> {
    let by_ref = store.student_refs(school).await?;
    let mut taken = store.usernames().await?;
    let mut summary = RosterSummary::default();
    let mut tx = store.begin().await?;
    for s in students {
        match by_ref.get(s.student_ref.as_str()) {
            Some(id) => {
                update_student(&mut tx, *id, s).await?;
                summary.updated += 1;
            }
            None => {
                let username = username_for(s, &taken)?;
                taken.insert(username.as_str().to_owned());
                create_student(&mut tx, school, s, username).await?;
                summary.created += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(summary)
}

async fn update_student(tx: &mut Tx, id: Uuid, s: &RosterStudent) -> Result<()> {
    update_rostered_student(
        tx,
        id,
        &s.given_name,
        &s.family_name,
        &s.details(),
        s.username.as_ref(),
    )
    .await
    .map_err(|e| match e {
        Error::Conflict { message, .. } => s.username_error(message),
        other => other,
    })
}

async fn create_student(
    tx: &mut Tx,
    school: Uuid,
    s: &RosterStudent,
    username: Username,
) -> Result<()> {
    let user = NewUser {
        username,
        password_hash: PasswordHash::from_stored(PasswordHash::NONE.to_owned()),
        role: Role::Student,
        given_name: s.given_name.clone(),
        family_name: s.family_name.clone(),
        student: Some(s.details()),
        email: None,
    };
    let id = insert_user(tx, &user, Some(school))
        .await
        .map_err(|e| match e {
            Error::Conflict { .. } => s.username_error(format!(
                "`{}` belongs to another account",
                user.username.as_str()
            )),
            other => other,
        })?;
    set_student_ref(tx, id, &s.student_ref).await
}

#[cfg(test)]
mod tests;
