//! Every rule of a proposal, on generated partnerships.

use super::*;
use crate::matching::fit::{mentees_free, mentor_busy, mentor_free};

#[test]
fn subjects_cover_narrower_and_broader_requests() {
    assert!(covers("English", "English poetry"));
    assert!(covers("english literature", "English"));
    assert!(covers(" Maths ", "maths"));
    assert!(!covers("Maths", "Mathematics"));
    assert!(!covers("Art", "Artificial intelligence"));
    assert_eq!(level_for(Some(7)), Level::Ks3);
    assert_eq!(level_for(Some(11)), Level::Gcse);
    assert_eq!(level_for(Some(13)), Level::ALevel);
}

/// Checks a proposal against every rule the issue lists.
fn check_rules(case: &MatchInput, body: &ProposalBody) -> Result<(), String> {
    let mentors: BTreeMap<Uuid, &MentorCase> =
        case.mentors.iter().map(|m| (m.person.id, m)).collect();
    let slots: BTreeMap<&str, &WeeklySlot> =
        case.slots.iter().map(|s| (s.key.as_str(), s)).collect();
    let slug: BTreeMap<Uuid, &str> = case
        .schools
        .iter()
        .map(|s| (s.id, s.slug.as_str()))
        .collect();
    let mut load: BTreeMap<Uuid, u32> = BTreeMap::new();
    let mut in_slot: BTreeMap<&str, u32> = BTreeMap::new();
    let mut pair_slot = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for m in &body.matches {
        let mentee = case
            .mentees
            .iter()
            .find(|x| x.referral_id == m.referral_id)
            .ok_or("unknown referral")?;
        let mentor = mentors.get(&m.mentor.id).ok_or("unknown mentor")?;
        let slot = slots.get(m.slot_key.as_str()).ok_or("unknown slot")?;
        if !seen.insert(m.referral_id) {
            return Err("a mentee matched twice".into());
        }
        check_pair(case, m, mentee, mentor)?;
        let own_slug = slug[&mentor.person.school_id];
        let end = &slot.ends[own_slug];
        if !mentor_free(mentor, end) || mentor_busy(mentor, end) {
            return Err("mentor not free in the slot".into());
        }
        let mentee_end = &slot.ends[slug[&mentee.person.school_id]];
        if !mentees_free(mentee_end) {
            return Err("mentee booked outside registration and tutor time".into());
        }
        if !pair_slot.insert((
            m.mentor.id,
            end.week.clone(),
            end.day.clone(),
            end.period.clone(),
        )) {
            return Err("mentor has two mentees in one period".into());
        }
        *load.entry(m.mentor.id).or_default() += 1;
        if load[&m.mentor.id] > mentor.capacity_left {
            return Err("mentor over capacity".into());
        }
        *in_slot.entry(m.slot_key.as_str()).or_default() += 1;
        if in_slot[m.slot_key.as_str()] > slot.free_pairs() {
            return Err("more pairs than iPads".into());
        }
    }
    for u in &body.unmatched {
        if !seen.insert(u.referral_id) {
            return Err("a mentee both matched and unmatched".into());
        }
    }
    if seen.len() != case.mentees.len() {
        return Err("a mentee is missing from the proposal".into());
    }
    Ok(())
}

/// The pair itself: a ready mentor at the other school who offers what the
/// mentee asked for (unless pinned), and no pin or forbid ignored.
fn check_pair(
    case: &MatchInput,
    m: &ProposedMatch,
    mentee: &MenteeCase,
    mentor: &MentorCase,
) -> Result<(), String> {
    if !mentor.ready || mentor.person.school_id == mentee.person.school_id {
        return Err("mentor not ready or at the mentee's own school".into());
    }
    let need = level_for(mentee.person.year_group);
    // A pinned pair is matched on a coordinator's word, fit or not.
    let pinned = case.rules.iter().any(|r| {
        r.kind == RuleKind::Pin && r.mentee_id == m.mentee.id && r.mentor_id == m.mentor.id
    });
    if !pinned
        && !mentee.focus.iter().any(|f| {
            mentor
                .offers
                .iter()
                .any(|o| o.level >= need && covers(&o.subject, f))
        })
    {
        return Err(format!(
            "{} does not offer what {} asked for",
            mentor.person.given_name, mentee.person.given_name
        ));
    }
    for rule in &case.rules {
        let broken = match rule.kind {
            RuleKind::Forbid => rule.mentee_id == m.mentee.id && rule.mentor_id == m.mentor.id,
            RuleKind::Pin => rule.mentee_id == m.mentee.id && rule.mentor_id != m.mentor.id,
        };
        if broken {
            return Err("a pin or forbid was ignored".into());
        }
    }
    Ok(())
}

/// Stirs what a generated partnership lacks: iPads already in use,
/// mentors already busy, a lesson at one end, pins and forbids.
fn stir(case: &mut MatchInput, seed: u64) {
    let mut pick = seed;
    let mut next = |n: usize| {
        pick = pick
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        usize::try_from(pick >> 33).unwrap() % n.max(1)
    };
    for slot in &mut case.slots {
        for end in slot.ends.values_mut() {
            end.in_use = u32::try_from(next(4)).unwrap();
        }
        if next(5) == 0 {
            slot.ends.get_mut("north").unwrap().kind = PeriodKind::Lesson;
        }
    }
    for mentor in &mut case.mentors {
        if let (true, Some(p)) = (next(4) == 0, mentor.free_periods.first()) {
            mentor
                .busy
                .insert((p.week.clone(), p.day.clone(), p.period.clone()));
        }
    }
    for _ in 0..next(4) {
        if case.mentees.is_empty() || case.mentors.is_empty() {
            break;
        }
        let (i, j) = (next(case.mentees.len()), next(case.mentors.len()));
        let kind = if next(2) == 0 {
            RuleKind::Pin
        } else {
            RuleKind::Forbid
        };
        case.rules
            .retain(|r| r.mentee_id != case.mentees[i].person.id);
        case.rules.push(MatchRule {
            mentee_id: case.mentees[i].person.id,
            mentor_id: case.mentors[j].person.id,
            kind,
            set_by: Uuid::nil(),
            set_at: chrono::Utc::now(),
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_rule_holds_on_generated_partnerships(seed in any::<u64>(), mentees in 0usize..60, mentors in 0usize..40, slots in 0usize..10) {
        let mut case = synthetic::partnership(seed, mentees, mentors, slots);
        stir(&mut case, seed);
        let body = propose(&case);
        prop_assert_eq!(check_rules(&case, &body), Ok(()));
        // The same partnership gives the same proposal.
        prop_assert_eq!(propose(&case), body);
    }
}
