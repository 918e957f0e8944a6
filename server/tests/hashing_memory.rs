//! A morning's sign-ins leave the server the size it was: checking
//! passwords (argon2, 19 MiB each) must not grow the process for good.
//! Alone in its own test binary, so nothing else moves its memory.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mentorbridge::auth::password::{PasswordHash, hashing_permit, verify};
use mentorbridge::people::accounts::{NewPassword, Username};

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_hundred_password_checks_leave_the_process_small() {
    let username = Username::parse("amira.k").unwrap();
    let stored = PasswordHash::new(NewPassword::parse("otter-kettle-lantern", &username).unwrap())
        .await
        .unwrap();
    // One round first: the hashing memory itself (a few blocks of 19 MiB)
    // is the cost that stays.
    let check = |password: &'static str| {
        let stored = stored.clone();
        async move {
            let turn = hashing_permit().await.unwrap();
            verify(&turn, password.to_owned(), Some(stored))
                .await
                .unwrap()
        }
    };
    let warm: Vec<_> = (0..8)
        .map(|_| tokio::spawn(check("otter-kettle-lantern")))
        .collect();
    for w in warm {
        assert!(w.await.unwrap());
    }
    let before = resident_kib();
    let rush: Vec<_> = (0..800)
        .map(|i| {
            tokio::spawn(check(if i % 50 == 0 {
                "otter-kettle-lanterm"
            } else {
                "otter-kettle-lantern"
            }))
        })
        .collect();
    let mut right = 0;
    for r in rush {
        right += usize::from(r.await.unwrap());
    }
    assert_eq!(right, 800 - 16);
    let grown = resident_kib().saturating_sub(before);
    assert!(
        grown < 40 * 1024,
        "the process grew by {} MiB",
        grown / 1024
    );
}
