//! `run`'s four steps: memory per idle connection, joins, throughput and
//! latency, each printing one line.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use uuid::Uuid;

use crate::client::{
    Pair, Reader, client_frame, fresh_mask, is_relayed, open_pairs, relay_message, relayed_body,
};
use crate::{Args, Target};

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

/// The server's CPU time so far (user and system), in microseconds, from
/// `/proc/<pid>/stat`, whose times are in USER_HZ ticks (100 a second on
/// Linux whatever the kernel's own tick).
fn cpu_micros(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (which may hold spaces), in brackets: the
    // state is field 3, utime and stime fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10_000)
}

/// Drives one direction of a pair: keeps `window` copies of `frame` in
/// flight (topping the window up after each read: one frame per write, as
/// a browser sends them, or all in one write when `batched`), the
/// receiver's arrivals counted in `delivered`, until `until`.
#[allow(clippy::too_many_arguments)]
async fn pump(
    target: Target,
    mut from: OwnedWriteHalf,
    mut to: Reader,
    frame: Vec<u8>,
    window: usize,
    batched: bool,
    until: Instant,
    delivered: Arc<AtomicU64>,
) -> (OwnedWriteHalf, Reader) {
    let burst = frame.repeat(window);
    let mut in_flight = 0usize;
    loop {
        if in_flight < window && Instant::now() < until {
            let n = window - in_flight;
            let written = if batched {
                from.write_all(&burst[..n * frame.len()]).await
            } else {
                let mut each = Ok(());
                for _ in 0..n {
                    each = from.write_all(&frame).await;
                    if each.is_err() {
                        break;
                    }
                }
                each
            };
            if written.is_err() {
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

pub(crate) async fn run(args: Args) {
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
/// with a window of `--window` (8) in flight; and, given the server's pid, the
/// server's CPU time per relayed message over the step (which does not
/// depend on how fast the load generator itself is).
async fn measure_throughput(args: &Args, pairs: Vec<Pair>) -> Pumped {
    let target = args.target;
    let body = "a=x".repeat(args.payload / 3);
    let delivered = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let cpu_before = args.server_pid.and_then(cpu_micros);
    let mut tasks = Vec::new();
    let mut rest = Vec::new();
    for p in pairs {
        let text = relay_message(target, &p.b.id, p.b_user, &body);
        let frame = client_frame(text.as_bytes(), fresh_mask());
        let d = delivered.clone();
        let Pair { a, b, b_user } = p;
        tasks.push(tokio::spawn(pump(
            target,
            a.wr,
            b.rd,
            frame,
            args.window,
            args.batched,
            until,
            d,
        )));
        rest.push((a.rd, b.wr, b.id, b_user));
    }
    let mut halves = Vec::new();
    for t in tasks {
        halves.push(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = match (cpu_before, args.server_pid.and_then(cpu_micros)) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => 0,
    };
    let n = delivered.load(Ordering::Relaxed);
    let mode = format!(
        "{} in flight, {}",
        args.window,
        if args.batched {
            "a window per write"
        } else {
            "one frame per write"
        }
    );
    let per_message = if n > 0 && args.server_pid.is_some() {
        format!(
            ", server CPU {:.1} µs per relayed message",
            cpu as f64 / n as f64
        )
    } else {
        String::new()
    };
    println!(
        "throughput ({mode}): {n} messages of {} bytes relayed in {secs:.2} s = {:.0} msg/s{per_message}",
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
