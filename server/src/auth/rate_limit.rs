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
    /// `Err(seconds)` when this username or address must wait before trying again.
    pub fn check(&self, username: &str, addr: Option<IpAddr>) -> Result<(), u64> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for (key, limit) in keys(username, addr) {
            if let Some(f) = map.get(&key) {
                let age = now.duration_since(f.first);
                if age < WINDOW && f.count >= limit {
                    let secs = (WINDOW - age).as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    /// Records a failed attempt.
    pub fn record_failure(&self, username: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, f| now.duration_since(f.first) < WINDOW);
        }
        for (key, _) in keys(username, addr) {
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
    }

    /// Forgets a username's failures after it signs in.
    pub fn record_success(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&user_key(username));
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
            assert!(limiter.check("Sam", None).is_ok());
            limiter.record_failure("sam", None);
        }
        let wait = limiter.check("sam", None).unwrap_err();
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        assert!(limiter.check("someone-else", None).is_ok());
        limiter.record_success("sam");
        assert!(limiter.check("sam", None).is_ok());
    }
}
