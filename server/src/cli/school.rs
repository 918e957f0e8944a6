//! `school add`, `school days`, `school cycle` and `school capacity`.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use mentorbridge::calendar;
use mentorbridge::people::schools::{NewSchool, SchoolInput};

use super::{Context, DbArgs, school_by_slug, user_error};

#[derive(Subcommand)]
pub(super) enum SchoolCommand {
    /// Set how a school counts Week A / Week B; what is not given stays as
    /// it was.
    Cycle(CycleArgs),
    /// Add a school.
    Add(AddArgs),
    /// Set the days of the week a school teaches (Mon-Fri, Sun-Thu …);
    /// its week, and Week A/B, start on the first of them.
    Days(DaysArgs),
    /// Declare the school's iPads and supervisors for mentoring, shared by
    /// all its partnerships, from a date on.
    Capacity(CapacityArgs),
}

#[derive(Args)]
pub(super) struct CapacityArgs {
    /// The school's slug.
    #[arg(long)]
    school: String,
    /// The first date this holds [from the start].
    #[arg(long)]
    from: Option<chrono::NaiveDate>,
    /// iPads for mentoring in each period.
    #[arg(long)]
    devices: u32,
    /// A member of staff who can supervise (their username); repeatable.
    #[arg(long = "supervisor")]
    supervisors: Vec<String>,
    /// Pairs one supervisor can watch at once [6].
    #[arg(long)]
    pairs_per_supervisor: Option<u32>,
    /// A period with other iPads than the rest, as CODE=N (e.g. REG=2);
    /// repeatable.
    #[arg(long = "period-devices")]
    period_devices: Vec<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
pub(super) struct CycleArgs {
    /// The school's slug.
    #[arg(long)]
    school: String,
    /// A date in Week A [unchanged if not given; at first, the first day
    /// of the first term].
    #[arg(long, conflicts_with = "first_term_anchor")]
    anchor: Option<chrono::NaiveDate>,
    /// Count Week A from the first day of the first term again.
    #[arg(long)]
    first_term_anchor: bool,
    /// Whether holiday weeks advance the cycle too (`--holidays-advance`
    /// alone means true) [unchanged if not given].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    holidays_advance: Option<bool>,
    /// A week set by hand, as DATE=LETTER (e.g. 2027-01-04=B); repeatable;
    /// added to the weeks already set.
    #[arg(long = "week")]
    weeks: Vec<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
pub(super) struct DaysArgs {
    /// The school's slug.
    #[arg(long)]
    school: String,
    /// The days, as a range or a list: `Sun-Thu`, `Mon,Tue,Wed,Thu,Fri`.
    #[arg(long)]
    teach: String,
    #[command(flatten)]
    cancel: super::import::CancelArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
pub(super) struct AddArgs {
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
    /// The days it teaches, e.g. `Sun-Thu` [Mon-Fri].
    #[arg(long)]
    teaching_days: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

pub(super) async fn run(ctx: &Context, command: SchoolCommand) -> anyhow::Result<()> {
    match command {
        SchoolCommand::Cycle(args) => cycle(ctx, args).await,
        SchoolCommand::Add(args) => add(ctx, args).await,
        SchoolCommand::Days(args) => days(ctx, args).await,
        SchoolCommand::Capacity(args) => capacity(ctx, args).await,
    }
}

/// Saves one declaration of iPads and supervisors; prints what holds now.
async fn capacity(ctx: &Context, args: CapacityArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    let mut periods = std::collections::BTreeMap::new();
    for given in &args.period_devices {
        let (code, n) = given
            .split_once('=')
            .with_context(|| format!("--period-devices: `{given}` should look like REG=2"))?;
        let n = n
            .parse()
            .with_context(|| format!("--period-devices: `{n}` is not a number of iPads"))?;
        periods.insert(
            code.to_owned(),
            calendar::capacity::PeriodCapacity {
                devices: Some(n),
                supervisors: None,
            },
        );
    }
    let input = calendar::capacity::CapacityInput {
        from: args.from,
        capacity: calendar::capacity::SchoolCapacity {
            devices: args.devices,
            supervisors: args.supervisors,
            pairs_per_supervisor: args.pairs_per_supervisor,
            periods,
        },
    };
    let declared = calendar::store::declare_capacity(&store, school.id, &input)
        .await
        .map_err(user_error)?;
    let supervisors = declared.capacity.supervisors.len();
    say!(
        "{}: {} iPads and {supervisors} supervisor{} for mentoring {}, in every partnership",
        school.name,
        declared.capacity.devices,
        if supervisors == 1 { "" } else { "s" },
        if declared.from <= calendar::since_always() {
            "from the start".to_owned()
        } else {
            format!("from {}", declared.from)
        },
    );
    Ok(())
}

/// Saves the week cycle; prints a confirmation.
async fn cycle(ctx: &Context, args: CycleArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    // Only what is given changes: `--week` alone used to clear the anchor.
    let was = store
        .school_calendar(school.id)
        .await
        .map_err(user_error)?
        .cycle;
    let mut input = calendar::CycleInput {
        anchor: if args.first_term_anchor {
            None
        } else {
            args.anchor.or(was.anchor)
        },
        holidays_advance: args.holidays_advance.unwrap_or(was.holidays_advance),
        weeks: was
            .overrides
            .iter()
            .map(|(monday, week)| (*monday, week.to_string()))
            .collect(),
    };
    for week in &args.weeks {
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
    say!("{}: week cycle saved", school.name);
    Ok(())
}

/// `--teach` or `--teaching-days`, read as a school writes them.
fn teaching_days(flag: &str, raw: &str) -> anyhow::Result<calendar::model::TeachingDays> {
    calendar::model::TeachingDays::parse(raw)
        .map_err(|message| anyhow::anyhow!("{flag}: {message}"))
}

/// Sets the days a school teaches; prints them, and what it cancelled.
async fn days(ctx: &Context, args: DaysArgs) -> anyhow::Result<()> {
    let days = teaching_days("--teach", &args.teach)?;
    let store = ctx.open(&args.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    let change = |dry_run| calendar::store::change_teaching_days(&store, school.id, days, dry_run);
    let preview = change(true).await.map_err(user_error)?;
    if args.cancel.dry_run {
        super::import::print_cancels(&school.name, &preview);
        say!(
            "{}: would teach {days}; nothing changed (--dry-run)",
            school.name
        );
        return Ok(());
    }
    super::import::check_cancels(&school.name, &args.cancel, &preview)?;
    let done = change(false).await.map_err(user_error)?;
    super::import::print_cancels(&school.name, &done);
    say!(
        "{}: teaches {days}; its weeks start on {}s",
        school.name,
        calendar::model::long_day(days.first())
    );
    Ok(())
}

/// Adds the school; prints its id.
async fn add(ctx: &Context, args: AddArgs) -> anyhow::Result<()> {
    let days = args
        .teaching_days
        .as_deref()
        .map(|raw| teaching_days("--teaching-days", raw))
        .transpose()?;
    let store = ctx.open(&args.db).await?;
    let input = SchoolInput {
        slug: args.slug,
        name: args.name,
        time_zone: args.tz,
        country: Some(args.country),
        region: args.region,
    };
    let school = store
        .create_school(&NewSchool::parse(&input).map_err(user_error)?, None)
        .await
        .map_err(user_error)?;
    if let Some(days) = days {
        // A new school has no sessions for this to cancel.
        calendar::store::change_teaching_days(&store, school.id, days, false)
            .await
            .map_err(user_error)?;
    }
    say!("{}", school.id);
    Ok(())
}
