//! `report`: a school's, a partnership's or a group's report for a range
//! of dates, as text (the headline and every table), JSON, or one table
//! as CSV.

use anyhow::bail;
use clap::Args;
use mentorbridge::reports::{DateRange, Scope, build};

use super::{Context, DbArgs, partnership, school_by_slug, user_error};

#[derive(Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["school", "partnership", "group"])))]
pub(super) struct ReportArgs {
    /// The school's slug.
    #[arg(long)]
    school: Option<String>,
    /// The partnership's id.
    #[arg(long)]
    partnership: Option<uuid::Uuid>,
    /// The group of schools' id.
    #[arg(long)]
    group: Option<uuid::Uuid>,
    /// First date (YYYY-MM-DD), included [default: 1 September of this school year].
    #[arg(long)]
    from: Option<String>,
    /// Last date (YYYY-MM-DD), included [default: 31 August of this school year].
    #[arg(long)]
    to: Option<String>,
    /// Print the whole report as JSON.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print one table as CSV (see --table).
    #[arg(long)]
    csv: bool,
    /// The table --csv prints: summary, cancellations, identifiers, feedback, terms, schools.
    #[arg(long, default_value = "summary", requires = "csv")]
    table: String,
    #[command(flatten)]
    db: DbArgs,
}

pub(super) async fn run(ctx: &Context, args: ReportArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let scope = if let Some(slug) = &args.school {
        let school = school_by_slug(&store, "--school", slug).await?;
        Scope::of_school(&store, school).await
    } else if let Some(id) = args.partnership {
        Scope::of_partnership(&store, partnership(&store, id).await?).await
    } else if let Some(id) = args.group {
        match store.group(id).await {
            Ok(_) => Scope::of_group(&store, id).await,
            Err(mentorbridge::error::Error::NotFound(_)) => {
                bail!("--group: no group of schools has the id {id}")
            }
            Err(e) => Err(e),
        }
    } else {
        bail!("name one of --school, --partnership or --group");
    }
    .map_err(user_error)?;
    let range = DateRange::parse(
        args.from.as_deref(),
        args.to.as_deref(),
        chrono::Utc::now().date_naive(),
    )
    .map_err(flag_error)?;
    let report = build(&store, &scope, range).await.map_err(flag_error)?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else if args.csv {
        let table = report.table(&args.table).map_err(flag_error)?;
        print!("{}", table.to_csv().map_err(user_error)?);
    } else {
        say!(
            "{} — {} to {}",
            report.name,
            report.range.from,
            report.range.to
        );
        say!("{}.", report.headline());
        for table in report.tables() {
            say!("\n{}", table.title);
            let widths: Vec<usize> = (0..table.header.len())
                .map(|i| {
                    std::iter::once(&table.header[i])
                        .chain(table.rows.iter().map(|r| &r[i]))
                        .map(|c| c.chars().count())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: &[String]| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
            };
            say!("{}", line(&table.header));
            for row in &table.rows {
                say!("{}", line(row));
            }
        }
    }
    Ok(())
}

/// A domain error naming `from`, `to` or `table`, said as the flag.
fn flag_error(err: mentorbridge::error::Error) -> anyhow::Error {
    match err.field() {
        Some(field @ ("from" | "to" | "table")) => anyhow::anyhow!(
            "--{field}: {}",
            err.public_message()
                .trim_start_matches(&format!("{field}: "))
        ),
        _ => user_error(err),
    }
}
