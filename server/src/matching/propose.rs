//! A run: the partnership as a [`Problem`], solved exactly by [`solver`],
//! and the answer explained pair by pair (and, in `super::unmatched`,
//! mentee by mentee for those left out).

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::fit::{mentor_busy, open_slots, subject_fit, subject_reasons};
use super::solver::{self, Choice, MenteeNode, MentorNode, Placement, Problem};
use super::unmatched::Context;
use super::{
    HORIZON_WEEKS, MatchInput, MenteeCase, MentorCase, ProposalBody, ProposedMatch, RuleKind,
    Unmatched, WeeklySlot,
};

/// Extra fit for keeping a pair from the last proposal, so a re-run after
/// one pin or forbid does not reshuffle everyone else.
const KEPT_PAIR: u32 = 5;

/// Extra fit for a kept pair's mentor meeting in the pair's slot again: a
/// re-run with nothing changed gives every pair its time back (any
/// positive value does, since the last answer was already best without
/// it).
const KEPT_SLOT: u32 = 2;

/// Extra fit for meeting on a day the mentee would rather meet: more than
/// a slot's own value can differ by between two weekly slots (none), less
/// than a mentor's subject fit, so a mentee gets the day they asked for
/// where it costs no better mentor and no match.
pub(super) const PREFERRED_DAY: u32 = 4;

/// Proposes the best pairs for a partnership and explains them.
pub fn propose(input: &MatchInput) -> ProposalBody {
    let prepared = prepare(input);
    let solution = solver::solve(&prepared.problem);
    let baseline = solver::greedy(&prepared.problem);
    explain(input, &prepared, &solution, &baseline)
}

/// The optimiser's problem for a partnership (what [`propose`] solves).
pub fn problem_for(input: &MatchInput) -> Problem {
    prepare(input).problem
}

/// A run's problem, and what explaining its answer needs.
struct Prepared<'a> {
    /// School names by slug.
    names: BTreeMap<String, String>,
    /// The ready mentors, in the problem's mentor order.
    ready: Vec<&'a MentorCase>,
    /// Each pinned mentee's mentor.
    pins: BTreeMap<Uuid, Uuid>,
    problem: Problem,
}

fn rule_pairs(input: &MatchInput, kind: RuleKind) -> impl Iterator<Item = (Uuid, Uuid)> + '_ {
    input
        .rules
        .iter()
        .filter(move |r| r.kind == kind)
        .map(|r| (r.mentee_id, r.mentor_id))
}

fn prepare(input: &MatchInput) -> Prepared<'_> {
    let names: BTreeMap<String, String> = input
        .schools
        .iter()
        .map(|s| (s.slug.clone(), s.name.clone()))
        .collect();
    let ready: Vec<&MentorCase> = input.mentors.iter().filter(|m| m.ready).collect();
    let pins: BTreeMap<Uuid, Uuid> = rule_pairs(input, RuleKind::Pin).collect();
    let forbidden: BTreeSet<(Uuid, Uuid)> = rule_pairs(input, RuleKind::Forbid).collect();
    let mentor_slots = mentor_groups(input, &ready);
    let mentees = input
        .mentees
        .iter()
        .map(|mentee| {
            mentee_node(
                input,
                mentee,
                &ready,
                pins.get(&mentee.person.id),
                &forbidden,
            )
        })
        .collect();
    let problem = Problem {
        mentees,
        mentors: ready
            .iter()
            .zip(mentor_slots)
            .map(|(m, slots)| MentorNode {
                capacity: m.capacity_left,
                slot_bonus: kept_slots(input, m, &slots),
                slots,
            })
            .collect(),
        slot_capacity: input.slots.iter().map(WeeklySlot::free_pairs).collect(),
        // More sessions in the term is better: an every-week slot beats a
        // fortnightly one, all else being equal.
        slot_value: input
            .slots
            .iter()
            .map(|s| {
                s.occurrences
                    .min(u32::try_from(HORIZON_WEEKS).unwrap_or(16))
                    / 2
            })
            .collect(),
    };
    Prepared {
        names,
        ready,
        pins,
        problem,
    }
}

/// Each ready mentor's open slots, grouped by their own period (one mentee
/// each), leaving out periods approved matches already take.
fn mentor_groups(input: &MatchInput, ready: &[&MentorCase]) -> Vec<Vec<Vec<usize>>> {
    let slug_of: BTreeMap<Uuid, &str> = input
        .schools
        .iter()
        .map(|s| (s.id, s.slug.as_str()))
        .collect();
    ready
        .iter()
        .map(|m| {
            let Some(slug) = slug_of.get(&m.person.school_id) else {
                return Vec::new();
            };
            let mut groups: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
            for (i, own) in open_slots(input, m, slug) {
                if !mentor_busy(m, own) {
                    groups
                        .entry((&own.week, &own.day, &own.period))
                        .or_default()
                        .push(i);
                }
            }
            groups.into_values().collect()
        })
        .collect()
}

/// A mentee's options (the ready mentors at the other school who fit, or
/// only the pinned one) and their tier.
fn mentee_node(
    input: &MatchInput,
    mentee: &MenteeCase,
    ready: &[&MentorCase],
    pin: Option<&Uuid>,
    forbidden: &BTreeSet<(Uuid, Uuid)>,
) -> MenteeNode {
    let mut options = Vec::new();
    for (j, mentor) in ready.iter().enumerate() {
        if mentor.person.school_id == mentee.person.school_id
            || forbidden.contains(&(mentee.person.id, mentor.person.id))
            || pin.is_some_and(|p| *p != mentor.person.id)
        {
            continue;
        }
        let mut fit = match (subject_fit(mentee, mentor), pin) {
            (Some(f), _) => f,
            // A pinned pair is matched on the coordinator's word.
            (None, Some(_)) => 0,
            (None, None) => continue,
        };
        if input
            .previous
            .contains_key(&(mentee.person.id, mentor.person.id))
        {
            fit += KEPT_PAIR;
        }
        options.push(Choice { mentor: j, fit });
    }
    MenteeNode {
        // A pin puts a pair ahead of others of the same priority, never
        // ahead of a more urgent referral.
        tier: 2 * (mentee.priority.clamp(1, 3) - 1) + u8::from(pin.is_some()),
        options,
        unavailable: mentee_unavailable(input, mentee),
        slot_bonus: preferred_slots(input, mentee)
            .into_iter()
            .map(|s| (s, PREFERRED_DAY))
            .collect(),
        kept: ready.iter().enumerate().find_map(|(j, m)| {
            let key = input.previous.get(&(mentee.person.id, m.person.id))?;
            let slot = input.slots.iter().position(|s| &s.key == key)?;
            Some(Placement { mentor: j, slot })
        }),
    }
}

/// The slots `mentor` is still free in where their pairs of the last
/// proposal met, with mentees still waiting.
fn kept_slots(input: &MatchInput, mentor: &MentorCase, groups: &[Vec<usize>]) -> Vec<(usize, u32)> {
    let waiting: BTreeSet<Uuid> = input.mentees.iter().map(|m| m.person.id).collect();
    input
        .previous
        .iter()
        .filter(|((mentee, m), _)| *m == mentor.person.id && waiting.contains(mentee))
        .filter_map(|(_, key)| input.slots.iter().position(|s| &s.key == key))
        .filter(|s| groups.iter().flatten().any(|g| g == s))
        .map(|s| (s, KEPT_SLOT))
        .collect()
}

/// The slots (indices into the run's slots) whose end at the mentee's
/// school falls in a time the referral says they cannot make.
/// The slug of the mentee's own school, whose end of a slot is theirs.
fn mentee_slug<'a>(input: &'a MatchInput, mentee: &MenteeCase) -> Option<&'a str> {
    input
        .schools
        .iter()
        .find(|s| s.id == mentee.person.school_id)
        .map(|s| s.slug.as_str())
}

/// The slots on the days `mentee` would rather meet, by their own school's
/// days.
pub(super) fn preferred_slots(input: &MatchInput, mentee: &MenteeCase) -> Vec<usize> {
    if mentee.preferred_days.is_empty() {
        return Vec::new();
    }
    let Some(slug) = mentee_slug(input, mentee) else {
        return Vec::new();
    };
    input
        .slots
        .iter()
        .enumerate()
        .filter(|(_, slot)| {
            slot.ends
                .get(slug)
                .is_some_and(|end| mentee.preferred_days.contains(&end.day))
        })
        .map(|(s, _)| s)
        .collect()
}

pub(super) fn mentee_unavailable(input: &MatchInput, mentee: &MenteeCase) -> Vec<usize> {
    if mentee.unavailable.is_empty() {
        return Vec::new();
    }
    let Some(slug) = mentee_slug(input, mentee) else {
        return Vec::new();
    };
    input
        .slots
        .iter()
        .enumerate()
        .filter(|(_, slot)| {
            slot.ends.get(slug).is_some_and(|end| {
                mentee
                    .unavailable
                    .iter()
                    .any(|u| u.covers(&end.week, &end.day, &end.period))
            })
        })
        .map(|(s, _)| s)
        .collect()
}

/// Turns a solution into the proposal: pairs with their reasons, and the
/// binding reason for each mentee left out.
fn explain(
    input: &MatchInput,
    prepared: &Prepared<'_>,
    solution: &solver::Solution,
    baseline: &solver::Solution,
) -> ProposalBody {
    let Prepared {
        names,
        ready,
        pins,
        problem,
    } = prepared;
    let mut body = ProposalBody {
        optimal: solution.optimal,
        slots: input.slots.clone(),
        ..ProposalBody::default()
    };
    let mut load = vec![0u32; ready.len()];
    let mut in_slot = vec![0u32; input.slots.len()];
    let mut taken = BTreeSet::new();
    for place in solution.placements.iter().flatten() {
        load[place.mentor] += 1;
        in_slot[place.slot] += 1;
        if let Some(group) = problem.mentors[place.mentor].group_of(place.slot) {
            taken.insert((place.mentor, group));
        }
    }
    for (i, (mentee, place)) in input.mentees.iter().zip(&solution.placements).enumerate() {
        *body
            .summary
            .mentees_by_priority
            .entry(mentee.priority)
            .or_default() += 1;
        if let Some(place) = place {
            *body
                .summary
                .matched_by_priority
                .entry(mentee.priority)
                .or_default() += 1;
            body.matches
                .push(proposed_match(input, prepared, i, mentee, place));
        } else {
            let context = Context {
                input,
                ready,
                problem,
                names,
                load: &load,
                in_slot: &in_slot,
                taken: &taken,
                pin: pins.get(&mentee.person.id).copied(),
                placements: &solution.placements,
                pins,
            };
            let (blocker, because, held_by) = context.why_unmatched(i, mentee);
            body.unmatched.push(Unmatched {
                referral_id: mentee.referral_id,
                mentee: mentee.person.clone(),
                priority: Some(mentee.priority),
                focus: mentee.focus.clone(),
                blocker,
                because,
                held_by,
            });
        }
    }
    count_up(&mut body, input, ready.len(), solution, baseline);
    body.unmatched.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.mentee.given_name.cmp(&b.mentee.given_name))
    });
    body.matches.sort_by(|a, b| {
        a.mentee
            .given_name
            .cmp(&b.mentee.given_name)
            .then(a.mentee.id.cmp(&b.mentee.id))
    });
    body
}

/// Mentee `i`'s pair, with its fit and why, in words.
fn proposed_match(
    input: &MatchInput,
    prepared: &Prepared<'_>,
    i: usize,
    mentee: &MenteeCase,
    place: &Placement,
) -> ProposedMatch {
    let (names, problem) = (&prepared.names, &prepared.problem);
    let mentor = prepared.ready[place.mentor];
    let slot = &input.slots[place.slot];
    let fit = problem.mentees[i]
        .options
        .iter()
        .find(|c| c.mentor == place.mentor)
        .map_or(0, |c| c.fit);
    let pinned = prepared.pins.get(&mentee.person.id) == Some(&mentor.person.id);
    let had = input.previous.get(&(mentee.person.id, mentor.person.id));
    let kept = had.is_some();
    let mut because = subject_reasons(mentee, mentor);
    because.push(format!(
        "Both free in {} ({} sessions in the next {HORIZON_WEEKS} weeks)",
        slot.label(names),
        slot.occurrences
    ));
    if let Some(had) = had {
        because.push("Kept together from the last proposal".to_owned());
        if *had != slot.key {
            because.push(moved_because(input, prepared, i, place.mentor, had));
        }
    }
    if problem.mentees[i].bonus_in(place.slot) > 0
        && let Some(day) = mentee_day(input, mentee, place.slot)
    {
        because.push(format!(
            "On {day}, a day {} would rather meet",
            mentee.person.given_name
        ));
    }
    if pinned {
        because.push("Pinned by a coordinator".to_owned());
    }
    ProposedMatch {
        referral_id: mentee.referral_id,
        mentee: mentee.person.clone(),
        mentor: mentor.person.clone(),
        priority: Some(mentee.priority),
        slot_key: slot.key.clone(),
        slot: slot.label(names),
        fit: fit
            + problem.place_value(place.mentor, place.slot)
            + problem.mentees[i].bonus_in(place.slot),
        pinned,
        kept,
        because,
    }
}

/// The weekday of `slot` at the mentee's own school, in words: "Wednesday".
fn mentee_day(input: &MatchInput, mentee: &MenteeCase, slot: usize) -> Option<&'static str> {
    let end = input
        .slots
        .get(slot)?
        .ends
        .get(mentee_slug(input, mentee)?)?;
    crate::calendar::import::parse_day(&end.day).map(crate::calendar::model::long_day)
}

/// Why a kept pair is not in the slot it had: the first of the slot gone,
/// the mentee no longer able to make it, the mentor no longer free in it,
/// its iPads taken, that holds; else the trade the optimiser made.
fn moved_because(
    input: &MatchInput,
    prepared: &Prepared<'_>,
    i: usize,
    mentor: usize,
    had: &str,
) -> String {
    let Some(s) = input.slots.iter().position(|s| s.key == had) else {
        return "Moved: the slot it had is no longer one the two timetables share".to_owned();
    };
    let label = input.slots[s].label(&prepared.names);
    let problem = &prepared.problem;
    let name = &input.mentees[i].person.given_name;
    if !problem.mentees[i].free_in(s) {
        return format!("Moved from {label}: the referral now says {name} cannot make it");
    }
    if problem.mentors[mentor].group_of(s).is_none() {
        return format!(
            "Moved from {label}: {} is no longer free then",
            prepared.ready[mentor].person.given_name
        );
    }
    if problem.slot_capacity[s] == 0 {
        return format!("Moved from {label}: its iPads are taken by approved matches");
    }
    format!(
        "Moved from {label}: with this pair elsewhere the proposal matches more mentees, or fits them better"
    )
}

/// The summary's totals, and the greedy yardstick's.
fn count_up(
    body: &mut ProposalBody,
    input: &MatchInput,
    ready: usize,
    solution: &solver::Solution,
    baseline: &solver::Solution,
) {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    body.summary.mentees = count(input.mentees.len());
    body.summary.matched = count(body.matches.len());
    body.summary.fit = solution.score.fit;
    body.summary.greedy_matched = baseline.score.matched.iter().sum();
    body.summary.greedy_fit = baseline.score.fit;
    body.summary.ready_mentors = count(ready);
    body.summary.slots = count(input.slots.iter().filter(|s| s.free_pairs() > 0).count());
}
