//! `serve` and `demo`: the settings from flags, the `--config` file and the
//! defaults (a flag wins over the file), and the server run until Ctrl-C or
//! SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use mentorbridge::app::{self, run};
use mentorbridge::config::{
    DEFAULT_BIND, DEFAULT_DATABASE_URL, FileSettings, MailSettings, SecretKey, Settings, TlsFiles,
};
use mentorbridge::state::AppState;
use mentorbridge_signalling::ice::IceConfig;

use super::{Context, DbArgs, open_url, user_error};

// How `serve` and `demo` listen, and what they reach.
#[derive(Args, Clone, Default)]
pub(super) struct ServerArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "MENTORBRIDGE_BIND")]
    bind: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// Key (32+ characters) that signs tokens; random per run if unset.
    #[arg(long, env = "MENTORBRIDGE_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// The address people reach the server at, e.g. https://mentoring.example.sch.uk
    #[arg(long, env = "MENTORBRIDGE_PUBLIC_URL")]
    public_url: Option<String>,
    /// A reverse proxy whose X-Forwarded-For is believed (repeat, or comma-separate).
    #[arg(
        long = "trusted-proxy",
        env = "MENTORBRIDGE_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// The mail server invites go through, e.g. smtp://relay.school.sch.uk:587?tls=required
    /// (without it, invites wait in the outbox).
    #[arg(long, env = "MENTORBRIDGE_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The scheme's mailbox, sender and organizer of invites.
    #[arg(long, env = "MENTORBRIDGE_MAIL_FROM")]
    mail_from: Option<String>,
    /// A STUN server for calls, e.g. stun:turn.example.sch.uk:3478 (repeat, or comma-separate).
    #[arg(
        long = "stun-url",
        env = "MENTORBRIDGE_STUN_URLS",
        value_delimiter = ','
    )]
    stun_urls: Vec<String>,
    /// A TURN server for calls, e.g. turns:turn.example.sch.uk:443?transport=tcp (repeat, or comma-separate).
    #[arg(
        long = "turn-url",
        env = "MENTORBRIDGE_TURN_URLS",
        value_delimiter = ','
    )]
    turn_urls: Vec<String>,
    /// coturn's static-auth-secret, to mint TURN credentials per call.
    #[arg(long, env = "MENTORBRIDGE_TURN_SECRET", hide_env_values = true)]
    turn_secret: Option<String>,
    /// Serve https: the certificate chain (PEM). iPads allow the camera only on https.
    #[arg(long, env = "MENTORBRIDGE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Serve https: the private key (PEM).
    #[arg(long, env = "MENTORBRIDGE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// `serve`: the app on the configured database until shut down. It needs
/// the public URL: every link in an invite or a calendar feed is built from
/// it, never from what a request says its host is.
pub(super) async fn serve(ctx: &Context, args: &ServerArgs) -> anyhow::Result<()> {
    let settings = settings(ctx, args, DEFAULT_DATABASE_URL)?;
    let Some(url) = settings.public_url.as_deref() else {
        anyhow::bail!(
            "serve needs --public-url, the address people reach mentorbridge at (e.g. \
             https://mentoring.example.sch.uk): links in invites and calendar feeds are built from it"
        );
    };
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.contains(char::is_whitespace)
    {
        anyhow::bail!(
            "--public-url: `{url}` is not an address like https://mentoring.example.sch.uk"
        );
    }
    run_server(settings, None).await
}

/// `demo`: a fresh demo database (an old SQLite one is deleted first),
/// seeded, then served with a banner of the accounts to sign in as.
pub(super) async fn demo(ctx: &Context, args: &ServerArgs) -> anyhow::Result<()> {
    let mut settings = settings(ctx, args, "sqlite:mentorbridge-demo.db")?;
    // The demo's links point where it listens.
    if settings.public_url.is_none() {
        settings.public_url = Some(settings.base_url());
    }
    remove_old_demo_database(&settings.database_url)?;
    let logins = seed_demo(&settings.database_url).await?;
    let mut banner = String::from(
        "\nmentorbridge demo is running at {url}\n\nSign in as any of these (password: ",
    );
    banner.push_str(mentorbridge::demo::DEMO_PASSWORD);
    banner.push_str(")\n");
    let width = logins.iter().map(|l| l.username.len()).max().unwrap_or(0);
    for login in &logins {
        banner.push_str(&format!("  {:width$}  {}\n", login.username, login.who));
    }
    banner.push_str(
        "\nHillside and St Columba's have approved the optimiser's matches, and their weekly sessions\n\
         are booked: see Sessions as any of them. One referral at St Columba's waits for cbyrne to\n\
         countersign it; then Partnerships → Matching runs the optimiser again for it.\n\
         \nA call is open now for the mentee and mentor \"in the demo call\" above: sign in as each in\n\
         two browsers (one private window), tap Join the call on the home page, and allow the camera.\n\
         Staff see it live under Today's calls; last week's sessions show who came. Check iPad tests a\n\
         device.\n\
         \nGulf Crescent in Doha teaches Sunday to Thursday: as nhaddad, Calendar shows its week and\n\
         Partnerships → Slots its slots with Hillside, on the days both schools teach.\n",
    );
    banner.push_str("\nPress Ctrl-C to stop.");
    run_server(settings, Some(banner)).await
}

/// Deletes a SQLite demo database and its WAL files, if there are any.
fn remove_old_demo_database(url: &str) -> anyhow::Result<()> {
    let Some(path) = url.strip_prefix("sqlite:") else {
        return Ok(());
    };
    let path = path
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or(path);
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("Failed to remove the old demo database {file}"));
            }
        }
    }
    Ok(())
}

async fn seed_demo(url: &str) -> anyhow::Result<Vec<mentorbridge::demo::DemoLogin>> {
    let store = open_url(url).await?;
    let bar = indicatif::ProgressBar::new(mentorbridge::demo::ACCOUNT_COUNT);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "Creating demo accounts {bar:30} {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let logins = mentorbridge::demo::seed(&store, |name| {
        bar.set_message(name.to_owned());
        bar.inc(1);
    })
    .await
    .map_err(user_error)?;
    bar.finish_and_clear();
    store.close().await;
    Ok(logins)
}

/// Listens, prints `banner` (with `{url}` filled in), and serves until a
/// shutdown signal; then closes the database.
async fn run_server(settings: Settings, banner: Option<String>) -> anyhow::Result<()> {
    let store = open_url(&settings.database_url).await?;
    let listener = mentorbridge_signalling::ws::listener(settings.bind)
        .with_context(|| format!("Failed to listen on {}", settings.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = store.backend_name(), "mentorbridge is listening");
    if let Some(banner) = banner {
        say!("{}", banner.replace("{url}", &format!("http://{addr}")));
    }
    app::install_crypto_provider();
    let (signalling, events) = app::start_signalling(&settings);
    let state = AppState::new(store.clone(), settings, signalling);
    run(listener, state, events, shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The server's settings: each from its flag, else the file, else a default.
fn settings(ctx: &Context, args: &ServerArgs, default_db: &str) -> anyhow::Result<Settings> {
    let file = &ctx.file;
    let bind = args
        .bind
        .clone()
        .or_else(|| file.bind.clone())
        .unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let bind: SocketAddr = bind
        .parse()
        .with_context(|| format!("--bind: `{bind}` is not an address like 127.0.0.1:8080"))?;
    let secret_key = match args.secret_key.clone().or_else(|| file.secret_key.clone()) {
        Some(raw) => SecretKey::parse(&raw).map_err(|e| anyhow::anyhow!("--secret-key: {e}"))?,
        None => SecretKey::ephemeral(),
    };
    Ok(Settings {
        bind,
        database_url: ctx.database_url(&args.db, default_db),
        secret_key,
        public_url: args.public_url.clone().or_else(|| file.public_url.clone()),
        trusted_proxies: if args.trusted_proxies.is_empty() {
            file.trusted_proxies.clone().unwrap_or_default()
        } else {
            args.trusted_proxies.clone()
        },
        mail: mail_settings(args, file)?,
        ice: ice_settings(args, file)?,
        idle_limits: mentorbridge::auth::IdleLimits::default(),
        net_limits: mentorbridge::net::Limits::default(),
        tls: tls_files(args, file)?,
    })
}

/// Mail needs both a server and a sender, or neither (invites then wait in
/// the outbox).
fn mail_settings(args: &ServerArgs, file: &FileSettings) -> anyhow::Result<Option<MailSettings>> {
    match (
        args.smtp_url.clone().or_else(|| file.smtp_url.clone()),
        args.mail_from.clone().or_else(|| file.mail_from.clone()),
    ) {
        (None, None) => Ok(None),
        (Some(url), Some(from)) => Ok(Some(MailSettings::new(&url, &from))),
        (Some(_), None) => bail!(
            "--mail-from: say which mailbox invites come from, e.g. \"Mentoring <mentoring@school.sch.uk>\""
        ),
        (None, Some(_)) => bail!("--smtp-url: say which mail server invites go through"),
    }
}

/// STUN and TURN servers for calls; TURN needs the secret its credentials
/// are minted with.
fn ice_settings(args: &ServerArgs, file: &FileSettings) -> anyhow::Result<IceConfig> {
    // A repeated flag replaces the file's list rather than adding to it.
    let pick = |flag: &Vec<String>, file: &Option<Vec<String>>| {
        if flag.is_empty() {
            file.clone().unwrap_or_default()
        } else {
            flag.clone()
        }
    };
    let turn = pick(&args.turn_urls, &file.turn_urls);
    let secret = args
        .turn_secret
        .clone()
        .or_else(|| file.turn_secret.clone());
    if !turn.is_empty() && secret.is_none() {
        bail!("--turn-secret: TURN servers need coturn's static-auth-secret to mint credentials");
    }
    Ok(IceConfig {
        stun: pick(&args.stun_urls, &file.stun_urls),
        turn,
        turn_secret: secret.map(String::into_bytes),
        // Only a call's welcome and a pre-call check get credentials, and
        // coturn checks one when an allocation is made, not while it lasts:
        // a few minutes is enough and limits what a leaked one is worth.
        ttl: std::time::Duration::from_secs(300),
    })
}

/// The https certificate and key, both or neither, read once now so a wrong
/// file is named before anything starts.
fn tls_files(args: &ServerArgs, file: &FileSettings) -> anyhow::Result<Option<TlsFiles>> {
    match (
        args.tls_cert.clone().or_else(|| file.tls_cert.clone()),
        args.tls_key.clone().or_else(|| file.tls_key.clone()),
    ) {
        (Some(cert), Some(key)) => {
            let files = TlsFiles { cert, key };
            mentorbridge::tls::server_config(&files).map_err(|e| anyhow::anyhow!(e))?;
            Ok(Some(files))
        }
        (None, None) => Ok(None),
        _ => bail!("--tls-cert and --tls-key go together"),
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
