//! The plain roster CSV: one student a row, in the columns
//! `student_ref,given_name,family_name,year_group,role,subjects,username`.

use super::{RosterStudent, check_unique, parse_year, split_subjects};
use crate::import::{Csv, CsvRow, FileCtx, Header, ImportError, read_csv};
use crate::people::accounts::{StudentKind, Username};

const COLUMNS: [&str; 7] = [
    "student_ref",
    "given_name",
    "family_name",
    "year_group",
    "role",
    "subjects",
    "username",
];

/// Reads the plain roster CSV, all of it or the first error.
pub fn parse_roster_csv(
    file: &str,
    text: &str,
) -> std::result::Result<Vec<RosterStudent>, ImportError> {
    let ctx = FileCtx { file };
    let csv = read_csv(&ctx, text, Header::Exactly(&COLUMNS))?;
    let students = csv
        .rows
        .iter()
        .map(|row| read_row(&ctx, &csv, row))
        .collect::<Result<Vec<_>, _>>()?;
    check_unique(&ctx, &students)?;
    Ok(students)
}

fn read_row(ctx: &FileCtx<'_>, csv: &Csv, row: &CsvRow) -> Result<RosterStudent, ImportError> {
    let cell = |name: &str| csv.cell(row, name).to_owned();
    let err = |field: &str, message: String| ctx.err(Some(row.line), Some(field), message);
    let student_ref = cell("student_ref");
    if student_ref.is_empty() || student_ref.chars().count() > 64 {
        return Err(err(
            "student_ref",
            "give the student's id from the school's system (at most 64 characters)".into(),
        ));
    }
    let given_name = cell("given_name");
    if given_name.is_empty() {
        return Err(err("given_name", "must not be empty".into()));
    }
    let year_group = parse_year(&cell("year_group")).ok_or_else(|| {
        err(
            "year_group",
            format!(
                "`{}` is not a year group from 1 to 13 (e.g. 8 or Y8)",
                cell("year_group")
            ),
        )
    })?;
    let kind: StudentKind = cell("role").to_ascii_lowercase().parse().map_err(|_| {
        err(
            "role",
            format!("`{}` is neither `mentor` nor `mentee`", cell("role")),
        )
    })?;
    let username = match cell("username").as_str() {
        "" => None,
        raw => Some(Username::parse(raw).map_err(|e| err("username", e.public_message()))?),
    };
    Ok(RosterStudent {
        file: ctx.file.to_owned(),
        line: row.line,
        student_ref,
        given_name,
        family_name: cell("family_name"),
        year_group,
        kind,
        subjects: split_subjects(&cell("subjects")),
        username,
    })
}
