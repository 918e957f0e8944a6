//! `school add` and `school cycle`.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use mentorbridge::calendar;
use mentorbridge::people::schools::{NewSchool, SchoolInput};

use super::{Context, DbArgs, school_by_slug, user_error};

#[derive(Subcommand)]
pub(super) enum SchoolCommand {
    /// Set how a school counts Week A / Week B.
    Cycle(CycleArgs),
    /// Add a school.
    Add(AddArgs),
}

#[derive(Args)]
pub(super) struct CycleArgs {
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
    #[command(flatten)]
    db: DbArgs,
}

pub(super) async fn run(ctx: &Context, command: SchoolCommand) -> anyhow::Result<()> {
    match command {
        SchoolCommand::Cycle(args) => cycle(ctx, args).await,
        SchoolCommand::Add(args) => add(ctx, args).await,
    }
}

/// Saves the week cycle; prints a confirmation.
async fn cycle(ctx: &Context, args: CycleArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    let mut input = calendar::CycleInput {
        anchor: args.anchor,
        holidays_advance: args.holidays_advance,
        ..Default::default()
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

/// Adds the school; prints its id.
async fn add(ctx: &Context, args: AddArgs) -> anyhow::Result<()> {
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
    say!("{}", school.id);
    Ok(())
}
