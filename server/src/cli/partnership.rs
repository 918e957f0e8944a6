//! `partnership add` and `partnership policy`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use mentorbridge::calendar;

use super::{Context, DbArgs, partnership, read_file, school_by_slug, user_error};

#[derive(Subcommand)]
pub(super) enum PartnershipCommand {
    /// Set a partnership's slot policy from a TOML file.
    Policy(PolicyArgs),
    /// Record an agreed partnership between two schools; prints its id.
    Add(AddArgs),
}

#[derive(Args)]
pub(super) struct PolicyArgs {
    /// The partnership's id.
    id: uuid::Uuid,
    /// session_minutes, and [schools.<slug>] with the kinds and codes of
    /// the periods it uses (iPads and supervisors: `school capacity`).
    #[arg(long)]
    file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
pub(super) struct AddArgs {
    /// One school's slug.
    school_a: String,
    /// The other school's slug.
    school_b: String,
    #[command(flatten)]
    db: DbArgs,
}

pub(super) async fn run(ctx: &Context, command: PartnershipCommand) -> anyhow::Result<()> {
    match command {
        PartnershipCommand::Policy(args) => policy(ctx, args).await,
        PartnershipCommand::Add(args) => add(ctx, args).await,
    }
}

/// Records the partnership as already accepted by both; prints its id.
async fn add(ctx: &Context, args: AddArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let a = school_by_slug(&store, "SCHOOL_A", &args.school_a).await?;
    let b = school_by_slug(&store, "SCHOOL_B", &args.school_b).await?;
    let p = store
        .create_accepted_partnership(a.id, b.id)
        .await
        .map_err(user_error)?;
    say!("{}", p.id);
    Ok(())
}

/// Replaces the slot policy; errors in the file are prefixed with its path.
async fn policy(ctx: &Context, args: PolicyArgs) -> anyhow::Result<()> {
    let (id, path) = (args.id, &args.file);
    let store = ctx.open(&args.db).await?;
    let partnership = partnership(&store, id).await?;
    let text = read_file(path)?;
    let input: calendar::PolicyInput =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let policy = calendar::store::parse_policy(&store, &partnership, &input, None)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), user_error(e)))?;
    store
        .put_slot_policy(id, &policy)
        .await
        .map_err(user_error)?;
    say!("policy set: {}-minute sessions", policy.session_minutes);
    Ok(())
}
