//! Generated partnerships, for benchmarks and property tests: a school of
//! mentees (Years 7–11) and a school of sixth-form mentors, with the subject
//! spread of a real referral list (maths and English dominate), mentors
//! free in a third to a half of the weekly slots, capacities of one or two,
//! and 10–30 iPads per slot. The same seed gives the same partnership.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use super::{MatchInput, MenteeCase, MentorCase, Person, SchoolRef, WeeklyEnd, WeeklySlot};
use crate::calendar::model::PeriodKind;
use crate::people::mentors::{FreePeriod, Level, Offer};

/// Subjects and how often they are asked for (per thousand).
const SUBJECTS: &[(&str, u32)] = &[
    ("Maths", 300),
    ("English", 220),
    ("Science", 120),
    ("English poetry", 60),
    ("French", 50),
    ("Spanish", 40),
    ("History", 50),
    ("Geography", 40),
    ("Computing", 40),
    ("Reading", 80),
];

const DAYS: [&str; 5] = ["Mon", "Tue", "Wed", "Thu", "Fri"];

fn subject(rng: &mut StdRng) -> &'static str {
    let total: u32 = SUBJECTS.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (name, weight) in SUBJECTS {
        if pick < *weight {
            return name;
        }
        pick -= weight;
    }
    SUBJECTS[0].0
}

fn id(rng: &mut StdRng) -> Uuid {
    Uuid::from_u128(rng.r#gen::<u128>())
}

/// A partnership with `mentees` approved referrals at one school, `mentors`
/// ready mentors at the other, and `slots` weekly slots.
pub fn partnership(seed: u64, mentees: usize, mentors: usize, slots: usize) -> MatchInput {
    let mut rng = StdRng::seed_from_u64(seed);
    let north = SchoolRef {
        id: id(&mut rng),
        slug: "north".into(),
        name: "North Academy".into(),
    };
    let south = SchoolRef {
        id: id(&mut rng),
        slug: "south".into(),
        name: "South College".into(),
    };
    let weekly: Vec<WeeklySlot> = (0..slots).map(|i| weekly_slot(&mut rng, i)).collect();
    let mentee_cases = (0..mentees)
        .map(|i| mentee(&mut rng, i, north.id))
        .collect();
    let mentor_cases = (0..mentors)
        .map(|i| mentor(&mut rng, i, south.id, &weekly))
        .collect();
    MatchInput {
        schools: vec![north, south],
        slots: weekly,
        mentees: mentee_cases,
        mentors: mentor_cases,
        rules: Vec::new(),
        previous: BTreeMap::new(),
    }
}

/// [`partnership`] with `percent` of its mentees not free in one or two of
/// their own school's periods that the slots use (a lesson, a group): the
/// same partnership otherwise, seed for seed.
pub fn partnership_with_exceptions(
    seed: u64,
    mentees: usize,
    mentors: usize,
    slots: usize,
    percent: u32,
) -> MatchInput {
    let mut input = partnership(seed, mentees, mentors, slots);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x005e_ed0f_e8ce);
    let periods: Vec<&WeeklyEnd> = input
        .slots
        .iter()
        .filter_map(|s| s.ends.get("north"))
        .collect();
    if periods.is_empty() {
        return input;
    }
    for mentee in &mut input.mentees {
        if rng.gen_range(0..100) >= percent {
            continue;
        }
        for _ in 0..rng.gen_range(1..=2) {
            let end = periods[rng.gen_range(0..periods.len())];
            mentee
                .unavailable
                .push(crate::people::referrals::Unavailable {
                    week: Some(end.week.clone()),
                    day: end.day.clone(),
                    period: Some(end.period.clone()),
                });
        }
    }
    input
}

/// [`partnership_with_exceptions`] with `prefer` percent of its mentees
/// also rather meeting on one or two days of their week.
pub fn partnership_with_preferences(
    seed: u64,
    mentees: usize,
    mentors: usize,
    slots: usize,
    percent: u32,
    prefer: u32,
) -> MatchInput {
    let mut input = partnership_with_exceptions(seed, mentees, mentors, slots, percent);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x00da_7e5a_11ce);
    for mentee in &mut input.mentees {
        if rng.gen_range(0..100) >= prefer {
            continue;
        }
        for _ in 0..rng.gen_range(1..=2) {
            let day = DAYS[rng.gen_range(0..DAYS.len())].to_owned();
            if !mentee.preferred_days.contains(&day) {
                mentee.preferred_days.push(day);
            }
        }
    }
    input
}

fn at(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

/// Weekly slot `i`: North's tutor or registration time in Week A or B
/// against South's form time, five a week.
fn weekly_slot(rng: &mut StdRng, i: usize) -> WeeklySlot {
    let start = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap_or_default();
    let devices = rng.gen_range(10..=30);
    let week = if (i / 5).is_multiple_of(2) { "A" } else { "B" };
    let day = DAYS[i % 5];
    let period = if (i / 10).is_multiple_of(2) {
        "TUT"
    } else {
        "REG"
    };
    let mut ends = BTreeMap::new();
    ends.insert(
        "north".to_owned(),
        WeeklyEnd {
            week: week.into(),
            day: day.into(),
            period: period.into(),
            kind: if period == "TUT" {
                PeriodKind::Tutor
            } else {
                PeriodKind::Registration
            },
            devices,
            supervision: devices,
            in_use: 0,
            start: at(8, 40),
            end: at(9, 10),
        },
    );
    ends.insert(
        "south".to_owned(),
        WeeklyEnd {
            week: "A".into(),
            day: day.into(),
            period: format!("FORM{}", i / 5),
            kind: PeriodKind::Tutor,
            devices,
            supervision: devices,
            in_use: 0,
            start: at(8, 45),
            end: at(9, 15),
        },
    );
    WeeklySlot {
        key: format!("north:{week}-{day}-{period}|south:A-{day}-FORM{}", i / 5),
        ends,
        devices,
        in_use: 0,
        occurrences: rng.gen_range(6..=8),
        first_date: start + chrono::Days::new(u64::try_from(i).unwrap_or(0)),
    }
}

/// Mentee `i` in Years 7–11: one or two subjects, priority mostly low.
fn mentee(rng: &mut StdRng, i: usize, school: Uuid) -> MenteeCase {
    let mut focus = vec![subject(rng).to_owned()];
    if rng.gen_bool(0.4) {
        let second = subject(rng);
        if second != focus[0] {
            focus.push(second.to_owned());
        }
    }
    let priority = match rng.gen_range(0..100) {
        0..50 => 1,
        50..85 => 2,
        _ => 3,
    };
    MenteeCase {
        referral_id: id(rng),
        person: Person {
            id: id(rng),
            school_id: school,
            given_name: format!("Mentee {i}"),
            year_group: Some(rng.gen_range(7..=11)),
        },
        priority,
        focus,
        unavailable: Vec::new(),
        preferred_days: Vec::new(),
    }
}

/// Mentor `i` in the sixth form: one to three subjects at GCSE or A level,
/// free in a third to a half of the slots.
fn mentor(rng: &mut StdRng, i: usize, school: Uuid, weekly: &[WeeklySlot]) -> MentorCase {
    let mut offers: Vec<Offer> = Vec::new();
    for _ in 0..rng.gen_range(1..=3) {
        let s = subject(rng);
        if !offers.iter().any(|o| o.subject == s) {
            offers.push(Offer {
                subject: s.to_owned(),
                level: if rng.gen_bool(0.5) {
                    Level::Gcse
                } else {
                    Level::ALevel
                },
            });
        }
    }
    let share = rng.gen_range(0.3..0.5);
    let free_periods = weekly
        .iter()
        .filter(|_| rng.gen_bool(share))
        .filter_map(|s| s.ends.get("south"))
        .map(|e| FreePeriod {
            week: e.week.clone(),
            day: e.day.clone(),
            period: e.period.clone(),
        })
        .collect();
    MentorCase {
        person: Person {
            id: id(rng),
            school_id: school,
            given_name: format!("Mentor {i}"),
            year_group: Some(rng.gen_range(12..=13)),
        },
        ready: true,
        offers,
        capacity_left: rng.gen_range(1..=2),
        free_periods,
        busy: BTreeSet::new(),
    }
}
