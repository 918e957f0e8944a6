//! Password hashing with argon2id (the OWASP-recommended parameters that the
//! `argon2` crate uses by default).
//!
//! argon2 runs on [`HASHERS`] threads of its own, each holding one block of
//! memory (19 MiB) for its life and handing it to every hash it computes
//! (`hash_password_into_with_memory`). Allocating it per hash, on whichever
//! of tokio's blocking threads was free, left the server at 0.6–1.2 GB
//! after a morning's sign-ins: glibc raises its mmap threshold after the
//! first such buffer is freed, so later ones came from per-thread arenas
//! that keep their memory. Now the hashing memory is a fixed 4 × 19 MiB.
//! The PHC strings are the `argon2` crate's own (a test checks each way
//! against its `hash_password` and `verify_password`).

use std::fmt;
use std::sync::{Mutex, OnceLock, mpsc};

use argon2::password_hash::{Output, ParamsString, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash as Phc, Version};

use crate::error::{Error, Result};
use crate::people::accounts::NewPassword;

/// Each argon2 run holds about 19 MiB for tens of milliseconds. Capping how
/// many run at once keeps a burst of sign-ins from exhausting memory or
/// starving every other request of CPU; the rest wait their turn.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHERS);

/// The threads that run argon2, one per turn.
const HASHERS: usize = 4;

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The hashing threads' queue: at most [`HASHERS`] jobs are ever in it,
/// one per turn taken.
fn hashers() -> &'static Mutex<mpsc::SyncSender<Job>> {
    static QUEUE: OnceLock<Mutex<mpsc::SyncSender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::sync_channel::<Job>(HASHERS);
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for n in 0..HASHERS {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    let mut memory = vec![Block::default(); Params::default().block_count()];
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a hashing thread");
            }
        }
        Mutex::new(tx)
    })
}

/// Runs `work` on a hashing thread with its memory. Call it holding a turn.
async fn on_hasher<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |memory| {
        let _ = tx.send(work(memory));
    });
    hashers()
        .lock()
        .map_err(|_| Error::internal("the hashing queue is poisoned"))?
        .send(job)
        .map_err(|_| Error::internal("the hashing threads have stopped"))?;
    rx.await
        .map_err(|e| Error::internal_from("a hashing thread dropped its job", e))
}

/// argon2 of `password` with `salt` under `argon2`, in `memory` (grown if
/// its parameters need more than the default).
fn compute(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    memory: &mut Vec<Block>,
) -> std::result::Result<Output, argon2::password_hash::Error> {
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    Output::init_with(len, |out| {
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory[..])
            .map_err(argon2::password_hash::Error::from)
    })
}

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
        on_hasher(move |memory| hash_now(password.expose(), memory)).await?
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

fn hash_now(password: &str, memory: &mut Vec<Block>) -> Result<PasswordHash> {
    let failed = |e| Error::internal_from("could not hash a password", e);
    let salt = SaltString::generate(&mut OsRng);
    let mut raw = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut raw).map_err(failed)?;
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let output =
        compute(&argon2, &params, password.as_bytes(), salt_bytes, memory).map_err(failed)?;
    let phc = Phc {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(PasswordHash(phc.to_string()))
}

/// Whether `password` matches the PHC string `stored`, computed in `memory`.
/// The outputs are compared in constant time (`Output`'s equality).
fn matches(stored: &str, password: &[u8], memory: &mut Vec<Block>) -> Result<bool> {
    let malformed = |e| Error::internal_from("stored password hash is malformed", e);
    let phc = Phc::new(stored).map_err(malformed)?;
    let algorithm = Algorithm::try_from(phc.algorithm).map_err(malformed)?;
    let version = phc
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| malformed(e.into()))?
        .unwrap_or_default();
    let params = Params::try_from(&phc).map_err(malformed)?;
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return Err(Error::internal("stored password hash has no salt or hash"));
    };
    let mut raw = [0u8; 64];
    let salt = salt.decode_b64(&mut raw).map_err(malformed)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let output = compute(&argon2, &params, password, salt, memory)
        .map_err(|e| Error::internal_from("could not check a password", e))?;
    Ok(output == expected)
}

/// Checks `password` against `stored`, or against a fixed dummy hash when
/// there is no such account, so that the time taken does not reveal which
/// usernames exist.
pub async fn verify(
    _turn: &HashingPermit,
    password: String,
    stored: Option<PasswordHash>,
) -> Result<bool> {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    let (phc, exists) = match stored {
        Some(h) if h.0 != PasswordHash::NONE => (h, true),
        _ => match DUMMY.get() {
            Some(h) => (h.clone(), false),
            None => {
                let made = on_hasher(|memory| hash_now("not a real password", memory)).await??;
                (DUMMY.get_or_init(|| made).clone(), false)
            }
        },
    };
    let matched = on_hasher(move |memory| matches(&phc.0, password.as_bytes(), memory)).await??;
    Ok(matched && exists)
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

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    /// The hashes made here are the argon2 crate's own, each way round.
    #[test]
    fn hashes_agree_with_the_argon2_crates_own_each_way() {
        let mut memory = Vec::new();
        let ours = hash_now("otter-kettle-lantern", &mut memory).unwrap();
        let parsed = Phc::new(ours.as_str()).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"otter-kettle-lantern", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"otter-kettle-lanterm", &parsed)
                .is_err()
        );
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"maple-river-lantern", &salt)
            .unwrap()
            .to_string();
        assert!(matches(&theirs, b"maple-river-lantern", &mut memory).unwrap());
        assert!(!matches(&theirs, b"maple-river-lanterns", &mut memory).unwrap());
        // A hash made with other parameters (an older, smaller m_cost) is
        // checked with those.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password(b"quiet-harbour-lamp", &salt)
        .unwrap()
        .to_string();
        assert!(matches(&small, b"quiet-harbour-lamp", &mut memory).unwrap());
        assert_eq!(memory.len(), Params::default().block_count());
    }
}
