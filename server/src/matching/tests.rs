//! Proposals a coordinator would check: who is matched with whom, and
//! why the others are not.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveTime};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::calendar::model::PeriodKind;

mod properties;
mod reasons;
mod rules;
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
                supervision: devices,
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
        unavailable: Vec::new(),
        preferred_days: Vec::new(),
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
        previous: BTreeMap::new(),
    }
}

fn only_unmatched(body: &ProposalBody) -> &Unmatched {
    assert_eq!(body.unmatched.len(), 1, "{:#?}", body.unmatched);
    &body.unmatched[0]
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
