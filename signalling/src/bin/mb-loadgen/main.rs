//! Load generator for signalling servers: mentorbridge's, and PeerJS's
//! (`npm i peer`), driven with the same load so the two can be compared.
//!
//! ```text
//! mb-loadgen serve --port 7700                      # mentorbridge's hub alone, as the server runs it
//! mb-loadgen run --target mentorbridge --url ws://127.0.0.1:7700/ws --server-pid <pid>
//! npx peer --port 9000                               # the PeerJS server
//! mb-loadgen run --target peerjs --url ws://127.0.0.1:9000/peerjs --server-pid <pid>
//! ```
//!
//! `run` measures, in order: the server's resident memory per 1,000 idle
//! connections (from `/proc/<pid>/status`), joins per second (N rooms of
//! two opening at once, 200 handshakes in flight), relayed messages per
//! second (every client keeps a window of SDP-sized messages in flight to
//! its partner for a few seconds), and relay latency p50/p99 at a fixed
//! offered load.
//!
//! The client is its own minimal websocket client, not a library: the load
//! generator shares the machine's two cores with the server it measures,
//! so every cycle it spends is one the server cannot. Like a browser, it
//! writes one message per system call; with `--batched` it writes each
//! window of messages in one (which spares the server reads, and is how
//! the earlier figures in `BENCHMARKS.md` were taken). In the throughput
//! step it masks a pair's message once and sends those bytes again (a real
//! client draws a fresh mask per frame; the mask protects proxies, and
//! there is no proxy on loopback). Both servers get exactly the same bytes.
//! Given `--server-pid`, the throughput step also reports the server's CPU
//! time (user and system, from `/proc/<pid>/stat`) per relayed message.

// A benchmark tool: any failure ends the run, loudly, which is what is wanted.
#![allow(clippy::unwrap_used)]

mod client;
mod measure;

use std::net::SocketAddr;
use std::time::Duration;

use mentorbridge_signalling::hub::{Config, Hub, NoFilter, StaticIce};
use mentorbridge_signalling::token::TokenKey;

use measure::run;

/// The secret `serve` signs with and `run` mints tokens with.
const BENCH_SECRET: &[u8] = b"mb-loadgen: a benchmark-only secret, never a real one";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Mentorbridge,
    PeerJs,
}

struct Args {
    target: Target,
    url: String,
    rooms: usize,
    payload: usize,
    seconds: u64,
    rate: u64,
    idle: usize,
    /// Seconds to keep the idle connections open after measuring them,
    /// for a heap profiler to look at the server.
    hold: u64,
    server_pid: Option<u32>,
    /// A window of messages per write, not one message per write.
    batched: bool,
    /// Messages each pair keeps in flight in the throughput step.
    window: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage:\n  mb-loadgen serve [--port 7700]\n  mb-loadgen run --target mentorbridge|peerjs --url WS_URL [--rooms 500] [--payload 4000] [--seconds 5] [--rate 2000] [--idle 1000] [--hold 0] [--server-pid PID] [--batched] [--window 8]"
    );
    std::process::exit(2)
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    match flag(args, name) {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("{name}: `{v}` is not a number");
            std::process::exit(2)
        }),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(number(&args, "--port", 7700)).await,
        Some("run") => {
            let target = match flag(&args, "--target").as_deref() {
                Some("mentorbridge") => Target::Mentorbridge,
                Some("peerjs") => Target::PeerJs,
                _ => usage(),
            };
            let url = flag(&args, "--url").unwrap_or_else(|| usage());
            run(Args {
                target,
                url,
                rooms: number(&args, "--rooms", 500),
                payload: number(&args, "--payload", 4000),
                seconds: number(&args, "--seconds", 5),
                rate: number(&args, "--rate", 2000),
                idle: number(&args, "--idle", 1000),
                hold: number(&args, "--hold", 0),
                server_pid: flag(&args, "--server-pid").and_then(|p| p.parse().ok()),
                batched: args.iter().any(|a| a == "--batched"),
                window: number(&args, "--window", 8).max(1),
            })
            .await;
        }
        _ => usage(),
    }
}

/// mentorbridge's hub on its own, with the product's limits except the
/// per-connection rate (raised so one connection can be driven flat out;
/// PeerJS has no such limit).
async fn serve(port: u16) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    // Room events are drained, as the server's recorder would.
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let hub = Hub::new(
        TokenKey::new(BENCH_SECRET),
        Config {
            rate_per_second: 1_000_000,
            burst: 1_000_000,
            ..Config::default()
        },
        Box::new(StaticIce::default()),
        Box::new(NoFilter),
        tx,
    );
    tokio::spawn(hub.clone().sweep_forever(Duration::from_secs(1)));
    let app = axum::Router::new()
        .route(
            "/ws",
            axum::routing::get(mentorbridge_signalling::ws::handler),
        )
        .with_state(hub);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = mentorbridge_signalling::ws::listener(addr)
        .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    eprintln!(
        "mentorbridge signalling on ws://{addr}/ws (pid {})",
        std::process::id()
    );
    use axum::serve::ListenerExt;
    // As `mentorbridge serve` does: small signalling messages go at once.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}
