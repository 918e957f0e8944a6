//! `sessions`: a school's mentoring sessions in a date range, at its own
//! local times.

use anyhow::bail;
use clap::Args;
use mentorbridge::booking::Session;
use mentorbridge::people::schools::School;
use mentorbridge::store::Store;

use super::{Context, ListArgs, school_by_slug, user_error};

#[derive(Args)]
pub(super) struct SessionsArgs {
    /// The school's slug.
    #[arg(long)]
    school: String,
    #[command(flatten)]
    list: ListArgs,
}

/// Prints the sessions from the start of `--from` to the end of `--to` (UTC).
pub(super) async fn run(ctx: &Context, args: SessionsArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.list.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    let (from, to) = args.list.range();
    if to < from {
        bail!("--to: {to} is before --from {from}");
    }
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = to.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + chrono::Duration::days(1);
    let sessions = store
        .sessions_at_school(school.id, start, end)
        .await
        .map_err(user_error)?;
    if args.list.json {
        say!("{}", serde_json::to_string_pretty(&sessions)?);
    } else {
        print_sessions(&store, &school, &sessions).await?;
    }
    Ok(())
}

/// One line a session: when (the school's local time), status, who.
async fn print_sessions(
    store: &Store,
    school: &School,
    sessions: &[Session],
) -> anyhow::Result<()> {
    let all_names = store.session_names(sessions).await.map_err(user_error)?;
    for (s, names) in sessions.iter().zip(all_names) {
        let local = s.local.get(&school.slug).map_or_else(
            || format!("{} UTC", s.starts_at.format("%a %d %b %H:%M")),
            |e| format!("{} {}", e.date.format("%a %d %b"), e.start.format("%H:%M")),
        );
        say!(
            "{local}  {:<10} {} ({}) with {} ({})",
            s.status.as_str(),
            names.mentee,
            names.mentee_school,
            names.mentor,
            names.mentor_school
        );
    }
    say!("\n{} sessions at {}", sessions.len(), school.name);
    Ok(())
}
