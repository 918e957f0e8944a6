//! Why a mentee is left unmatched: the one constraint to act on.
//!
//! The checks run from the most basic (nobody offers the subject) to the
//! most contended (every shared slot is full), and the first that holds is
//! the reason given. In an optimal solution every option the mentee had is
//! blocked (otherwise taking it would have been better), so the last check
//! always finds which limit binds.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::fit::{join_words, level_for, level_name, mentor_busy, open_slots, subject_fit};
use super::solver::{Choice, Placement, Problem};
use super::{Blocker, HORIZON_WEEKS, HeldBy, MatchInput, MenteeCase, MentorCase, WeeklyEnd};

/// What explaining an unmatched mentee needs to look at.
pub(super) struct Context<'a> {
    pub(super) input: &'a MatchInput,
    pub(super) ready: &'a [&'a MentorCase],
    pub(super) problem: &'a Problem,
    /// School names by slug.
    pub(super) names: &'a BTreeMap<String, String>,
    /// Mentees each ready mentor has in the solution.
    pub(super) load: &'a [u32],
    /// Pairs each slot has in the solution.
    pub(super) in_slot: &'a [u32],
    /// (mentor, period group) pairs the solution uses.
    pub(super) taken: &'a BTreeSet<(usize, usize)>,
    /// The mentee's pinned mentor, if any.
    pub(super) pin: Option<Uuid>,
    /// Where the solution places each mentee.
    pub(super) placements: &'a [Option<Placement>],
    /// Each pinned mentee's mentor.
    pub(super) pins: &'a BTreeMap<Uuid, Uuid>,
}

type Reason = (Blocker, String);

/// One way the mentee could have been matched were nothing booked: a
/// fitting mentor (index into the ready mentors), a slot they share, and
/// the mentor's end of it.
type Open<'a> = (usize, usize, &'a WeeklyEnd);

impl Context<'_> {
    /// The constraint that keeps this mentee out, and, when places went to
    /// others, who holds them.
    pub(super) fn why_unmatched(
        &self,
        i: usize,
        mentee: &MenteeCase,
    ) -> (Blocker, String, Option<HeldBy>) {
        match self.open_to(i, mentee) {
            Err((blocker, because)) => (blocker, because, None),
            Ok(open) => {
                let (blocker, because) = self.binding_limit(&mentee.person.given_name, &open);
                (blocker, because, self.held_by(i, &open))
            }
        }
    }

    /// The options left once every reason the mentee could never have been
    /// matched is ruled out, or that reason.
    fn open_to(&self, i: usize, mentee: &MenteeCase) -> Result<Vec<Open<'_>>, Reason> {
        let name = &mentee.person.given_name;
        if self.problem.slot_capacity.iter().all(|&c| c == 0) {
            return Err((
                Blocker::NoSlots,
                format!(
                    "The partnership has no weekly slot with an iPad and a supervisor free at both schools in the next {HORIZON_WEEKS} weeks"
                ),
            ));
        }
        let mut fitting = 0;
        if let Some(pinned) = self.pin {
            if let Some(reason) = self.pinned_unavailable(pinned) {
                return Err(reason);
            }
        } else {
            fitting = self.fitting_mentors(mentee);
            if fitting == 0 {
                return Err(self.nobody_offers(mentee));
            }
        }
        let options = &self.problem.mentees[i].options;
        if options.is_empty() {
            return Err((
                Blocker::Forbidden,
                format!(
                    "A coordinator ruled out every mentor who offers what {name} asked for ({fitting})"
                ),
            ));
        }
        let open = self.open_options(options);
        if open.is_empty() {
            let mentors: BTreeSet<usize> = options.iter().map(|c| c.mentor).collect();
            return Err((
                Blocker::NoSharedSlot,
                format!(
                    "None of the {} mentors who fit ({}) is free in a slot the partnership has that {name} can make",
                    mentors.len(),
                    self.mentor_names(mentors.into_iter())
                ),
            ));
        }
        let free: Vec<_> = open
            .iter()
            .filter(|(_, s, _)| self.problem.mentees[i].free_in(*s))
            .copied()
            .collect();
        if free.is_empty() {
            let slots: BTreeSet<usize> = open.iter().map(|(_, s, _)| *s).collect();
            let times: Vec<String> = mentee.unavailable.iter().map(|u| u.label()).collect();
            return Err((
                Blocker::MenteeNotFree,
                format!(
                    "{name} is not free in any slot a fitting mentor shares ({}): the referral says {name} cannot make {}",
                    slots
                        .iter()
                        .map(|&s| self.input.slots[s].label(self.names))
                        .collect::<Vec<_>>()
                        .join("; "),
                    join_words(&times)
                ),
            ));
        }
        Ok(free)
    }

    /// Why the pinned mentor cannot take the mentee, if the reason is theirs
    /// alone; otherwise the pinned mentor is the one option, and the limits
    /// checked after this say what stopped it.
    fn pinned_unavailable(&self, pinned: Uuid) -> Option<Reason> {
        let mentor = self.input.mentors.iter().find(|m| m.person.id == pinned);
        let why = match mentor {
            None => "is no longer a mentor at the partner school",
            Some(m) if !m.ready => "is not ready (training or clearance missing)",
            Some(m) if m.capacity_left == 0 => "has no room for another mentee",
            Some(_) => return None,
        };
        let who = mentor.map_or("The pinned mentor".to_owned(), |m| {
            format!("{}, the pinned mentor,", m.person.given_name)
        });
        Some((
            Blocker::PinnedMentorUnavailable,
            format!("{who} {why}; remove the pin to consider others"),
        ))
    }

    /// Ready mentors at the partner school who offer what the mentee asked for.
    fn fitting_mentors(&self, mentee: &MenteeCase) -> usize {
        self.ready
            .iter()
            .filter(|m| {
                m.person.school_id != mentee.person.school_id && subject_fit(mentee, m).is_some()
            })
            .count()
    }

    fn nobody_offers(&self, mentee: &MenteeCase) -> Reason {
        let partner = self
            .input
            .schools
            .iter()
            .find(|s| s.id != mentee.person.school_id)
            .map_or("the partner school", |s| s.name.as_str());
        let level = level_name(level_for(mentee.person.year_group));
        let unready = self
            .input
            .mentors
            .iter()
            .filter(|m| {
                !m.ready
                    && m.person.school_id != mentee.person.school_id
                    && subject_fit(mentee, m).is_some()
            })
            .count();
        let mut because = format!(
            "No ready mentor at {partner} offers {} at {level} or above",
            join_words(&mentee.focus)
        );
        if unready > 0 {
            because.push_str(&format!("; {unready} more would once trained and cleared"));
        }
        (Blocker::NoMentorOffers, because)
    }

    /// Every (mentor, slot, mentor's end) the mentee could have had were
    /// nothing booked.
    fn open_options(&self, options: &[Choice]) -> Vec<Open<'_>> {
        let mut open = Vec::new();
        for c in options {
            let mentor = self.ready[c.mentor];
            let Some(slug) = self
                .input
                .schools
                .iter()
                .find(|s| s.id == mentor.person.school_id)
            else {
                continue;
            };
            for (s, own) in open_slots(self.input, mentor, &slug.slug) {
                open.push((c.mentor, s, own));
            }
        }
        open
    }

    /// Which limit binds, naming everything that binds: when every option
    /// is in a full slot, every slot the mentee shares with a fitting
    /// mentor; when every option is with a taken mentor, every such mentor;
    /// otherwise the taken mentors and the full slots where the others are
    /// free.
    fn binding_limit(&self, name: &str, open: &[Open<'_>]) -> Reason {
        let mut taken_mentors = BTreeSet::new();
        let mut full_slots = BTreeSet::new();
        let mut full_elsewhere = BTreeSet::new();
        for &(j, s, own) in open {
            let mentor_blocked = self.mentor_blocked(j, s, own);
            let slot_blocked = self.slot_full(s);
            debug_assert!(
                mentor_blocked || slot_blocked,
                "an open option was left unused"
            );
            if mentor_blocked {
                taken_mentors.insert(j);
            } else {
                full_elsewhere.insert(s);
            }
            if slot_blocked {
                full_slots.insert(s);
            }
        }
        let every_slot_full = open.iter().all(|&(_, s, _)| self.slot_full(s));
        if every_slot_full {
            return (
                Blocker::DevicesFull,
                format!(
                    "Every place is taken in every slot {name} shares with a fitting mentor ({})",
                    self.slot_limits(&full_slots)
                ),
            );
        }
        if full_elsewhere.is_empty() {
            return (
                Blocker::MentorsFull,
                format!(
                    "Every fitting mentor is taken at the times {name} shares with them ({})",
                    self.mentor_states(&taken_mentors)
                ),
            );
        }
        (
            Blocker::MentorsAndDevicesFull,
            format!(
                "Fitting mentors are taken ({}), and where the others are free every place is taken ({})",
                self.mentor_states(&taken_mentors),
                self.slot_limits(&full_elsewhere)
            ),
        )
    }

    /// Whether mentor `j` cannot take another mentee in slot `s`: no room
    /// left, a mentee of theirs already in that period of their timetable,
    /// or a session of another partnership then.
    fn mentor_blocked(&self, j: usize, s: usize, own: &WeeklyEnd) -> bool {
        let node = &self.problem.mentors[j];
        self.load[j] >= node.capacity
            || mentor_busy(self.ready[j], own)
            || node
                .group_of(s)
                .is_none_or(|g| self.taken.contains(&(j, g)))
    }

    fn slot_full(&self, s: usize) -> bool {
        self.in_slot[s] >= self.problem.slot_capacity[s]
    }

    fn slot_limits(&self, slots: &BTreeSet<usize>) -> String {
        slots
            .iter()
            .map(|&s| {
                let slot = &self.input.slots[s];
                format!(
                    "{}: {}",
                    slot.label(self.names),
                    slot.limit_words(self.names)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The mentees of this proposal holding what blocks the open options
    /// (a full mentor's mentees, the mentee in a taken period, the pairs in
    /// a full slot), by priority against mentee `i`'s; `None` when nothing
    /// in this proposal holds them (sessions of other partnerships do).
    fn held_by(&self, i: usize, open: &[Open<'_>]) -> Option<HeldBy> {
        let mut holders = BTreeSet::new();
        for &(j, s, _) in open {
            let node = &self.problem.mentors[j];
            let mentor_full = self.load[j] >= node.capacity;
            let period = node.group_of(s);
            let slot_full = self.slot_full(s);
            for (k, place) in self.placements.iter().enumerate() {
                let Some(p) = place else { continue };
                let with_mentor = p.mentor == j
                    && (mentor_full || (period.is_some() && node.group_of(p.slot) == period));
                if with_mentor || (slot_full && p.slot == s) {
                    holders.insert(k);
                }
            }
        }
        if holders.is_empty() {
            return None;
        }
        let mine = self.input.mentees[i].priority;
        let mut held = HeldBy::default();
        for k in holders {
            let other = &self.input.mentees[k];
            let mentor = self.placements[k].map(|p| self.ready[p.mentor].person.id);
            if mentor.is_some() && self.pins.get(&other.person.id) == mentor.as_ref() {
                held.pinned += 1;
            } else {
                match other.priority.cmp(&mine) {
                    std::cmp::Ordering::Greater => held.higher += 1,
                    std::cmp::Ordering::Equal => held.same += 1,
                    std::cmp::Ordering::Less => held.lower += 1,
                }
            }
        }
        Some(held)
    }

    /// Each mentor and what takes them: no room left ("full, 2 of 2
    /// mentees"), or a mentee already in the period ("1 of 2 mentees, the
    /// other at that time") — a mentor with room is never called full.
    fn mentor_states(&self, mentors: &BTreeSet<usize>) -> String {
        let states: Vec<String> = mentors
            .iter()
            .map(|&j| {
                let name = &self.ready[j].person.given_name;
                let load = self.load[j];
                let capacity = self.problem.mentors[j].capacity;
                let of = |n: u32| if n == 1 { "mentee" } else { "mentees" };
                if load >= capacity {
                    format!("{name} is full, {load} of {capacity} {}", of(capacity))
                } else {
                    format!(
                        "{name} has {load} of {capacity} {} and is mentoring at those times already",
                        of(capacity)
                    )
                }
            })
            .collect();
        join_words(&states)
    }

    fn mentor_names(&self, mentors: impl Iterator<Item = usize>) -> String {
        let names: Vec<String> = mentors
            .map(|j| self.ready[j].person.given_name.clone())
            .collect();
        join_words(&names)
    }
}
