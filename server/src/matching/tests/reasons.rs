//! The reason given for each mentee left unmatched.

use super::*;

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
    assert!(
        u.because.contains("has 1 iPad for mentoring"),
        "{}",
        u.because
    );
}

#[test]
fn a_supervisor_limit_is_named_as_supervisors_not_ipads() {
    // Monday has five iPads at each end, but North's supervisors can watch
    // one pair at once.
    let mut monday = slot("Mon", 5);
    monday.ends.get_mut("north").unwrap().supervision = 1;
    let body = propose(&input(
        vec![monday],
        vec![
            mentee(1, "Kai", 8, 3, &["Maths"]),
            mentee(2, "Lia", 8, 1, &["Maths"]),
        ],
        vec![
            mentor(1, "Asha", &[("Maths", Level::Gcse)], 2, &["Mon"]),
            mentor(2, "Ben", &[("Maths", Level::Gcse)], 2, &["Mon"]),
        ],
    ));
    let u = only_unmatched(&body);
    assert_eq!(u.blocker, Blocker::DevicesFull);
    assert!(
        u.because.contains("supervisors can watch 1 pair at once") && !u.because.contains("iPad"),
        "{}",
        u.because
    );
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
    assert!(
        u.because.contains("Asha is full, 1 of 1 mentee"),
        "{}",
        u.because
    );
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

#[test]
fn a_mentee_goes_where_they_are_free_and_else_the_referral_is_the_reason() {
    use crate::people::referrals::Unavailable;
    let tuesdays = Unavailable {
        week: None,
        day: "Tue".into(),
        period: None,
    };
    // Kai cannot make Tuesdays: the only mentor is free Monday and
    // Tuesday, and Kai is matched on Monday.
    let mut kai = mentee(1, "Kai", 8, 2, &["Maths"]);
    kai.unavailable = vec![tuesdays.clone()];
    let body = propose(&input(
        vec![slot("Mon", 4), slot("Tue", 4)],
        vec![kai.clone()],
        vec![mentor(
            1,
            "Asha",
            &[("Maths", Level::Gcse)],
            1,
            &["Tue", "Mon"],
        )],
    ));
    assert!(body.optimal);
    assert_eq!(body.matches.len(), 1);
    assert!(
        body.matches[0].slot.contains("Mon"),
        "{}",
        body.matches[0].slot
    );
    // With the mentor free only on Tuesday, Kai is left out, and the
    // reason is Kai's Tuesdays, not the mentor.
    let body = propose(&input(
        vec![slot("Mon", 4), slot("Tue", 4)],
        vec![kai],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 1, &["Tue"])],
    ));
    let u = only_unmatched(&body);
    assert_eq!(u.blocker, Blocker::MenteeNotFree);
    assert!(
        u.because.contains("Kai cannot make Tuesdays") && u.because.contains("Tue"),
        "{}",
        u.because
    );
}

#[test]
fn every_full_slot_a_mentee_shares_is_named_not_some_of_them() {
    // Asha (Maths) is free Mon, Wed and Fri; each day has one iPad. Mo and
    // Nia, urgent, take her Monday and Friday; Lia, urgent, takes Ben's
    // Wednesday. Kai shares all three days with Asha and every one is full:
    // the reason names all three, not only the Wednesday where Asha herself
    // is free.
    let body = propose(&input(
        vec![slot("Mon", 1), slot("Wed", 1), slot("Fri", 1)],
        vec![
            mentee(1, "Kai", 8, 1, &["Maths"]),
            mentee(2, "Mo", 8, 3, &["Maths"]),
            mentee(3, "Nia", 8, 3, &["Maths"]),
            mentee(4, "Lia", 8, 3, &["History"]),
        ],
        vec![
            mentor(
                1,
                "Asha",
                &[("Maths", Level::Gcse)],
                3,
                &["Mon", "Wed", "Fri"],
            ),
            mentor(2, "Ben", &[("History", Level::Gcse)], 1, &["Wed"]),
        ],
    ));
    let kai = only_unmatched(&body);
    assert_eq!(kai.mentee.given_name, "Kai");
    assert_eq!(kai.blocker, Blocker::DevicesFull);
    for day in ["Mon", "Wed", "Fri"] {
        assert!(
            kai.because
                .contains(&format!("North Academy: Week A {day} TUT")),
            "{day} missing: {}",
            kai.because
        );
    }
    assert_eq!(
        kai.held_by,
        Some(HeldBy {
            higher: 3,
            ..HeldBy::default()
        })
    );
}

#[test]
fn a_tie_on_priority_is_not_called_a_higher_priority() {
    // One place, two mentees of the same priority; Kai's fit is better, so
    // Lia waits. Priority did not decide it, and the reason does not say
    // it did.
    let body = propose(&input(
        vec![slot("Mon", 1)],
        vec![
            mentee(1, "Kai", 8, 2, &["Maths"]),
            mentee(2, "Lia", 8, 2, &["Maths", "History"]),
        ],
        vec![mentor(1, "Asha", &[("Maths", Level::Gcse)], 2, &["Mon"])],
    ));
    let u = only_unmatched(&body);
    assert_eq!(
        u.held_by,
        Some(HeldBy {
            same: 1,
            ..HeldBy::default()
        })
    );
    let words = u.reason();
    assert!(!words.contains("higher priority"), "{words}");
    assert!(words.contains("1 mentee with the same priority"), "{words}");
}
