//! What each recipient's calendar holds of a series, and what a change
//! must send them to make it right: the rules, with no SQL (that is in
//! [`super::store`]).
//!
//! A change to sessions only marks their series as changed, in the same
//! transaction. The sender then compares, for each member of staff who
//! supervises the series, the copy their calendar holds (as last sent)
//! with the copy they should hold now, and sends at most one message:
//! - nothing held, something to hold: the whole series (`REQUEST`);
//! - something held, nothing to hold: the whole series cancelled;
//! - only sessions taken away from the middle (one cancelled, a rota
//!   change): a `CANCEL` naming each by its RECURRENCE-ID;
//! - anything else (a session moved, added, restored, the rule ended
//!   early because the rest moved, another title): the whole series again.
//!
//! So booking a pair's twelve sessions is one message to each supervisor,
//! not twelve, and a second run over an unchanged series sends nothing.
//! Each school also has a copy of its own (all of the series), from which
//! the coordinators' daily digest is written.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::series::Instance;
use crate::booking::SessionStatus;

/// One session as a copy holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub reason: Option<String>,
}

/// A copy of a series as one holder's calendar has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyState {
    /// What everything else in the event says (its title, the attendees,
    /// the zone): a change here sends the series again.
    pub header: String,
    /// The pair, as a coordinator's digest names it.
    pub what: String,
    /// Its sessions, by RECURRENCE-ID.
    pub instances: BTreeMap<DateTime<Utc>, Held>,
}

impl CopyState {
    /// A copy of `instances` (cancelled ones are not held).
    pub fn of(header: String, what: String, instances: &[Instance]) -> Option<CopyState> {
        let held: BTreeMap<DateTime<Utc>, Held> = instances
            .iter()
            .filter(|i| i.status != SessionStatus::Cancelled)
            .map(|i| {
                (
                    i.recurrence,
                    Held {
                        starts: i.starts,
                        ends: i.ends,
                        reason: i.reason.clone(),
                    },
                )
            })
            .collect();
        (!held.is_empty()).then_some(CopyState {
            header,
            what,
            instances: held,
        })
    }

    /// The instances again, for a message about them.
    pub fn instances(&self) -> Vec<Instance> {
        self.instances
            .iter()
            .map(|(recurrence, h)| Instance {
                recurrence: *recurrence,
                starts: h.starts,
                ends: h.ends,
                status: SessionStatus::Scheduled,
                reason: h.reason.clone(),
            })
            .collect()
    }
}

/// What one holder must be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Send {
    /// The whole series as it is now.
    Request,
    /// Every session of the copy they hold is called off.
    CancelAll,
    /// These sessions of the copy they hold are called off.
    CancelSome(Vec<DateTime<Utc>>),
}

/// The one message (or none) that takes a holder from `held` to `now`.
pub fn difference(held: Option<&CopyState>, now: Option<&CopyState>) -> Option<Send> {
    match (held, now) {
        (None, None) => None,
        (None, Some(_)) => Some(Send::Request),
        (Some(_), None) => Some(Send::CancelAll),
        (Some(old), Some(new)) => {
            if old == new {
                return None;
            }
            let gone: Vec<DateTime<Utc>> = old
                .instances
                .keys()
                .filter(|k| !new.instances.contains_key(k))
                .copied()
                .collect();
            let only_taken = old.header == new.header
                && new
                    .instances
                    .iter()
                    .all(|(k, h)| old.instances.get(k) == Some(h));
            let last_kept = new.instances.keys().next_back();
            let a_tail = gone.iter().all(|g| last_kept.is_none_or(|k| g > k));
            if only_taken && !a_tail {
                Some(Send::CancelSome(gone))
            } else {
                // The rule ending early (the rest moved to a new series)
                // is the series sent again with its shorter rule.
                Some(Send::Request)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn weeks(n: i64) -> Vec<Instance> {
        let first = Utc.with_ymd_and_hms(2026, 11, 2, 8, 40, 0).unwrap();
        (0..n)
            .map(|w| {
                let at = first + Duration::weeks(w);
                Instance {
                    recurrence: at,
                    starts: at,
                    ends: at + Duration::minutes(20),
                    status: SessionStatus::Scheduled,
                    reason: None,
                }
            })
            .collect()
    }

    fn copy(instances: &[Instance]) -> Option<CopyState> {
        CopyState::of("Mentoring".into(), "Asha with Ben".into(), instances)
    }

    #[test]
    fn each_change_is_one_message_of_the_right_kind() {
        let all = weeks(6);
        let held = copy(&all);
        assert_eq!(difference(None, held.as_ref()), Some(Send::Request));
        assert_eq!(difference(held.as_ref(), held.as_ref()), None);
        let mut one_off = all.clone();
        one_off[2].status = SessionStatus::Cancelled;
        assert_eq!(
            difference(held.as_ref(), copy(&one_off).as_ref()),
            Some(Send::CancelSome(vec![all[2].recurrence]))
        );
        let mut moved = all.clone();
        moved[2].starts += Duration::hours(1);
        moved[2].ends += Duration::hours(1);
        assert_eq!(
            difference(held.as_ref(), copy(&moved).as_ref()),
            Some(Send::Request)
        );
        // The rest moved away: the rule ends early.
        assert_eq!(
            difference(held.as_ref(), copy(&all[..3]).as_ref()),
            Some(Send::Request)
        );
        assert_eq!(difference(held.as_ref(), None), Some(Send::CancelAll));
    }
}
