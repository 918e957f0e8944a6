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
//! so every cycle it spends is one the server cannot. It writes each
//! window of messages in one system call, and in the throughput step it
//! masks a pair's message once and sends those bytes again (a real client
//! draws a fresh mask per frame; the mask protects proxies, and there is
//! no proxy on loopback). Both servers get exactly the same bytes.

// A benchmark tool: any failure ends the run, loudly, which is what is wanted.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::Utc;
use mentorbridge_signalling::frame;
use mentorbridge_signalling::hub::{Config, Hub, NoFilter, StaticIce};
use mentorbridge_signalling::token::{CallRole, JoinClaims, TokenKey};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::Semaphore;
use uuid::Uuid;

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
}

fn usage() -> ! {
    eprintln!(
        "usage:\n  mb-loadgen serve [--port 7700]\n  mb-loadgen run --target mentorbridge|peerjs --url WS_URL [--rooms 500] [--payload 4000] [--seconds 5] [--rate 2000] [--idle 1000] [--hold 0] [--server-pid PID]"
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
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
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

/// A masked client text frame carrying `payload`.
fn client_frame(payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    frame::client_frame(true, frame::Opcode::Text, payload, mask)
}

fn fresh_mask() -> [u8; 4] {
    let id = Uuid::new_v4();
    let b = id.as_bytes();
    [b[0], b[1], b[2], b[3]]
}

/// The read half of a client: frames from the server, unmasked.
struct Reader {
    rd: OwnedReadHalf,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Reader {
    /// The next data frame's payload (pings and the like are skipped), or
    /// `None` once the server has closed.
    async fn next(&mut self) -> Option<&[u8]> {
        loop {
            let have = &self.buf[self.start..self.end];
            if let Some((opcode, from, to)) = frame_at(have) {
                let (from, to) = (self.start + from, self.start + to);
                self.start = to;
                match opcode {
                    0x8 => return None,
                    0x1 | 0x2 => return Some(&self.buf[from..to]),
                    _ => continue,
                }
            }
            // Make room: move what is left to the front, grow if a frame
            // is larger than the buffer.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            match self.rd.read(&mut self.buf[self.end..]).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.end += n,
            }
        }
    }
}

/// A whole server frame at the front of `buf`: opcode and payload range.
fn frame_at(buf: &[u8]) -> Option<(u8, usize, usize)> {
    let [b0, b1, rest @ ..] = buf else {
        return None;
    };
    let (len, head) = match b1 & 0x7F {
        126 => (
            usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])),
            4,
        ),
        127 => {
            let mut be = [0u8; 8];
            be.copy_from_slice(rest.get(..8)?);
            (usize::try_from(u64::from_be_bytes(be)).ok()?, 10)
        }
        n => (usize::from(n), 2),
    };
    (buf.len() >= head + len).then_some((b0 & 0x0F, head, head + len))
}

/// One connected client: its two halves and its id.
struct Client {
    wr: OwnedWriteHalf,
    rd: Reader,
    id: String,
}

fn token(session: Uuid, user: Uuid, role: CallRole) -> String {
    let now = Utc::now();
    TokenKey::new(BENCH_SECRET).sign(&JoinClaims {
        session,
        user,
        role,
        school: Uuid::nil(),
        opens_at: now - chrono::Duration::minutes(1),
        closes_at: now + chrono::Duration::hours(2),
        expires_at: now + chrono::Duration::minutes(10),
        nonce: Uuid::new_v4(),
        needs_supervisor: false,
    })
}

/// Opens a websocket to `url` (`ws://host:port/path?query`).
async fn open(url: &str) -> (OwnedWriteHalf, Reader) {
    let rest = url
        .strip_prefix("ws://")
        .unwrap_or_else(|| panic!("{url}: only ws:// URLs"));
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let tcp = TcpStream::connect(host)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    tcp.set_nodelay(true).unwrap();
    let (rd, mut wr) = tcp.into_split();
    let key = base64::engine::general_purpose::STANDARD.encode(Uuid::new_v4().as_bytes());
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    wr.write_all(request.as_bytes()).await.unwrap();
    let mut reader = Reader {
        rd,
        buf: vec![0; 64 * 1024],
        start: 0,
        end: 0,
    };
    // The response head; anything after it is the first frames.
    loop {
        let n = reader.rd.read(&mut reader.buf[reader.end..]).await.unwrap();
        assert!(n > 0, "{url}: closed during the handshake");
        reader.end += n;
        let have = &reader.buf[..reader.end];
        if let Some(at) = have.windows(4).position(|w| w == b"\r\n\r\n") {
            assert!(
                have.starts_with(b"HTTP/1.1 101"),
                "{url}: {}",
                String::from_utf8_lossy(&have[..at])
            );
            reader.start = at + 4;
            return (wr, reader);
        }
    }
}

/// Connects and completes the server's handshake (welcome, or PeerJS OPEN).
async fn connect(target: Target, url: &str, session: Uuid, user: Uuid, role: CallRole) -> Client {
    let id = user.simple().to_string();
    let url = match target {
        Target::Mentorbridge => url.to_owned(),
        Target::PeerJs => format!("{url}?key=peerjs&id={id}&token=t{id}"),
    };
    let (mut wr, mut rd) = open(&url).await;
    if target == Target::Mentorbridge {
        let hello = json!({"type": "hello", "token": token(session, user, role)}).to_string();
        wr.write_all(&client_frame(hello.as_bytes(), fresh_mask()))
            .await
            .unwrap();
    }
    let wanted = match target {
        Target::Mentorbridge => "welcome",
        Target::PeerJs => "OPEN",
    };
    loop {
        let Some(text) = rd.next().await else {
            panic!("{url}: closed before {wanted}");
        };
        let v: Value = serde_json::from_slice(text).unwrap_or_default();
        if v["type"] == wanted {
            break;
        }
    }
    Client { wr, rd, id }
}

/// A message to `to` carrying `body` (an SDP-sized text), in the target's
/// protocol.
fn relay_message(target: Target, to_id: &str, to_user: Uuid, body: &str) -> String {
    match target {
        Target::Mentorbridge => json!({"type": "offer", "sdp": body, "to": to_user}).to_string(),
        Target::PeerJs => json!({"type": "OFFER", "dst": to_id, "payload": {"sdp": {"type": "offer", "sdp": body}, "type": "media", "connectionId": "mc_bench"}}).to_string(),
    }
}

/// Whether a frame is a relayed message, by its head alone: parsing every
/// SDP-sized message as JSON would make the load generator, not the
/// server, the bottleneck.
fn is_relayed(target: Target, text: &[u8]) -> bool {
    let head = &text[..text.len().min(96)];
    let needle: &[u8] = match target {
        Target::Mentorbridge => br#""type":"offer""#,
        Target::PeerJs => br#""type":"OFFER""#,
    };
    head.windows(needle.len()).any(|w| w == needle)
}

/// The `sdp` text inside a relayed message, if it is one.
fn relayed_body(target: Target, v: &Value) -> Option<&str> {
    match target {
        Target::Mentorbridge => (v["type"] == "offer").then(|| v["sdp"].as_str()).flatten(),
        Target::PeerJs => (v["type"] == "OFFER")
            .then(|| v["payload"]["sdp"]["sdp"].as_str())
            .flatten(),
    }
}

struct Pair {
    a: Client,
    b: Client,
    b_user: Uuid,
}

async fn open_pairs(target: Target, url: &str, rooms: usize) -> (Vec<Pair>, Duration) {
    let limit = Arc::new(Semaphore::new(200));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(rooms);
    for _ in 0..rooms {
        let (url, limit) = (url.to_owned(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let session = Uuid::new_v4();
            let (a_user, b_user) = (Uuid::new_v4(), Uuid::new_v4());
            let a = {
                let _p = limit.acquire().await.unwrap();
                connect(target, &url, session, a_user, CallRole::Mentor).await
            };
            let b = {
                let _p = limit.acquire().await.unwrap();
                connect(target, &url, session, b_user, CallRole::Mentee).await
            };
            Pair { a, b, b_user }
        }));
    }
    let mut pairs = Vec::with_capacity(rooms);
    for t in tasks {
        pairs.push(t.await.unwrap());
    }
    (pairs, started.elapsed())
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Drives one direction of a pair: keeps `window` copies of `frame` in
/// flight (topping the window up in one write after each read), the
/// receiver's arrivals counted in `delivered`, until `until`.
async fn pump(
    target: Target,
    mut from: OwnedWriteHalf,
    mut to: Reader,
    frame: Vec<u8>,
    window: usize,
    until: Instant,
    delivered: Arc<AtomicU64>,
) -> (OwnedWriteHalf, Reader) {
    let burst = frame.repeat(window);
    let mut in_flight = 0usize;
    loop {
        if in_flight < window && Instant::now() < until {
            let n = window - in_flight;
            if from.write_all(&burst[..n * frame.len()]).await.is_err() {
                return (from, to);
            }
            in_flight = window;
        }
        if in_flight == 0 {
            return (from, to);
        }
        // Everything that has already arrived, before writing again.
        loop {
            match tokio::time::timeout(Duration::from_secs(5), to.next()).await {
                Ok(Some(text)) => {
                    if is_relayed(target, text) {
                        in_flight -= 1;
                        delivered.fetch_add(1, Ordering::Relaxed);
                    }
                }
                _ => return (from, to),
            }
            if to.start == to.end || in_flight == 0 {
                break;
            }
        }
    }
}

async fn run(args: Args) {
    println!("target: {:?} at {}", args.target, args.url);
    if let Some(pid) = args.server_pid {
        measure_memory(&args, pid).await;
    }
    let pairs = measure_joins(&args).await;
    let pumped = measure_throughput(&args, pairs).await;
    measure_latency(&args, pumped).await;
}

/// Step 1, memory per 1,000 idle connections: what the server's resident
/// memory grows by from 1,000 to 2,000 of them, so that one-time costs
/// (code paged in, first allocations, a JIT warming up) are not counted
/// as per connection.
async fn measure_memory(args: &Args, pid: u32) {
    let target = args.target;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start = rss_kib(pid).unwrap_or(0);
    let (first, _) = open_pairs(target, &args.url, args.idle / 2).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let one = rss_kib(pid).unwrap_or(0);
    let (second, _) = open_pairs(target, &args.url, args.idle / 2).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let two = rss_kib(pid).unwrap_or(0);
    let per_thousand = (two.saturating_sub(one)) as f64 * 1000.0 / args.idle as f64;
    println!(
        "memory: {start} KiB fresh, {one} KiB with {n} idle connections, {two} KiB with {m} = {per_thousand:.0} KiB per 1,000",
        n = args.idle,
        m = 2 * args.idle,
    );
    tokio::time::sleep(Duration::from_secs(args.hold)).await;
    drop(first);
    drop(second);
    // Let the server see them go before the next step.
    tokio::time::sleep(Duration::from_secs(2)).await;
}

/// Step 2, joins per second.
async fn measure_joins(args: &Args) -> Vec<Pair> {
    let (pairs, took) = open_pairs(args.target, &args.url, args.rooms).await;
    let joins = (2 * args.rooms) as f64 / took.as_secs_f64();
    println!(
        "joins: {} clients in {:.2} s = {:.0} joins/s",
        2 * args.rooms,
        took.as_secs_f64(),
        joins
    );
    pairs
}

/// The pairs after the throughput step: a's writer and b's reader, which
/// carried the load, and the other halves, kept open, with b's address
/// (used again for the latency step).
struct Pumped {
    halves: Vec<(OwnedWriteHalf, Reader)>,
    rest: Vec<(Reader, OwnedWriteHalf, String, Uuid)>,
}

/// Step 3, relayed messages per second, flat out: each pair sends a->b
/// with a window of 8 in flight.
async fn measure_throughput(args: &Args, pairs: Vec<Pair>) -> Pumped {
    let target = args.target;
    let body = "a=x".repeat(args.payload / 3);
    let delivered = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut rest = Vec::new();
    for p in pairs {
        let text = relay_message(target, &p.b.id, p.b_user, &body);
        let frame = client_frame(text.as_bytes(), fresh_mask());
        let d = delivered.clone();
        let Pair { a, b, b_user } = p;
        tasks.push(tokio::spawn(pump(target, a.wr, b.rd, frame, 8, until, d)));
        rest.push((a.rd, b.wr, b.id, b_user));
    }
    let mut halves = Vec::new();
    for t in tasks {
        halves.push(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    let n = delivered.load(Ordering::Relaxed);
    println!(
        "throughput: {n} messages of {} bytes relayed in {secs:.2} s = {:.0} msg/s",
        args.payload,
        n as f64 / secs
    );
    Pumped { halves, rest }
}

/// When the latency step's messages go: every `gap` from each pair's
/// start, until `until`, stamped with the time since `epoch`.
#[derive(Clone, Copy)]
struct Pace {
    gap: Duration,
    until: Instant,
    epoch: Instant,
}

/// Step 4, latency at a fixed offered load: `rate` messages a second
/// spread over the pairs, each stamped with its send time.
async fn measure_latency(args: &Args, pumped: Pumped) {
    let Pumped { halves, rest } = pumped;
    let per_pair = (args.rate as f64 / halves.len().max(1) as f64).max(0.01);
    let pace = Pace {
        gap: Duration::from_secs_f64(1.0 / per_pair),
        until: Instant::now() + Duration::from_secs(args.seconds),
        epoch: Instant::now(),
    };
    let mut tasks = Vec::new();
    let pairs_n = halves.len().max(1) as u32;
    for (i, (half, (_, _, b_id, b_user))) in halves.into_iter().zip(rest.iter()).enumerate() {
        let to = (b_id.clone(), *b_user);
        let pad = "a=x".repeat(args.payload.saturating_sub(60) / 3);
        // Spread the pairs' sending times evenly over one gap.
        let offset = pace.gap * u32::try_from(i).unwrap_or(0) / pairs_n;
        tasks.push(tokio::spawn(time_relays(
            args.target,
            half,
            to,
            pad,
            offset,
            pace,
        )));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    report_latency(args.rate, all);
    drop(rest);
}

/// Sends stamped messages from one pair's a to `to` (b's id and user) at
/// `pace`, starting `offset` in, and times each one's arrival at b;
/// returns the latencies in microseconds.
async fn time_relays(
    target: Target,
    (mut wr, mut rd): (OwnedWriteHalf, Reader),
    (b_id, b_user): (String, Uuid),
    pad: String,
    offset: Duration,
    pace: Pace,
) -> Vec<u64> {
    let Pace { gap, until, epoch } = pace;
    let mut lat = Vec::new();
    let mut next = Instant::now() + offset;
    let mut pending: VecDeque<()> = VecDeque::new();
    loop {
        let now = Instant::now();
        if now >= until && pending.is_empty() {
            break;
        }
        let wait = if now < until {
            next.saturating_duration_since(now)
        } else {
            Duration::from_millis(200)
        };
        tokio::select! {
            () = tokio::time::sleep(wait), if now < until => {
                let stamp = epoch.elapsed().as_micros();
                let body = format!("t={stamp};{pad}");
                let text = relay_message(target, &b_id, b_user, &body);
                if wr.write_all(&client_frame(text.as_bytes(), fresh_mask())).await.is_err() { break; }
                pending.push_back(());
                next += gap;
            }
            got = rd.next() => {
                let Some(text) = got else { break };
                let v: Value = serde_json::from_slice(text).unwrap_or_default();
                if let Some(body) = relayed_body(target, &v)
                    && let Some(stamp) = body.strip_prefix("t=").and_then(|s| s.split(';').next()).and_then(|s| s.parse::<u128>().ok())
                {
                    lat.push((epoch.elapsed().as_micros() - stamp) as u64);
                    pending.pop_front();
                }
            }
        }
    }
    lat
}

fn report_latency(rate: u64, mut all: Vec<u64>) {
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "latency at {} msg/s offered: {} samples, p50 {:.2} ms, p99 {:.2} ms",
        rate,
        all.len(),
        pct(0.50) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0
    );
}
