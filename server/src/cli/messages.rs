//! `messages`: a school's own word list, and the moderation pipeline on
//! lines of standard input, exactly as the server runs it.

use std::io::BufRead;

use anyhow::bail;
use clap::{Args, Subcommand};
use mentorbridge::safeguarding::moderate::{Action, check};
use serde_json::json;

use super::{Context, DbArgs, school_by_slug, user_error};

#[derive(Subcommand)]
pub(super) enum MessagesCommand {
    /// Edit or list a school's own words and phrases.
    Words(WordsArgs),
    /// Check messages, one per line of standard input: prints one JSON
    /// object per line with the verdict (`deliver`, `block` or `hold`) and
    /// the category, by the school's list and rules.
    Check(CheckArgs),
}

#[derive(Args)]
pub(super) struct WordsArgs {
    /// The school's slug.
    #[arg(long)]
    school: String,
    /// Add a word or phrase.
    #[arg(long, conflicts_with_all = ["remove", "list"])]
    add: Option<String>,
    /// Remove a word or phrase.
    #[arg(long, conflicts_with = "list")]
    remove: Option<String>,
    /// List the words.
    #[arg(long)]
    list: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
pub(super) struct CheckArgs {
    /// The school's slug.
    #[arg(long)]
    school: String,
    #[command(flatten)]
    db: DbArgs,
}

pub(super) async fn run(ctx: &Context, command: MessagesCommand) -> anyhow::Result<()> {
    match command {
        MessagesCommand::Words(args) => words(ctx, args).await,
        MessagesCommand::Check(args) => check_lines(ctx, args).await,
    }
}

async fn words(ctx: &Context, args: WordsArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    if let Some(word) = &args.add {
        let added = store
            .add_school_word(school.id, word, None)
            .await
            .map_err(|e| anyhow::anyhow!("--add: {}", user_error(e)))?;
        say!(
            "{}",
            if added {
                format!(
                    "Added “{}” to {}'s list.",
                    word.trim().to_lowercase(),
                    school.name
                )
            } else {
                format!(
                    "“{}” is already on {}'s list.",
                    word.trim().to_lowercase(),
                    school.name
                )
            }
        );
    } else if let Some(word) = &args.remove {
        if !store
            .remove_school_word(school.id, word)
            .await
            .map_err(user_error)?
        {
            bail!(
                "--remove: “{}” is not on {}'s list",
                word.trim(),
                school.name
            );
        }
        say!(
            "Removed “{}” from {}'s list.",
            word.trim().to_lowercase(),
            school.name
        );
    } else if args.list {
        for word in store.school_words(school.id).await.map_err(user_error)? {
            say!("{word}");
        }
    } else {
        bail!("say what to do: --add WORD, --remove WORD or --list");
    }
    Ok(())
}

async fn check_lines(ctx: &Context, args: CheckArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let school = school_by_slug(&store, "--school", &args.school).await?;
    let rules = store.school_rules(school.id).await.map_err(user_error)?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let out = match check(&line, &rules.words) {
            Ok(checked) => {
                let verdict = checked.verdict(&rules.policy);
                let found: Vec<&str> = checked
                    .findings
                    .iter()
                    .map(|f| &checked.text[f.range()])
                    .collect();
                json!({
                    "verdict": verdict.action.as_str(),
                    "category": verdict.category.map(|c| c.as_str()),
                    "found": found,
                })
            }
            Err(why) => json!({
                "verdict": Action::Block.as_str(),
                "category": "unsendable",
                "error": why.to_string(),
            }),
        };
        say!("{out}");
    }
    Ok(())
}
