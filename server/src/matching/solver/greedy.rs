//! The yardstick a proposal is compared with: what taking mentees in
//! priority order, each with their best open mentor and slot, would give.

use std::cmp::Reverse;

use super::{Placement, Problem, Solution};

/// The obvious method, kept as a yardstick: take mentees most important
/// first and give each the best-fitting mentor and slot still open.
pub fn greedy(problem: &Problem) -> Solution {
    let placements = top_up(problem, vec![None; problem.mentees.len()]);
    let score = problem.score(&placements);
    Solution {
        placements,
        score,
        optimal: false,
        bound: None,
        nodes: 0,
    }
}

/// `placements` (which keep every rule) with each mentee left out given,
/// in the greedy order, the best place still open.
pub(super) fn top_up(
    problem: &Problem,
    mut placements: Vec<Option<Placement>>,
) -> Vec<Option<Placement>> {
    let mut order: Vec<usize> = (0..problem.mentees.len()).collect();
    order.sort_by_key(|&i| Reverse(problem.mentees[i].tier));
    let mut load = vec![0u32; problem.mentors.len()];
    let mut in_slot = vec![0u32; problem.slot_capacity.len()];
    let mut taken = std::collections::BTreeSet::new();
    for p in placements.iter().flatten() {
        load[p.mentor] += 1;
        in_slot[p.slot] += 1;
        if let Some(g) = problem.mentors[p.mentor].group_of(p.slot) {
            taken.insert((p.mentor, g));
        }
    }
    for i in order {
        if placements[i].is_some() {
            continue;
        }
        let mut best: Option<(u32, usize, Placement)> = None;
        for c in &problem.mentees[i].options {
            let Some(mentor) = problem.mentors.get(c.mentor) else {
                continue;
            };
            if load[c.mentor] >= mentor.capacity {
                continue;
            }
            for (g, slots) in mentor.slots.iter().enumerate() {
                if taken.contains(&(c.mentor, g)) {
                    continue;
                }
                for &s in slots {
                    if s >= in_slot.len()
                        || in_slot[s] >= problem.slot_capacity[s]
                        || !problem.mentees[i].free_in(s)
                    {
                        continue;
                    }
                    let value = c.fit + problem.place_value(c.mentor, s);
                    if best.is_none_or(|(v, _, _)| value > v) {
                        let place = Placement {
                            mentor: c.mentor,
                            slot: s,
                        };
                        best = Some((value, g, place));
                    }
                }
            }
        }
        if let Some((_, g, p)) = best {
            load[p.mentor] += 1;
            in_slot[p.slot] += 1;
            taken.insert((p.mentor, g));
            placements[i] = Some(p);
        }
    }
    placements
}
