//! Pins, re-runs, timetables, privacy and staleness.

use super::*;

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
    assert_eq!(
        kai.reason(),
        "Every fitting mentor is taken at the times Kai shares with them (Asha is full, 1 of 1 mentee); \
         those places are held by 1 mentee pinned to their mentor by a coordinator; \
         no exchange with Kai matches more of the most urgent referrals or fits better overall"
    );

    // Kai is urgent: the routine pinned referral waits, and is told why.
    case.mentees[0].priority = 3;
    let body = propose(&case);
    assert_eq!(body.matches[0].mentee.given_name, "Kai");
    let lia = only_unmatched(&body);
    assert_eq!(lia.blocker, Blocker::MentorsFull);
    assert!(lia.because.contains("Asha is full"), "{}", lia.because);
    // Here, and only here, a more urgent referral decided it.
    assert_eq!(
        lia.held_by.unwrap().words("Lia"),
        "those places are held by 1 mentee with a higher priority than Lia's"
    );
    // The partner school reads the reason without anyone's priority.
    let mut theirs = body.clone();
    theirs.for_school(SOUTH);
    assert!(!theirs.unmatched[0].reason().contains("priority"));

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
    case.previous.insert(
        (case.mentees[0].person.id, case.mentors[1].person.id),
        case.slots[0].key.clone(),
    );
    let body = propose(&case);
    assert_eq!(body.matches[0].mentor.given_name, "Ben");
    assert!(body.matches[0].kept);
}

/// A re-run with nothing changed gives every pair the slot it had (it
/// used to move nearly half of them while calling them "kept together").
#[test]
fn a_rerun_with_nothing_changed_keeps_every_pair_in_its_slot() {
    for seed in [1, 2, 3] {
        let mut case = crate::matching::synthetic::partnership(seed, 120, 90, 12);
        let first = propose(&case);
        assert!(first.matches.len() > 30, "{}", first.matches.len());
        case.previous = first
            .matches
            .iter()
            .map(|m| ((m.mentee.id, m.mentor.id), m.slot_key.clone()))
            .collect();
        let again = propose(&case);
        assert_eq!(again.matches.len(), first.matches.len());
        for m in &again.matches {
            assert!(m.kept, "seed {seed}: {} not kept", m.mentee.given_name);
            assert_eq!(
                Some(&m.slot_key),
                case.previous.get(&(m.mentee.id, m.mentor.id)),
                "seed {seed}: {} moved: {:?}",
                m.mentee.given_name,
                m.because
            );
            assert!(!m.because.iter().any(|b| b.starts_with("Moved")));
        }
    }
}

/// When a kept pair must move, it says why, and the reason is the change.
#[test]
fn a_kept_pair_that_must_move_says_why() {
    use crate::people::referrals::Unavailable;
    let mut case = input(
        vec![slot("Mon", 4), slot("Tue", 4)],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![mentor(
            1,
            "Asha",
            &[("Maths", Level::Gcse)],
            1,
            &["Mon", "Tue"],
        )],
    );
    case.previous.insert(
        (case.mentees[0].person.id, case.mentors[0].person.id),
        case.slots[0].key.clone(),
    );
    assert_eq!(propose(&case).matches[0].slot_key, case.slots[0].key);
    case.mentees[0].unavailable = vec![Unavailable {
        week: None,
        day: "Mon".into(),
        period: None,
    }];
    let moved = propose(&case);
    let m = &moved.matches[0];
    assert_eq!(m.slot_key, case.slots[1].key);
    assert!(
        m.because
            .iter()
            .any(|b| b.starts_with("Moved from") && b.contains("cannot make it")),
        "{:?}",
        m.because
    );
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
fn a_lunchtime_scheme_matches_mentees_in_the_periods_the_policy_names() {
    // The partnership runs at lunch: North's end of Monday's slot is its
    // lunch period, which its share of the slot policy named.
    let mut monday = slot("Mon", 4);
    monday.ends.get_mut("north").unwrap().kind = PeriodKind::Lunch;
    let body = propose(&input(
        vec![monday],
        vec![mentee(1, "Kai", 8, 2, &["Maths"])],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Mon"])],
    ));
    assert_eq!(body.matches.len(), 1, "{:?}", body.unmatched);
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
    let u = only_unmatched(&body);
    assert_eq!(u.blocker, Blocker::MentorsFull);
    // Asha has room for two but one Monday: not "full".
    assert!(
        u.because.contains("Asha has 1 of 2 mentees") && !u.because.contains("full"),
        "{}",
        u.because
    );
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
