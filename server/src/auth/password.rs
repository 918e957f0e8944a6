//! Password hashing with argon2id (the OWASP-recommended parameters that the
//! `argon2` crate uses by default).

use std::fmt;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash as Phc};

use crate::error::{Error, Result};
use crate::people::accounts::NewPassword;

/// Each argon2 run holds about 19 MiB for tens of milliseconds. Capping how
/// many run at once keeps a burst of sign-ins from exhausting memory or
/// starving every other request of CPU; the rest wait their turn.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// A turn to run argon2: held while one hash is checked or made.
pub struct HashingPermit {
    _turn: tokio::sync::SemaphorePermit<'static>,
}

/// Waits for a turn to run argon2. Sign-in takes one before it checks the
/// rate limit, so that at most [`HASHING`]'s few attempts are ever between
/// being allowed and being counted.
pub async fn hashing_permit() -> Result<HashingPermit> {
    HASHING
        .acquire()
        .await
        .map(|turn| HashingPermit { _turn: turn })
        .map_err(|e| Error::internal_from("hashing semaphore closed", e))
}

/// A PHC-format argon2 hash. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

impl PasswordHash {
    /// Hashes a password that passed the policy. Hashing takes tens of
    /// milliseconds of CPU by design, so it runs on the blocking pool rather
    /// than stalling the async workers.
    pub async fn new(password: NewPassword) -> Result<Self> {
        let _permit = hashing_permit().await?;
        tokio::task::spawn_blocking(move || hash_now(password.expose()))
            .await
            .map_err(|e| Error::internal_from("hashing task failed", e))?
    }

    /// The stored value of an account that has no password yet (a rostered
    /// student before a teacher sets one): no password matches it.
    pub const NONE: &'static str = "!";

    /// Wraps a hash read from the database.
    pub fn from_stored(phc: String) -> Self {
        PasswordHash(phc)
    }

    /// The PHC string, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hash_now(password: &str) -> Result<PasswordHash> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| PasswordHash(h.to_string()))
        .map_err(|e| Error::internal_from("could not hash a password", e))
}

/// Checks `password` against `stored`, or against a fixed dummy hash when
/// there is no such account, so that the time taken does not reveal which
/// usernames exist.
pub async fn verify(
    _turn: &HashingPermit,
    password: String,
    stored: Option<PasswordHash>,
) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        static DUMMY: OnceLock<Option<PasswordHash>> = OnceLock::new();
        let (phc, exists) = match &stored {
            Some(h) if h.0 != PasswordHash::NONE => (h.clone(), true),
            _ => match DUMMY.get_or_init(|| hash_now("not a real password").ok()) {
                Some(h) => (h.clone(), false),
                None => return Ok(false),
            },
        };
        let parsed = Phc::new(phc.as_str())
            .map_err(|e| Error::internal_from("stored password hash is malformed", e))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(matches && exists)
    })
    .await
    .map_err(|e| Error::internal_from("verification task failed", e))?
}

/// Whether `password` is the signed-in person's own, as sign-in checks it:
/// under the hashing turn and the same guessing limits, so a session left
/// open on a shared iPad cannot be used to guess its owner's password.
pub async fn check_own(
    store: &crate::store::Store,
    limiter: &super::rate_limit::LoginLimiter,
    actor: &super::Actor,
    addr: Option<std::net::IpAddr>,
    password: String,
) -> Result<bool> {
    let username = actor.user.username.as_str();
    let turn = hashing_permit().await?;
    limiter
        .check(username, addr, false, std::time::Instant::now())
        .map_err(|retry_after_secs| Error::RateLimited { retry_after_secs })?;
    let stored = store
        .user_for_sign_in(username)
        .await?
        .map(|(_, hash)| hash);
    let ok = verify(&turn, password, stored).await?;
    if !ok {
        limiter.record_failure(username, addr, std::time::Instant::now());
    }
    Ok(ok)
}
