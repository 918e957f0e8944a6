//! Branch and bound over the flow, for problems where some mentees are not
//! free in some slots, or would rather meet in some (see the parent
//! module's docs for why the flow alone cannot say so).
//!
//! A node is the problem with some pairs forbidden and some placements
//! fixed. Its bound is the flow on what is left plus the fixed placements,
//! the flow ignoring exceptions and counting for each mentee–mentor pair
//! the most the mentee's own slot bonus could add with that mentor: no
//! solution below the node is worth more. The flow's answer is checked
//! against both: when every mentee is free in their slot and gets the
//! bonus the flow counted, it is the node's best solution; when it puts
//! mentee `i` with mentor `j` in a slot `i` is not free in, or one worth
//! less to `i` than the flow counted, the node splits into "`i` not with
//! `j`" and "`i` with `j` in slot `s`" for each slot `s` of `j`'s that `i`
//! is free in. Every solution of the node lies in exactly one child, so
//! nothing is lost, and each child forbids or fixes one more pair, so the
//! search ends.
//!
//! Nodes are taken best bound first (deeper first among equals, so an
//! answer that meets the bound is found early); a node whose bound is no
//! better than the incumbent is dropped. The incumbent starts as the greedy
//! yardstick's answer and improves with each node's flow answer, less the
//! placements that break an exception and topped up greedily.

use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::{Placement, Problem, Score, Solution, relax, value};

/// What the flow's answer at a node is worth as the flow counts it (its
/// bound, in the flow's units and as a score): each fixed placement at its
/// true value, each other with its mentee's best bonus with that mentor in
/// `sub`, the problem the flow solved.
fn relaxed(
    problem: &Problem,
    sub: &Problem,
    node: &Node,
    weights: &[i128],
    placements: &[Option<Placement>],
) -> (i128, Score) {
    let mut score = problem.score(&vec![None; placements.len()]);
    let tiers = score.matched.len();
    let mut total = 0i128;
    for (i, place) in placements.iter().enumerate() {
        let Some(place) = place else { continue };
        let mentee = &problem.mentees[i];
        let fit = if node.fixed.iter().any(|(k, _)| *k == i) {
            problem.fit_of(i, place)
        } else {
            let pair = mentee
                .options
                .iter()
                .find(|c| c.mentor == place.mentor)
                .map_or(0, |c| c.fit);
            pair + sub.best_bonus(i, place.mentor) + problem.place_value(place.mentor, place.slot)
        };
        score.matched[tiers - 1 - usize::from(mentee.tier)] += 1;
        score.fit += u64::from(fit);
        total += weights[usize::from(mentee.tier)] + i128::from(fit);
    }
    (total, score)
}

/// A subproblem: pairs forbidden and placements fixed on the way down.
#[derive(Clone, Default)]
struct Node {
    forbidden: Vec<(usize, usize)>,
    fixed: Vec<(usize, Placement)>,
}

/// A node waiting in the queue with its parent's bound (children are
/// solved when taken, not when made, so a node dropped by then costs
/// nothing).
struct Queued {
    bound: i128,
    score: Score,
    depth: usize,
    seq: u64,
    node: Node,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    // A max-heap: best bound, then deepest, then made first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bound
            .cmp(&other.bound)
            .then(self.depth.cmp(&other.depth))
            .then(other.seq.cmp(&self.seq))
    }
}

/// The problem a node leaves to the flow: its fixed mentees out, their
/// mentors' places and periods and their slots' iPads taken, its forbidden
/// pairs gone, and every option dropped that has no slot the mentee is
/// free in.
fn reduced(problem: &Problem, node: &Node) -> Problem {
    let mut p = problem.clone();
    for &(i, j) in &node.forbidden {
        p.mentees[i].options.retain(|c| c.mentor != j);
    }
    for (i, place) in &node.fixed {
        p.mentees[*i].options.clear();
        if let Some(mentor) = p.mentors.get_mut(place.mentor) {
            mentor.capacity = mentor.capacity.saturating_sub(1);
            mentor.slots.retain(|g| !g.contains(&place.slot));
        }
        if let Some(cap) = p.slot_capacity.get_mut(place.slot) {
            *cap = cap.saturating_sub(1);
        }
    }
    let Problem {
        mentees, mentors, ..
    } = &mut p;
    for mentee in mentees.iter_mut() {
        let unavailable = &mentee.unavailable;
        mentee.options.retain(|c| {
            mentors
                .get(c.mentor)
                .is_some_and(|m| m.slots.iter().flatten().any(|s| !unavailable.contains(s)))
        });
    }
    p
}

/// Best first search; see the module docs.
pub(super) fn search(problem: &Problem, weights: &[i128], limit: Duration) -> Solution {
    let started = Instant::now();
    let mut best = super::greedy(problem).placements;
    let mut best_value = value(problem, weights, &best);
    let mut queue = BinaryHeap::new();
    let mut seq = 0u64;
    queue.push(Queued {
        bound: i128::MAX,
        score: Score::default(),
        depth: 0,
        seq,
        node: Node::default(),
    });
    let mut nodes = 0u32;
    // The best bound among nodes dropped unsolved at the time limit.
    let mut open: Option<(i128, Score)> = None;
    while let Some(q) = queue.pop() {
        if q.bound <= best_value {
            // Every node left is bounded by this one's parent: done.
            break;
        }
        if nodes > 0 && started.elapsed() > limit {
            open = Some((q.bound, q.score));
            break;
        }
        nodes += 1;
        let sub = reduced(problem, &q.node);
        let mut placements = relax(&sub, weights).placements;
        for (i, place) in &q.node.fixed {
            placements[*i] = Some(*place);
        }
        let (bound, score) = relaxed(problem, &sub, &q.node, weights, &placements);
        if bound <= best_value {
            continue;
        }
        // A slot the mentee cannot make first, then one that earns them
        // less than the flow counted; the most important mentee first.
        let broken = placements
            .iter()
            .enumerate()
            .filter(|(i, _)| !q.node.fixed.iter().any(|(k, _)| k == i))
            .filter_map(|(i, p)| {
                let p = (*p)?;
                let mentee = &problem.mentees[i];
                let unfree = !mentee.free_in(p.slot);
                let short = mentee.bonus_in(p.slot) < sub.best_bonus(i, p.mentor);
                (unfree || short).then_some((i, p, unfree))
            })
            .max_by_key(|(i, _, unfree)| (*unfree, problem.mentees[*i].tier, std::cmp::Reverse(*i)))
            .map(|(i, p, _)| (i, p));
        let Some((i, at)) = broken else {
            debug_assert_eq!(bound, value(problem, weights, &placements));
            best_value = bound;
            best = placements;
            continue;
        };
        // The flow's answer without the placements that break an
        // exception, topped up greedily, is a solution too.
        let mut kept = placements.clone();
        for (k, p) in kept.iter_mut().enumerate() {
            if p.is_some_and(|p| !problem.mentees[k].free_in(p.slot)) {
                *p = None;
            }
        }
        let kept = super::greedy::top_up(problem, kept);
        let kept_value = value(problem, weights, &kept);
        if kept_value > best_value {
            best_value = kept_value;
            best = kept;
        }
        let mut child = |node: Node| {
            seq += 1;
            queue.push(Queued {
                bound,
                score: score.clone(),
                depth: q.depth + 1,
                seq,
                node,
            });
        };
        for g in sub.mentors[at.mentor].slots.iter() {
            for &s in g {
                if problem.mentees[i].free_in(s) && sub.slot_capacity[s] > 0 {
                    let mut node = q.node.clone();
                    node.fixed.push((
                        i,
                        Placement {
                            mentor: at.mentor,
                            slot: s,
                        },
                    ));
                    child(node);
                }
            }
        }
        let mut node = q.node.clone();
        node.forbidden.push((i, at.mentor));
        child(node);
    }
    let score = problem.score(&best);
    let (optimal, bound) = match open {
        None => (true, score.clone()),
        Some((v, s)) if v > best_value => (false, s),
        Some(_) => (true, score.clone()),
    };
    Solution {
        placements: best,
        score,
        optimal,
        bound: Some(bound),
        nodes,
    }
}
