//! Whether a proposal still holds: the partnership may have changed between
//! the run and its second approval.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::fit::{mentor_busy, mentor_free};
use super::{MatchInput, ProposalBody, RuleKind, WeeklySlot};

/// Why a proposal can no longer be approved as it stands, if it cannot:
/// something it relied on has changed since it was made (a referral
/// withdrawn, a mentor's clearance or free periods changed, a pair
/// forbidden, iPads or a mentor's period taken by another partnership's
/// approval). `input` is the partnership as it is now.
pub fn stale(input: &MatchInput, body: &ProposalBody) -> Option<String> {
    let slots: BTreeMap<&str, &WeeklySlot> =
        input.slots.iter().map(|s| (s.key.as_str(), s)).collect();
    let slug_of: BTreeMap<Uuid, &str> = input
        .schools
        .iter()
        .map(|s| (s.id, s.slug.as_str()))
        .collect();
    let forbidden: BTreeSet<(Uuid, Uuid)> = input
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::Forbid)
        .map(|r| (r.mentee_id, r.mentor_id))
        .collect();
    let mut load: BTreeMap<Uuid, u32> = BTreeMap::new();
    let mut periods = BTreeSet::new();
    let mut in_slot: BTreeMap<&str, u32> = BTreeMap::new();
    for m in &body.matches {
        let (mentee, mentor_name) = (&m.mentee.given_name, &m.mentor.given_name);
        if !input.mentees.iter().any(|x| x.referral_id == m.referral_id) {
            return Some(format!(
                "{mentee}'s referral is no longer waiting for a match"
            ));
        }
        let Some(mentor) = input
            .mentors
            .iter()
            .find(|x| x.person.id == m.mentor.id && x.ready)
        else {
            return Some(format!("{mentor_name} is no longer a ready mentor"));
        };
        if forbidden.contains(&(m.mentee.id, m.mentor.id)) {
            return Some(format!(
                "a coordinator has ruled out {mentee} with {mentor_name}"
            ));
        }
        let own = slots.get(m.slot_key.as_str()).and_then(|slot| {
            let slug = slug_of.get(&mentor.person.school_id)?;
            Some((*slot, slot.ends.get(*slug)?))
        });
        let Some((slot, own)) = own else {
            return Some(format!("{} is no longer in both calendars", m.slot));
        };
        let period = (own.week.clone(), own.day.clone(), own.period.clone());
        if !mentor_free(mentor, own)
            || mentor_busy(mentor, own)
            || !periods.insert((mentor.person.id, period))
        {
            return Some(format!("{mentor_name} is no longer free in {}", m.slot));
        }
        let taken = load.entry(mentor.person.id).or_default();
        *taken += 1;
        if *taken > mentor.capacity_left {
            return Some(format!("{mentor_name} has no room for another mentee"));
        }
        let pairs = in_slot.entry(slot.key.as_str()).or_default();
        *pairs += 1;
        if *pairs > slot.free_pairs() {
            return Some(format!("the iPads in {} have been taken", m.slot));
        }
    }
    None
}
