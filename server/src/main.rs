//! The `mentorbridge` command: serve the app, run the demo, and set schools up
//! by script.

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use mentorbridge::app::{self, run};
use mentorbridge::calendar;
use mentorbridge::config::{
    DEFAULT_BIND, DEFAULT_DATABASE_URL, FileSettings, MailSettings, SecretKey, Settings,
};
use mentorbridge::error::Error;
use mentorbridge::people::accounts::{ParsedAccount, StaffInput, StudentInput};
use mentorbridge::people::schools::{NewSchool, SchoolInput};
use mentorbridge::state::AppState;
use mentorbridge::store::Store;

/// Cross-school peer mentoring: calendars, matching, bookings, video sessions
/// and the mentoring record.
#[derive(Parser)]
#[command(name = "mentorbridge", version)]
struct Cli {
    /// A TOML file of settings (keys: bind, database_url, secret_key, public_url, trusted_proxies, smtp_url, mail_from).
    #[arg(long, global = true, env = "MENTORBRIDGE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and API.
    Serve(ServerArgs),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Start the server on a fresh demo database with two partner schools.
    Demo(ServerArgs),
    /// Manage schools.
    #[command(subcommand)]
    School(SchoolCommand),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage partnerships.
    #[command(subcommand)]
    Partnership(PartnershipCommand),
    /// Import a school's calendar files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// List a partnership's bookable slots.
    Slots {
        /// The partnership's id.
        #[arg(long)]
        partnership: uuid::Uuid,
        /// First date (YYYY-MM-DD) [default: today].
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last date (YYYY-MM-DD) [default: four weeks after --from].
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List a school's mentoring sessions.
    Sessions {
        /// The school's slug.
        #[arg(long)]
        school: String,
        /// First date (YYYY-MM-DD) [default: today].
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last date (YYYY-MM-DD) [default: four weeks after --from].
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Propose the best mentor and weekly slot for every approved mentee of
    /// a partnership, with the reasons; the proposal waits for both
    /// coordinators to approve it on the matching page.
    Match {
        /// The partnership's id.
        #[arg(long)]
        partnership: uuid::Uuid,
        /// Print JSON instead of a summary.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Create or update a school's students from a roster CSV
    /// (`student_ref,given_name,family_name,year_group,role,subjects,username`)
    /// or a folder holding a OneRoster 1.1 CSV export.
    Roster {
        /// The school's slug.
        #[arg(long)]
        school: String,
        /// For a OneRoster export: whether its students are mentors or mentees.
        #[arg(long, default_value = "mentee")]
        kind: String,
        /// The CSV file, or the OneRoster folder.
        path: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Replace a school's terms and closures from CSV
    /// (`start_date,end_date,kind,label`) or an .ics file.
    TermDates {
        /// The school's slug.
        #[arg(long)]
        school: String,
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Add a school's bell schedule from CSV (`week,day,period,start,end,kind`).
    Bells {
        /// The school's slug.
        #[arg(long)]
        school: String,
        /// The first date it applies to [default: always].
        #[arg(long)]
        effective_from: Option<chrono::NaiveDate>,
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Args, Clone, Default)]
struct DbArgs {
    /// `sqlite:PATH` or `postgres://…` [default: sqlite:mentorbridge.db; for demo, sqlite:mentorbridge-demo.db]
    #[arg(long, env = "MENTORBRIDGE_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args, Clone, Default)]
struct ServerArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "MENTORBRIDGE_BIND")]
    bind: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// Key (32+ characters) that signs tokens; random per run if unset.
    #[arg(long, env = "MENTORBRIDGE_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// The address people reach the server at, e.g. https://mentoring.example.sch.uk
    #[arg(long, env = "MENTORBRIDGE_PUBLIC_URL")]
    public_url: Option<String>,
    /// A reverse proxy whose X-Forwarded-For is believed (repeat, or comma-separate).
    #[arg(
        long = "trusted-proxy",
        env = "MENTORBRIDGE_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// The mail server invites go through, e.g. smtp://relay.school.sch.uk:587?tls=required
    /// (without it, invites wait in the outbox).
    #[arg(long, env = "MENTORBRIDGE_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The scheme's mailbox, sender and organizer of invites.
    #[arg(long, env = "MENTORBRIDGE_MAIL_FROM")]
    mail_from: Option<String>,
    /// A STUN server for calls, e.g. stun:turn.example.sch.uk:3478 (repeat, or comma-separate).
    #[arg(
        long = "stun-url",
        env = "MENTORBRIDGE_STUN_URLS",
        value_delimiter = ','
    )]
    stun_urls: Vec<String>,
    /// A TURN server for calls, e.g. turns:turn.example.sch.uk:443?transport=tcp (repeat, or comma-separate).
    #[arg(
        long = "turn-url",
        env = "MENTORBRIDGE_TURN_URLS",
        value_delimiter = ','
    )]
    turn_urls: Vec<String>,
    /// coturn's static-auth-secret, to mint TURN credentials per call.
    #[arg(long, env = "MENTORBRIDGE_TURN_SECRET", hide_env_values = true)]
    turn_secret: Option<String>,
    /// Serve https: the certificate chain (PEM). iPads allow the camera only on https.
    #[arg(long, env = "MENTORBRIDGE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// Serve https: the private key (PEM).
    #[arg(long, env = "MENTORBRIDGE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum SchoolCommand {
    /// Set how a school counts Week A / Week B.
    Cycle {
        /// The school's slug.
        #[arg(long)]
        school: String,
        /// A date in Week A [default: the first day of the first term].
        #[arg(long)]
        anchor: Option<chrono::NaiveDate>,
        /// Holiday weeks advance the cycle too.
        #[arg(long)]
        holidays_advance: bool,
        /// A week set by hand, as DATE=LETTER (e.g. 2027-01-04=B); repeatable.
        #[arg(long = "week")]
        weeks: Vec<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Add a school.
    Add {
        /// Short name for scripts, e.g. `hillside`.
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. `Europe/London`.
        #[arg(long)]
        tz: String,
        /// ISO 3166 country code.
        #[arg(long, default_value = "GB")]
        country: String,
        /// ISO 3166-2 region, e.g. `GB-SCT`.
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account; the password is read from standard input.
    Add {
        /// The school's slug (not for `--role admin`).
        #[arg(long)]
        school: Option<String>,
        /// admin, coordinator, teacher, safeguarding_lead or student.
        #[arg(long)]
        role: String,
        /// Sign-in name.
        #[arg(long)]
        username: String,
        /// Given name [default: the username].
        #[arg(long)]
        given_name: Option<String>,
        /// Family name.
        #[arg(long, default_value = "")]
        family_name: String,
        /// Students: year group, 1 to 13.
        #[arg(long)]
        year_group: Option<i64>,
        /// Students: mentor or mentee.
        #[arg(long)]
        kind: Option<String>,
        /// Students: subjects, comma-separated.
        #[arg(long, default_value = "")]
        subjects: String,
        /// Staff: a work address for calendar invites.
        #[arg(long)]
        email: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum PartnershipCommand {
    /// Set a partnership's slot policy from a TOML file.
    Policy {
        /// The partnership's id.
        id: uuid::Uuid,
        /// session_minutes, and [schools.<slug>] with kinds, codes, devices, supervisors.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Record an agreed partnership between two schools; prints its id.
    Add {
        /// One school's slug.
        school_a: String,
        /// The other school's slug.
        school_b: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("MENTORBRIDGE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("MENTORBRIDGE_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let cli = Cli::parse();
    let file = match &cli.config {
        Some(path) => FileSettings::load(path).map_err(anyhow::Error::msg)?,
        None => FileSettings::default(),
    };
    match cli.command {
        Command::Serve(args) => serve(settings(&args, &file, DEFAULT_DATABASE_URL)?, None).await,
        Command::Demo(args) => demo(settings(&args, &file, "sqlite:mentorbridge-demo.db")?).await,
        Command::Migrate(db) => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            println!("{} database is up to date", store.backend_name());
            Ok(())
        }
        Command::School(SchoolCommand::Cycle {
            school,
            anchor,
            holidays_advance,
            weeks,
            db,
        }) => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let school = school_by_slug(&store, "--school", &school).await?;
            let mut input = calendar::store::CycleInput {
                anchor,
                holidays_advance,
                ..Default::default()
            };
            for week in &weeks {
                let (date, label) = week
                    .split_once('=')
                    .with_context(|| format!("--week: `{week}` should look like 2027-01-04=B"))?;
                let date = date
                    .parse()
                    .with_context(|| format!("--week: `{date}` is not a date like 2027-01-04"))?;
                input.weeks.insert(date, label.to_owned());
            }
            calendar::store::save_cycle(&store, school.id, &input)
                .await
                .map_err(user_error)?;
            println!("{}: week cycle saved", school.name);
            Ok(())
        }
        Command::School(SchoolCommand::Add {
            slug,
            name,
            tz,
            country,
            region,
            db,
        }) => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let input = SchoolInput {
                slug,
                name,
                time_zone: tz,
                country: Some(country),
                region,
            };
            let school = store
                .create_school(&NewSchool::parse(&input).map_err(user_error)?, None)
                .await
                .map_err(user_error)?;
            println!("{}", school.id);
            Ok(())
        }
        Command::User(UserCommand::Add {
            school,
            role,
            username,
            given_name,
            family_name,
            year_group,
            kind,
            subjects,
            email,
            db,
        }) => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let password = read_password()?;
            let given_name = given_name.unwrap_or_else(|| username.clone());
            let account = match role.as_str() {
                "admin" => {
                    if school.is_some() {
                        bail!(
                            "--school: platform administrators belong to no school; leave it out"
                        );
                    }
                    ParsedAccount::admin(&username, &password, &given_name)
                }
                "student" => ParsedAccount::student(&StudentInput {
                    username,
                    password,
                    given_name,
                    family_name,
                    year_group: year_group.context("--year-group is required for a student")?,
                    kind: kind.context("--kind (mentor or mentee) is required for a student")?,
                    subjects: subjects.split(',').map(str::to_owned).collect(),
                }),
                _ => ParsedAccount::staff(&StaffInput {
                    username,
                    password,
                    given_name,
                    family_name,
                    role,
                    email,
                }),
            }
            .map_err(user_error)?;
            let school_id = match (&school, account.role()) {
                (_, mentorbridge::people::accounts::Role::Admin) => None,
                (Some(slug), _) => Some(school_by_slug(&store, "--school", slug).await?.id),
                (None, _) => bail!("--school is required for this role"),
            };
            let user = store
                .create_user(&account.hash().await.map_err(user_error)?, school_id)
                .await
                .map_err(user_error)?;
            println!("{}", user.id);
            Ok(())
        }
        Command::Partnership(PartnershipCommand::Add {
            school_a,
            school_b,
            db,
        }) => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let a = school_by_slug(&store, "SCHOOL_A", &school_a).await?;
            let b = school_by_slug(&store, "SCHOOL_B", &school_b).await?;
            let p = store
                .create_accepted_partnership(a.id, b.id)
                .await
                .map_err(user_error)?;
            println!("{}", p.id);
            Ok(())
        }
        Command::Partnership(PartnershipCommand::Policy { id, file: path, db }) => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let partnership = partnership(&store, id).await?;
            let text = read_file(&path)?;
            let input: calendar::store::PolicyInput =
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let policy = calendar::store::parse_policy(&store, &partnership, &input, None)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), user_error(e)))?;
            store
                .put_slot_policy(id, &policy)
                .await
                .map_err(user_error)?;
            println!("policy set: {}-minute sessions", policy.session_minutes);
            Ok(())
        }
        Command::Import(ImportCommand::Roster {
            school,
            kind,
            path,
            db,
        }) => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let school = school_by_slug(&store, "--school", &school).await?;
            let students = if path.is_dir() {
                let mut files = mentorbridge::people::rosters::OneRosterFiles::new();
                for name in [
                    "manifest.csv",
                    "users.csv",
                    "orgs.csv",
                    "classes.csv",
                    "enrollments.csv",
                ] {
                    let file = path.join(name);
                    if file.exists() {
                        files.insert(name.to_owned(), read_file(&file)?);
                    }
                }
                let kind = mentorbridge::people::accounts::StudentKind::parse(&kind)
                    .map_err(user_error)?;
                mentorbridge::people::rosters::parse_oneroster(&files, kind)
                    .map_err(|e| user_error(e.into()))?
            } else {
                let text = read_file(&path)?;
                mentorbridge::people::rosters::parse_roster_csv(&path.display().to_string(), &text)
                    .map_err(|e| user_error(e.into()))?
            };
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(format!(
                "Importing {} students into {}",
                students.len(),
                school.name
            ));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let summary =
                mentorbridge::people::rosters::import_roster(&store, school.id, &students)
                    .await
                    .map_err(user_error)?;
            bar.finish_and_clear();
            println!(
                "{}: {} new students (no password yet), {} updated",
                school.name, summary.created, summary.updated
            );
            Ok(())
        }
        Command::Import(ImportCommand::TermDates {
            school,
            file: path,
            db,
        }) => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let school = school_by_slug(&store, "--school", &school).await?;
            let text = read_file(&path)?;
            let n = calendar::store::import_term_dates(
                &store,
                school.id,
                &path.display().to_string(),
                &text,
            )
            .await
            .map_err(user_error)?;
            println!("{}: {n} terms and closures imported", school.name);
            Ok(())
        }
        Command::Import(ImportCommand::Bells {
            school,
            effective_from,
            file: path,
            db,
        }) => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let school = school_by_slug(&store, "--school", &school).await?;
            let text = read_file(&path)?;
            let schedule = calendar::store::import_bells(
                &store,
                school.id,
                &path.display().to_string(),
                &text,
                effective_from,
            )
            .await
            .map_err(user_error)?;
            println!(
                "{}: {} periods in a {}-week cycle imported",
                school.name,
                schedule.periods.len(),
                schedule.cycle_weeks
            );
            Ok(())
        }
        Command::Slots {
            partnership: id,
            from,
            to,
            json,
            db,
        } => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let partnership = partnership(&store, id).await?;
            let from = from.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let to = to.unwrap_or(from + chrono::Days::new(27));
            let found = calendar::store::partnership_slots(&store, &partnership, from, to)
                .await
                .map_err(user_error)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&found.alignment.slots)?);
            } else {
                print_slots(&found);
            }
            Ok(())
        }
        Command::Sessions {
            school,
            from,
            to,
            json,
            db,
        } => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let school = school_by_slug(&store, "--school", &school).await?;
            let from = from.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let to = to.unwrap_or(from + chrono::Days::new(27));
            if to < from {
                bail!("--to: {to} is before --from {from}");
            }
            let start = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            let end =
                to.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + chrono::Duration::days(1);
            let sessions = store
                .sessions_at_school(school.id, start, end)
                .await
                .map_err(user_error)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&sessions)?);
            } else {
                let all_names = store.session_names(&sessions).await.map_err(user_error)?;
                for (s, names) in sessions.iter().zip(all_names) {
                    let local = s.local.get(&school.slug).map_or_else(
                        || format!("{} UTC", s.starts_at.format("%a %d %b %H:%M")),
                        |e| format!("{} {}", e.date.format("%a %d %b"), e.start.format("%H:%M")),
                    );
                    println!(
                        "{local}  {:<10} {} ({}) with {} ({})",
                        s.status.as_str(),
                        names.mentee,
                        names.mentee_school,
                        names.mentor,
                        names.mentor_school
                    );
                }
                println!("\n{} sessions at {}", sessions.len(), school.name);
            }
            Ok(())
        }
        Command::Match {
            partnership: id,
            json,
            db,
        } => {
            let store = open(&database_url(&db, &file, DEFAULT_DATABASE_URL)).await?;
            let partnership = partnership(&store, id).await?;
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message("Aligning calendars and solving…");
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let proposal = store
                .run_matching(&partnership, None)
                .await
                .map_err(user_error);
            bar.finish_and_clear();
            let proposal = proposal?;
            if json {
                println!("{}", serde_json::to_string_pretty(&proposal)?);
            } else {
                print_proposal(&proposal);
            }
            Ok(())
        }
    }
}

fn print_proposal(proposal: &mentorbridge::matching::store::Proposal) {
    let body = &proposal.body;
    println!(
        "{} of {} mentees matched ({}; a first-come pass would match {})",
        body.summary.matched,
        body.summary.mentees,
        if body.optimal {
            "proven optimal"
        } else {
            "not proven optimal"
        },
        body.summary.greedy_matched
    );
    for m in &body.matches {
        println!("\n{} with {}", m.mentee.given_name, m.mentor.given_name);
        for reason in &m.because {
            println!("  - {reason}");
        }
    }
    if !body.unmatched.is_empty() {
        println!("\nNot matched:");
        for u in &body.unmatched {
            println!(
                "  {} (priority {}): {}",
                u.mentee.given_name,
                u.priority.unwrap_or_default(),
                u.because
            );
        }
    }
    println!(
        "\nProposal {} waits for both coordinators to approve it.",
        proposal.id
    );
}

fn read_file(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("Failed to read {}", path.display()))
}

async fn partnership(
    store: &Store,
    id: uuid::Uuid,
) -> anyhow::Result<mentorbridge::people::partnerships::Partnership> {
    match store.partnership(id).await {
        Ok(p) => Ok(p),
        Err(Error::NotFound(_)) => bail!("--partnership: no partnership has the id {id}"),
        Err(other) => Err(user_error(other)),
    }
}

fn print_slots(found: &calendar::store::PartnershipSlots) {
    let (a, b) = (&found.a, &found.b);
    println!(
        "{:<16} {:<24} {:<24}",
        "UTC",
        format!("{} ({})", a.name, a.time_zone),
        format!("{} ({})", b.name, b.time_zone)
    );
    for slot in &found.alignment.slots {
        let side = |slug: &str| {
            slot.schools.get(slug).map_or_else(String::new, |e| {
                format!(
                    "{} {} {} wk {}",
                    e.date.format("%a %d %b"),
                    e.start.format("%H:%M"),
                    e.period,
                    e.week
                )
            })
        };
        println!(
            "{:<16} {:<24} {:<24}",
            slot.start_utc.format("%Y-%m-%d %H:%M"),
            side(&a.slug),
            side(&b.slug)
        );
    }
    let weekdays_without = found.alignment.empty_days.len();
    println!(
        "\n{} slots of {} minutes; {weekdays_without} weekdays without one",
        found.alignment.slots.len(),
        found.session_minutes
    );
    for day in &found.alignment.empty_days {
        println!(
            "  {}: {}",
            day.date.format("%a %d %b"),
            day.reasons.join("; ")
        );
    }
}

/// Finds a school by slug; `what` names the argument in the error.
async fn school_by_slug(
    store: &Store,
    what: &str,
    slug: &str,
) -> anyhow::Result<mentorbridge::people::schools::School> {
    match store.school_by_slug(slug).await {
        Ok(school) => Ok(school),
        Err(Error::NotFound(_)) => bail!("{what}: no school has the slug `{slug}`"),
        Err(other) => Err(user_error(other)),
    }
}

/// Turns a domain error into a message naming the field, for the terminal.
fn user_error(err: Error) -> anyhow::Error {
    match err.field() {
        Some(field) => anyhow::anyhow!(
            "{field}: {}",
            err.public_message()
                .trim_start_matches(&format!("{field}: "))
        ),
        None => anyhow::anyhow!("{}", err.public_message()),
    }
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (then Enter and Ctrl-D): ");
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .context("Failed to read the password from standard input")?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

fn database_url(db: &DbArgs, file: &FileSettings, default: &str) -> String {
    db.database_url
        .clone()
        .or_else(|| file.database_url.clone())
        .unwrap_or_else(|| default.to_owned())
}

fn settings(args: &ServerArgs, file: &FileSettings, default_db: &str) -> anyhow::Result<Settings> {
    let bind = args
        .bind
        .clone()
        .or_else(|| file.bind.clone())
        .unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let bind: SocketAddr = bind
        .parse()
        .with_context(|| format!("--bind: `{bind}` is not an address like 127.0.0.1:8080"))?;
    let secret_key = match args.secret_key.clone().or_else(|| file.secret_key.clone()) {
        Some(raw) => SecretKey::parse(&raw).map_err(|e| anyhow::anyhow!("--secret-key: {e}"))?,
        None => SecretKey::ephemeral(),
    };
    Ok(Settings {
        bind,
        database_url: database_url(&args.db, file, default_db),
        secret_key,
        public_url: args.public_url.clone().or_else(|| file.public_url.clone()),
        trusted_proxies: if args.trusted_proxies.is_empty() {
            file.trusted_proxies.clone().unwrap_or_default()
        } else {
            args.trusted_proxies.clone()
        },
        mail: match (
            args.smtp_url.clone().or_else(|| file.smtp_url.clone()),
            args.mail_from.clone().or_else(|| file.mail_from.clone()),
        ) {
            (None, None) => None,
            (Some(url), Some(from)) => Some(MailSettings::new(&url, &from)),
            (Some(_), None) => anyhow::bail!(
                "--mail-from: say which mailbox invites come from, e.g. \"Mentoring <mentoring@school.sch.uk>\""
            ),
            (None, Some(_)) => {
                anyhow::bail!("--smtp-url: say which mail server invites go through")
            }
        },
        ice: {
            let pick = |flag: &Vec<String>, file: &Option<Vec<String>>| {
                if flag.is_empty() {
                    file.clone().unwrap_or_default()
                } else {
                    flag.clone()
                }
            };
            let turn = pick(&args.turn_urls, &file.turn_urls);
            let secret = args
                .turn_secret
                .clone()
                .or_else(|| file.turn_secret.clone());
            if !turn.is_empty() && secret.is_none() {
                anyhow::bail!(
                    "--turn-secret: TURN servers need coturn's static-auth-secret to mint credentials"
                );
            }
            mentorbridge_signalling::ice::IceConfig {
                stun: pick(&args.stun_urls, &file.stun_urls),
                turn,
                turn_secret: secret.map(String::into_bytes),
                ttl: std::time::Duration::from_secs(3600),
            }
        },
        tls: match (
            args.tls_cert.clone().or_else(|| file.tls_cert.clone()),
            args.tls_key.clone().or_else(|| file.tls_key.clone()),
        ) {
            (Some(cert), Some(key)) => {
                let files = mentorbridge::config::TlsFiles { cert, key };
                // Read now, so a wrong file is named before anything starts.
                mentorbridge::tls::server_config(&files).map_err(|e| anyhow::anyhow!(e))?;
                Some(files)
            }
            (None, None) => None,
            _ => anyhow::bail!("--tls-cert and --tls-key go together"),
        },
    })
}

async fn open(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    Ok(store)
}

async fn serve(settings: Settings, banner: Option<String>) -> anyhow::Result<()> {
    let store = open(&settings.database_url).await?;
    let listener = mentorbridge_signalling::ws::listener(settings.bind)
        .with_context(|| format!("Failed to listen on {}", settings.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = store.backend_name(), "mentorbridge is listening");
    if let Some(banner) = banner {
        println!("{}", banner.replace("{url}", &format!("http://{addr}")));
    }
    app::install_crypto_provider();
    let (signalling, events) = app::start_signalling(&settings);
    let state = AppState::new(store.clone(), settings, signalling);
    run(listener, state, events, shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn demo(settings: Settings) -> anyhow::Result<()> {
    if let Some(path) = settings.database_url.strip_prefix("sqlite:") {
        let path = path
            .trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or(path);
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{path}{suffix}");
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("Failed to remove the old demo database {file}"));
                }
            }
        }
    }
    let store = open(&settings.database_url).await?;
    let bar = indicatif::ProgressBar::new(mentorbridge::demo::ACCOUNT_COUNT);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "Creating demo accounts {bar:30} {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let logins = mentorbridge::demo::seed(&store, |name| {
        bar.set_message(name.to_owned());
        bar.inc(1);
    })
    .await
    .map_err(user_error)?;
    bar.finish_and_clear();
    store.close().await;

    let mut banner = String::from(
        "\nmentorbridge demo is running at {url}\n\nSign in as any of these (password: ",
    );
    banner.push_str(mentorbridge::demo::DEMO_PASSWORD);
    banner.push_str(")\n");
    let width = logins.iter().map(|l| l.username.len()).max().unwrap_or(0);
    for login in &logins {
        banner.push_str(&format!("  {:width$}  {}\n", login.username, login.who));
    }
    banner.push_str(
        "\nHillside and St Columba's have approved the optimiser's matches, and their weekly sessions\n\
         are booked: see Sessions as any of them. One referral at St Columba's waits for cbyrne to\n\
         countersign it; then Partnerships → Matching runs the optimiser again for it.\n\
         \nA call is open now for the last two people above: sign in as each in two browsers\n\
         (one private window), tap Join the call on the home page, and allow the camera. Staff see it\n\
         live under Today's calls; last week's sessions show who came. Check iPad tests a device.\n",
    );
    banner.push_str("\nPress Ctrl-C to stop.");
    serve(settings, Some(banner)).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
