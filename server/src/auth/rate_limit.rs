//! Slowing down password guessing without locking out the people who know
//! their password.
//!
//! Only failures count: a sign-in still being checked is not a failure, so
//! a class signing in at once from one school address is never held up by
//! its own rush (sign-in checks run a few at a time, under the hashing
//! permit, so at most that many can be unrecorded at once; see
//! [`super::http`]). Each failure for a username makes the next try from an
//! unknown device wait longer (the first few are free, then 15 s, doubling
//! to 15 minutes); an address is allowed a burst of failures and then one
//! more every few seconds. Every wait is said as the real time until the
//! next try can succeed.
//!
//! A browser where a person has signed in before is *known* for them (a
//! signed cookie lists the usernames; see [`KnownDevices`]): its tries are
//! not slowed by guesses made elsewhere, so a pupil guessing at a
//! teacher's username cannot keep the teacher out of their own laptop.
//! This is OWASP's device-cookie defence against lockout.
//!
//! Kept in memory: a restart forgets the counts, which costs an attacker a
//! fresh start at most, and keeps the hot path free of database writes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Failures for one username that cost nothing.
pub const FREE_FAILURES: u32 = 5;
/// The wait after the first failure past the free ones; it doubles with
/// each further failure, up to [`LONGEST_WAIT`].
pub const FIRST_WAIT: Duration = Duration::from_secs(15);
/// The longest wait between tries for one username.
pub const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// A username's failures are forgotten this long after the last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Failures an address may have in a burst (a whole school's iPads share
/// one public address, and children mistype).
pub const ADDRESS_BURST: u32 = 60;
/// After the burst, one more failure from an address each this often.
pub const ADDRESS_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct UserFailures {
    count: u32,
    last: Instant,
}

impl UserFailures {
    /// When the next try from an unknown device may be made.
    fn next_try(&self) -> Instant {
        match self.count.checked_sub(FREE_FAILURES) {
            None | Some(0) => self.last,
            Some(past) => {
                let factor = 1u32 << (past - 1).min(16);
                self.last + FIRST_WAIT.saturating_mul(factor).min(LONGEST_WAIT)
            }
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    users: HashMap<String, UserFailures>,
    /// Each address's theoretical arrival time (the generic cell rate
    /// algorithm): failures are allowed while it is at most a burst ahead.
    addresses: HashMap<IpAddr, Instant>,
}

/// Counts failed sign-ins and says when the next try may be made.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    counts: Mutex<Counts>,
}

impl LoginLimiter {
    /// Whether a try for `username` from `addr` may be checked now:
    /// `Err(seconds)` to wait. `known` is whether the browser is a known
    /// device for this username; its tries are not slowed.
    pub fn check(
        &self,
        username: &str,
        addr: Option<IpAddr>,
        known: bool,
        now: Instant,
    ) -> Result<(), u64> {
        if known {
            return Ok(());
        }
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut until = now;
        if let Some(f) = counts.users.get(&user_key(username)) {
            until = until.max(f.next_try());
        }
        if let Some(tat) = addr.and_then(|a| counts.addresses.get(&a)) {
            let allowed_from = tat
                .checked_sub(ADDRESS_EVERY * (ADDRESS_BURST - 1))
                .unwrap_or(now);
            until = until.max(allowed_from);
        }
        if until > now {
            // Rounded up: a client that waits what it is told succeeds.
            let wait = until - now;
            return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        }
        Ok(())
    }

    /// Counts a failed try (a wrong password, or no such account).
    pub fn record_failure(&self, username: &str, addr: Option<IpAddr>, now: Instant) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.users.len() > 10_000 {
            counts
                .users
                .retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        }
        if counts.addresses.len() > 10_000 {
            counts.addresses.retain(|_, tat| *tat > now);
        }
        let entry = counts
            .users
            .entry(user_key(username))
            .or_insert(UserFailures {
                count: 0,
                last: now,
            });
        if now.duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
        if let Some(addr) = addr {
            let tat = counts.addresses.entry(addr).or_insert(now);
            *tat = (*tat).max(now) + ADDRESS_EVERY;
        }
    }

    /// Forgets the username's failures after its owner signed in.
    pub fn record_success(&self, username: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.users.remove(&user_key(username));
    }
}

fn user_key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// The cookie that names who has signed in on this browser before.
pub const KNOWN_DEVICE_COOKIE: &str = "mb_known";
/// How many usernames a known-device cookie keeps (a class's shared iPad
/// has many pupils); the longest unused drop off first.
pub const KNOWN_PER_DEVICE: usize = 40;

/// Reads and writes known-device cookies: the usernames that signed in on a
/// browser, signed with the server's secret so they cannot be forged.
#[derive(Clone)]
pub struct KnownDevices {
    key: Vec<u8>,
}

impl std::fmt::Debug for KnownDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KnownDevices(<key redacted>)")
    }
}

impl KnownDevices {
    pub fn new(secret: &[u8]) -> Self {
        KnownDevices {
            key: secret.to_vec(),
        }
    }

    fn mac(&self, names: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(b"mentorbridge known device\0");
        mac.update(names.as_bytes());
        mac
    }

    /// The usernames a cookie value vouches for (none if it was not made
    /// by this server).
    pub fn read(&self, value: &str) -> Vec<String> {
        let Some((names, tag)) = value.rsplit_once('~') else {
            return Vec::new();
        };
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return Vec::new();
        };
        if self.mac(names).verify_slice(&tag).is_err() {
            return Vec::new();
        }
        names
            .split(':')
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// A cookie value vouching for `username` first, then the rest of
    /// `value`'s names.
    pub fn add(&self, value: Option<&str>, username: &str) -> String {
        let username = user_key(username);
        let mut names = vec![username.clone()];
        names.extend(
            value
                .map(|v| self.read(v))
                .unwrap_or_default()
                .into_iter()
                .filter(|n| *n != username),
        );
        names.truncate(KNOWN_PER_DEVICE);
        let names = names.join(":");
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&names).finalize().into_bytes());
        format!("{names}~{tag}")
    }

    /// Whether `value` vouches for `username`.
    pub fn knows(&self, value: Option<&str>, username: &str) -> bool {
        let username = user_key(username);
        value.is_some_and(|v| self.read(v).contains(&username))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_failures_cost_nothing_then_each_wait_doubles() {
        let limiter = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert!(limiter.check("Sam", None, false, t0).is_ok());
            limiter.record_failure("Sam", None, t0);
        }
        assert!(limiter.check("sam", None, false, t0).is_ok());
        limiter.record_failure("sam", None, t0);
        assert_eq!(limiter.check("sam", None, false, t0), Err(15));
        assert_eq!(
            limiter.check("sam", None, false, t0 + Duration::from_millis(14_500)),
            Err(1)
        );
        let t1 = t0 + FIRST_WAIT;
        assert!(limiter.check("sam", None, false, t1).is_ok());
        limiter.record_failure("sam", None, t1);
        assert_eq!(limiter.check("sam", None, false, t1), Err(30));
        // Someone else, and a known device, are not held up.
        assert!(limiter.check("someone-else", None, false, t1).is_ok());
        assert!(limiter.check("sam", None, true, t1).is_ok());
        limiter.record_success("sam");
        assert!(limiter.check("sam", None, false, t1).is_ok());
    }

    #[test]
    fn an_address_has_a_burst_of_failures_then_one_every_few_seconds() {
        let limiter = LoginLimiter::default();
        let addr = Some(IpAddr::from([10, 0, 0, 1]));
        let t0 = Instant::now();
        for i in 0..ADDRESS_BURST {
            let name = format!("pupil{i}");
            assert!(limiter.check(&name, addr, false, t0).is_ok(), "failure {i}");
            limiter.record_failure(&name, addr, t0);
        }
        let wait = limiter.check("another", addr, false, t0).unwrap_err();
        assert_eq!(wait, ADDRESS_EVERY.as_secs());
        assert!(
            limiter
                .check("another", addr, false, t0 + ADDRESS_EVERY)
                .is_ok()
        );
        assert!(
            limiter
                .check("another", Some(IpAddr::from([10, 0, 0, 2])), false, t0)
                .is_ok()
        );
    }

    #[test]
    fn a_known_device_cookie_cannot_be_forged_and_keeps_the_latest_names() {
        let known = KnownDevices::new(b"server secret");
        let one = known.add(None, "Amira.K");
        assert!(known.knows(Some(&one), "amira.k"));
        assert!(!known.knows(Some(&one), "sam"));
        let forged = one.replacen("amira.k", "sam", 1);
        assert!(!known.knows(Some(&forged), "sam"));
        assert!(!KnownDevices::new(b"other secret").knows(Some(&one), "amira.k"));
        let mut value = one;
        for i in 0..KNOWN_PER_DEVICE {
            value = known.add(Some(&value), &format!("pupil{i}"));
        }
        assert!(
            !known.knows(Some(&value), "amira.k"),
            "the oldest dropped off"
        );
        assert!(known.knows(Some(&value), "pupil0"));
        assert!(value.len() < 4000, "fits a cookie: {}", value.len());
    }
}

/// At most a few of something per person in a period (minting relay
/// credentials): a burst of `n`, then one more each `period / n`.
#[derive(Debug)]
pub struct PerPerson(governor::DefaultKeyedRateLimiter<uuid::Uuid>);

impl PerPerson {
    pub fn new(n: std::num::NonZeroU32, period: Duration) -> Self {
        let quota = governor::Quota::with_period(period / n.get())
            .unwrap_or_else(|| governor::Quota::per_second(n))
            .allow_burst(n);
        PerPerson(governor::RateLimiter::keyed(quota))
    }

    /// Counts one for `who`, or says how long until they may.
    pub fn check(&self, who: uuid::Uuid) -> crate::error::Result<()> {
        use governor::clock::Clock;
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&who).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            crate::error::Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }
}

/// At most a few of something per client address in a period (checking
/// certificate codes on the public page, where nobody is signed in): a
/// burst of `n`, then one more each `period / n`.
#[derive(Debug)]
pub struct PerAddress(governor::DefaultKeyedRateLimiter<IpAddr>);

impl PerAddress {
    pub fn new(n: std::num::NonZeroU32, period: Duration) -> Self {
        let quota = governor::Quota::with_period(period / n.get())
            .unwrap_or_else(|| governor::Quota::per_second(n))
            .allow_burst(n);
        PerAddress(governor::RateLimiter::keyed(quota))
    }

    /// Counts one for `addr` (an unknown address counts as one address),
    /// or says how long until it may.
    pub fn check(&self, addr: Option<IpAddr>) -> crate::error::Result<()> {
        use governor::clock::Clock;
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        let key = addr.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        self.0.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            crate::error::Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }
}
