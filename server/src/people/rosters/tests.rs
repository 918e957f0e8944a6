//! Unit tests of roster reading: the plain CSV and a OneRoster export, and
//! the errors that name the file, line and field.

use super::*;

const HEADER: &str = "student_ref,given_name,family_name,year_group,role,subjects,username\n";

#[test]
fn a_roster_reads_year_groups_as_schools_write_them() {
    let csv = format!(
        "{HEADER}R1,Aoife,Murphy,Y8,mentee,\"Maths, English\",\nR2,Ben,Clarke,Year 12,Mentor,Physics;Maths,ben.c\n"
    );
    let students = parse_roster_csv("roster.csv", &csv).unwrap();
    assert_eq!(students[0].year_group.get(), 8);
    assert_eq!(students[0].subjects, vec!["Maths", "English"]);
    assert_eq!(students[0].username, None);
    assert_eq!(students[1].kind, StudentKind::Mentor);
    assert_eq!(
        students[1].username.as_ref().map(Username::as_str),
        Some("ben.c")
    );
}

#[test]
fn bad_rows_name_the_file_line_and_field() {
    let cases = [
        (
            format!("{HEADER}R1,Aoife,Murphy,Y15,mentee,Maths,\n"),
            2,
            "year_group",
        ),
        (
            format!("{HEADER}R1,Aoife,Murphy,8,buddy,Maths,\n"),
            2,
            "role",
        ),
        (
            format!("{HEADER}R1,Aoife,Murphy,8,mentee,Maths,\nR1,Cian,ONeill,8,mentee,English,\n"),
            3,
            "student_ref",
        ),
        (
            format!("{HEADER}R1,,Murphy,8,mentee,Maths,\n"),
            2,
            "given_name",
        ),
    ];
    for (csv, line, field) in cases {
        let err = parse_roster_csv("roster.csv", &csv).unwrap_err();
        assert_eq!(
            (err.line, err.field.as_deref()),
            (Some(line), Some(field)),
            "{err}"
        );
    }
    let short = format!("{HEADER}R1,Aoife,Murphy,8\n");
    assert_eq!(
        parse_roster_csv("roster.csv", &short).unwrap_err().line,
        Some(2)
    );
    let wrong_header = "ref,given,family\nR1,A,B\n";
    assert_eq!(
        parse_roster_csv("roster.csv", wrong_header)
            .unwrap_err()
            .line,
        Some(1)
    );
}

fn oneroster() -> OneRosterFiles {
    let mut files = OneRosterFiles::new();
    files.insert(
        "manifest.csv".into(),
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n".into(),
    );
    files.insert("orgs.csv".into(), "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\norg-1,,,St Columba's College,school,SC1,\n".into());
    files.insert(
        "users.csv".into(),
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
         u-1,,,true,org-1,student,aoife.murphy,,Aoife,Murphy,,,aoife@example.org,07700900000,,,08,\n\
         u-2,,,true,org-1,teacher,d.walsh,,Declan,Walsh,,,,,,,,\n\
         u-3,tobedeleted,,true,org-1,student,gone.kid,,Gone,Kid,,,,,,,08,\n"
            .into(),
    );
    files.insert(
        "classes.csv".into(),
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n\
         c-1,,,8M1 Maths,08,,,scheduled,,org-1,,Maths,,\n\
         c-2,,,8E2 English,08,,,scheduled,,org-1,,,,\n"
            .into(),
    );
    files.insert(
        "enrollments.csv".into(),
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n\
         e-1,,,c-1,org-1,u-1,student,,,\n\
         e-2,,,c-2,org-1,u-1,student,,,\n\
         e-3,,,c-1,org-1,u-2,teacher,,,\n"
            .into(),
    );
    files
}

#[test]
fn a_oneroster_export_gives_students_with_their_classes_subjects_and_no_contact_details() {
    let students = parse_oneroster(&oneroster(), StudentKind::Mentee).unwrap();
    assert_eq!(students.len(), 1, "teachers and deleted users are skipped");
    let aoife = &students[0];
    assert_eq!(
        (aoife.student_ref.as_str(), aoife.year_group.get()),
        ("u-1", 8)
    );
    assert_eq!(aoife.subjects, vec!["Maths", "8E2 English"]);
    assert!(!format!("{aoife:?}").contains("example.org"));
}

#[test]
fn oneroster_references_that_do_not_resolve_are_named() {
    let mut files = oneroster();
    let enrol = files["enrollments.csv"].replace("e-2,,,c-2", "e-2,,,c-9");
    files.insert("enrollments.csv".into(), enrol);
    let err = parse_oneroster(&files, StudentKind::Mentee).unwrap_err();
    assert_eq!(
        (err.file.as_str(), err.line, err.field.as_deref()),
        ("enrollments.csv", Some(3), Some("classSourcedId"))
    );

    let mut files = oneroster();
    let users = files["users.csv"].replace("u-1,,,true,org-1", "u-1,,,true,org-7");
    files.insert("users.csv".into(), users);
    let err = parse_oneroster(&files, StudentKind::Mentee).unwrap_err();
    assert_eq!(
        (err.file.as_str(), err.line, err.field.as_deref()),
        ("users.csv", Some(2), Some("orgSourcedIds"))
    );

    let mut files = oneroster();
    files.remove("classes.csv");
    assert_eq!(
        parse_oneroster(&files, StudentKind::Mentee)
            .unwrap_err()
            .file,
        "classes.csv"
    );
}
