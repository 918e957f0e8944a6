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

    /// Runs a command that must succeed, and returns what it printed.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// Runs a command that must fail, saying `why` on standard error.
    fn fails(&self, args: &[&str], stdin: &str, why: &str) {
        let out = self.run(args, stdin);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }

    fn add_school(&self, slug: &str, name: &str, tz: &str) -> Output {
        let args = ["school", "add", "--slug", slug, "--name", name, "--tz", tz];
        self.run(&args, "")
    }

    fn add_user(&self, school: &str, role: &str, username: &str, password: &str) -> Output {
        let args = [
            "user",
            "add",
            "--school",
            school,
            "--role",
            role,
            "--username",
            username,
        ];
        self.run(&args, password)
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
    schools_are_added_with_iana_zones_and_unique_slugs(&cli);
    coordinators_are_added_with_strong_passwords_and_unique_usernames(&cli);

    assert!(is_uuid(
        &cli.ok(&["partnership", "add", "hillside", "riverside"], "")
    ));
    cli.fails(
        &["partnership", "add", "riverside", "hillside"],
        "",
        "already have a partnership",
    );
    cli.fails(
        &["partnership", "add", "hillside", "hillside"],
        "",
        "a school cannot partner with itself",
    );
}

fn schools_are_added_with_iana_zones_and_unique_slugs(cli: &Cli) {
    let windows = cli.add_school("hillside", "A School", "GMT Standard Time");
    assert!(!windows.status.success());
    assert!(
        stderr(&windows).contains("time_zone") && stderr(&windows).contains("Europe/London"),
        "{}",
        stderr(&windows)
    );

    // GMT has no summer time: a UK school's summer slots would be an hour out.
    let gmt = cli.add_school("hillside", "A School", "GMT");
    assert!(!gmt.status.success());
    assert!(
        stderr(&gmt).contains("no summer time") && stderr(&gmt).contains("Europe/London"),
        "{}",
        stderr(&gmt)
    );

    let hillside = cli.add_school("hillside", "A School", "Europe/London");
    assert!(hillside.status.success(), "{}", stderr(&hillside));
    assert!(
        is_uuid(&stdout(&hillside)),
        "prints the school id: {}",
        stdout(&hillside)
    );
    let riverside = cli.add_school("riverside", "A School", "America/New_York");
    assert!(riverside.status.success());
    let again = cli.add_school("hillside", "A School", "Europe/London");
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("slug: a school with slug `hillside` already exists"),
        "{}",
        stderr(&again)
    );
}

fn coordinators_are_added_with_strong_passwords_and_unique_usernames(cli: &Cli) {
    let user = |username: &str, password: &str| {
        cli.add_user("hillside", "coordinator", username, password)
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
    let unknown_school = cli.add_user("nowhere", "teacher", "t.one", "quiet-harbour-lamp");
    assert!(
        stderr(&unknown_school).contains("--school"),
        "{}",
        stderr(&unknown_school)
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

/// A database that is not there is named (where, as whom), at once, in one
/// line, even with backtraces asked for.
#[test]
fn a_database_that_does_not_answer_is_named_in_one_line() {
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mentorbridge"))
        .args([
            "migrate",
            "--database-url",
            "postgres://mentorbridge:secret-pw@127.0.0.1:9/school",
        ])
        .env("RUST_BACKTRACE", "1")
        .env("MENTORBRIDGE_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let err = stderr(&out);
    assert!(
        err.contains("127.0.0.1:9") && err.contains("school"),
        "{err}"
    );
    assert!(
        !err.contains("secret-pw"),
        "the password is never printed: {err}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line, no backtrace: {err}"
    );
}

/// `serve` builds every link from the public URL, so it will not start
/// without one (it would otherwise take them from each request's `Host`).
#[test]
fn serve_needs_the_public_url() {
    let cli = Cli::new();
    let out = cli.run(&["serve", "--bind", "127.0.0.1:0"], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--public-url"), "{}", stderr(&out));
}

/// `mentorbridge … | head` stops reading early; the command ends quietly.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let cli = Cli::new();
    assert!(cli.run(&["migrate"], "").status.success());
    for slug in ["north", "south", "east"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mentorbridge"))
            .args([
                "school",
                "add",
                "--slug",
                slug,
                "--name",
                "A School",
                "--tz",
                "Europe/London",
            ])
            .args(["--database-url", &cli.url])
            .env("MENTORBRIDGE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
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

/// `school cycle` changes only what it is given: a week set by hand keeps
/// the anchor set before it (it used to clear it).
#[test]
fn the_week_cycle_changes_only_what_is_given() {
    let cli = Cli::new();
    cli.ok(&["migrate"], "");
    assert!(
        cli.add_school("hillside", "Hillside", "Europe/London")
            .status
            .success()
    );
    // A Week A/B timetable, so that a week can be set to B.
    let bells = demo_file("hillside-bells.csv");
    cli.ok(&["import", "bells", "--school", "hillside", &bells], "");
    cli.ok(
        &[
            "school",
            "cycle",
            "--school",
            "hillside",
            "--anchor",
            "2026-09-14",
            "--holidays-advance",
        ],
        "",
    );
    cli.ok(
        &[
            "school",
            "cycle",
            "--school",
            "hillside",
            "--week",
            "2027-01-04=B",
        ],
        "",
    );
    let url = cli.url.clone();
    let cycle = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let store = mentorbridge::store::Store::connect(&url).await.unwrap();
            let school = store.school_by_slug("hillside").await.unwrap();
            store.school_calendar(school.id).await.unwrap().cycle
        });
    assert_eq!(cycle.anchor, "2026-09-14".parse().ok());
    assert!(cycle.holidays_advance);
    assert_eq!(
        cycle.overrides.get(&"2027-01-04".parse().unwrap()),
        Some(&2),
        "{cycle:?}"
    );
}

fn demo_file(name: &str) -> String {
    format!("{}/demo/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn calendars_are_imported_and_slots_listed_from_the_command_line() {
    let cli = Cli::new();
    let id = two_schools_with_the_demo_calendars(&cli);
    // A policy still carrying iPads says where they went, and sets nothing.
    let old_style = std::env::temp_dir().join(format!("old-policy-{}.toml", std::process::id()));
    std::fs::write(
        &old_style,
        "session_minutes = 20\n[schools.hillside]\nkinds = [\"tutor\"]\ndevices = 6\n[schools.st-columbas]\nkinds = [\"tutor\"]\n",
    )
    .unwrap();
    let refused = cli.run(
        &[
            "partnership",
            "policy",
            &id,
            "--file",
            old_style.to_str().unwrap(),
        ],
        "",
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("school capacity"),
        "{}",
        stderr(&refused)
    );
    cli.ok(
        &[
            "partnership",
            "policy",
            &id,
            "--file",
            &demo_file("policy.toml"),
        ],
        "",
    );
    // The same iPads and supervisors as the demo's capacity.toml.
    let said = cli.ok(
        &[
            "school",
            "capacity",
            "--school",
            "hillside",
            "--devices",
            "6",
            "--supervisor",
            "tokafor",
        ],
        "",
    );
    assert!(said.contains("6 iPads and 1 supervisor"), "{said}");
    cli.fails(
        &[
            "school",
            "capacity",
            "--school",
            "st-columbas",
            "--devices",
            "4",
            "--period-devices",
            "LUNCHTIME=2",
        ],
        "",
        "LUNCHTIME",
    );
    cli.ok(
        &[
            "school",
            "capacity",
            "--school",
            "st-columbas",
            "--devices",
            "4",
            "--supervisor",
            "dwalsh",
            "--supervisor",
            "skelly",
            "--period-devices",
            "FORM=5",
        ],
        "",
    );
    let week = [
        "--partnership",
        &id,
        "--from",
        "2027-03-15",
        "--to",
        "2027-03-19",
    ];
    let listed = cli.ok(&[&["slots"], &week[..], &["--json"]].concat(), "");
    let slots: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(slots.as_array().unwrap().len(), 1);
    assert_eq!(slots[0]["start_utc"], "2027-03-15T08:50:00Z");
    assert_eq!(slots[0]["schools"]["st-columbas"]["devices"], 5);
    let table = stdout(&cli.run(&[&["slots"], &week[..]].concat(), ""));
    assert!(
        table.contains("Wed 17 Mar: St Columba's College: closed (St Patrick's Day)"),
        "{table}"
    );
    nobody_referred_gives_an_empty_proposal_and_no_sessions(&cli, &id);
}

/// Hillside and St Columba's with teachers, the demo's term dates and bells
/// (after a bells file offered as term dates is refused), and their
/// partnership; returns its id.
fn two_schools_with_the_demo_calendars(cli: &Cli) -> String {
    for (slug, name) in [
        ("hillside", "Hillside Academy"),
        ("st-columbas", "St Columba's College"),
    ] {
        let out = cli.add_school(slug, name, "Europe/London");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for (slug, who) in [
        ("hillside", "tokafor"),
        ("st-columbas", "dwalsh"),
        ("st-columbas", "skelly"),
    ] {
        let out = cli.add_user(slug, "teacher", who, "quiet-harbour-lamp");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let bells = demo_file("hillside-bells.csv");
    cli.fails(
        &["import", "term-dates", "--school", "hillside", &bells],
        "",
        "hillside-bells.csv, line 1: the header must be `start_date,end_date,kind,label`",
    );
    for (slug, terms, bells) in [
        ("hillside", "hillside-terms.csv", "hillside-bells.csv"),
        (
            "st-columbas",
            "st-columbas-terms.ics",
            "st-columbas-bells.csv",
        ),
    ] {
        let terms = demo_file(terms);
        cli.ok(&["import", "term-dates", "--school", slug, &terms], "");
        let bells = demo_file(bells);
        cli.ok(&["import", "bells", "--school", slug, &bells], "");
    }
    stdout(&cli.run(&["partnership", "add", "hillside", "st-columbas"], ""))
}

/// Nobody referred yet: an empty proposal, kept for the coordinators, and
/// no sessions; a backwards range and an unknown partnership are named.
fn nobody_referred_gives_an_empty_proposal_and_no_sessions(cli: &Cli, id: &str) {
    let matched = cli.ok(&["match", "--partnership", id, "--json"], "");
    let proposal: serde_json::Value = serde_json::from_str(&matched).unwrap();
    assert_eq!(proposal["status"], "open");
    assert_eq!(proposal["optimal"], true);
    assert_eq!(proposal["summary"]["mentees"], 0);
    let summary = stdout(&cli.run(&["match", "--partnership", id], ""));
    assert!(summary.starts_with("0 of 0 mentees matched"), "{summary}");
    let sessions = cli.ok(&["sessions", "--school", "hillside", "--json"], "");
    assert_eq!(sessions, "[]");
    let backwards = [
        "sessions",
        "--school",
        "hillside",
        "--from",
        "2027-03-19",
        "--to",
        "2027-03-15",
    ];
    cli.fails(
        &backwards,
        "",
        "--to: 2027-03-15 is before --from 2027-03-19",
    );
    let nobody = "00000000-0000-4000-8000-000000000000";
    cli.fails(
        &["match", "--partnership", nobody],
        "",
        "--partnership: no partnership has the id",
    );
}

#[test]
fn a_roster_imported_twice_updates_the_same_students() {
    let cli = Cli::new();
    assert!(
        cli.add_school("hillside", "Hillside", "Europe/London")
            .status
            .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    let path = roster.to_str().unwrap();
    let import = ["import", "roster", "--school", "hillside", path];
    let header = "student_ref,given_name,family_name,year_group,role,subjects,username\n";
    let write = |rows: &str| std::fs::write(&roster, format!("{header}{rows}")).unwrap();

    write("R-1,Aisha,Rahman,12,mentor,Maths,\nR-2,Ben,Clarke,12,mentor,English,\n");
    let first = cli.ok(&import, "");
    assert!(
        first.contains("2 new students (no password yet), 0 updated"),
        "{first}"
    );
    write("R-1,Aisha,Rahman,13,mentor,Maths,\nR-2,Ben,Clarke,12,mentee,English,\n");
    let second = stdout(&cli.run(&import, ""));
    assert!(
        second.contains("0 new students (no password yet), 2 updated"),
        "{second}"
    );
    write("R-1,Aisha,Rahman,thirteen,mentor,Maths,\n");
    cli.fails(&import, "", "roster.csv, line 2, field `year_group`");
}

#[test]
fn a_school_keeps_its_own_words_and_checks_messages_as_the_server_does() {
    let cli = Cli::new();
    assert!(
        cli.add_school("hillside", "Hillside", "Europe/London")
            .status
            .success()
    );
    let added = cli.ok(
        &[
            "messages", "words", "--school", "hillside", "--add", "Skeng",
        ],
        "",
    );
    assert!(added.contains("Added “skeng”"), "{added}");
    cli.fails(
        &[
            "messages",
            "words",
            "--school",
            "hillside",
            "--add",
            &"x".repeat(200),
        ],
        "",
        "at most 60 characters",
    );
    cli.fails(
        &["messages", "words", "--school", "hillside", "--add", "  "],
        "",
        "type a word",
    );
    assert_eq!(
        cli.ok(&["messages", "words", "--school", "hillside", "--list"], "")
            .trim(),
        "skeng"
    );
    let lines = "See you on Monday!\nhe has a sk3ng\ntext me on 07700 900123\nthis is sh1t\n\n";
    let out = cli.ok(&["messages", "check", "--school", "hillside"], lines);
    let verdicts: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pairs: Vec<(&str, Option<&str>)> = verdicts
        .iter()
        .map(|v| (v["verdict"].as_str().unwrap(), v["category"].as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("deliver", None),
            ("block", Some("school_words")),
            ("hold", Some("contact")),
            ("block", Some("swearing")),
            ("block", Some("unsendable")),
        ]
    );
    cli.fails(
        &[
            "messages", "words", "--school", "hillside", "--remove", "nope",
        ],
        "",
        "is not on",
    );
    cli.ok(
        &[
            "messages", "words", "--school", "hillside", "--remove", "skeng",
        ],
        "",
    );
    cli.fails(
        &["messages", "check", "--school", "nowhere"],
        "",
        "no school has the slug",
    );
}

/// The demo's Hillside term dates without the spring term: the file a
/// coordinator uploads by mistake.
fn hillside_without_spring() -> String {
    std::fs::read_to_string(demo_file("hillside-terms.csv"))
        .unwrap()
        .lines()
        .filter(|l| !l.contains("2027-01-") && !l.contains("2027-02-") && !l.contains("2027-03-"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// How many of the demo's sessions are cancelled, read from its database.
fn cancelled_sessions(cli: &Cli) -> usize {
    let url = cli.url.clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let store = mentorbridge::store::Store::connect(&url).await.unwrap();
            let hillside = store.school_by_slug("hillside").await.unwrap();
            let now = chrono::Utc::now();
            store
                .sessions_at_school(hillside.id, now, now + chrono::Duration::days(400))
                .await
                .unwrap()
                .iter()
                .filter(|s| s.status == mentorbridge::booking::SessionStatus::Cancelled)
                .count()
        })
}

#[test]
fn term_dates_that_would_cancel_sessions_are_listed_with_dry_run_and_refused_without_yes() {
    let cli = Cli::new();
    let url = cli.url.clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let store = mentorbridge::store::Store::connect(&url).await.unwrap();
            store.migrate().await.unwrap();
            mentorbridge::demo::seed(&store, |_| {}).await.unwrap();
        });
    let file = cli._dir.path().join("hillside-terms.csv");
    std::fs::write(&file, hillside_without_spring()).unwrap();
    let file = file.display().to_string();
    let before = cancelled_sessions(&cli);
    let import = ["import", "term-dates", "--school", "hillside", &file];

    let listed = cli.ok(&[&import[..], &["--dry-run"]].concat(), "");
    assert!(
        listed.contains("Hillside Academy: this would cancel ") && listed.contains(" pairs:"),
        "{listed}"
    );
    // One line a session: date, time, the pair's first names, and why (not
    // in term; or, after the gap, a different cycle week without the
    // period: holidays do not advance Week A/B).
    let lines: Vec<&str> = listed.lines().filter(|l| l.starts_with("  ")).collect();
    assert!(!lines.is_empty(), "{listed}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" with ") && l.contains("(Hillside Academy")),
        "{listed}"
    );
    assert!(listed.contains("nothing changed (--dry-run)"), "{listed}");
    assert_eq!(
        cancelled_sessions(&cli),
        before,
        "a dry run cancels nothing"
    );

    let refused = cli.run(&import, "");
    assert!(!refused.status.success());
    let why = stderr(&refused);
    let count = format!("would cancel {} sessions", lines.len());
    assert!(why.contains(&count) && why.contains("--yes"), "{why}");
    assert_eq!(
        cancelled_sessions(&cli),
        before,
        "refused, it changes nothing"
    );

    let done = cli.ok(&[&import[..], &["--yes"]].concat(), "");
    assert!(
        done.contains(&format!("this cancelled {} sessions", lines.len())),
        "{done}"
    );
    assert_eq!(cancelled_sessions(&cli), before + lines.len());
    // The same file again cancels nothing more, so needs no --yes.
    let again = cli.ok(&import, "");
    assert!(again.contains("terms and closures imported"), "{again}");
}

/// A school in Doha is added teaching Sunday to Thursday; its bell schedule
/// then has Sunday rows and no Friday ones, and the days are refused where
/// they are mistyped, saying which word.
#[test]
fn a_sunday_to_thursday_school_is_set_up_by_script() {
    let cli = Cli::new();
    cli.ok(&["migrate"], "");
    cli.fails(
        &[
            "school",
            "add",
            "--slug",
            "doha",
            "--name",
            "Doha",
            "--tz",
            "Asia/Qatar",
            "--country",
            "QA",
            "--teaching-days",
            "Sun-Thurs-day",
        ],
        "",
        "--teaching-days: `Thurs-day`",
    );
    cli.ok(
        &[
            "school",
            "add",
            "--slug",
            "doha",
            "--name",
            "Doha",
            "--tz",
            "Asia/Qatar",
            "--country",
            "QA",
            "--teaching-days",
            "Sun-Thu",
        ],
        "",
    );
    let dir = tempfile::tempdir().unwrap();
    let bells = dir.path().join("bells.csv");
    std::fs::write(
        &bells,
        "week,day,period,start,end,kind\n*,Sun,REG,07:15,07:30,registration\n*,Thu,REG,07:15,07:30,registration\n",
    )
    .unwrap();
    let bells = bells.to_str().unwrap();
    let said = cli.ok(&["import", "bells", "--school", "doha", bells], "");
    assert!(said.contains("2 periods"), "{said}");
    let friday = dir.path().join("friday.csv");
    std::fs::write(
        &friday,
        "week,day,period,start,end,kind\n*,Fri,REG,07:15,07:30,registration\n",
    )
    .unwrap();
    cli.fails(
        &[
            "import",
            "bells",
            "--school",
            "doha",
            friday.to_str().unwrap(),
        ],
        "",
        "does not teach on Fridays (it teaches Sun–Thu)",
    );
    let said = cli.ok(
        &["school", "days", "--school", "doha", "--teach", "Mon-Fri"],
        "",
    );
    assert!(
        said.contains("Doha: teaches Mon–Fri; its weeks start on Mondays"),
        "{said}"
    );
}
