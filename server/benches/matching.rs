//! How long the optimiser takes, and how much better it does than greedy.
//!
//! Instances come from `matching::synthetic` (realistic subject spread,
//! mentors free in a third to a half of the slots, capacities 1–2, 10–30
//! iPads per slot). `propose` is the whole run a coordinator waits for:
//! fit for every pair, the exact solve, the greedy yardstick, and the
//! explanations.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mentorbridge::matching::{propose, synthetic};

fn report(name: &str, mentees: usize, mentors: usize, slots: usize, seeds: std::ops::Range<u64>) {
    let (mut matched, mut fit, mut greedy_matched, mut greedy_fit, mut capacity) = (0, 0, 0, 0, 0);
    for seed in seeds {
        let input = synthetic::partnership(seed, mentees, mentors, slots);
        capacity += input.slots.iter().map(|s| s.devices).sum::<u32>();
        let body = propose(&input);
        matched += body.summary.matched;
        fit += body.summary.fit;
        greedy_matched += body.summary.greedy_matched;
        greedy_fit += body.summary.greedy_fit;
    }
    eprintln!(
        "{name}: optimal matched {matched} (fit {fit}); greedy matched {greedy_matched} (fit {greedy_fit}); iPad places {capacity}"
    );
}

fn bench(c: &mut Criterion) {
    report("400 x 300 x 12", 400, 300, 12, 1..2);
    report("10 x (200 x 150 x 12)", 200, 150, 12, 100..110);

    let one = synthetic::partnership(1, 400, 300, 12);
    c.bench_function("propose 400 mentees x 300 mentors x 12 slots", |b| {
        b.iter(|| propose(black_box(&one)))
    });
    let problem = mentorbridge::matching::problem_for(&one);
    c.bench_function("solver only, 400 x 300 x 12", |b| {
        b.iter(|| mentorbridge::matching::solver::solve(black_box(&problem)))
    });
    // A tenth of the mentees not free in one or two of the slots: the
    // search over the flow.
    let exceptions = synthetic::partnership_with_exceptions(1, 400, 300, 12, 10);
    let solved =
        mentorbridge::matching::solver::solve(&mentorbridge::matching::problem_for(&exceptions));
    eprintln!(
        "400 x 300 x 12, 10% with exceptions: optimal {} after {} subproblems; {:?} (bound {:?})",
        solved.optimal, solved.nodes, solved.score, solved.bound
    );
    // Harder than the target: more mentees with exceptions, timed once.
    for percent in [30, 60] {
        let input = synthetic::partnership_with_exceptions(1, 400, 300, 12, percent);
        let problem = mentorbridge::matching::problem_for(&input);
        let started = std::time::Instant::now();
        let solved = mentorbridge::matching::solver::solve(&problem);
        eprintln!(
            "400 x 300 x 12, {percent}% with exceptions: optimal {} after {} subproblems in {:?}; matched {:?}",
            solved.optimal,
            solved.nodes,
            started.elapsed(),
            solved.score.matched
        );
    }
    c.bench_function(
        "propose 400 x 300 x 12, 10% of mentees not free in 1-2 slots",
        |b| b.iter(|| propose(black_box(&exceptions))),
    );
    // And a fifth of them rather meeting on one or two days.
    let preferences = synthetic::partnership_with_preferences(1, 400, 300, 12, 10, 20);
    let solved =
        mentorbridge::matching::solver::solve(&mentorbridge::matching::problem_for(&preferences));
    eprintln!(
        "400 x 300 x 12, 10% with exceptions, 20% with preferred days: optimal {} after {} subproblems; {:?} (bound {:?})",
        solved.optimal, solved.nodes, solved.score, solved.bound
    );
    c.bench_function(
        "propose 400 x 300 x 12, 10% not free in 1-2 slots, 20% preferring 1-2 days",
        |b| b.iter(|| propose(black_box(&preferences))),
    );
    c.bench_function("greedy only, 400 x 300 x 12", |b| {
        b.iter(|| mentorbridge::matching::solver::greedy(black_box(&problem)))
    });
    let ten: Vec<_> = (100..110)
        .map(|seed| synthetic::partnership(seed, 200, 150, 12))
        .collect();
    c.bench_function("propose 2000 x 1500 as 10 partnerships", |b| {
        b.iter(|| {
            for input in &ten {
                black_box(propose(black_box(input)));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
