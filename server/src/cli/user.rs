//! `user add`: one account, its password read from standard input so it
//! stays out of the shell's history and the process list.

use std::io::{IsTerminal, Read};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use mentorbridge::people::accounts::{ParsedAccount, Role, StaffInput, StudentInput};

use super::{Context, DbArgs, school_by_slug, user_error};

#[derive(Subcommand)]
pub(super) enum UserCommand {
    /// Add an account; the password is read from standard input.
    Add(AddArgs),
}

#[derive(Args)]
pub(super) struct AddArgs {
    /// The school's slug (not for `--role admin`).
    #[arg(long)]
    school: Option<String>,
    /// admin, coordinator, teacher, safeguarding_lead or student.
    #[arg(long)]
    role: String,
    /// Sign-in name.
    #[arg(long)]
    username: String,
    /// Given name [default: the username].
    #[arg(long)]
    given_name: Option<String>,
    /// Family name.
    #[arg(long, default_value = "")]
    family_name: String,
    /// Students: year group, 1 to 13.
    #[arg(long)]
    year_group: Option<i64>,
    /// Students: mentor or mentee.
    #[arg(long)]
    kind: Option<String>,
    /// Students: subjects, comma-separated.
    #[arg(long, default_value = "")]
    subjects: String,
    /// Staff: a work address for calendar invites.
    #[arg(long)]
    email: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

pub(super) async fn run(ctx: &Context, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add(args) => add(ctx, args).await,
    }
}

/// Adds the account; prints its id.
async fn add(ctx: &Context, args: AddArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let password = read_password()?;
    let school = args.school.clone();
    let account = parse_account(args, password)?;
    let school_id = match (&school, account.role()) {
        (_, Role::Admin) => None,
        (Some(slug), _) => Some(school_by_slug(&store, "--school", slug).await?.id),
        (None, _) => bail!("--school is required for this role"),
    };
    let user = store
        .create_user(&account.hash().await.map_err(user_error)?, school_id)
        .await
        .map_err(user_error)?;
    say!("{}", user.id);
    Ok(())
}

/// Checks the account's fields for its role.
fn parse_account(args: AddArgs, password: String) -> anyhow::Result<ParsedAccount> {
    let username = args.username;
    let given_name = args.given_name.unwrap_or_else(|| username.clone());
    match args.role.as_str() {
        "admin" => {
            if args.school.is_some() {
                bail!("--school: platform administrators belong to no school; leave it out");
            }
            ParsedAccount::admin(&username, &password, &given_name)
        }
        "student" => ParsedAccount::student(&StudentInput {
            username,
            password,
            given_name,
            family_name: args.family_name,
            year_group: args
                .year_group
                .context("--year-group is required for a student")?,
            kind: args
                .kind
                .context("--kind (mentor or mentee) is required for a student")?,
            subjects: args.subjects.split(',').map(str::to_owned).collect(),
        }),
        _ => ParsedAccount::staff(&StaffInput {
            username,
            password,
            given_name,
            family_name: args.family_name,
            role: args.role,
            email: args.email,
        }),
    }
    .map_err(user_error)
}

/// The password, without its line ending; prompts only at a terminal.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (then Enter and Ctrl-D): ");
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .context("Failed to read the password from standard input")?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}
