//! Limits on failed sign-in attempts, per username and per client address.
//!
//! Kept in memory: a restart forgets the counts, which costs an attacker a
//! fresh window at most, and keeps a hot path free of database writes. Run
//! several servers behind one address and each counts its own share.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long failures are remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures allowed for one username within the window.
pub const PER_USERNAME: u32 = 5;
/// Failures allowed from one address within the window (a school's iPads
/// often share one public address, so this is generous).
pub const PER_ADDRESS: u32 = 50;

#[derive(Debug)]
struct Failures {
    count: u32,
    first: Instant,
}

/// Counts failed sign-ins and says when to refuse more.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginLimiter {
    /// Starts a sign-in attempt: `Err(seconds)` when this username or
    /// address must wait, otherwise counts the attempt as a failure until
    /// [`LoginLimiter::record_success`] says otherwise. Checking and counting
    /// in one locked step means a burst of parallel guesses is limited like
    /// a sequence of them.
    pub fn begin_attempt(&self, username: &str, addr: Option<IpAddr>) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, f| now.duration_since(f.first) < WINDOW);
        }
        let keys = keys(username, addr);
        let mut wait = None;
        for (key, limit) in &keys {
            if let Some(f) = map.get(key) {
                let age = now.duration_since(f.first);
                if age < WINDOW && f.count >= *limit {
                    let secs = (WINDOW - age).as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        for (key, _) in keys {
            let entry = map.entry(key).or_insert(Failures {
                count: 0,
                first: now,
            });
            if now.duration_since(entry.first) >= WINDOW {
                *entry = Failures {
                    count: 0,
                    first: now,
                };
            }
            entry.count += 1;
        }
        Ok(())
    }

    /// Takes back the attempt counted by `begin_attempt` for a sign-in
    /// that succeeded, and forgets the username's earlier failures.
    pub fn record_success(&self, username: &str, addr: Option<IpAddr>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&user_key(username));
        if let Some(addr) = addr
            && let Some(f) = map.get_mut(&format!("addr:{addr}"))
        {
            f.count = f.count.saturating_sub(1);
        }
    }
}

fn user_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

fn keys(username: &str, addr: Option<IpAddr>) -> Vec<(String, u32)> {
    let mut keys = vec![(user_key(username), PER_USERNAME)];
    if let Some(addr) = addr {
        keys.push((format!("addr:{addr}"), PER_ADDRESS));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_is_locked_after_repeated_failures_and_freed_by_success() {
        let limiter = LoginLimiter::default();
        for _ in 0..PER_USERNAME {
            assert!(limiter.begin_attempt("Sam", None).is_ok());
        }
        let wait = limiter.begin_attempt("sam", None).unwrap_err();
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        assert!(limiter.begin_attempt("someone-else", None).is_ok());
        limiter.record_success("sam", None);
        assert!(limiter.begin_attempt("sam", None).is_ok());
    }

    #[test]
    fn a_successful_sign_in_does_not_count_against_the_address() {
        let limiter = LoginLimiter::default();
        let addr = Some(IpAddr::from([10, 0, 0, 1]));
        for i in 0..PER_ADDRESS * 2 {
            let name = format!("pupil{i}");
            assert!(limiter.begin_attempt(&name, addr).is_ok(), "attempt {i}");
            limiter.record_success(&name, addr);
        }
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
