use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveTime};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::calendar::model::PeriodKind;
use crate::people::mentors::{FreePeriod, Level, Offer};

const NORTH: Uuid = Uuid::from_u128(1);
const SOUTH: Uuid = Uuid::from_u128(2);

fn at(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// Weekly slot `day` (Mon…): North's TUT against South's FORM, with
/// `devices` iPads at each end.
fn slot(day: &str, devices: u32) -> WeeklySlot {
    let mut ends = BTreeMap::new();
    for (slug, period) in [("north", "TUT"), ("south", "FORM")] {
        ends.insert(
            slug.to_owned(),
            WeeklyEnd {
                week: "A".into(),
                day: day.into(),
                period: period.into(),
                kind: PeriodKind::Tutor,
                devices,
                in_use: 0,
                start: at(8, 40),
                end: at(9, 0),
            },
        );
    }
    WeeklySlot {
        key: format!("north:A-{day}-TUT|south:A-{day}-FORM"),
        ends,
        devices,
        in_use: 0,
        occurrences: 12,
        first_date: NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(),
    }
}

fn mentee(n: u128, name: &str, year: i32, priority: u8, focus: &[&str]) -> MenteeCase {
    MenteeCase {
        referral_id: Uuid::from_u128(1000 + n),
        person: Person {
            id: Uuid::from_u128(100 + n),
            school_id: NORTH,
            given_name: name.into(),
            year_group: Some(year),
        },
        priority,
        focus: focus.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn mentor(
    n: u128,
    name: &str,
    offers: &[(&str, Level)],
    capacity: u32,
    free: &[&str],
) -> MentorCase {
    MentorCase {
        person: Person {
            id: Uuid::from_u128(200 + n),
            school_id: SOUTH,
            given_name: name.into(),
            year_group: Some(12),
        },
        ready: true,
        offers: offers
            .iter()
            .map(|(s, l)| Offer {
                subject: (*s).into(),
                level: *l,
            })
            .collect(),
        capacity_left: capacity,
        free_periods: free
            .iter()
            .map(|d| FreePeriod {
                week: "*".into(),
                day: (*d).into(),
                period: "FORM".into(),
            })
            .collect(),
        busy: BTreeSet::new(),
    }
}

fn input(slots: Vec<WeeklySlot>, mentees: Vec<MenteeCase>, mentors: Vec<MentorCase>) -> MatchInput {
    MatchInput {
        schools: vec![
            SchoolRef {
                id: NORTH,
                slug: "north".into(),
                name: "North Academy".into(),
            },
            SchoolRef {
                id: SOUTH,
                slug: "south".into(),
                name: "South College".into(),
            },
        ],
        slots,
        mentees,
        mentors,
        rules: Vec::new(),
        previous: BTreeSet::new(),
    }
}

fn only_unmatched(body: &ProposalBody) -> &Unmatched {
    assert_eq!(body.unmatched.len(), 1, "{:#?}", body.unmatched);
    &body.unmatched[0]
}

#[test]
fn a_match_says_which_subject_which_slot_and_why() {
    let body = propose(&input(
        vec![slot("Mon", 4)],
        vec![mentee(1, "Kai", 8, 2, &["Maths", "French"])],
        vec![mentor(
            1,
            "Asha",
            &[("Maths", Level::Gcse), ("French", Level::Ks3)],
            1,
            &["Mon"],
        )],
    ));
    let m = &body.matches[0];
    assert_eq!(
        (m.mentee.given_name.as_str(), m.mentor.given_name.as_str()),
        ("Kai", "Asha")
    );
    assert!(
        m.because[0].contains("Asha offers Maths at GCSE — Kai's first choice"),
        "{:?}",
        m.because
    );
    assert!(
        m.because[1].contains("French at KS3, the mentee's own level"),
        "{:?}",
        m.because
    );
    assert!(
        m.because[2].contains("North Academy: Week A Mon TUT 08:40–09:00"),
        "{:?}",
        m.because
    );
    assert!(m.because[2].contains("12 sessions"), "{:?}", m.because);
    assert!(body.optimal);
}

#[test]
fn nobody_offering_the_subject_is_the_reason_when_it_is_so() {
    let mut unready = mentor(2, "Ben", &[("Spanish", Level::ALevel)], 1, &["Mon"]);
    unready.ready = false;
    let body = propose(&input(
        vec![slot("Mon", 4)],
        vec![mentee(1, "Kai", 8, 2, &["Spanish"])],
        vec![
            mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Mon"]),
            unready,
        ],
    ));
    let u = only_unmatched(&body);
    assert_eq!(u.blocker, Blocker::NoMentorOffers);
    assert!(
        u.because
            .contains("No ready mentor at South College offers Spanish at KS3"),
        "{}",
        u.because
    );
    assert!(
        u.because.contains("1 more would once trained and cleared"),
        "{}",
        u.because
    );
}

#[test]
fn a_mentor_at_a_lower_level_does_not_fit() {
    let body = propose(&input(
        vec![slot("Mon", 4)],
        vec![mentee(1, "Ola", 12, 2, &["Maths"])],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Mon"])],
    ));
    assert_eq!(only_unmatched(&body).blocker, Blocker::NoMentorOffers);
    assert!(only_unmatched(&body).because.contains("Maths at A level"));
}

#[test]
fn a_fitting_mentor_who_is_never_free_is_the_reason() {
    let body = propose(&input(
        vec![slot("Mon", 4), slot("Tue", 4)],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Thu"])],
    ));
    let u = only_unmatched(&body);
    assert_eq!(u.blocker, Blocker::NoSharedSlot);
    assert!(u.because.contains("(Asha)"), "{}", u.because);
}

#[test]
fn full_ipads_in_the_only_shared_slot_are_the_reason() {
    // Two mentors, each free Monday only; Monday has one pair's worth of
    // iPads. Tuesday has plenty, but nobody fitting is free then.
    let body = propose(&input(
        vec![slot("Mon", 1), slot("Tue", 9)],
        vec![
            mentee(1, "Kai", 8, 3, &["Maths"]),
            mentee(2, "Lia", 8, 1, &["Maths"]),
        ],
        vec![
            mentor(1, "Asha", &[("Maths", Level::Gcse)], 2, &["Mon"]),
            mentor(2, "Ben", &[("Maths", Level::Gcse)], 2, &["Mon"]),
        ],
    ));
    assert_eq!(
        body.matches[0].mentee.given_name, "Kai",
        "the urgent referral goes first"
    );
    let u = only_unmatched(&body);
    assert_eq!(u.mentee.given_name, "Lia");
    assert_eq!(u.blocker, Blocker::DevicesFull);
    assert!(u.because.contains("Week A Mon"), "{}", u.because);
}

#[test]
fn a_full_mentor_is_the_reason_when_ipads_are_plentiful() {
    let body = propose(&input(
        vec![slot("Mon", 5), slot("Tue", 5)],
        vec![
            mentee(1, "Kai", 8, 2, &["Maths"]),
            mentee(2, "Lia", 8, 2, &["Maths", "History"]),
        ],
        vec![mentor(
            1,
            "Asha",
            &[("Maths", Level::Gcse)],
            1,
            &["Mon", "Tue"],
        )],
    ));
    let u = only_unmatched(&body);
    assert_eq!(u.blocker, Blocker::MentorsFull);
    assert!(u.because.contains("Asha"), "{}", u.because);
}

#[test]
fn no_slot_at_all_is_said_plainly() {
    let body = propose(&input(
        vec![],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Mon"])],
    ));
    assert_eq!(only_unmatched(&body).blocker, Blocker::NoSlots);
    let empty = propose(&MatchInput::default());
    assert!(empty.matches.is_empty() && empty.unmatched.is_empty());
}

#[test]
fn forbidding_every_fitting_mentor_is_the_reason() {
    let mut case = input(
        vec![slot("Mon", 4)],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Mon"])],
    );
    case.rules.push(MatchRule {
        mentee_id: case.mentees[0].person.id,
        mentor_id: case.mentors[0].person.id,
        kind: RuleKind::Forbid,
        set_by: Uuid::nil(),
        set_at: chrono::Utc::now(),
    });
    assert_eq!(only_unmatched(&propose(&case)).blocker, Blocker::Forbidden);
}

fn pin(case: &mut MatchInput, mentee: usize, mentor: usize) {
    case.rules.push(MatchRule {
        mentee_id: case.mentees[mentee].person.id,
        mentor_id: case.mentors[mentor].person.id,
        kind: RuleKind::Pin,
        set_by: Uuid::nil(),
        set_at: chrono::Utc::now(),
    });
}

#[test]
fn a_pin_wins_within_its_priority_but_never_over_a_more_urgent_referral() {
    // One place. Kai fits Asha perfectly; Lia asked for something else but
    // a coordinator pinned her to Asha. Same priority: the pin wins.
    let mut case = input(
        vec![slot("Mon", 4)],
        vec![
            mentee(1, "Kai", 8, 2, &["Maths"]),
            mentee(2, "Lia", 8, 2, &["History"]),
        ],
        vec![mentor(1, "Asha", &[("Maths", Level::Ks3)], 1, &["Mon"])],
    );
    pin(&mut case, 1, 0);
    let body = propose(&case);
    assert_eq!(body.matches[0].mentee.given_name, "Lia");
    assert!(body.matches[0].pinned);
    assert!(
        body.matches[0]
            .because
            .iter()
            .any(|b| b == "Pinned by a coordinator")
    );
    let kai = only_unmatched(&body);
    assert_eq!(kai.mentee.given_name, "Kai");
    assert!(kai.because.contains("a pinned pair"), "{}", kai.because);

    // Kai is urgent: the routine pinned referral waits, and is told why.
    case.mentees[0].priority = 3;
    let body = propose(&case);
    assert_eq!(body.matches[0].mentee.given_name, "Kai");
    let lia = only_unmatched(&body);
    assert_eq!(lia.blocker, Blocker::MentorsFull);
    assert!(lia.because.contains("Asha"), "{}", lia.because);

    // Pinned to a mentor who is not ready: matched with nobody, and told why.
    case.mentors[0].ready = false;
    let body = propose(&case);
    let lia = body
        .unmatched
        .iter()
        .find(|u| u.mentee.given_name == "Lia")
        .unwrap();
    assert_eq!(lia.blocker, Blocker::PinnedMentorUnavailable);
    assert!(
        lia.because
            .contains("Asha, the pinned mentor, is not ready"),
        "{}",
        lia.because
    );
}

#[test]
fn a_rerun_keeps_last_time_s_pairs_when_nothing_is_lost() {
    let mut case = input(
        vec![slot("Mon", 4)],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![
            mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Mon"]),
            mentor(2, "Ben", &[("Maths", Level::Gcse)], 1, &["Mon"]),
        ],
    );
    case.previous
        .insert((case.mentees[0].person.id, case.mentors[1].person.id));
    let body = propose(&case);
    assert_eq!(body.matches[0].mentor.given_name, "Ben");
    assert!(body.matches[0].kept);
}

#[test]
fn ipads_taken_by_earlier_matches_are_the_reason_not_a_missing_slot() {
    // Monday's iPads at North are all taken by approved matches; Asha is
    // free on Monday only.
    let mut monday = slot("Mon", 2);
    monday.ends.get_mut("north").unwrap().in_use = 2;
    let body = propose(&input(
        vec![monday.clone(), slot("Tue", 3)],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 2, &["Mon"])],
    ));
    let u = only_unmatched(&body);
    assert_eq!(u.blocker, Blocker::DevicesFull);
    assert!(u.because.contains("Week A Mon"), "{}", u.because);

    // Free Monday and Tuesday, but already mentoring on Tuesday: both limits
    // bind, one in each slot.
    let mut asha = mentor(1, "Asha", &[("Maths", Level::Gcse)], 2, &["Mon", "Tue"]);
    asha.busy.insert(("A".into(), "Tue".into(), "FORM".into()));
    let body = propose(&input(
        vec![monday, slot("Tue", 3)],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![asha],
    ));
    assert_eq!(
        only_unmatched(&body).blocker,
        Blocker::MentorsAndDevicesFull
    );
}

#[test]
fn mentees_are_only_booked_in_their_registration_or_tutor_time() {
    // Monday at North is a lesson: North's mentees are not free then.
    let mut monday = slot("Mon", 4);
    monday.ends.get_mut("north").unwrap().kind = PeriodKind::Lesson;
    let body = propose(&input(
        vec![monday],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Mon"])],
    ));
    assert_eq!(only_unmatched(&body).blocker, Blocker::NoSharedSlot);
}

#[test]
fn a_mentor_takes_one_mentee_per_period_of_their_own_timetable() {
    // North has two weekly slots on Monday against South's one FORM period
    // (two registration-time windows overlap it): Asha, at South, can only
    // mentor one of the two in that period.
    let mut first = slot("Mon", 4);
    let mut second = slot("Mon", 4);
    second.ends.get_mut("north").unwrap().period = "REG".into();
    second.key = "north:A-Mon-REG|south:A-Mon-FORM".into();
    first.key = "north:A-Mon-TUT|south:A-Mon-FORM".into();
    let body = propose(&input(
        vec![first, second],
        vec![
            mentee(1, "Kai", 8, 2, &["Maths"]),
            mentee(2, "Lia", 8, 2, &["Maths"]),
        ],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 2, &["Mon"])],
    ));
    assert_eq!(body.matches.len(), 1);
    assert_eq!(only_unmatched(&body).blocker, Blocker::MentorsFull);
}

#[test]
fn the_partner_school_does_not_see_referral_priorities() {
    let case = input(
        vec![slot("Mon", 4)],
        vec![
            mentee(1, "Kai", 8, 3, &["Maths"]),
            mentee(2, "Lia", 8, 1, &["Spanish"]),
        ],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Mon"])],
    );
    let body = propose(&case);
    let mut theirs = body.clone();
    theirs.for_school(SOUTH);
    assert!(theirs.matches.iter().all(|m| m.priority.is_none()));
    assert!(theirs.unmatched.iter().all(|u| u.priority.is_none()));
    assert!(theirs.summary.mentees_by_priority.is_empty());
    assert!(
        !serde_json::to_string(&theirs)
            .unwrap()
            .contains("\"priority\"")
    );
    let mut ours = body;
    ours.for_school(NORTH);
    assert_eq!(ours.matches[0].priority, Some(3));
    assert_eq!(
        ours.summary.mentees_by_priority,
        BTreeMap::from([(1, 1), (3, 1)])
    );
}

#[test]
fn a_proposal_goes_stale_when_what_it_relied_on_changes() {
    let mut case = input(
        vec![slot("Mon", 1)],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Mon"])],
    );
    let body = propose(&case);
    assert_eq!(stale(&case, &body), None);

    let mut forbidden = case.clone();
    forbidden.rules.push(MatchRule {
        mentee_id: case.mentees[0].person.id,
        mentor_id: case.mentors[0].person.id,
        kind: RuleKind::Forbid,
        set_by: Uuid::nil(),
        set_at: chrono::Utc::now(),
    });
    assert!(
        stale(&forbidden, &body)
            .unwrap()
            .contains("ruled out Kai with Asha")
    );

    let mut taken = case.clone();
    taken.slots[0].ends.get_mut("south").unwrap().in_use = 1;
    assert!(stale(&taken, &body).unwrap().contains("iPads"));

    let mut busy = case.clone();
    busy.mentors[0]
        .busy
        .insert(("A".into(), "Mon".into(), "FORM".into()));
    assert!(
        stale(&busy, &body)
            .unwrap()
            .contains("Asha is no longer free")
    );

    case.mentees.clear();
    assert!(stale(&case, &body).unwrap().contains("Kai's referral"));
}

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
        for rule in &case.rules {
            let broken = match rule.kind {
                RuleKind::Forbid => rule.mentee_id == m.mentee.id && rule.mentor_id == m.mentor.id,
                RuleKind::Pin => rule.mentee_id == m.mentee.id && rule.mentor_id != m.mentor.id,
            };
            if broken {
                return Err("a pin or forbid was ignored".into());
            }
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
