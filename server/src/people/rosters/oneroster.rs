//! An IMS OneRoster 1.1 CSV export, read in the order its files refer to
//! one another: the manifest's version, the orgs, the classes (at an org),
//! the users (at orgs) and the enrolments (of a user in a class).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{RosterStudent, check_unique, parse_year, split_subjects};
use crate::import::{Csv, CsvRow, FileCtx, Header, ImportError, read_csv};
use crate::people::accounts::{StudentKind, Username};

/// The files of a OneRoster 1.1 CSV export, by file name.
pub type OneRosterFiles = BTreeMap<String, String>;

type Parsed<T> = std::result::Result<T, ImportError>;

/// Whether a set of uploaded files is a OneRoster export.
pub fn is_oneroster(files: &OneRosterFiles) -> bool {
    files.contains_key("users.csv") && files.contains_key("manifest.csv")
}

/// Reads a OneRoster 1.1 CSV export. Every student (`role` = `student`)
/// becomes a roster student of `kind` (the export does not say who mentors);
/// their subjects are those of the classes they are enrolled in. Every
/// reference (a user's org, an enrolment's class and user, a class's school)
/// must resolve.
pub fn parse_oneroster(files: &OneRosterFiles, kind: StudentKind) -> Parsed<Vec<RosterStudent>> {
    check_version(&read(files, "manifest.csv", &["propertyname", "value"])?)?;
    let orgs = read(files, "orgs.csv", &["sourcedid", "name", "type"])?;
    let org_ids: BTreeSet<&str> = orgs
        .rows
        .iter()
        .map(|r| orgs.cell(r, "sourcedid"))
        .collect();
    let classes = read(
        files,
        "classes.csv",
        &["sourcedid", "title", "schoolsourcedid"],
    )?;
    let class_subjects = class_subjects(&classes, &org_ids)?;
    let users = read(
        files,
        "users.csv",
        &[
            "sourcedid",
            "orgsourcedids",
            "role",
            "username",
            "givenname",
            "familyname",
            "grades",
        ],
    )?;
    let user_ids: BTreeSet<&str> = users
        .rows
        .iter()
        .map(|r| users.cell(r, "sourcedid"))
        .collect();
    let mut students = Vec::new();
    for row in &users.rows {
        if let Some(student) = read_user(&users, row, &org_ids, kind)? {
            students.push(student);
        }
    }
    let enrollments = read(
        files,
        "enrollments.csv",
        &["sourcedid", "classsourcedid", "usersourcedid", "role"],
    )?;
    add_enrolled_subjects(&enrollments, &class_subjects, &user_ids, &mut students)?;
    check_unique(&FileCtx { file: "users.csv" }, &students)?;
    Ok(students)
}

/// One file of the export, which must be there and have these columns.
fn read(files: &OneRosterFiles, name: &'static str, columns: &[&str]) -> Parsed<Csv> {
    let text = files.get(name).ok_or_else(|| ImportError {
        file: name.to_owned(),
        line: None,
        field: None,
        message: "this OneRoster file is missing from the export".into(),
    })?;
    read_csv(&FileCtx { file: name }, text, Header::Includes(columns))
}

fn check_version(manifest: &Csv) -> Parsed<()> {
    if let Some(row) = manifest
        .rows
        .iter()
        .find(|r| manifest.cell(r, "propertyname") == "oneroster.version")
        && !manifest.cell(row, "value").starts_with("1.1")
    {
        return Err(FileCtx {
            file: "manifest.csv",
        }
        .err(
            Some(row.line),
            Some("value"),
            format!(
                "OneRoster version {} is not supported; export version 1.1",
                manifest.cell(row, "value")
            ),
        ));
    }
    Ok(())
}

/// Each class's subjects (its listed subjects, or else its title), once its
/// school is known to be one of the orgs.
fn class_subjects<'c>(
    classes: &'c Csv,
    org_ids: &BTreeSet<&str>,
) -> Parsed<HashMap<&'c str, Vec<String>>> {
    let ctx = FileCtx {
        file: "classes.csv",
    };
    let mut out = HashMap::new();
    for row in &classes.rows {
        let school = classes.cell(row, "schoolsourcedid");
        if !org_ids.contains(school) {
            return Err(ctx.err(
                Some(row.line),
                Some("schoolSourcedId"),
                format!("`{school}` is not an org in orgs.csv"),
            ));
        }
        let subjects = match classes.cell(row, "subjects") {
            "" => vec![classes.cell(row, "title").to_owned()],
            listed => split_subjects(listed),
        };
        out.insert(classes.cell(row, "sourcedid"), subjects);
    }
    Ok(out)
}

/// A user row: its orgs must resolve; it is a roster student only if it is
/// an active student (not `tobedeleted`, not disabled).
fn read_user(
    users: &Csv,
    row: &CsvRow,
    org_ids: &BTreeSet<&str>,
    kind: StudentKind,
) -> Parsed<Option<RosterStudent>> {
    let ctx = FileCtx { file: "users.csv" };
    let err = |field: &str, message: String| ctx.err(Some(row.line), Some(field), message);
    for org in users
        .cell(row, "orgsourcedids")
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        if !org_ids.contains(org) {
            return Err(err(
                "orgSourcedIds",
                format!("`{org}` is not an org in orgs.csv"),
            ));
        }
    }
    let active = !users
        .cell(row, "status")
        .eq_ignore_ascii_case("tobedeleted")
        && !users.cell(row, "enableduser").eq_ignore_ascii_case("false");
    if users.cell(row, "role") != "student" || !active {
        return Ok(None);
    }
    let given_name = users.cell(row, "givenname").to_owned();
    if given_name.is_empty() {
        return Err(err("givenName", "must not be empty".into()));
    }
    let grade = users
        .cell(row, "grades")
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let year_group = parse_year(&grade).ok_or_else(|| {
        err(
            "grades",
            format!("`{grade}` is not a year group from 1 to 13"),
        )
    })?;
    let username = match users.cell(row, "username") {
        "" => None,
        raw => Some(Username::parse(raw).map_err(|e| err("username", e.public_message()))?),
    };
    Ok(Some(RosterStudent {
        file: "users.csv".into(),
        line: row.line,
        student_ref: users.cell(row, "sourcedid").to_owned(),
        given_name,
        family_name: users.cell(row, "familyname").to_owned(),
        year_group,
        kind,
        subjects: Vec::new(),
        username,
    }))
}

/// Gives each student the subjects of the classes they are enrolled in,
/// once each enrolment's class and user are known.
fn add_enrolled_subjects(
    enrollments: &Csv,
    class_subjects: &HashMap<&str, Vec<String>>,
    user_ids: &BTreeSet<&str>,
    students: &mut [RosterStudent],
) -> Parsed<()> {
    let ctx = FileCtx {
        file: "enrollments.csv",
    };
    for row in &enrollments.rows {
        let class = enrollments.cell(row, "classsourcedid");
        let user = enrollments.cell(row, "usersourcedid");
        let Some(subjects) = class_subjects.get(class) else {
            return Err(ctx.err(
                Some(row.line),
                Some("classSourcedId"),
                format!("`{class}` is not a class in classes.csv"),
            ));
        };
        if !user_ids.contains(user) {
            return Err(ctx.err(
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
    Ok(())
}
