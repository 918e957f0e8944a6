//! `import roster`, `import term-dates` and `import bells`: a school's files
//! read from disk and handed to the same parsers the upload pages use.
//!
//! A calendar file that would cancel sessions is refused unless `--yes`
//! says to go ahead; `--dry-run` lists what it would cancel and changes
//! nothing. Both use the same rule as the change itself.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use mentorbridge::calendar;
use mentorbridge::people::accounts::StudentKind;
use mentorbridge::people::rosters::{self, OneRosterFiles};

use super::{Context, DbArgs, read_file, school_by_slug, spinner, user_error};

#[derive(Subcommand)]
pub(super) enum ImportCommand {
    /// Create or update a school's students from a roster CSV
    /// (`student_ref,given_name,family_name,year_group,role,subjects,username`)
    /// or a folder holding a OneRoster 1.1 CSV export.
    Roster(RosterArgs),
    /// Replace a school's terms and closures from CSV
    /// (`start_date,end_date,kind,label`) or an .ics file.
    TermDates(TermDatesArgs),
    /// Add a school's bell schedule from CSV (`week,day,period,start,end,kind`).
    Bells(BellsArgs),
}

#[derive(Args)]
pub(super) struct RosterArgs {
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
}

// What a calendar change does about the sessions it would cancel.
#[derive(Args)]
pub(super) struct CancelArgs {
    /// Change nothing: list the sessions the change would cancel.
    #[arg(long)]
    pub(super) dry_run: bool,
    /// Go ahead even though the change cancels sessions.
    #[arg(long, conflicts_with = "dry_run")]
    pub(super) yes: bool,
}

#[derive(Args)]
pub(super) struct TermDatesArgs {
    /// The school's slug.
    #[arg(long)]
    school: String,
    /// The file.
    file: PathBuf,
    #[command(flatten)]
    cancel: CancelArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
pub(super) struct BellsArgs {
    /// The school's slug.
    #[arg(long)]
    school: String,
    /// The first date it applies to [default: always].
    #[arg(long)]
    effective_from: Option<chrono::NaiveDate>,
    /// The file.
    file: PathBuf,
    #[command(flatten)]
    cancel: CancelArgs,
    #[command(flatten)]
    db: DbArgs,
}

pub(super) async fn run(ctx: &Context, command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Roster(args) => roster(ctx, args).await,
        ImportCommand::TermDates(args) => term_dates(ctx, args).await,
        ImportCommand::Bells(args) => bells(ctx, args).await,
    }
}

/// Creates or updates the school's students; prints how many of each.
async fn roster(ctx: &Context, args: RosterArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    let students = if args.path.is_dir() {
        let files = read_oneroster(&args.path)?;
        let kind = StudentKind::parse(&args.kind).map_err(user_error)?;
        rosters::parse_oneroster(&files, kind).map_err(|e| user_error(e.into()))?
    } else {
        let text = read_file(&args.path)?;
        rosters::parse_roster_csv(&args.path.display().to_string(), &text)
            .map_err(|e| user_error(e.into()))?
    };
    let bar = spinner(format!(
        "Importing {} students into {}",
        students.len(),
        school.name
    ));
    let summary = rosters::import_roster(&store, school.id, &students)
        .await
        .map_err(user_error)?;
    bar.finish_and_clear();
    say!(
        "{}: {} new students (no password yet), {} updated",
        school.name,
        summary.created,
        summary.updated
    );
    Ok(())
}

/// The OneRoster files a folder holds (the parser says which are missing).
fn read_oneroster(folder: &Path) -> anyhow::Result<OneRosterFiles> {
    let mut files = OneRosterFiles::new();
    for name in [
        "manifest.csv",
        "users.csv",
        "orgs.csv",
        "classes.csv",
        "enrollments.csv",
    ] {
        let file = folder.join(name);
        if file.exists() {
            files.insert(name.to_owned(), read_file(&file)?);
        }
    }
    Ok(files)
}

/// Prints the sessions a calendar change cancels (or would), one a line.
pub(super) fn print_cancels(school: &str, change: &calendar::store::CalendarChange) {
    let c = &change.cancellations;
    if c.is_empty() {
        return;
    }
    say!(
        "{school}: this {} {}:",
        if change.dry_run {
            "would cancel"
        } else {
            "cancelled"
        },
        c.counted()
    );
    for s in &c.cancels {
        say!(
            "  {} {}  {} with {}  ({})",
            s.date.format("%a %-d %b %Y"),
            s.time,
            s.mentee,
            s.mentor,
            s.reason
        );
    }
}

/// Refuses a change that cancels sessions unless `--yes` said to go ahead.
pub(super) fn check_cancels(
    school: &str,
    args: &CancelArgs,
    preview: &calendar::store::CalendarChange,
) -> anyhow::Result<()> {
    if args.yes || preview.cancellations.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{school}: this change would cancel {}; nothing was changed. \
         Run again with --dry-run to list them, or with --yes to go ahead",
        preview.cancellations.counted()
    )
}

/// Replaces the school's terms and closures; prints how many, and what it
/// cancelled. `--dry-run` only lists what it would cancel.
async fn term_dates(ctx: &Context, args: TermDatesArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    let text = read_file(&args.file)?;
    let name = args.file.display().to_string();
    let change =
        |dry_run| calendar::store::change_term_dates(&store, school.id, &name, &text, dry_run);
    let (n, preview) = change(true).await.map_err(user_error)?;
    if args.cancel.dry_run {
        print_cancels(&school.name, &preview);
        say!(
            "{}: {n} terms and closures read; nothing changed (--dry-run)",
            school.name
        );
        return Ok(());
    }
    check_cancels(&school.name, &args.cancel, &preview)?;
    let (n, done) = change(false).await.map_err(user_error)?;
    print_cancels(&school.name, &done);
    say!("{}: {n} terms and closures imported", school.name);
    Ok(())
}

/// Adds a bell schedule; prints its size, and what it cancelled.
/// `--dry-run` only lists what it would cancel.
async fn bells(ctx: &Context, args: BellsArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    let text = read_file(&args.file)?;
    let name = args.file.display().to_string();
    let change = |dry_run| {
        calendar::store::change_bells(
            &store,
            school.id,
            &name,
            &text,
            args.effective_from,
            dry_run,
        )
    };
    let (schedule, preview) = change(true).await.map_err(user_error)?;
    if args.cancel.dry_run {
        print_cancels(&school.name, &preview);
        say!(
            "{}: {} periods in a {}-week cycle read; nothing changed (--dry-run)",
            school.name,
            schedule.periods.len(),
            schedule.cycle_weeks
        );
        return Ok(());
    }
    check_cancels(&school.name, &args.cancel, &preview)?;
    let (schedule, done) = change(false).await.map_err(user_error)?;
    print_cancels(&school.name, &done);
    say!(
        "{}: {} periods in a {}-week cycle imported",
        school.name,
        schedule.periods.len(),
        schedule.cycle_weeks
    );
    Ok(())
}
