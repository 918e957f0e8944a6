//! Writes a generated matching problem as JSON, with mentorbridge's own
//! answer and how long it took, so an independent MILP solver can solve the
//! same instance (`server/benches/milp.py`; BENCHMARKS.md has the figures).
//!
//! `cargo run --release -p mentorbridge --example matching_instance -- SEED MENTEES MENTORS SLOTS PERCENT`
//! where PERCENT of the mentees are not free in one or two slots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mentorbridge::matching::{problem_for, solver, synthetic};

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("five whole numbers"))
        .collect();
    let [seed, mentees, mentors, slots, percent] = args[..] else {
        eprintln!("usage: matching_instance SEED MENTEES MENTORS SLOTS PERCENT");
        std::process::exit(2);
    };
    let input = synthetic::partnership_with_exceptions(
        seed,
        mentees as usize,
        mentors as usize,
        slots as usize,
        percent as u32,
    );
    let problem = problem_for(&input);
    let started = std::time::Instant::now();
    let solved = solver::solve(&problem);
    let seconds = started.elapsed().as_secs_f64();
    let out = serde_json::json!({
        "problem": problem,
        "mentorbridge": {
            "seconds": seconds,
            "optimal": solved.optimal,
            "nodes": solved.nodes,
            "matched_by_tier": solved.score.matched,
            "fit": solved.score.fit,
        },
    });
    println!("{out}");
}
