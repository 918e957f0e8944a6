//! `match`: runs the optimiser for a partnership and prints its proposal,
//! which waits for both coordinators' approval on the matching page.

use clap::Args;
use mentorbridge::matching::Proposal;

use super::{Context, DbArgs, partnership, spinner, user_error};

#[derive(Args)]
pub(super) struct MatchArgs {
    /// The partnership's id.
    #[arg(long)]
    partnership: uuid::Uuid,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

pub(super) async fn run(ctx: &Context, args: MatchArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let partnership = partnership(&store, args.partnership).await?;
    let bar = spinner("Aligning calendars and solving…");
    let proposal = store
        .run_matching(&partnership, None)
        .await
        .map_err(user_error);
    bar.finish_and_clear();
    let proposal = proposal?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&proposal)?);
    } else {
        print_proposal(&proposal);
    }
    Ok(())
}

fn print_proposal(proposal: &Proposal) {
    let body = &proposal.body;
    say!(
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
        say!("\n{} with {}", m.mentee.given_name, m.mentor.given_name);
        for reason in &m.because {
            say!("  - {reason}");
        }
    }
    if !body.unmatched.is_empty() {
        say!("\nNot matched:");
        for u in &body.unmatched {
            say!(
                "  {} (priority {}): {}",
                u.mentee.given_name,
                u.priority.unwrap_or_default(),
                u.reason()
            );
        }
    }
    say!(
        "\nProposal {} waits for both coordinators to approve it.",
        proposal.id
    );
}
