//! The command line: the clap types and one function per command.
//!
//! This is a module of the `mentorbridge` binary, not of the library: the
//! library is the app and its domain, usable from tests without a terminal;
//! argument parsing, progress bars, `anyhow` and the wording of terminal
//! errors stay here. A command is a thin script over the library, in the
//! same order each time: open the store ([`Context::open`]), look up what
//! the arguments name ([`school_by_slug`], [`partnership`]), call the
//! domain, print. Domain errors reach the terminal through [`user_error`],
//! which names the flag at fault.
//!
//! - [`serve`]: `serve`, `demo` (settings from flags, the file and defaults).
//! - [`school`]: `school add`, `school cycle`.
//! - [`user`]: `user add`.
//! - [`partnership`]: `partnership add`, `partnership policy`.
//! - [`import`]: `import roster`, `import term-dates`, `import bells`.
//! - [`slots`], [`matching`], [`sessions`]: `slots`, `match`, `sessions`.
//! - [`certificate`]: `certificate` (a mentor's volunteering certificate as a PDF).
//! - [`report`]: `report` (a school's, partnership's or group's figures).

/// Prints a line to standard output, as `println!` does, except that a
/// reader that has gone (`mentorbridge … | head`) ends the program quietly
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::say_line(format_args!($($arg)*))
    };
}

mod certificate;
mod import;
mod matching;
mod messages;
mod partnership;
mod report;
mod school;
mod serve;
mod sessions;
mod slots;
mod user;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use mentorbridge::config::{DEFAULT_DATABASE_URL, FileSettings};
use mentorbridge::error::Error;
use mentorbridge::people::partnerships::Partnership;
use mentorbridge::people::schools::School;
use mentorbridge::store::Store;

/// Cross-school peer mentoring: calendars, matching, bookings, video sessions
/// and the mentoring record.
#[derive(Parser)]
#[command(name = "mentorbridge", version)]
pub struct Cli {
    /// A TOML file of settings (keys: bind, database_url, secret_key, public_url, trusted_proxies, smtp_url, mail_from).
    #[arg(long, global = true, env = "MENTORBRIDGE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

// The argument structs below carry `//` comments, not doc comments: clap
// would take a doc comment as the subcommand's help, and the help is the
// variant's.
#[derive(Subcommand)]
enum Command {
    /// Serve the web app and API.
    Serve(serve::ServerArgs),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Start the server on a fresh demo database with two partner schools.
    Demo(serve::ServerArgs),
    /// Manage schools.
    #[command(subcommand)]
    School(school::SchoolCommand),
    /// Manage accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage partnerships.
    #[command(subcommand)]
    Partnership(partnership::PartnershipCommand),
    /// Import a school's calendar files.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// List a partnership's bookable slots.
    Slots(slots::SlotsArgs),
    /// List a school's mentoring sessions.
    Sessions(sessions::SessionsArgs),
    /// Propose the best mentor and weekly slot for every approved mentee of
    /// a partnership, with the reasons; the proposal waits for both
    /// coordinators to approve it on the matching page.
    Match(matching::MatchArgs),
    /// A school's own word list, and checking messages as the server does.
    #[command(subcommand)]
    Messages(messages::MessagesCommand),
    /// Issue a mentor's volunteering certificate (sessions and hours
    /// delivered, signed by a coordinator) and write it as a PDF.
    Certificate(certificate::CertificateArgs),
    /// A school's, a partnership's or a group's report: mentors, mentees,
    /// sessions, hours, attendance, change from baseline to exit, targets
    /// and feedback, for a range of dates and by term.
    Report(report::ReportArgs),
}

// Which database a command works on.
#[derive(Args, Clone, Default)]
struct DbArgs {
    /// `sqlite:PATH` or `postgres://…` [default: sqlite:mentorbridge.db; for demo, sqlite:mentorbridge-demo.db]
    #[arg(long, env = "MENTORBRIDGE_DATABASE_URL")]
    database_url: Option<String>,
}

// The date range and output format of a listing command (`slots`,
// `sessions`).
#[derive(Args)]
struct ListArgs {
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
}

impl ListArgs {
    /// `--from` (default today) and `--to` (default four weeks after
    /// `--from`).
    fn range(&self) -> (chrono::NaiveDate, chrono::NaiveDate) {
        let from = self.from.unwrap_or_else(|| chrono::Utc::now().date_naive());
        (from, self.to.unwrap_or(from + chrono::Days::new(27)))
    }
}

/// Logs to standard error: `MENTORBRIDGE_LOG` filters (default
/// `info,sqlx=warn`), `MENTORBRIDGE_LOG_FORMAT=json` for one JSON object a line.
pub fn init_tracing() {
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

/// Runs the command the arguments name.
/// Writes one line for [`say!`].
pub(crate) fn say_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("mentorbridge: could not write the output: {e}");
        std::process::exit(1);
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve(args) => serve::serve(&ctx, &args).await,
        Command::Demo(args) => serve::demo(&ctx, &args).await,
        Command::Migrate(db) => migrate(&ctx, &db).await,
        Command::School(command) => school::run(&ctx, command).await,
        Command::User(command) => user::run(&ctx, command).await,
        Command::Partnership(command) => partnership::run(&ctx, command).await,
        Command::Import(command) => import::run(&ctx, command).await,
        Command::Slots(args) => slots::run(&ctx, args).await,
        Command::Sessions(args) => sessions::run(&ctx, args).await,
        Command::Match(args) => matching::run(&ctx, args).await,
        Command::Messages(command) => messages::run(&ctx, command).await,
        Command::Certificate(args) => certificate::run(&ctx, args).await,
        Command::Report(args) => report::run(&ctx, args).await,
    }
}

async fn migrate(ctx: &Context, db: &DbArgs) -> anyhow::Result<()> {
    let store = ctx.open(db).await?;
    say!("{} database is up to date", store.backend_name());
    Ok(())
}

/// What every command shares: the settings file (`--config`), read once.
struct Context {
    file: FileSettings,
}

impl Context {
    fn load(config: Option<&Path>) -> anyhow::Result<Self> {
        let file = match config {
            Some(path) => FileSettings::load(path).map_err(anyhow::Error::msg)?,
            None => FileSettings::default(),
        };
        Ok(Context { file })
    }

    /// The database URL: the flag (or its variable), else the file, else
    /// `default`.
    fn database_url(&self, db: &DbArgs, default: &str) -> String {
        db.database_url
            .clone()
            .or_else(|| self.file.database_url.clone())
            .unwrap_or_else(|| default.to_owned())
    }

    /// Connects to the command's database and brings it up to date.
    async fn open(&self, db: &DbArgs) -> anyhow::Result<Store> {
        open_url(&self.database_url(db, DEFAULT_DATABASE_URL)).await
    }
}

/// Connects to `url` and applies any migrations it has not seen.
async fn open_url(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    Ok(store)
}

/// Finds a school by slug; `what` names the argument in the error.
async fn school_by_slug(store: &Store, what: &str, slug: &str) -> anyhow::Result<School> {
    match store.school_by_slug(slug).await {
        Ok(school) => Ok(school),
        Err(Error::NotFound(_)) => bail!("{what}: no school has the slug `{slug}`"),
        Err(other) => Err(user_error(other)),
    }
}

/// Finds the partnership `--partnership` (or a positional id) names.
async fn partnership(store: &Store, id: uuid::Uuid) -> anyhow::Result<Partnership> {
    match store.partnership(id).await {
        Ok(p) => Ok(p),
        Err(Error::NotFound(_)) => bail!("--partnership: no partnership has the id {id}"),
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

fn read_file(path: &Path) -> anyhow::Result<String> {
    let bytes =
        std::fs::read(path).with_context(|| format!("Failed to read {}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!(
            "{}",
            mentorbridge::import::not_utf8(&path.display().to_string())
        )
    })
}

/// A spinner on standard error while a slow step runs.
fn spinner(message: impl Into<std::borrow::Cow<'static, str>>) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
