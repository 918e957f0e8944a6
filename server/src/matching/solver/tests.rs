//! The optimiser against an exhaustive search on small problems, and the rules every solution keeps.

use proptest::prelude::*;

use super::*;

/// Every valid set of placements, best kept: the yardstick for optimality.
fn exhaustive(problem: &Problem) -> Score {
    fn go(problem: &Problem, i: usize, placements: &mut Vec<Option<Placement>>, best: &mut Score) {
        if i == problem.mentees.len() {
            if problem.violation(placements).is_none() {
                let score = problem.score(placements);
                if score > *best {
                    *best = score;
                }
            }
            return;
        }
        placements.push(None);
        go(problem, i + 1, placements, best);
        placements.pop();
        for c in &problem.mentees[i].options {
            for &slot in problem.mentors[c.mentor].slots.iter().flatten() {
                placements.push(Some(Placement {
                    mentor: c.mentor,
                    slot,
                }));
                // Prune as soon as a rule breaks: the rest cannot mend it.
                let mut padded = placements.clone();
                padded.resize(problem.mentees.len(), None);
                if problem.violation(&padded).is_none() {
                    go(problem, i + 1, placements, best);
                }
                placements.pop();
            }
        }
    }
    let mut best = problem.score(&vec![None; problem.mentees.len()]);
    go(problem, 0, &mut Vec::new(), &mut best);
    best
}

fn problems(
    mentees: usize,
    mentors: usize,
    slots: usize,
    tiers: u8,
) -> impl Strategy<Value = Problem> {
    (1..=mentors, 1..=slots).prop_flat_map(move |(m, k)| {
        // Each free slot falls in one of two of the mentor's own periods,
        // so some mentors have two slots in one period.
        let mentor = (
            0..=2u32,
            prop::collection::btree_map(0..k, 0..2usize, 0..=k),
        )
            .prop_map(|(capacity, slots)| MentorNode {
                capacity,
                slot_bonus: Vec::new(),
                slots: (0..2)
                    .map(|g| {
                        slots
                            .iter()
                            .filter(|(_, x)| **x == g)
                            .map(|(s, _)| *s)
                            .collect::<Vec<_>>()
                    })
                    .filter(|g| !g.is_empty())
                    .collect(),
            });
        let mentee = (0..tiers, prop::collection::btree_map(0..m, 0..=9u32, 0..=m)).prop_map(
            |(tier, options)| MenteeNode {
                tier,
                options: options
                    .into_iter()
                    .map(|(mentor, fit)| Choice { mentor, fit })
                    .collect(),
                unavailable: Vec::new(),
                kept: None,
                slot_bonus: Vec::new(),
            },
        );
        (
            prop::collection::vec(mentee, 0..=mentees),
            prop::collection::vec(mentor, m),
            prop::collection::vec(0..=3u32, k),
            prop::collection::vec(0..=3u32, k),
        )
            .prop_map(|(mentees, mentors, slot_capacity, slot_value)| Problem {
                mentees,
                mentors,
                slot_capacity,
                slot_value,
            })
    })
}

/// `problems` with some mentees not free in some slots (each slot, for each
/// mentee, one time in three).
fn problems_with_exceptions(
    mentees: usize,
    mentors: usize,
    slots: usize,
    tiers: u8,
) -> impl Strategy<Value = Problem> {
    problems(mentees, mentors, slots, tiers).prop_flat_map(|problem| {
        let k = problem.slot_capacity.len();
        let n = problem.mentees.len();
        (
            Just(problem),
            prop::collection::vec(prop::collection::vec(0..3u8, k), n),
        )
            .prop_map(|(mut problem, marks)| {
                for (mentee, marks) in problem.mentees.iter_mut().zip(marks) {
                    mentee.unavailable = (0..marks.len()).filter(|s| marks[*s] == 0).collect();
                }
                problem
            })
    })
}

/// `problems_with_exceptions` whose mentees would rather meet in some slots
/// (each slot, for each mentee, one time in three, worth 1 to 6: from less
/// than a slot's value to more than a fit).
fn problems_with_preferences(
    mentees: usize,
    mentors: usize,
    slots: usize,
    tiers: u8,
) -> impl Strategy<Value = Problem> {
    problems_with_exceptions(mentees, mentors, slots, tiers).prop_flat_map(|problem| {
        let k = problem.slot_capacity.len();
        let n = problem.mentees.len();
        (
            Just(problem),
            prop::collection::vec(prop::collection::vec((0..3u8, 1..=6u32), k), n),
        )
            .prop_map(|(mut problem, marks)| {
                for (mentee, marks) in problem.mentees.iter_mut().zip(marks) {
                    mentee.slot_bonus = marks
                        .iter()
                        .enumerate()
                        .filter(|(_, (m, _))| *m == 0)
                        .map(|(s, (_, b))| (s, *b))
                        .collect();
                }
                problem
            })
    })
}

/// True when the residual network (with a free arc back from sink to
/// source, so any flow value is allowed) has a cycle of negative cost: the
/// flow could be improved. None means the flow is optimal.
fn improvable(built: &Built) -> bool {
    let n = built.net.out.len();
    let sink = built.layout.sink();
    let mut dist = vec![0i128; n];
    let arcs: Vec<(usize, usize, i128)> = built
        .net
        .out
        .iter()
        .enumerate()
        .flat_map(|(u, out)| {
            out.iter()
                .filter(|&&e| built.net.arcs[e].cap > 0)
                .map(move |&e| (u, e))
        })
        .map(|(u, e)| (u, built.net.arcs[e].to, built.net.arcs[e].cost))
        .chain(std::iter::once((sink, SOURCE, 0)))
        .collect();
    for _ in 0..n {
        let mut changed = false;
        for &(u, v, c) in &arcs {
            if dist[u] + c < dist[v] {
                dist[v] = dist[u] + c;
                changed = true;
            }
        }
        if !changed {
            return false;
        }
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_flow_is_as_good_as_trying_every_assignment(problem in problems(5, 3, 3, 6)) {
        let solution = solve(&problem);
        prop_assert_eq!(problem.violation(&solution.placements), None);
        prop_assert_eq!(&solution.score, &problem.score(&solution.placements));
        prop_assert_eq!(solution.score, exhaustive(&problem));
    }

    #[test]
    fn every_rule_holds_and_the_flow_never_loses_to_greedy(problem in problems(40, 25, 8, 3)) {
        let solution = solve(&problem);
        prop_assert_eq!(problem.violation(&solution.placements), None);
        let baseline = greedy(&problem);
        prop_assert_eq!(problem.violation(&baseline.placements), None);
        prop_assert!(solution.score >= baseline.score);
        // Same input, same answer.
        prop_assert_eq!(solve(&problem), solution);
    }

    #[test]
    fn with_exceptions_the_search_is_as_good_as_trying_every_assignment(
        problem in problems_with_exceptions(5, 3, 3, 4)
    ) {
        let solution = solve(&problem);
        prop_assert_eq!(problem.violation(&solution.placements), None);
        prop_assert_eq!(&solution.score, &problem.score(&solution.placements));
        prop_assert!(solution.optimal);
        prop_assert_eq!(solution.bound.as_ref(), Some(&solution.score));
        prop_assert_eq!(solution.score, exhaustive(&problem));
    }

    #[test]
    fn with_exceptions_every_rule_holds_and_the_search_never_loses_to_greedy(
        problem in problems_with_exceptions(40, 25, 8, 3)
    ) {
        let solution = solve(&problem);
        prop_assert_eq!(problem.violation(&solution.placements), None);
        prop_assert!(solution.optimal);
        let baseline = greedy(&problem);
        prop_assert_eq!(problem.violation(&baseline.placements), None);
        prop_assert!(solution.score >= baseline.score);
        prop_assert_eq!(solve(&problem), solution);
    }

    #[test]
    fn with_preferred_slots_the_search_is_as_good_as_trying_every_assignment(
        problem in problems_with_preferences(5, 3, 3, 4)
    ) {
        let solution = solve(&problem);
        prop_assert_eq!(problem.violation(&solution.placements), None);
        prop_assert_eq!(&solution.score, &problem.score(&solution.placements));
        prop_assert!(solution.optimal);
        prop_assert_eq!(solution.bound.as_ref(), Some(&solution.score));
        prop_assert_eq!(solution.score, exhaustive(&problem));
    }

    #[test]
    fn with_preferred_slots_every_rule_holds_and_the_search_never_loses_to_greedy(
        problem in problems_with_preferences(30, 20, 8, 3)
    ) {
        let solution = solve(&problem);
        prop_assert_eq!(problem.violation(&solution.placements), None);
        let baseline = greedy(&problem);
        prop_assert!(solution.score >= baseline.score);
        prop_assert_eq!(solve(&problem), solution);
    }

    #[test]
    fn stopped_at_once_with_preferred_slots_the_search_still_answers_with_a_true_bound(
        problem in problems_with_preferences(12, 6, 4, 3)
    ) {
        let stopped = solve_within(&problem, std::time::Duration::ZERO);
        prop_assert_eq!(problem.violation(&stopped.placements), None);
        let best = solve(&problem);
        let bound = stopped.bound.clone().unwrap_or_default();
        prop_assert!(bound >= best.score, "{:?} < {:?}", bound, best.score);
        prop_assert!(stopped.score <= best.score);
    }

    #[test]
    fn stopped_at_once_the_search_still_answers_with_a_true_bound(
        problem in problems_with_exceptions(12, 6, 4, 3)
    ) {
        let stopped = solve_within(&problem, std::time::Duration::ZERO);
        prop_assert_eq!(problem.violation(&stopped.placements), None);
        let best = solve(&problem);
        let bound = stopped.bound.clone().unwrap_or_default();
        prop_assert!(bound >= best.score, "{:?} < {:?}", bound, best.score);
        prop_assert!(stopped.score <= best.score);
        prop_assert_eq!(stopped.optimal, stopped.score == bound);
    }

    #[test]
    fn the_final_flow_has_an_optimality_certificate(problem in problems(40, 25, 8, 3)) {
        let mut built = build(&problem, &tier_weights(&problem).0);
        let sink = built.layout.sink();
        min_cost_flow(&mut built.net, sink);
        prop_assert!(!improvable(&built));
    }
}

fn mentor(capacity: u32, slots: &[usize]) -> MentorNode {
    MentorNode {
        capacity,
        slots: slots.iter().map(|s| vec![*s]).collect(),
        slot_bonus: Vec::new(),
    }
}

fn mentee(tier: u8, options: &[(usize, u32)]) -> MenteeNode {
    MenteeNode {
        tier,
        options: options
            .iter()
            .map(|&(mentor, fit)| Choice { mentor, fit })
            .collect(),
        unavailable: Vec::new(),
        kept: None,
        slot_bonus: Vec::new(),
    }
}

#[test]
fn one_urgent_mentee_outweighs_two_routine_ones() {
    // One mentor, one place. Two routine mentees fit well; one urgent
    // mentee fits badly. The urgent one gets the place.
    let problem = Problem {
        mentees: vec![
            mentee(0, &[(0, 9)]),
            mentee(0, &[(0, 9)]),
            mentee(2, &[(0, 1)]),
        ],
        mentors: vec![mentor(2, &[0, 1])],
        slot_capacity: vec![1, 0],
        slot_value: vec![0, 0],
    };
    let solution = solve(&problem);
    assert_eq!(
        solution.placements[2],
        Some(Placement { mentor: 0, slot: 0 })
    );
    assert_eq!(solution.score.matched, vec![1, 0, 0]);
}

#[test]
fn more_matches_beat_better_fit_within_a_tier() {
    // Greedy gives mentee 0 its favourite (mentor 0) and strands mentee 1,
    // who only fits mentor 0. The optimum moves mentee 0 to mentor 1.
    let problem = Problem {
        mentees: vec![mentee(1, &[(0, 9), (1, 2)]), mentee(1, &[(0, 3)])],
        mentors: vec![mentor(1, &[0]), mentor(1, &[0])],
        slot_capacity: vec![2],
        slot_value: vec![0],
    };
    let greedy = greedy(&problem);
    assert_eq!(greedy.score.matched, vec![1, 0]);
    let best = solve(&problem);
    assert_eq!(best.score.matched, vec![2, 0]);
    assert_eq!(best.placements[0].map(|p| p.mentor), Some(1));
}

#[test]
fn a_mentee_goes_to_a_slot_they_are_free_in_even_if_the_flow_tied_otherwise() {
    // Two mentors, each free in slot 0 and slot 1, one iPad in each slot.
    // Mentee 0 is not free in slot 0, mentee 1 not in slot 1. Both can be
    // matched only by giving each the other slot.
    let mut problem = Problem {
        mentees: vec![mentee(0, &[(0, 5), (1, 5)]), mentee(0, &[(0, 5), (1, 5)])],
        mentors: vec![mentor(1, &[0, 1]), mentor(1, &[0, 1])],
        slot_capacity: vec![1, 1],
        slot_value: vec![0, 0],
    };
    problem.mentees[0].unavailable = vec![0];
    problem.mentees[1].unavailable = vec![1];
    let solution = solve(&problem);
    assert_eq!(problem.violation(&solution.placements), None);
    assert_eq!(solution.score.matched, vec![2]);
    assert_eq!(solution.placements[0].map(|p| p.slot), Some(1));
    assert_eq!(solution.placements[1].map(|p| p.slot), Some(0));
    assert!(solution.optimal);
}

#[test]
fn an_exception_can_cost_a_match_and_the_proof_says_so() {
    // One mentor free only in slot 0, which the only mentee cannot make:
    // the flow alone would match them; the search proves nobody can be.
    let mut problem = Problem {
        mentees: vec![mentee(0, &[(0, 5)])],
        mentors: vec![mentor(1, &[0])],
        slot_capacity: vec![1],
        slot_value: vec![0],
    };
    problem.mentees[0].unavailable = vec![0];
    let solution = solve(&problem);
    assert_eq!(solution.placements, vec![None]);
    assert!(solution.optimal);
    assert_eq!(solution.bound, Some(solution.score.clone()));
}

#[test]
fn a_mentor_never_has_two_mentees_in_one_slot() {
    let problem = Problem {
        mentees: vec![mentee(0, &[(0, 5)]), mentee(0, &[(0, 5)])],
        mentors: vec![mentor(2, &[0])],
        slot_capacity: vec![4],
        slot_value: vec![0],
    };
    assert_eq!(solve(&problem).score.matched, vec![1]);
}

#[test]
fn an_empty_or_hopeless_problem_gives_an_empty_solution() {
    assert_eq!(solve(&Problem::default()).placements, vec![]);
    let hopeless = Problem {
        mentees: vec![mentee(2, &[(0, 5)]), mentee(0, &[])],
        mentors: vec![mentor(1, &[])],
        slot_capacity: vec![0, 3],
        slot_value: vec![1, 1],
    };
    assert_eq!(solve(&hopeless).placements, vec![None, None]);
    // Indices that point nowhere are ignored, not trusted.
    let broken = Problem {
        mentees: vec![mentee(0, &[(7, 5)])],
        mentors: vec![mentor(1, &[9])],
        slot_capacity: vec![1],
        slot_value: vec![],
    };
    assert_eq!(solve(&broken).placements, vec![None]);
}

#[test]
fn a_mentee_gets_the_day_they_prefer_when_it_costs_nobody_anything() {
    // One mentor free in slots 0 and 1, two places; mentee 0 would rather
    // meet in slot 1, mentee 1 does not mind. The flow alone cannot see
    // which mentee gets which slot; the answer gives mentee 0 slot 1.
    let mut problem = Problem {
        mentees: vec![mentee(0, &[(0, 5)]), mentee(0, &[(0, 5)])],
        mentors: vec![MentorNode {
            capacity: 2,
            slots: vec![vec![0], vec![1]],
            slot_bonus: Vec::new(),
        }],
        slot_capacity: vec![1, 1],
        slot_value: vec![1, 0],
    };
    problem.mentees[0].slot_bonus = vec![(1, 4)];
    let solution = solve(&problem);
    assert_eq!(solution.placements[0].map(|p| p.slot), Some(1));
    assert_eq!(solution.placements[1].map(|p| p.slot), Some(0));
    assert_eq!(solution.score.fit, 5 + 4 + 5 + 1);
    assert!(solution.optimal);
}

#[test]
fn a_preferred_day_never_costs_a_match() {
    // Mentee 0 prefers slot 0, the only slot mentee 1 can make: both are
    // matched, and mentee 0 meets in slot 1.
    let mut problem = Problem {
        mentees: vec![mentee(0, &[(0, 5)]), mentee(0, &[(0, 5)])],
        mentors: vec![MentorNode {
            capacity: 2,
            slots: vec![vec![0], vec![1]],
            slot_bonus: Vec::new(),
        }],
        slot_capacity: vec![1, 1],
        slot_value: vec![0, 0],
    };
    problem.mentees[0].slot_bonus = vec![(0, 6)];
    problem.mentees[1].unavailable = vec![1];
    let solution = solve(&problem);
    assert_eq!(solution.score.matched, vec![2]);
    assert_eq!(solution.placements[0].map(|p| p.slot), Some(1));
}

#[test]
fn a_preferred_day_can_outweigh_a_slightly_better_fit() {
    // Mentor 0 fits a little better; only mentor 1 is free on the day the
    // mentee would rather meet, which is worth more than the difference.
    let mut problem = Problem {
        mentees: vec![mentee(0, &[(0, 5), (1, 4)])],
        mentors: vec![mentor(1, &[0]), mentor(1, &[1])],
        slot_capacity: vec![1, 1],
        slot_value: vec![0, 0],
    };
    problem.mentees[0].slot_bonus = vec![(1, 3)];
    let solution = solve(&problem);
    assert_eq!(
        solution.placements[0],
        Some(Placement { mentor: 1, slot: 1 })
    );
    assert_eq!(solution.score.fit, 7);
    assert!(solution.optimal);
}
