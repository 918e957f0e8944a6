//! What one unauthenticated socket can make the server hold. Alone in its
//! own test binary: it reads the process's resident memory, which other
//! tests running beside it would disturb.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use mentorbridge_signalling::frame::{Opcode, client_frame};
use mentorbridge_signalling::hub::Config;
use tokio::io::AsyncWriteExt;

#[allow(dead_code)]
#[path = "relay/support.rs"]
mod support;

/// This process's resident memory, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_flood_before_hello_from_a_client_that_never_reads_keeps_the_server_small() {
    // The rate limit raised out of the way, as the load generator does:
    // what bounds the flood here is the server itself (one pong pending,
    // and no reading while writes wait).
    let server = support::start(Config {
        rate_per_second: 1_000_000,
        burst: 1_000_000,
        ..Config::default()
    })
    .await;
    let mut tcp = support::raw_socket(server.addr).await;
    let pings = client_frame(true, Opcode::Ping, b"", [7, 7, 7, 7]).repeat(100_000);
    let before = rss();
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut sent = 0usize;
    while sent < 60_000_000 {
        match tokio::time::timeout_at(until, tcp.write_all(&pings)).await {
            Ok(Ok(())) => sent += pings.len(),
            // Pushed back (the server stopped reading), or cut off.
            Ok(Err(_)) | Err(_) => break,
        }
    }
    let grown = rss().saturating_sub(before);
    eprintln!(
        "{sent} bytes of pings; the process grew by {} KiB",
        grown >> 10
    );
    assert!(
        grown < 10 << 20,
        "{sent} bytes of pings grew the server by {} KiB",
        grown >> 10
    );
}
