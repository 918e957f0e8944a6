//! What a school has for mentoring: its iPads and the staff who supervise.
//!
//! These are the school's, not a partnership's. A school in two
//! partnerships has one set of iPads and one staff, so it declares them
//! once here and every partnership's slots, matching and bookings count
//! against the same numbers, by the time each session really takes. A
//! declaration is in force from its date until the next one, so a school
//! can say now that it gets six more iPads after half term.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::people::accounts::User;
use crate::people::schools::School;

/// Capacity of one period, overriding the school's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodCapacity {
    /// iPads available for mentoring in this period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<u32>,
    /// Staff (usernames) who can supervise in this period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisors: Option<Vec<String>>,
}

/// A school's iPads and supervisors, from one date on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolCapacity {
    /// iPads for mentoring in each period, unless the period says otherwise.
    #[serde(default)]
    pub devices: u32,
    /// Staff who can supervise in each period, unless the period says otherwise.
    #[serde(default)]
    pub supervisors: Vec<String>,
    /// Pairs one supervisor can watch at once (default
    /// [`DEFAULT_PAIRS_PER_SUPERVISOR`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs_per_supervisor: Option<u32>,
    /// Per-period capacity, by period code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub periods: BTreeMap<String, PeriodCapacity>,
}

/// Pairs a supervisor watches at once unless the school says otherwise:
/// one teacher in a room with a handful of iPads.
pub const DEFAULT_PAIRS_PER_SUPERVISOR: u32 = 6;

impl SchoolCapacity {
    /// iPads in a period.
    pub fn devices_in(&self, code: &str) -> u32 {
        self.periods
            .get(code)
            .and_then(|p| p.devices)
            .unwrap_or(self.devices)
    }

    /// Pairs one supervisor can watch at once.
    pub fn pairs_per_supervisor(&self) -> u32 {
        self.pairs_per_supervisor
            .unwrap_or(DEFAULT_PAIRS_PER_SUPERVISOR)
    }

    /// Supervisors in a period.
    pub fn supervisors_in(&self, code: &str) -> &[String] {
        self.periods
            .get(code)
            .and_then(|p| p.supervisors.as_deref())
            .unwrap_or(&self.supervisors)
    }

    /// Pairs the supervisors of a period can watch between them.
    pub fn supervision_in(&self, code: &str) -> u32 {
        u32::try_from(self.supervisors_in(code).len())
            .unwrap_or(u32::MAX)
            .saturating_mul(self.pairs_per_supervisor())
    }
}

/// A school's declarations in date order: each is in force from its date
/// until the next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityPlan {
    pub declared: Vec<Declared>,
}

/// One declaration and the date it starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declared {
    pub from: NaiveDate,
    #[serde(flatten)]
    pub capacity: SchoolCapacity,
}

impl CapacityPlan {
    /// What is in force on `date` (the school's local date), if anything
    /// has been declared by then.
    pub fn on(&self, date: NaiveDate) -> Option<&SchoolCapacity> {
        self.declared
            .iter()
            .rev()
            .find(|d| d.from <= date)
            .map(|d| &d.capacity)
    }

    /// Whether the school has declared anything at all.
    pub fn is_empty(&self) -> bool {
        self.declared.is_empty()
    }
}

/// A declaration as people write it; with no `from` it holds from the
/// first school day mentorbridge sees.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityInput {
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(flatten)]
    pub capacity: SchoolCapacity,
}

/// Checks a school's declaration: a supervisor watches at least one pair,
/// everyone named to supervise is on the school's `staff`, and a period
/// named is one of the school's bell schedule (`periods`, when it has one).
pub fn check_capacity(
    school: &School,
    capacity: &SchoolCapacity,
    staff: &[User],
    periods: &[String],
) -> Result<()> {
    if capacity.pairs_per_supervisor == Some(0) {
        return Err(Error::invalid(
            "pairs_per_supervisor",
            format!(
                "{}: a supervisor must be able to watch at least one pair",
                school.name
            ),
        ));
    }
    if !periods.is_empty()
        && let Some(code) = capacity.periods.keys().find(|c| !periods.contains(c))
    {
        return Err(Error::invalid(
            "periods",
            format!(
                "{} has no period `{code}` in its bell schedule (it has {})",
                school.name,
                periods.join(", ")
            ),
        ));
    }
    let named = capacity.supervisors.iter().chain(
        capacity
            .periods
            .values()
            .filter_map(|p| p.supervisors.as_ref())
            .flatten(),
    );
    for username in named {
        if !staff.iter().any(|u| &u.username == username) {
            return Err(Error::invalid(
                "supervisors",
                format!("`{username}` is not a member of staff at {}", school.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_declaration_holds_until_the_next() {
        let with = |devices| SchoolCapacity {
            devices,
            ..SchoolCapacity::default()
        };
        let plan = CapacityPlan {
            declared: vec![
                Declared {
                    from: day("2026-09-01"),
                    capacity: with(3),
                },
                Declared {
                    from: day("2026-11-02"),
                    capacity: with(9),
                },
            ],
        };
        assert_eq!(plan.on(day("2026-08-31")), None);
        assert_eq!(plan.on(day("2026-09-01")).map(|c| c.devices), Some(3));
        assert_eq!(plan.on(day("2026-11-01")).map(|c| c.devices), Some(3));
        assert_eq!(plan.on(day("2026-11-02")).map(|c| c.devices), Some(9));
        assert_eq!(plan.on(day("2027-07-01")).map(|c| c.devices), Some(9));
    }

    #[test]
    fn supervision_is_supervisors_times_pairs_in_each_period() {
        let capacity = SchoolCapacity {
            devices: 4,
            supervisors: vec!["a".into(), "b".into()],
            pairs_per_supervisor: Some(3),
            periods: BTreeMap::from([(
                "REG".to_owned(),
                PeriodCapacity {
                    devices: Some(1),
                    supervisors: Some(vec!["a".into()]),
                },
            )]),
        };
        assert_eq!(
            (capacity.devices_in("TUT"), capacity.supervision_in("TUT")),
            (4, 6)
        );
        assert_eq!(
            (capacity.devices_in("REG"), capacity.supervision_in("REG")),
            (1, 3)
        );
    }
}
