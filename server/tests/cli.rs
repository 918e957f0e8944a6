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
