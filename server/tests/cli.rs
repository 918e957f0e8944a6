//! The command line as IT staff use it: real processes over a SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Cli {
    url: String,
    _dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Cli {
            url: format!("sqlite:{}", dir.path().join("cli.db").display()),
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mentorbridge"))
            .args(args)
            .args(["--database-url", &self.url])
            .env("MENTORBRIDGE_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[test]
fn it_staff_set_up_two_schools_their_people_and_a_partnership_by_script() {
    let cli = Cli::new();
    let add = |slug: &str, tz: &str| {
        cli.run(
            &[
                "school", "add", "--slug", slug, "--name", "A School", "--tz", tz,
            ],
            "",
        )
    };
    let windows = add("hillside", "GMT Standard Time");
    assert!(!windows.status.success());
    assert!(
        stderr(&windows).contains("time_zone") && stderr(&windows).contains("Europe/London"),
        "{}",
        stderr(&windows)
    );

    let hillside = add("hillside", "Europe/London");
    assert!(hillside.status.success(), "{}", stderr(&hillside));
    assert!(
        is_uuid(&stdout(&hillside)),
        "prints the school id: {}",
        stdout(&hillside)
    );
    assert!(add("riverside", "America/New_York").status.success());
    let again = add("hillside", "Europe/London");
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("slug: a school with slug `hillside` already exists"),
        "{}",
        stderr(&again)
    );

    let user = |username: &str, password: &str| {
        cli.run(
            &[
                "user",
                "add",
                "--school",
                "hillside",
                "--role",
                "coordinator",
                "--username",
                username,
            ],
            password,
        )
    };
    let weak = user("rpatel", "secret\n");
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("password"), "{}", stderr(&weak));
    let made = user("rpatel", "quiet-harbour-lamp\n");
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(is_uuid(&stdout(&made)));
    let taken = user("rpatel", "quiet-harbour-lamp\n");
    assert!(!taken.status.success());
    assert!(
        stderr(&taken).contains("username: the username `rpatel` is already taken"),
        "{}",
        stderr(&taken)
    );
    let unknown_school = cli.run(
        &[
            "user",
            "add",
            "--school",
            "nowhere",
            "--role",
            "teacher",
            "--username",
            "t.one",
        ],
        "quiet-harbour-lamp",
    );
    assert!(
        stderr(&unknown_school).contains("--school"),
        "{}",
        stderr(&unknown_school)
    );

    let pair = cli.run(&["partnership", "add", "hillside", "riverside"], "");
    assert!(pair.status.success(), "{}", stderr(&pair));
    assert!(is_uuid(&stdout(&pair)));
    let reverse = cli.run(&["partnership", "add", "riverside", "hillside"], "");
    assert!(!reverse.status.success());
    assert!(
        stderr(&reverse).contains("already have a partnership"),
        "{}",
        stderr(&reverse)
    );
    let itself = cli.run(&["partnership", "add", "hillside", "hillside"], "");
    assert!(!itself.status.success());
    assert!(
        stderr(&itself).contains("a school cannot partner with itself"),
        "{}",
        stderr(&itself)
    );
}

#[test]
fn a_database_url_of_an_unknown_kind_is_named_in_the_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mentorbridge"))
        .args(["migrate", "--database-url", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("sqlite:") && stderr(&out).contains("mysql"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_settings_file_with_an_unknown_key_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mentorbridge.toml");
    std::fs::write(
        &path,
        "bind = \"127.0.0.1:0\"\ndatabse_url = \"sqlite:x.db\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mentorbridge"))
        .args(["--config", path.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("mentorbridge.toml") && err.contains("databse_url"),
        "{err}"
    );
}

#[test]
fn calendars_are_imported_and_slots_listed_from_the_command_line() {
    let cli = Cli::new();
    let demo = |name: &str| format!("{}/demo/{name}", env!("CARGO_MANIFEST_DIR"));
    for (slug, name) in [
        ("hillside", "Hillside Academy"),
        ("st-columbas", "St Columba's College"),
    ] {
        let out = cli.run(
            &[
                "school",
                "add",
                "--slug",
                slug,
                "--name",
                name,
                "--tz",
                "Europe/London",
            ],
            "",
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for (slug, who) in [
        ("hillside", "tokafor"),
        ("st-columbas", "dwalsh"),
        ("st-columbas", "skelly"),
    ] {
        let out = cli.run(
            &[
                "user",
                "add",
                "--school",
                slug,
                "--role",
                "teacher",
                "--username",
                who,
            ],
            "quiet-harbour-lamp",
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let bad = cli.run(
        &[
            "import",
            "term-dates",
            "--school",
            "hillside",
            &demo("hillside-bells.csv"),
        ],
        "",
    );
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains(
            "hillside-bells.csv, line 1: the header must be `start_date,end_date,kind,label`"
        ),
        "{}",
        stderr(&bad)
    );
    for (slug, terms, bells) in [
        ("hillside", "hillside-terms.csv", "hillside-bells.csv"),
        (
            "st-columbas",
            "st-columbas-terms.ics",
            "st-columbas-bells.csv",
        ),
    ] {
        let out = cli.run(
            &["import", "term-dates", "--school", slug, &demo(terms)],
            "",
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let out = cli.run(&["import", "bells", "--school", slug, &demo(bells)], "");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let id = stdout(&cli.run(&["partnership", "add", "hillside", "st-columbas"], ""));
    let policy = cli.run(
        &["partnership", "policy", &id, "--file", &demo("policy.toml")],
        "",
    );
    assert!(policy.status.success(), "{}", stderr(&policy));
    let listed = cli.run(
        &[
            "slots",
            "--partnership",
            &id,
            "--from",
            "2027-03-15",
            "--to",
            "2027-03-19",
            "--json",
        ],
        "",
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    let slots: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(slots.as_array().unwrap().len(), 1);
    assert_eq!(slots[0]["start_utc"], "2027-03-15T08:50:00Z");
    assert_eq!(slots[0]["schools"]["st-columbas"]["devices"], 5);
    let table = stdout(&cli.run(
        &[
            "slots",
            "--partnership",
            &id,
            "--from",
            "2027-03-15",
            "--to",
            "2027-03-19",
        ],
        "",
    ));
    assert!(
        table.contains("Wed 17 Mar: St Columba's College: closed (St Patrick's Day)"),
        "{table}"
    );

    // Nobody referred yet: an empty proposal, kept for the coordinators.
    let matched = cli.run(&["match", "--partnership", &id, "--json"], "");
    assert!(matched.status.success(), "{}", stderr(&matched));
    let proposal: serde_json::Value = serde_json::from_str(&stdout(&matched)).unwrap();
    assert_eq!(proposal["status"], "open");
    assert_eq!(proposal["optimal"], true);
    assert_eq!(proposal["summary"]["mentees"], 0);
    let summary = stdout(&cli.run(&["match", "--partnership", &id], ""));
    assert!(summary.starts_with("0 of 0 mentees matched"), "{summary}");
    let sessions = cli.run(&["sessions", "--school", "hillside", "--json"], "");
    assert!(sessions.status.success(), "{}", stderr(&sessions));
    assert_eq!(stdout(&sessions), "[]");
    let backwards = cli.run(
        &[
            "sessions",
            "--school",
            "hillside",
            "--from",
            "2027-03-19",
            "--to",
            "2027-03-15",
        ],
        "",
    );
    assert!(!backwards.status.success());
    assert!(stderr(&backwards).contains("--to: 2027-03-15 is before --from 2027-03-19"));
    let unknown = cli.run(
        &[
            "match",
            "--partnership",
            "00000000-0000-4000-8000-000000000000",
        ],
        "",
    );
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("--partnership: no partnership has the id"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn a_roster_imported_twice_updates_the_same_students() {
    let cli = Cli::new();
    assert!(
        cli.run(
            &[
                "school",
                "add",
                "--slug",
                "hillside",
                "--name",
                "Hillside",
                "--tz",
                "Europe/London"
            ],
            ""
        )
        .status
        .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    let header = "student_ref,given_name,family_name,year_group,role,subjects,username\n";
    std::fs::write(
        &roster,
        format!("{header}R-1,Aisha,Rahman,12,mentor,Maths,\nR-2,Ben,Clarke,12,mentor,English,\n"),
    )
    .unwrap();
    let first = cli.run(
        &[
            "import",
            "roster",
            "--school",
            "hillside",
            roster.to_str().unwrap(),
        ],
        "",
    );
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("2 new students (no password yet), 0 updated"),
        "{}",
        stdout(&first)
    );
    std::fs::write(
        &roster,
        format!("{header}R-1,Aisha,Rahman,13,mentor,Maths,\nR-2,Ben,Clarke,12,mentee,English,\n"),
    )
    .unwrap();
    let second = cli.run(
        &[
            "import",
            "roster",
            "--school",
            "hillside",
            roster.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        stdout(&second).contains("0 new students (no password yet), 2 updated"),
        "{}",
        stdout(&second)
    );
    std::fs::write(
        &roster,
        format!("{header}R-1,Aisha,Rahman,thirteen,mentor,Maths,\n"),
    )
    .unwrap();
    let bad = cli.run(
        &[
            "import",
            "roster",
            "--school",
            "hillside",
            roster.to_str().unwrap(),
        ],
        "",
    );
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("roster.csv, line 2, field `year_group`"),
        "{}",
        stderr(&bad)
    );
}
