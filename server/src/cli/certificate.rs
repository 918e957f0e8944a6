//! `certificate`: issue a mentor's volunteering certificate and write it
//! as a PDF, as the Mentors page's button does, for a coordinator who
//! prefers a terminal (or a script that prints a year group's at once).
//!
//! Nothing is half-written: the certificate is worked out and drawn first,
//! the PDF written to a `.part` file beside `--out`, then the certificate
//! kept, and only then the file moved into place. A refusal (a mentor with
//! no delivered sessions, a signer who may not sign) leaves no file and
//! no certificate.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;
use mentorbridge::config::DEFAULT_BIND;
use mentorbridge::people::accounts::{Role, User};
use mentorbridge::store::Store;

use super::{Context, DbArgs, user_error};

#[derive(Args)]
pub(super) struct CertificateArgs {
    /// The mentor's username.
    #[arg(long)]
    mentor: String,
    /// Where to write the PDF.
    #[arg(long)]
    out: PathBuf,
    /// The coordinator who signs (their username) [default: the mentor's school's coordinator, when it has one].
    #[arg(long)]
    signed_by: Option<String>,
    /// The address people reach the server at, printed as the verification address [default: the file's public_url, else http://127.0.0.1:8080].
    #[arg(long, env = "MENTORBRIDGE_PUBLIC_URL")]
    public_url: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

/// The account `username` names; `flag` names the argument in the error.
async fn account(store: &Store, flag: &str, username: &str) -> anyhow::Result<User> {
    match store.user_for_sign_in(username).await.map_err(user_error)? {
        Some((user, _)) => Ok(user),
        None => bail!("{flag}: no account has the username `{username}`"),
    }
}

/// The signer: `--signed-by`, or the mentor's school's one coordinator.
async fn signer(store: &Store, args: &CertificateArgs, mentor: &User) -> anyhow::Result<User> {
    if let Some(username) = &args.signed_by {
        return account(store, "--signed-by", username).await;
    }
    let Some(school) = mentor.school_id else {
        bail!("--mentor: `{}` belongs to no school", mentor.username);
    };
    let coordinators: Vec<User> = store
        .users_at_school(school, &[Role::Coordinator])
        .await
        .map_err(user_error)?
        .into_iter()
        .filter(|u| u.disabled_at.is_none())
        .collect();
    match &coordinators[..] {
        [one] => Ok(one.clone()),
        [] => bail!("--signed-by: the mentor's school has no coordinator to sign; name one"),
        many => bail!(
            "--signed-by: the mentor's school has {} coordinators ({}); name the one who signs",
            many.len(),
            many.iter()
                .map(|u| u.username.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub(super) async fn run(ctx: &Context, args: CertificateArgs) -> anyhow::Result<()> {
    let store = ctx.open(&args.db).await?;
    let mentor = account(&store, "--mentor", &args.mentor).await?;
    let signer = signer(&store, &args, &mentor).await?;
    let mut certificate = mentorbridge::certificates::prepare(&store, &mentor, &signer)
        .await
        .map_err(|e| flagged(user_error(e)))?;
    let base_url = match args
        .public_url
        .clone()
        .or_else(|| ctx.file.public_url.clone())
    {
        Some(url) => url,
        None => {
            eprintln!(
                "mentorbridge: no --public-url given; the certificate's verification address uses http://{DEFAULT_BIND}"
            );
            format!("http://{DEFAULT_BIND}")
        }
    };
    let pdf =
        mentorbridge::certificates::pdf::render(&certificate, &base_url).map_err(user_error)?;
    let part = part_path(&args.out)?;
    std::fs::write(&part, &pdf).with_context(|| format!("Failed to write {}", part.display()))?;
    let drawn_with = certificate.code.clone();
    let kept = async {
        store
            .insert_certificate(&mut certificate)
            .await
            .map_err(user_error)?;
        // A code changed on a (vanishingly rare) clash means redrawing.
        if certificate.code != drawn_with {
            let pdf = mentorbridge::certificates::pdf::render(&certificate, &base_url)
                .map_err(user_error)?;
            std::fs::write(&part, &pdf)
                .with_context(|| format!("Failed to write {}", part.display()))?;
        }
        std::fs::rename(&part, &args.out)
            .with_context(|| format!("Failed to move the PDF to {}", args.out.display()))
    }
    .await;
    if let Err(e) = kept {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    let p = &certificate.printed;
    say!(
        "{}: {} session{}, {}, {} to {}; signed by {}",
        p.mentor,
        p.sessions,
        if p.sessions == 1 { "" } else { "s" },
        p.hours_text(),
        p.first_date,
        p.last_date,
        p.signer.name
    );
    say!("code {}", certificate.code);
    say!(
        "check at {}{}",
        base_url.trim_end_matches('/'),
        certificate.code.verify_path()
    );
    say!("wrote {}", args.out.display());
    Ok(())
}

/// The domain names the field `mentor` or `signed_by`; the terminal
/// speaks of the flags.
fn flagged(err: anyhow::Error) -> anyhow::Error {
    let text = err.to_string();
    match text.split_once(": ") {
        Some(("mentor", rest)) => anyhow::anyhow!("--mentor: {rest}"),
        Some(("signed_by", rest)) => anyhow::anyhow!("--signed-by: {rest}"),
        _ => err,
    }
}

/// `FILE.pdf.part`, beside `out` (so the final move is a rename on one
/// file system); refuses a folder.
fn part_path(out: &Path) -> anyhow::Result<PathBuf> {
    if out.is_dir() {
        bail!(
            "--out: {} is a folder; give a file name such as certificate.pdf",
            out.display()
        );
    }
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .ok_or_else(|| anyhow::anyhow!("--out: give a file name such as certificate.pdf"))?;
    name.push(".part");
    Ok(out.with_file_name(name))
}
