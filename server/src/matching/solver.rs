//! The exact optimiser behind a match proposal.
//!
//! # Why a network flow is exact here
//!
//! A mentoring session in a weekly slot uses one iPad at *each* school,
//! whichever way round the pair is, so the two schools' device limits
//! collapse to one capacity per slot: `min(devices at A, devices at B)`,
//! zero without a supervisor at both ends. Mentees are free in every slot of
//! the partnership by construction: the slot policy picks the mentee's
//! school's tutor and registration periods. Fit depends on the pair, not on
//! the slot. With those three facts every constraint sits on one node or
//! arc of this network:
//!
//! ```text
//! source ─1─▶ mentee ─1─▶ mentor_in ─capacity─▶ mentor_out ─1─▶ period ─1─▶ slot ─devices─▶ sink
//!        −W(tier)     −fit                           │           −slot value ▲
//!                                                    └───────────1───────────┘
//!                                            (a period with one slot needs no period node)
//! ```
//!
//! Each unit of flow is one match: its path names the mentee, the mentor
//! and the slot. A mentor takes at most one mentee in each period of their
//! own timetable, and two of the partnership's slots can fall in the same
//! mentor period (when the partner school has two eligible periods that
//! overlap it). So each mentor period with more than one slot gets a
//! `period` node, reached from `mentor_out` by an arc of capacity one, with
//! an arc of capacity one on to each of its slots; a period with a single
//! slot needs no node, and its `mentor_out → slot` arc has capacity one
//! itself. Either way a mentor never has two mentees in one period, and
//! arcs to a slot only exist when the mentor is free in it. The slot value
//! sits on the arc into the slot. The network's arc–node incidence matrix
//! is totally unimodular, so a minimum-cost flow is an optimal *integer*
//! solution, not just a bound: no branching, no gap, and the final node
//! potentials are a dual certificate of optimality (every residual arc has
//! a non-negative reduced cost).
//!
//! The objective is lexicographic — matches in the most important tier,
//! then the next tier, …, then fit — and is folded into one integer cost by
//! giving each tier a weight larger than everything below it could add up
//! to; `i128` keeps those weights exact for any instance a partnership has
//! (`tier_weights` gives the bound). An instance beyond it is still
//! solved, but its top tiers share one weight, so the answer is no longer
//! proven lexicographically best: [`Solution::optimal`] says so, and the
//! proposal carries it on.
//!
//! The algorithm is successive shortest paths with Dijkstra on reduced
//! costs (potentials start from one pass in topological order, since the
//! initial network is acyclic). Augmenting stops at the first path that
//! would not lower the cost, which by convexity of cost in flow value is the
//! global minimum. Ties are broken by node order, so the same input always
//! gives the same answer.
//!
//! # A mentee who is not free in a slot
//!
//! A per-mentee exception ("not free in Tuesday registration") puts a
//! constraint on mentee–slot pairs, which no path in this network can see:
//! a unit of flow forgets which mentee it came from at the mentor node. The
//! problem is then a tripartite packing (NP-hard in general), and the flow
//! becomes the bound inside a branch and bound ([`branch`]): the flow that
//! ignores the exceptions can only do as well or better than any schedule
//! that keeps them, so its cost bounds every solution below a node. Where
//! it happens to keep them, the node is solved; where it places a mentee in
//! a slot they are not free in, the node splits on that mentee and mentor
//! (not together, or together in each slot the mentee is free in), which
//! covers every solution exactly once. The search ends with a proof (the
//! best bound left equals the incumbent: [`Solution::bound`]) or at a time
//! limit with the best found and its bound, never with nothing. A problem
//! without exceptions is one flow, as before.

mod branch;
mod greedy;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

pub use greedy::greedy;

/// A mentee as the optimiser sees them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MenteeNode {
    /// How important matching them is: one match in a higher tier outweighs
    /// any number of matches in lower tiers.
    pub tier: u8,
    /// The mentors who fit, and how well.
    pub options: Vec<Choice>,
    /// The slots (indices into the problem's slots) the mentee is not free
    /// in: a lesson, an intervention group.
    pub unavailable: Vec<usize>,
    /// Where the last proposal placed them, if with a mentor they may
    /// still have: among a mentor's slots they are given this one first.
    pub kept: Option<Placement>,
    /// What meeting in a slot adds to the fit for this mentee: the slots
    /// on the days they would rather meet.
    pub slot_bonus: Vec<(usize, u32)>,
}

impl MenteeNode {
    /// Whether the mentee can come to `slot`.
    pub fn free_in(&self, slot: usize) -> bool {
        !self.unavailable.contains(&slot)
    }

    /// What meeting in `slot` adds for this mentee.
    pub fn bonus_in(&self, slot: usize) -> u32 {
        self.slot_bonus
            .iter()
            .filter(|(s, _)| *s == slot)
            .map(|(_, b)| *b)
            .sum()
    }

    /// Whether anything about them is tied to a slot, which the flow alone
    /// cannot see (see the module docs).
    fn slot_bound(&self) -> bool {
        !self.unavailable.is_empty() || self.slot_bonus.iter().any(|(_, b)| *b > 0)
    }
}

/// A mentor who fits a mentee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Choice {
    /// Index into [`Problem::mentors`].
    pub mentor: usize,
    /// How well they fit (higher is better).
    pub fit: u32,
}

/// A mentor as the optimiser sees them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MentorNode {
    /// Mentees they can still take.
    pub capacity: u32,
    /// The slots (indices into the problem's slots) they are free in,
    /// grouped by the period of their own timetable each falls in: they
    /// take at most one mentee per group. (Two slots share a mentor's period
    /// when the partner school has two eligible periods overlapping it.)
    pub slots: Vec<Vec<usize>>,
    /// What meeting in a slot adds to the fit for this mentor: the slots
    /// their pairs had in the last proposal, so that a re-run keeps a
    /// kept pair's time (the mentee's side is [`MenteeNode::kept`]).
    pub slot_bonus: Vec<(usize, u32)>,
}

impl MentorNode {
    /// The group a slot is in, if the mentor is free in it.
    pub fn group_of(&self, slot: usize) -> Option<usize> {
        self.slots.iter().position(|g| g.contains(&slot))
    }
}

/// One partnership's matching problem.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub mentees: Vec<MenteeNode>,
    /// Mentors who may take them.
    pub mentors: Vec<MentorNode>,
    /// Pairs each weekly slot can still hold.
    pub slot_capacity: Vec<u32>,
    /// What using each slot adds to the fit (e.g. more sessions in the term).
    pub slot_value: Vec<u32>,
}

/// Where a mentee was placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Placement {
    /// Index into [`Problem::mentors`].
    pub mentor: usize,
    /// Index into the problem's slots.
    pub slot: usize,
}

/// How good a solution is, compared lexicographically.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Score {
    /// Mentees matched in each tier, the most important tier first.
    pub matched: Vec<u32>,
    /// Total fit, slot values included.
    pub fit: u64,
}

/// A placement for every mentee (or none) and its score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Solution {
    /// `placements[i]` is where mentee `i` goes.
    pub placements: Vec<Option<Placement>>,
    pub score: Score,
    /// Proven optimal: from [`solve`] unless the search reached its time
    /// limit or the tier weights had to be capped (an instance far larger
    /// than any partnership); never from [`greedy`].
    pub optimal: bool,
    /// What no solution can beat: equal to `score` when proven optimal,
    /// above it by the gap left when the search stopped at its limit;
    /// `None` from [`greedy`], which proves nothing.
    pub bound: Option<Score>,
    /// Subproblems the search solved (1 when no mentee has an exception).
    pub nodes: u32,
}

impl Problem {
    fn tiers(&self) -> usize {
        self.mentees
            .iter()
            .map(|m| usize::from(m.tier) + 1)
            .max()
            .unwrap_or(0)
    }

    fn slot_value(&self, slot: usize) -> u32 {
        self.slot_value.get(slot).copied().unwrap_or(0)
    }

    /// What a session of `mentor` in `slot` adds to the fit: the slot's
    /// own value and the mentor's bonus for keeping their time.
    pub fn place_value(&self, mentor: usize, slot: usize) -> u32 {
        let bonus = self.mentors.get(mentor).map_or(0, |m| {
            m.slot_bonus
                .iter()
                .filter(|(s, _)| *s == slot)
                .map(|(_, b)| *b)
                .sum()
        });
        self.slot_value(slot) + bonus
    }

    /// The most meeting with `mentor` can add for `mentee` in a slot they
    /// are free in: what the flow counts for the pair, since it cannot see
    /// which of the mentor's slots the mentee gets.
    fn best_bonus(&self, mentee: usize, mentor: usize) -> u32 {
        let (Some(i), Some(j)) = (self.mentees.get(mentee), self.mentors.get(mentor)) else {
            return 0;
        };
        if i.slot_bonus.is_empty() {
            return 0;
        }
        j.slots
            .iter()
            .flatten()
            .filter(|s| i.free_in(**s))
            .map(|s| i.bonus_in(*s))
            .max()
            .unwrap_or(0)
    }

    /// The fit of `mentee` placed at `place`: the pair's, the slot's and
    /// the mentor's and mentee's bonuses for it.
    fn fit_of(&self, mentee: usize, place: &Placement) -> u32 {
        let Some(m) = self.mentees.get(mentee) else {
            return 0;
        };
        let fit = m
            .options
            .iter()
            .find(|c| c.mentor == place.mentor)
            .map_or(0, |c| c.fit);
        fit + self.place_value(place.mentor, place.slot) + m.bonus_in(place.slot)
    }

    /// Scores placements (without checking them: see [`Problem::violation`]).
    pub fn score(&self, placements: &[Option<Placement>]) -> Score {
        let tiers = self.tiers();
        let mut score = Score {
            matched: vec![0; tiers],
            fit: 0,
        };
        for (i, (mentee, place)) in self.mentees.iter().zip(placements).enumerate() {
            let Some(place) = place else { continue };
            score.matched[tiers - 1 - usize::from(mentee.tier)] += 1;
            score.fit += u64::from(self.fit_of(i, place));
        }
        score
    }

    /// The first rule the placements break, in words; `None` when they
    /// keep every rule.
    pub fn violation(&self, placements: &[Option<Placement>]) -> Option<String> {
        if placements.len() != self.mentees.len() {
            return Some("one placement per mentee".into());
        }
        let mut load = vec![0u32; self.mentors.len()];
        let mut in_slot = vec![0u32; self.slot_capacity.len()];
        let mut mentor_periods = std::collections::BTreeSet::new();
        for (i, place) in placements.iter().enumerate() {
            let Some(p) = place else { continue };
            if !self.mentees[i].options.iter().any(|c| c.mentor == p.mentor) {
                return Some(format!(
                    "mentee {i} placed with mentor {} who does not fit",
                    p.mentor
                ));
            }
            let Some(mentor) = self.mentors.get(p.mentor) else {
                return Some(format!("mentee {i}: no mentor {}", p.mentor));
            };
            if !self.mentees[i].free_in(p.slot) {
                return Some(format!("mentee {i} is not free in slot {}", p.slot));
            }
            let Some(group) = mentor.group_of(p.slot) else {
                return Some(format!(
                    "mentor {} is not free in slot {}",
                    p.mentor, p.slot
                ));
            };
            if !mentor_periods.insert((p.mentor, group)) {
                return Some(format!(
                    "mentor {} has two mentees in one period (slot {})",
                    p.mentor, p.slot
                ));
            }
            load[p.mentor] += 1;
            if load[p.mentor] > mentor.capacity {
                return Some(format!("mentor {} is over capacity", p.mentor));
            }
            let Some(count) = in_slot.get_mut(p.slot) else {
                return Some(format!("no slot {}", p.slot));
            };
            *count += 1;
            if *count > self.slot_capacity[p.slot] {
                return Some(format!("slot {} has more pairs than devices", p.slot));
            }
        }
        None
    }
}

const SOURCE: usize = 0;

struct Arc {
    to: usize,
    cap: u32,
    cost: i128,
}

/// A residual network: arc `e ^ 1` is the reverse of arc `e`.
struct Network {
    arcs: Vec<Arc>,
    out: Vec<Vec<usize>>,
}

impl Network {
    fn new(nodes: usize) -> Self {
        Network {
            arcs: Vec::new(),
            out: vec![Vec::new(); nodes],
        }
    }

    fn add(&mut self, from: usize, to: usize, cap: u32, cost: i128) -> usize {
        let id = self.arcs.len();
        self.arcs.push(Arc { to, cap, cost });
        self.arcs.push(Arc {
            to: from,
            cap: 0,
            cost: -cost,
        });
        self.out[from].push(id);
        self.out[to].push(id + 1);
        id
    }
}

/// Where each part of the problem sits in the network: source, mentees,
/// mentors in, mentors out, mentors' periods, slots, sink.
struct Layout {
    mentees: usize,
    mentors: usize,
    groups: usize,
    slots: usize,
}

impl Layout {
    fn mentee(&self, i: usize) -> usize {
        1 + i
    }
    fn mentor_in(&self, j: usize) -> usize {
        1 + self.mentees + j
    }
    fn mentor_out(&self, j: usize) -> usize {
        1 + self.mentees + self.mentors + j
    }
    fn group(&self, g: usize) -> usize {
        1 + self.mentees + 2 * self.mentors + g
    }
    fn slot(&self, s: usize) -> usize {
        1 + self.mentees + 2 * self.mentors + self.groups + s
    }
    fn sink(&self) -> usize {
        1 + self.mentees + 2 * self.mentors + self.groups + self.slots
    }
}

/// The weight of one match in each tier (indexed by tier): more than every
/// lower tier's matches and all fit put together. Tiers are ranked densely
/// first, so only tiers in use cost a factor; the weights stay exact while
/// `(mentees + 1) ^ tiers in use` times the total fit fits in an `i128`
/// (the product uses at most six tiers: three priorities, pinned or not).
/// Beyond that the top tiers share the largest weight that cannot overflow
/// a sum, rather than wrapping, and the second value is `false`: the caller
/// reports that the answer is no longer proven lexicographically best.
fn tier_weights(problem: &Problem) -> (Vec<i128>, bool) {
    let max_bonus = problem
        .mentors
        .iter()
        .flat_map(|m| &m.slot_bonus)
        .map(|(_, b)| *b)
        .max()
        .unwrap_or(0);
    let max_slot_value = problem.slot_value.iter().copied().max().unwrap_or(0) + max_bonus;
    let all_fit: i128 = problem
        .mentees
        .iter()
        .map(|m| {
            let best = m.options.iter().map(|c| c.fit).max().unwrap_or(0);
            i128::from(best) + i128::from(max_slot_value)
        })
        .sum();
    let n = i128::try_from(problem.mentees.len()).unwrap_or(i128::MAX);
    let ceiling = i128::MAX / 4 / (n + 2);
    let used: std::collections::BTreeSet<u8> = problem.mentees.iter().map(|m| m.tier).collect();
    let mut weights = vec![0; problem.tiers()];
    let mut exact = true;
    let mut w = Some(all_fit + 1);
    for tier in used {
        weights[usize::from(tier)] = match w {
            Some(w) if w <= ceiling => w,
            _ => {
                exact = false;
                ceiling
            }
        };
        w = w.and_then(|w| w.checked_mul(n + 1));
    }
    (weights, exact)
}

/// How long [`solve`] searches before it returns the best found with its
/// gap. A partnership's problem is proven well inside it (see
/// `BENCHMARKS.md`); the limit is for the pathological case, so that a
/// coordinator always gets a proposal.
pub const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Solves a problem to optimality, within [`TIME_LIMIT`]. Options, mentors
/// or slots that point outside the problem are ignored rather than trusted.
pub fn solve(problem: &Problem) -> Solution {
    solve_within(problem, TIME_LIMIT)
}

/// [`solve`] with its own time limit.
pub fn solve_within(problem: &Problem, limit: std::time::Duration) -> Solution {
    let (weights, exact) = tier_weights(problem);
    let mut solution = if !problem.mentees.iter().any(MenteeNode::slot_bound) {
        let relaxed = relax(problem, &weights);
        Solution {
            bound: Some(relaxed.score.clone()),
            nodes: 1,
            ..relaxed
        }
    } else {
        branch::search(problem, &weights, limit)
    };
    if !exact {
        tracing::warn!(
            mentees = problem.mentees.len(),
            "matching instance too large for exact tier weights; the proposal is not proven optimal"
        );
        solution.optimal = false;
    }
    solution
}

/// The flow's answer for a problem, ignoring the mentees' exceptions except
/// when pairing a mentor's mentees with the slots the flow gave that mentor.
fn relax(problem: &Problem, weights: &[i128]) -> Solution {
    let mut built = build(problem, weights);
    min_cost_flow(&mut built.net, built.layout.sink());
    read_back(problem, &built)
}

/// What placements are worth in the flow's units (the negated cost): the
/// search compares nodes by it.
fn value(problem: &Problem, weights: &[i128], placements: &[Option<Placement>]) -> i128 {
    problem
        .mentees
        .iter()
        .zip(placements)
        .enumerate()
        .filter_map(|(i, (mentee, place))| {
            let place = place.as_ref()?;
            Some(weights[usize::from(mentee.tier)] + i128::from(problem.fit_of(i, place)))
        })
        .sum()
}

/// The network for a problem, and where its decision arcs are.
struct Built {
    net: Network,
    layout: Layout,
    /// For each mentee: (arc, mentor) of each option.
    pair_arcs: Vec<Vec<(usize, usize)>>,
    /// For each mentor: (arc, slot) of each free slot.
    slot_arcs: Vec<Vec<(usize, usize)>>,
}

fn build(problem: &Problem, weights: &[i128]) -> Built {
    let layout = Layout {
        mentees: problem.mentees.len(),
        mentors: problem.mentors.len(),
        groups: problem.mentors.iter().map(|m| m.slots.len()).sum(),
        slots: problem.slot_capacity.len(),
    };
    let nodes = layout.sink() + 1;
    let mut net = Network::new(nodes);
    // Arcs are added in node order, and every arc runs from a lower node
    // number to a higher one: the numbering is a topological order.
    for (i, mentee) in problem.mentees.iter().enumerate() {
        net.add(
            SOURCE,
            layout.mentee(i),
            1,
            -weights[usize::from(mentee.tier)],
        );
    }
    let mut pair_arcs = Vec::with_capacity(problem.mentees.len());
    for (i, mentee) in problem.mentees.iter().enumerate() {
        let mut arcs = Vec::new();
        for choice in mentee.options.iter().filter(|c| c.mentor < layout.mentors) {
            // The mentee's own bonus at its most: a bound, which the
            // search checks against the slot the pair really gets.
            let fit = choice.fit + problem.best_bonus(i, choice.mentor);
            let arc = net.add(
                layout.mentee(i),
                layout.mentor_in(choice.mentor),
                1,
                -i128::from(fit),
            );
            arcs.push((arc, choice.mentor));
        }
        pair_arcs.push(arcs);
    }
    for (j, mentor) in problem.mentors.iter().enumerate() {
        net.add(
            layout.mentor_in(j),
            layout.mentor_out(j),
            mentor.capacity,
            0,
        );
    }
    let mut slot_arcs = Vec::with_capacity(problem.mentors.len());
    let mut group = 0;
    for (j, mentor) in problem.mentors.iter().enumerate() {
        let mut arcs = Vec::new();
        let mut seen = vec![false; layout.slots];
        for slots in &mentor.slots {
            // A period with one slot needs no node of its own: the slot's
            // arc already carries at most one mentee.
            let from = if slots.len() > 1 {
                net.add(layout.mentor_out(j), layout.group(group), 1, 0);
                layout.group(group)
            } else {
                layout.mentor_out(j)
            };
            for &s in slots {
                if s >= layout.slots || std::mem::replace(&mut seen[s], true) {
                    continue;
                }
                let arc = net.add(
                    from,
                    layout.slot(s),
                    1,
                    -i128::from(problem.place_value(j, s)),
                );
                arcs.push((arc, s));
            }
            group += 1;
        }
        slot_arcs.push(arcs);
    }
    for (s, &cap) in problem.slot_capacity.iter().enumerate() {
        net.add(layout.slot(s), layout.sink(), cap, 0);
    }

    Built {
        net,
        layout,
        pair_arcs,
        slot_arcs,
    }
}

fn read_back(problem: &Problem, built: &Built) -> Solution {
    let Built {
        net,
        pair_arcs,
        slot_arcs,
        ..
    } = built;
    // Read the matches back: each mentor's mentees take the mentor's used
    // slots, paired so that as many as possible are free in theirs and
    // get the slots they would rather have (the flow counted each
    // mentee's best, so any pairing is worth the same to it; the search
    // checks the pairing made).
    let mut placements = vec![None; problem.mentees.len()];
    let mut mentees_of = vec![Vec::new(); problem.mentors.len()];
    for (i, arcs) in pair_arcs.iter().enumerate() {
        if let Some(&(_, j)) = arcs.iter().find(|(arc, _)| net.arcs[*arc].cap == 0) {
            mentees_of[j].push(i);
        }
    }
    for (j, mentees) in mentees_of.iter().enumerate() {
        let used: Vec<usize> = slot_arcs[j]
            .iter()
            .filter(|(arc, _)| net.arcs[*arc].cap == 0)
            .map(|&(_, s)| s)
            .collect();
        for (&i, s) in mentees.iter().zip(pair_with_slots(problem, mentees, &used)) {
            placements[i] = Some(Placement { mentor: j, slot: s });
        }
    }
    let score = problem.score(&placements);
    Solution {
        placements,
        bound: None,
        score,
        optimal: true,
        nodes: 1,
    }
}

/// One of `slots` for each of `mentees` (as many as there are slots), each
/// free in theirs where a pairing allows: a bipartite matching by
/// augmenting paths, tiny here (a mentor's mentees), then the slots left
/// over go to the mentees left over in order.
fn pair_with_slots(problem: &Problem, mentees: &[usize], slots: &[usize]) -> Vec<usize> {
    // A kept pair's mentee goes back to their slot when the mentor has it
    // and they can make it; the rest are paired around them.
    let mut ordered = mentees.to_vec();
    ordered.sort_by_key(|&i| {
        !problem.mentees[i]
            .kept
            .is_some_and(|k| slots.contains(&k.slot) && problem.mentees[i].free_in(k.slot))
    });
    let paired: BTreeMap<usize, usize> = ordered
        .iter()
        .copied()
        .zip(pair_in_order(problem, &ordered, slots))
        .collect();
    mentees
        .iter()
        .filter_map(|i| paired.get(i).copied())
        .collect()
}

fn pair_in_order(problem: &Problem, mentees: &[usize], slots: &[usize]) -> Vec<usize> {
    fn augment(
        problem: &Problem,
        mentees: &[usize],
        slots: &[usize],
        m: usize,
        seen: &mut [bool],
        holder: &mut [Option<usize>],
    ) -> bool {
        // The kept slot first, then those the mentee would rather have,
        // then the rest in order.
        let mentee = &problem.mentees[mentees[m]];
        let kept = mentee.kept.map(|k| k.slot);
        let mut tries: Vec<usize> = (0..slots.len()).collect();
        tries.sort_by_key(|&k| (Some(slots[k]) != kept, Reverse(mentee.bonus_in(slots[k]))));
        for k in tries {
            let slot = slots[k];
            if seen[k] || !problem.mentees[mentees[m]].free_in(slot) {
                continue;
            }
            seen[k] = true;
            if holder[k].is_none_or(|other| augment(problem, mentees, slots, other, seen, holder)) {
                holder[k] = Some(m);
                return true;
            }
        }
        false
    }
    let mut holder: Vec<Option<usize>> = vec![None; slots.len()];
    for m in 0..mentees.len() {
        let mut seen = vec![false; slots.len()];
        augment(problem, mentees, slots, m, &mut seen, &mut holder);
    }
    let mut of: Vec<Option<usize>> = vec![None; mentees.len()];
    for (k, h) in holder.iter().enumerate() {
        if let Some(m) = h {
            of[*m] = Some(slots[k]);
        }
    }
    let mut spare = (0..slots.len())
        .filter(|k| holder[*k].is_none())
        .map(|k| slots[k]);
    of.into_iter()
        .map_while(|s| s.or_else(|| spare.next()))
        .collect()
}

const UNSEEN: i128 = i128::MAX;

/// Potentials from shortest distances in the initial network, in one pass:
/// it is acyclic and numbered in topological order (see `build`).
fn initial_potentials(net: &Network) -> Vec<i128> {
    let n = net.out.len();
    let mut potential = vec![UNSEEN; n];
    potential[SOURCE] = 0;
    for u in 0..n {
        if potential[u] == UNSEEN {
            continue;
        }
        for &e in &net.out[u] {
            let arc = &net.arcs[e];
            if arc.cap > 0 {
                let d = potential[u] + arc.cost;
                if d < potential[arc.to] {
                    potential[arc.to] = d;
                }
            }
        }
    }
    // Nodes the source cannot reach never become reachable (new residual
    // arcs only appear along augmenting paths), so their potential is moot.
    for p in &mut potential {
        if *p == UNSEEN {
            *p = 0;
        }
    }
    potential
}

/// Successive shortest paths from [`SOURCE`] to `sink`, stopping when no
/// path lowers the cost.
fn min_cost_flow(net: &mut Network, sink: usize) {
    let n = net.out.len();
    let mut potential = initial_potentials(net);
    let mut dist = vec![UNSEEN; n];
    let mut via = vec![usize::MAX; n];
    let mut heap = BinaryHeap::new();
    loop {
        dist.fill(UNSEEN);
        via.fill(usize::MAX);
        dist[SOURCE] = 0;
        heap.clear();
        heap.push(Reverse((0i128, SOURCE)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            if u == sink {
                break;
            }
            for &e in &net.out[u] {
                let arc = &net.arcs[e];
                if arc.cap == 0 {
                    continue;
                }
                let v = arc.to;
                let nd = d + arc.cost + potential[u] - potential[v];
                if nd < dist[v] {
                    dist[v] = nd;
                    via[v] = e;
                    heap.push(Reverse((nd, v)));
                }
            }
        }
        let to_sink = dist[sink];
        if to_sink == UNSEEN {
            break;
        }
        let path_cost = to_sink - potential[SOURCE] + potential[sink];
        if path_cost >= 0 {
            break;
        }
        // Nodes not settled before the sink are at least as far as it, so
        // capping at the sink's distance keeps every reduced cost >= 0.
        for (p, &d) in potential.iter_mut().zip(&dist) {
            *p += d.min(to_sink);
        }
        let mut v = sink;
        while v != SOURCE {
            let e = via[v];
            net.arcs[e].cap -= 1;
            net.arcs[e ^ 1].cap += 1;
            v = net.arcs[e ^ 1].to;
        }
    }
}

#[cfg(test)]
mod tests;
