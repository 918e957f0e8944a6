//! Settings for `serve`, `demo` and the data commands.
//!
//! Each setting comes from, in order of precedence: a command-line flag, an
//! environment variable `MENTORBRIDGE_*`, a TOML file (`--config`), or the
//! default. The secret key is wrapped so that it never reaches a log.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

use crate::auth::random_token;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:mentorbridge.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The key that signs tokens (CSRF now; join tokens and feeds later).
#[derive(Clone)]
pub struct SecretKey(String);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// Takes an operator-supplied key, which must be at least 32 characters.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() < 32 {
            return Err(format!(
                "the secret key must be at least 32 characters (it has {}); generate one with `openssl rand -base64 48`",
                raw.len()
            ));
        }
        Ok(SecretKey(raw.to_owned()))
    }

    /// A random key for this process only: tokens signed with it do not
    /// survive a restart.
    pub fn ephemeral() -> Self {
        SecretKey(random_token())
    }

    /// The key's bytes, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// How invites are emailed.
#[derive(Clone)]
pub struct MailSettings {
    smtp_url: String,
    /// The scheme's mailbox: the sender and ORGANIZER of every invite
    /// (`Mentoring <mentoring@school.sch.uk>`).
    pub from: String,
    /// How often the outbox is checked.
    pub poll: std::time::Duration,
    /// The wait before the first retry; each later one doubles.
    pub retry_base: std::time::Duration,
    /// Tries before a message is given up as failed.
    pub max_attempts: u32,
    /// The local time at each school after which that day's digest of
    /// changes goes to the coordinators who asked for one.
    pub digest_at: chrono::NaiveTime,
}

impl MailSettings {
    /// `smtp_url` is lettre's form: `smtp://host:25` (plain),
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://user:pass@host`
    /// (TLS); it may carry a password, so it is never shown.
    pub fn new(smtp_url: &str, from: &str) -> Self {
        MailSettings {
            smtp_url: smtp_url.to_owned(),
            from: from.to_owned(),
            poll: std::time::Duration::from_secs(5),
            retry_base: std::time::Duration::from_secs(60),
            max_attempts: 8,
            digest_at: chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default(),
        }
    }

    /// The SMTP URL, for the transport only.
    pub fn smtp_url(&self) -> &str {
        &self.smtp_url
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.smtp_url.split(':').next().unwrap_or("");
        f.debug_struct("MailSettings")
            .field("smtp_url", &format_args!("{scheme}:<redacted>"))
            .field("from", &self.from)
            .field("poll", &self.poll)
            .field("retry_base", &self.retry_base)
            .field("max_attempts", &self.max_attempts)
            .field("digest_at", &self.digest_at)
            .finish()
    }
}

/// Everything the server needs to run. Its `Debug` hides the database URL,
/// which may carry a password.
#[derive(Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// `sqlite:PATH` or `postgres://…`.
    pub database_url: String,
    pub secret_key: SecretKey,
    /// The address people reach the server at (e.g. `https://mentoring.example.sch.uk`).
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` header is believed. Behind a
    /// proxy every request comes from the proxy's address; without this,
    /// sign-in limits per address would lump every school together.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where invites are emailed through; none means they wait in the
    /// outbox.
    pub mail: Option<MailSettings>,
    /// STUN and TURN servers for calls.
    pub ice: mentorbridge_signalling::ice::IceConfig,
    /// How long sessions last without a request.
    pub idle_limits: crate::auth::IdleLimits,
    /// What connections may take (timeouts and caps).
    pub net_limits: crate::net::Limits,
    /// Serve https with this certificate chain and key (PEM files), so a
    /// school can run mentorbridge on its own network: iPads allow the
    /// camera only on https pages.
    pub tls: Option<TlsFiles>,
}

/// A certificate chain and its private key, as PEM files.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: std::path::PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.database_url.split(':').next().unwrap_or("");
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database_url", &format_args!("{scheme}:<redacted>"))
            .field("secret_key", &self.secret_key)
            .field("public_url", &self.public_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("mail", &self.mail)
            .field("ice", &self.ice)
            .field("idle_limits", &self.idle_limits)
            .field("net_limits", &self.net_limits)
            .field("tls", &self.tls)
            .finish()
    }
}

impl Settings {
    /// Settings for tests and embedding: a random key, no public URL.
    pub fn for_database(database_url: &str) -> Self {
        Settings {
            bind: DEFAULT_BIND
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            database_url: database_url.to_owned(),
            secret_key: SecretKey::ephemeral(),
            public_url: None,
            trusted_proxies: Vec::new(),
            mail: None,
            ice: mentorbridge_signalling::ice::IceConfig::default(),
            idle_limits: crate::auth::IdleLimits::default(),
            net_limits: crate::net::Limits::default(),
            tls: None,
        }
    }

    /// The address every link points at (invites, calendar feeds, pages):
    /// the public URL, never a request's `Host`, which its sender chooses.
    /// Without one (tests and embedding; `serve` requires it, and `demo`
    /// sets its own address) it is the bind address.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        self.public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("{scheme}://{}", self.bind))
    }

    /// Cookies are marked `Secure` when people reach the server over https
    /// (through a proxy, or served by mentorbridge itself).
    pub fn secure_cookies(&self) -> bool {
        self.tls.is_some()
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
    }
}

/// The keys a `--config` TOML file may set.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// See [`Settings::bind`].
    pub bind: Option<String>,
    /// See [`Settings::database_url`].
    pub database_url: Option<String>,
    /// See [`Settings::secret_key`].
    pub secret_key: Option<String>,
    /// See [`Settings::public_url`].
    pub public_url: Option<String>,
    /// See [`Settings::trusted_proxies`].
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    /// See [`MailSettings`].
    pub smtp_url: Option<String>,
    /// See [`MailSettings::from`].
    pub mail_from: Option<String>,
    /// STUN URLs for calls.
    pub stun_urls: Option<Vec<String>>,
    /// TURN URLs for calls.
    pub turn_urls: Option<Vec<String>>,
    /// coturn's `static-auth-secret`.
    pub turn_secret: Option<String>,
    /// See [`TlsFiles::cert`].
    pub tls_cert: Option<std::path::PathBuf>,
    /// See [`TlsFiles::key`].
    pub tls_key: Option<std::path::PathBuf>,
}

impl FileSettings {
    /// Reads a TOML settings file, naming the file and the problem on error.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}
