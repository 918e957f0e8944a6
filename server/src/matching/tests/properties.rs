//! Every rule of a proposal, on generated partnerships.

use super::*;
use crate::matching::fit::{mentor_busy, mentor_free};

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

/// Sessions other partnerships of each school already hold, by slug.
type Held = BTreeMap<String, Vec<WeeklyEnd>>;

/// Pairs an end can still take, worked out minute by minute (not the way
/// [`WeeklyEnd::busiest`] does): its iPads or its supervisors' places,
/// whichever are fewer, less the most `held` sessions under way in any
/// one minute of its time.
fn room_by_minute(slug: &str, end: &WeeklyEnd, held: &Held) -> u32 {
    let mut most = 0;
    let mut minute = end.start;
    while minute < end.end {
        let under_way = held.get(slug).map_or(0, |h| {
            h.iter()
                .filter(|s| s.week == end.week && s.day == end.day)
                .filter(|s| s.start <= minute && minute < s.end)
                .count()
        });
        most = most.max(u32::try_from(under_way).unwrap());
        minute += chrono::Duration::minutes(1);
    }
    end.devices.min(end.supervision).saturating_sub(most)
}

/// Checks a proposal against every rule the issue lists; `held` is what
/// the schools' other partnerships already book.
fn check_rules(case: &MatchInput, body: &ProposalBody, held: &Held) -> Result<(), String> {
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
        if mentee
            .unavailable
            .iter()
            .any(|u| u.covers(&mentee_end.week, &mentee_end.day, &mentee_end.period))
        {
            return Err("mentee booked at a time their referral says they cannot make".into());
        }
        // The pair is said to meet on a day the mentee would rather have
        // exactly when it does.
        let says_day = m.because.iter().any(|b| b.contains("would rather meet"));
        if says_day != mentee.preferred_days.contains(&mentee_end.day) {
            return Err(format!(
                "the reasons say {} a preferred day, but the slot is on {} and the referral prefers {:?}",
                if says_day { "it is" } else { "nothing of" },
                mentee_end.day,
                mentee.preferred_days
            ));
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
        let room = slot
            .ends
            .iter()
            .map(|(slug, end)| room_by_minute(slug, end, held))
            .min()
            .unwrap_or(0);
        if in_slot[m.slot_key.as_str()] > room {
            return Err("more pairs than the iPads and supervisors free then".into());
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

/// Checks every unmatched mentee's reason against the proposal and the
/// data, worked out here from the input and the matches alone: the slots a
/// reason calls full are full by a minute-by-minute count, every slot the
/// mentee shares with a fitting mentor is named when all are full, each
/// mentor's load is what the matches give them, and who holds the places is
/// counted by priority from the matches themselves.
fn check_reasons(case: &MatchInput, body: &ProposalBody, held: &Held) -> Result<(), String> {
    let slug: BTreeMap<Uuid, &str> = case
        .schools
        .iter()
        .map(|s| (s.id, s.slug.as_str()))
        .collect();
    let names: BTreeMap<String, String> = case
        .schools
        .iter()
        .map(|s| (s.slug.clone(), s.name.clone()))
        .collect();
    let slot_index: BTreeMap<&str, usize> = case
        .slots
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.as_str(), i))
        .collect();
    let priority: BTreeMap<Uuid, u8> = case
        .mentees
        .iter()
        .map(|m| (m.referral_id, m.priority))
        .collect();
    let pinned = |mentee: Uuid, mentor: Uuid| {
        case.rules
            .iter()
            .any(|r| r.kind == RuleKind::Pin && r.mentee_id == mentee && r.mentor_id == mentor)
    };
    let room: Vec<u32> = case
        .slots
        .iter()
        .map(|s| {
            s.ends
                .iter()
                .map(|(slug, end)| room_by_minute(slug, end, held))
                .min()
                .unwrap_or(0)
        })
        .collect();
    // Each match as (referral, mentor, slot index, the mentor's own end).
    let placed: Vec<(Uuid, Uuid, usize, &WeeklyEnd)> = body
        .matches
        .iter()
        .map(|m| {
            let s = slot_index[m.slot_key.as_str()];
            let own = &case.slots[s].ends[slug[&m.mentor.school_id]];
            (m.referral_id, m.mentor.id, s, own)
        })
        .collect();
    let same_period =
        |a: &WeeklyEnd, b: &WeeklyEnd| (&a.week, &a.day, &a.period) == (&b.week, &b.day, &b.period);
    let slot_full = |s: usize| placed.iter().filter(|p| p.2 == s).count() as u32 >= room[s];
    for u in &body.unmatched {
        if u.because.contains("priority") {
            return Err(format!(
                "the reason anyone may read speaks of priority: {}",
                u.because
            ));
        }
        let mentee = case
            .mentees
            .iter()
            .find(|m| m.referral_id == u.referral_id)
            .ok_or("unknown referral")?;
        let pin = case
            .rules
            .iter()
            .find(|r| r.kind == RuleKind::Pin && r.mentee_id == mentee.person.id)
            .map(|r| r.mentor_id);
        let need = level_for(mentee.person.year_group);
        let fitting: Vec<&MentorCase> = case
            .mentors
            .iter()
            .filter(|m| m.ready && m.person.school_id != mentee.person.school_id)
            .filter(|m| match pin {
                Some(p) => m.person.id == p,
                None => mentee.focus.iter().any(|f| {
                    m.offers
                        .iter()
                        .any(|o| o.level >= need && covers(&o.subject, f))
                }),
            })
            .filter(|m| {
                !case.rules.iter().any(|r| {
                    r.kind == RuleKind::Forbid
                        && r.mentee_id == mentee.person.id
                        && r.mentor_id == m.person.id
                })
            })
            .collect();
        let mentee_end = |s: usize| &case.slots[s].ends[slug[&mentee.person.school_id]];
        // (mentor, slot, mentor's end) the mentee shares with a fitting mentor.
        let mut shared = Vec::new();
        let mut ruled_out = 0;
        for m in &fitting {
            for (s, slot) in case.slots.iter().enumerate() {
                let own = &slot.ends[slug[&m.person.school_id]];
                if !mentor_free(m, own) {
                    continue;
                }
                let end = mentee_end(s);
                if mentee
                    .unavailable
                    .iter()
                    .any(|x| x.covers(&end.week, &end.day, &end.period))
                {
                    ruled_out += 1;
                } else {
                    shared.push((*m, s, own));
                }
            }
        }
        let load = |m: &MentorCase| placed.iter().filter(|p| p.1 == m.person.id).count() as u32;
        let mentor_taken = |m: &MentorCase, own: &WeeklyEnd| {
            load(m) >= m.capacity_left
                || mentor_busy(m, own)
                || placed
                    .iter()
                    .any(|p| p.1 == m.person.id && same_period(p.3, own))
        };
        let label = |s: usize| case.slots[s].label(&names);
        let state_named = |m: &MentorCase| {
            let (l, c) = (load(m), m.capacity_left);
            let who = if c == 1 { "mentee" } else { "mentees" };
            let said = if l >= c {
                format!("{} is full, {l} of {c} {who}", m.person.given_name)
            } else {
                format!(
                    "{} has {l} of {c} {who} and is mentoring at those times already",
                    m.person.given_name
                )
            };
            u.because.contains(&said)
        };
        match u.blocker {
            Blocker::MenteeNotFree if !shared.is_empty() || ruled_out == 0 => {
                return Err(format!(
                    "{}: not free, yet shares {} slots",
                    u.mentee.given_name,
                    shared.len()
                ));
            }
            Blocker::DevicesFull | Blocker::MentorsFull | Blocker::MentorsAndDevicesFull => {
                if shared.is_empty() {
                    return Err(format!(
                        "{}: {:?} with nothing shared",
                        u.mentee.given_name, u.blocker
                    ));
                }
                for &(m, s, own) in &shared {
                    if !mentor_taken(m, own) && !slot_full(s) {
                        return Err(format!(
                            "{} could have had {} in {}: {}",
                            u.mentee.given_name,
                            m.person.given_name,
                            label(s),
                            u.because
                        ));
                    }
                }
                let slots: BTreeSet<usize> = shared.iter().map(|x| x.1).collect();
                let all_full = slots.iter().all(|&s| slot_full(s));
                let expected = if all_full {
                    Blocker::DevicesFull
                } else if shared.iter().all(|&(m, _, own)| mentor_taken(m, own)) {
                    Blocker::MentorsFull
                } else {
                    Blocker::MentorsAndDevicesFull
                };
                if u.blocker != expected {
                    return Err(format!(
                        "{}: {:?}, but the data say {expected:?}",
                        u.mentee.given_name, u.blocker
                    ));
                }
                for s in 0..case.slots.len() {
                    let named = u.because.contains(&label(s));
                    let should = match expected {
                        Blocker::DevicesFull => slots.contains(&s),
                        Blocker::MentorsFull => false,
                        _ => shared
                            .iter()
                            .any(|&(m, x, own)| x == s && !mentor_taken(m, own)),
                    };
                    if named != should {
                        return Err(format!(
                            "{}: slot {} named {named}, should be {should}: {}",
                            u.mentee.given_name,
                            label(s),
                            u.because
                        ));
                    }
                    if named && !slot_full(s) {
                        return Err(format!("{} is called full: {}", label(s), u.because));
                    }
                }
                if expected != Blocker::DevicesFull {
                    for &(m, _, own) in &shared {
                        if mentor_taken(m, own) && !state_named(m) {
                            return Err(format!(
                                "{}'s load is not said truly: {}",
                                m.person.given_name, u.because
                            ));
                        }
                    }
                }
                // Who holds the places, from the matches alone.
                let mut holders = BTreeSet::new();
                for &(m, s, own) in &shared {
                    let full = load(m) >= m.capacity_left;
                    for p in &placed {
                        if (p.1 == m.person.id && (full || same_period(p.3, own)))
                            || (slot_full(s) && p.2 == s)
                        {
                            holders.insert((p.0, p.1));
                        }
                    }
                }
                let mut expected_held = HeldBy::default();
                for (referral, mentor) in &holders {
                    let other = case
                        .mentees
                        .iter()
                        .find(|m| m.referral_id == *referral)
                        .unwrap();
                    if pinned(other.person.id, *mentor) {
                        expected_held.pinned += 1;
                    } else {
                        match priority[referral].cmp(&mentee.priority) {
                            std::cmp::Ordering::Greater => expected_held.higher += 1,
                            std::cmp::Ordering::Equal => expected_held.same += 1,
                            std::cmp::Ordering::Less => expected_held.lower += 1,
                        }
                    }
                }
                let expected_held = (!holders.is_empty()).then_some(expected_held);
                if u.held_by != expected_held {
                    return Err(format!(
                        "{}: held by {:?}, the matches say {expected_held:?}",
                        u.mentee.given_name, u.held_by
                    ));
                }
                let says_higher = u.reason().contains("higher priority than");
                let only_higher = expected_held.is_some_and(|h| h.same + h.lower + h.pinned == 0);
                if says_higher != only_higher {
                    return Err(format!(
                        "{}: 'higher priority' said {says_higher}: {}",
                        u.mentee.given_name,
                        u.reason()
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Stirs what a generated partnership lacks: sessions of the schools'
/// other partnerships holding iPads at times of their own, fewer
/// supervisors than iPads, mentors already busy, a lesson at one end, pins
/// and forbids. Returns the sessions held.
fn stir(case: &mut MatchInput, seed: u64) -> Held {
    let mut pick = seed;
    let mut next = |n: usize| {
        pick = pick
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        usize::try_from(pick >> 33).unwrap() % n.max(1)
    };
    let mut held = Held::new();
    let ends: Vec<(String, WeeklyEnd)> = case
        .slots
        .iter()
        .flat_map(|s| s.ends.iter().map(|(k, e)| (k.clone(), e.clone())))
        .collect();
    for _ in 0..next(3 * ends.len() + 1) {
        let (slug, end) = &ends[next(ends.len())];
        // Twenty minutes from some five-minute mark near the slot's time.
        let start = end.start - chrono::Duration::minutes(25)
            + chrono::Duration::minutes(5 * i64::try_from(next(11)).unwrap());
        held.entry(slug.clone()).or_default().push(WeeklyEnd {
            start,
            end: start + chrono::Duration::minutes(20),
            ..end.clone()
        });
    }
    for slot in &mut case.slots {
        for end in slot.ends.values_mut() {
            // Few enough that the sessions held decide what is left.
            if next(2) == 0 {
                end.devices = u32::try_from(next(5)).unwrap();
            }
            if next(4) == 0 {
                end.supervision = u32::try_from(next(3)).unwrap();
            }
        }
        slot.count_use(&held);
        if next(5) == 0 {
            slot.ends.get_mut("north").unwrap().kind = PeriodKind::Lesson;
        }
    }
    for mentee in &mut case.mentees {
        // Few: each one can double the search (see BENCHMARKS.md).
        if next(10) == 0 {
            mentee.preferred_days = vec![["Mon", "Tue", "Wed", "Thu", "Fri"][next(5)].to_owned()];
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
    held
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// What approved sessions hold of an end is the most under way in any
    /// one minute of it, as a minute-by-minute count says.
    #[test]
    fn sessions_held_are_counted_by_the_time_they_take(
        starts in proptest::collection::vec((0i64..12, 0i64..8, 0usize..2), 0..12),
        from in 0i64..12,
    ) {
        let at = |m: i64| chrono::NaiveTime::from_hms_opt(8, 30, 0).unwrap() + chrono::Duration::minutes(m * 5);
        let end = WeeklyEnd {
            week: "A".into(),
            day: "Mon".into(),
            period: "TUT".into(),
            kind: PeriodKind::Tutor,
            devices: 10,
            supervision: 10,
            in_use: 0,
            start: at(from),
            end: at(from + 4),
        };
        let held: Vec<WeeklyEnd> = starts
            .iter()
            .map(|&(start, length, week)| WeeklyEnd {
                week: ["A", "B"][week].into(),
                start: at(start),
                end: at(start + 1 + length),
                ..end.clone()
            })
            .collect();
        let by_minute = 10 - room_by_minute("x", &end, &Held::from([("x".to_owned(), held.clone())]));
        prop_assert_eq!(end.busiest(&held), by_minute);
    }

    #[test]
    fn every_rule_holds_on_generated_partnerships(seed in any::<u64>(), mentees in 0usize..60, mentors in 0usize..40, slots in 0usize..10) {
        let mut case = synthetic::partnership(seed, mentees, mentors, slots);
        let held = stir(&mut case, seed);
        let body = propose(&case);
        prop_assert_eq!(check_rules(&case, &body, &held), Ok(()));
        prop_assert_eq!(check_reasons(&case, &body, &held), Ok(()));
        // The same partnership gives the same proposal, once proven best
        // (a search stopped at its time limit keeps what it found by then).
        if body.optimal {
            prop_assert_eq!(propose(&case), body);
        }
    }
}
