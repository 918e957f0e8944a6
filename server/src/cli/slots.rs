//! `slots`: a partnership's bookable slots, as each school's clock shows them.

use clap::Args;
use mentorbridge::calendar;

use super::{Context, ListArgs, partnership, user_error};

#[derive(Args)]
pub(super) struct SlotsArgs {
    /// The partnership's id.
    #[arg(long)]
    partnership: uuid::Uuid,
    #[command(flatten)]
    list: ListArgs,
}

/// Prints the slots between `--from` and `--to`, and the weekdays without one.
pub(super) async fn run(ctx: &Context, args: SlotsArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.list.db).await?;
    let partnership = partnership(&store, args.partnership).await?;
    let (from, to) = args.list.range();
    let found = calendar::store::partnership_slots(&store, &partnership, from, to)
        .await
        .map_err(user_error)?;
    if args.list.json {
        say!("{}", serde_json::to_string_pretty(&found.alignment.slots)?);
    } else {
        print_slots(&found);
    }
    Ok(())
}

fn print_slots(found: &calendar::PartnershipSlots) {
    let (a, b) = (&found.a, &found.b);
    say!(
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
        say!(
            "{:<16} {:<24} {:<24}",
            slot.start_utc.format("%Y-%m-%d %H:%M"),
            side(&a.slug),
            side(&b.slug)
        );
    }
    let weekdays_without = found.alignment.empty_days.len();
    say!(
        "\n{} slots of {} minutes; {weekdays_without} weekdays without one",
        found.alignment.slots.len(),
        found.session_minutes
    );
    for day in &found.alignment.empty_days {
        say!(
            "  {}: {}",
            day.date.format("%a %d %b"),
            day.reasons.join("; ")
        );
    }
}
