//! Matching mentees with mentors across a partnership.
//!
//! A run gathers the partnership's approved referrals (mentees at either
//! school), the ready mentors at the other school, and the weekly slots the
//! two calendars share; [`propose()`] turns them into a [`solver::Problem`],
//! solves it exactly, and explains every match and every mentee left
//! unmatched. The proposal is kept as a document; a coordinator at each
//! school approves it, and the second approval turns its pairs into
//! [`MatchRecord`]s and moves their referrals to `matched`, in one
//! transaction. Coordinators steer a re-run with rules: pin a pair (match
//! them if at all possible) or forbid it.
//!
//! A *weekly slot* is one line of the two timetables that recurs: the same
//! cycle week, weekday and period at each end (Week A Monday tutor time at
//! one school with Monday form time at the other). Mentors are free in a
//! slot when their free periods include their own school's end of it;
//! mentees are free in every slot (the slot policy picks their school's
//! periods) except those their referral says they cannot make.
//!
//! # Layout
//! - this file: the types of a run, a proposal and a match, with no
//!   storage or HTTP;
//! - [`weekly`]: dated slots grouped into weekly slots;
//! - [`fit`]: who fits whom, and who is free when;
//! - [`propose`](mod@propose): the problem built from a partnership, solved by [`solver`],
//!   and explained (`unmatched` says why a mentee is left out); [`stale()`]
//!   checks a proposal against the partnership as it is now;
//! - [`synthetic`]: generated partnerships for benchmarks and property tests;
//! - [`store`]: proposals, approvals, rules and matches on both databases;
//! - [`http`]: the JSON API; [`pages`]: the proposal review page.

pub mod fit;
pub mod http;
pub mod pages;
pub mod propose;
pub mod solver;
pub mod stale;
pub mod store;
pub mod synthetic;
mod unmatched;
pub mod weekly;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::model::PeriodKind;
use crate::error::{Error, Result};
use crate::people::mentors::{FreePeriod, Offer};

pub use fit::{covers, level_for, level_name};
pub use propose::{problem_for, propose};
pub use stale::stale;
pub use weekly::{key_of, weekly_slots};

/// How far ahead a run looks for weekly slots.
pub const HORIZON_WEEKS: i64 = 16;

/// One school's end of a weekly slot, in its own local time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyEnd {
    /// The cycle week (A, B …).
    pub week: String,
    /// The weekday (Mon … Fri).
    pub day: String,
    pub period: String,
    /// What the period is for (registration, tutor, lunch …).
    pub kind: PeriodKind,
    /// The school's iPads for mentoring in this period.
    pub devices: u32,
    /// Pairs the period's supervisors can watch at once between them.
    #[serde(default = "unlimited")]
    pub supervision: u32,
    /// Pairs approved matches already hold here at the busiest moment of
    /// this end's time, in any of the school's partnerships: the iPads and
    /// supervisors are the school's, and a session at 08:40 does not take
    /// an iPad from one at 09:05 in the same long period.
    #[serde(default)]
    pub in_use: u32,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// A slot that recurs in the two timetables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklySlot {
    /// Both ends' week, day and period: the slot's identity.
    pub key: String,
    /// Each school's end, by school slug.
    pub ends: BTreeMap<String, WeeklyEnd>,
    /// Pairs it can hold: a session takes an iPad and a supervisor's place
    /// at each school, so the least of those at either end.
    pub devices: u32,
    /// Pairs already held at its busier end by approved matches.
    pub in_use: u32,
    /// How often it happens in the next [`HORIZON_WEEKS`] weeks.
    pub occurrences: u32,
    /// Its first date (at the first school).
    pub first_date: NaiveDate,
}

impl WeeklySlot {
    /// The slot in words, with each school's name.
    pub fn label(&self, names: &BTreeMap<String, String>) -> String {
        self.ends
            .iter()
            .map(|(slug, e)| {
                format!(
                    "{}: Week {} {} {} {}–{}",
                    names.get(slug).map_or(slug.as_str(), String::as_str),
                    e.week,
                    e.day,
                    e.period,
                    e.start.format("%H:%M"),
                    e.end.format("%H:%M")
                )
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// Pairs it can still take: an iPad and a supervisor's place at each
    /// end per pair, less what approved matches hold then.
    pub fn free_pairs(&self) -> u32 {
        self.ends
            .values()
            .map(WeeklyEnd::free_pairs)
            .min()
            .unwrap_or(0)
    }

    /// What limits the pairs this slot holds, in words: the end with least
    /// room, and whether its iPads or its supervisors run out first
    /// ("St Columba's has 4 iPads for mentoring at that time, 2 of them held
    /// by other sessions", "Hillside's supervisors can watch 1 pair at once").
    pub fn limit_words(&self, names: &BTreeMap<String, String>) -> String {
        let Some((slug, end)) = self.ends.iter().min_by_key(|(_, e)| e.free_pairs()) else {
            return String::new();
        };
        let school = names.get(slug).map_or(slug.as_str(), String::as_str);
        let held = if end.in_use > 0 {
            format!(", {} of them held by other sessions", end.in_use)
        } else {
            String::new()
        };
        if end.supervision < end.devices {
            format!(
                "{school}'s supervisors can watch {} pair{} at once{held}",
                end.supervision,
                if end.supervision == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "{school} has {} iPad{} for mentoring at that time{held}",
                end.devices,
                if end.devices == 1 { "" } else { "s" }
            )
        }
    }

    /// Records what approved matches already hold at each end: the most of
    /// `held` (each school's approved sessions, by slug) under way at any
    /// one moment of the end's time.
    pub fn count_use(&mut self, held: &BTreeMap<String, Vec<WeeklyEnd>>) {
        for (slug, end) in &mut self.ends {
            end.in_use = held.get(slug).map_or(0, |h| end.busiest(h));
        }
        self.in_use = self.ends.values().map(|e| e.in_use).max().unwrap_or(0);
    }
}

impl WeeklyEnd {
    /// Pairs this end can still take.
    pub fn free_pairs(&self) -> u32 {
        self.devices
            .min(self.supervision)
            .saturating_sub(self.in_use)
    }

    /// Whether `other` (at the same school) is under way at some moment
    /// of this end's time, in the same cycle week and weekday.
    pub fn overlaps(&self, other: &WeeklyEnd) -> bool {
        self.week == other.week
            && self.day == other.day
            && other.start < self.end
            && self.start < other.end
    }

    /// The most of `held` under way at once during this end's time. Only
    /// a start can raise the count, so the starts within the window (and
    /// the window's own start) are the moments to look at.
    pub fn busiest(&self, held: &[WeeklyEnd]) -> u32 {
        let during: Vec<&WeeklyEnd> = held.iter().filter(|h| self.overlaps(h)).collect();
        during
            .iter()
            .map(|h| h.start.max(self.start))
            .map(|at| {
                during
                    .iter()
                    .filter(|h| h.start <= at && at < h.end)
                    .count()
            })
            .max()
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    }
}

/// What an end stored before supervision was kept apart from iPads holds:
/// its `devices` was already the lesser of the two.
fn unlimited() -> u32 {
    u32::MAX
}

/// A student as a match shows them: first name and year only, which both
/// schools may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: Uuid,
    pub school_id: Uuid,
    pub given_name: String,
    pub year_group: Option<i32>,
}

/// A mentee waiting for a match.
#[derive(Clone, Debug)]
pub struct MenteeCase {
    /// Their approved referral.
    pub referral_id: Uuid,
    pub person: Person,
    /// Referral priority: 3 most urgent, 1 least.
    pub priority: u8,
    /// The focus requested, most wanted first.
    pub focus: Vec<String>,
    /// Times in their own timetable they cannot be mentored.
    pub unavailable: Vec<crate::people::referrals::Unavailable>,
    /// Days of their own week they would rather meet on ("Wed"), if any.
    pub preferred_days: Vec<String>,
}

/// A mentor who might take a mentee.
#[derive(Clone, Debug)]
pub struct MentorCase {
    pub person: Person,
    /// Trained and cleared: only ready mentors are matched.
    pub ready: bool,
    pub offers: Vec<Offer>,
    /// Mentees they can still take (capacity less approved matches).
    pub capacity_left: u32,
    /// Their free periods in their own timetable.
    pub free_periods: Vec<FreePeriod>,
    /// Periods of their own timetable already taken by approved matches.
    pub busy: BTreeSet<PeriodRef>,
}

/// A period in one school's timetable: (week, day, period code).
pub type PeriodRef = (String, String, String);

/// A coordinator's rule for one pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Match these two if at all possible.
    Pin,
    /// Never match these two.
    Forbid,
}

impl RuleKind {
    const ALL: [RuleKind; 2] = [RuleKind::Pin, RuleKind::Forbid];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Pin => "pin",
            RuleKind::Forbid => "forbid",
        }
    }
}

impl FromStr for RuleKind {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        RuleKind::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| Error::internal(format!("stored rule `{raw}`")))
    }
}

/// A pinned or forbidden pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRule {
    pub mentee_id: Uuid,
    pub mentor_id: Uuid,
    pub kind: RuleKind,
    pub set_by: Uuid,
    pub set_at: DateTime<Utc>,
}

/// A school in the partnership.
#[derive(Clone, Debug)]
pub struct SchoolRef {
    pub id: Uuid,
    /// Its slug (the key of its end of a slot).
    pub slug: String,
    pub name: String,
}

/// Everything a run needs, gathered from the store (or generated).
#[derive(Clone, Debug, Default)]
pub struct MatchInput {
    pub schools: Vec<SchoolRef>,
    /// The weekly slots, with what approved matches already use.
    pub slots: Vec<WeeklySlot>,
    /// Approved referrals at both schools.
    pub mentees: Vec<MenteeCase>,
    /// Mentors at both schools, ready or not.
    pub mentors: Vec<MentorCase>,
    pub rules: Vec<MatchRule>,
    /// Pairs in the last proposal (mentee, mentor) and the key of the slot
    /// they had: kept together, in that slot, where nothing better comes of
    /// splitting or moving them.
    pub previous: BTreeMap<(Uuid, Uuid), String>,
}

/// A proposed pair and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedMatch {
    pub referral_id: Uuid,
    pub mentee: Person,
    pub mentor: Person,
    /// The referral's priority (only the mentee's own school sees it: see
    /// [`ProposalBody::for_school`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    pub slot_key: String,
    pub slot: String,
    /// How well they fit (see the reasons).
    pub fit: u32,
    /// A coordinator pinned this pair.
    pub pinned: bool,
    /// The pair was in the last proposal too.
    pub kept: bool,
    /// Why this pair, in words.
    pub because: Vec<String>,
}

/// Why a mentee was left unmatched: the constraint that binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Blocker {
    /// The partnership has no weekly slot with an iPad free at both ends.
    NoSlots,
    /// No ready mentor at the partner school offers what they asked for.
    NoMentorOffers,
    /// A coordinator forbade every mentor who fits.
    Forbidden,
    /// The mentor they were pinned to cannot take them.
    PinnedMentorUnavailable,
    /// Mentors fit, but none is free in any of the partnership's slots.
    NoSharedSlot,
    /// Mentors fit and share slots, but the referral says the mentee cannot
    /// make any of them.
    MenteeNotFree,
    /// Every fitting mentor is full (or busy in every shared slot).
    MentorsFull,
    /// The shared slots have no iPads left.
    DevicesFull,
    /// Some fitting mentors are full and the other shared slots have no
    /// iPads left.
    MentorsAndDevicesFull,
}

/// A mentee the proposal leaves unmatched, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmatched {
    pub referral_id: Uuid,
    pub mentee: Person,
    /// Referral priority (only the mentee's own school sees it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    pub focus: Vec<String>,
    /// The binding reason.
    pub blocker: Blocker,
    /// The reason in words; it says nothing of referral priorities, so the
    /// partner school may read it.
    pub because: String,
    /// Who holds the places the mentee could have had, by priority against
    /// theirs (only the mentee's own school sees it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_by: Option<HeldBy>,
}

impl Unmatched {
    /// The whole reason, with who holds the places where the viewer may
    /// know it.
    pub fn reason(&self) -> String {
        match &self.held_by {
            Some(held) => format!("{}; {}", self.because, held.words(&self.mentee.given_name)),
            None => self.because.clone(),
        }
    }
}

/// The mentees matched into the places an unmatched mentee could have had
/// (the fitting mentors' room and periods, the shared slots' iPads), counted
/// by their referral's priority against the unmatched mentee's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBy {
    pub higher: u32,
    pub same: u32,
    pub lower: u32,
    /// Pinned to their mentor by a coordinator (whatever their priority).
    pub pinned: u32,
}

impl HeldBy {
    /// In words, for the mentee called `name`: "higher priority" is said
    /// only when every place is held by a more urgent referral.
    pub fn words(&self, name: &str) -> String {
        let of = |n: u32, what: &str| {
            let who = if n == 1 { "mentee" } else { "mentees" };
            format!("{n} {who} {what}")
        };
        if self.same == 0 && self.lower == 0 && self.pinned == 0 {
            return format!(
                "those places are held by {}",
                of(
                    self.higher,
                    &format!("with a higher priority than {name}'s")
                )
            );
        }
        let mut parts = Vec::new();
        if self.higher > 0 {
            parts.push(of(self.higher, "with a higher priority"));
        }
        if self.same > 0 {
            parts.push(of(self.same, "with the same priority"));
        }
        if self.lower > 0 {
            parts.push(of(self.lower, "with a lower priority"));
        }
        if self.pinned > 0 {
            parts.push(of(self.pinned, "pinned to their mentor by a coordinator"));
        }
        format!(
            "those places are held by {}; no exchange with {name} matches more of the most urgent referrals or fits better overall",
            fit::join_words(&parts)
        )
    }
}

/// Counts for the top of the proposal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Mentees with approved referrals.
    pub mentees: u32,
    /// Of those, matched.
    pub matched: u32,
    /// Matched by referral priority ("3" most urgent).
    pub matched_by_priority: BTreeMap<u8, u32>,
    /// Mentees by referral priority.
    pub mentees_by_priority: BTreeMap<u8, u32>,
    /// Total fit of the proposal.
    pub fit: u64,
    /// What taking mentees in priority order, each with their best open
    /// mentor and slot, would have matched: the yardstick.
    pub greedy_matched: u32,
    /// And its total fit.
    pub greedy_fit: u64,
    pub ready_mentors: u32,
    /// Weekly slots with room.
    pub slots: u32,
}

/// What a run proposes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalBody {
    /// Proven optimal for the instance (the flow is exact; see [`solver`]).
    pub optimal: bool,
    pub summary: Summary,
    pub slots: Vec<WeeklySlot>,
    pub matches: Vec<ProposedMatch>,
    /// The mentees left unmatched, each with the reason.
    pub unmatched: Vec<Unmatched>,
}

impl ProposalBody {
    /// Cuts the proposal down to what staff at `school` may see: a referral's
    /// priority is its own school's business, so the other school's
    /// priorities go, and the counts by priority cover this school's
    /// mentees only.
    pub fn for_school(&mut self, school: Uuid) {
        let mut matched = BTreeMap::new();
        let mut all = BTreeMap::new();
        for m in &mut self.matches {
            if m.mentee.school_id != school {
                m.priority = None;
            } else if let Some(p) = m.priority {
                *matched.entry(p).or_default() += 1;
                *all.entry(p).or_default() += 1;
            }
        }
        for u in &mut self.unmatched {
            if u.mentee.school_id != school {
                u.priority = None;
                u.held_by = None;
            } else if let Some(p) = u.priority {
                *all.entry(p).or_default() += 1;
            }
        }
        self.summary.matched_by_priority = matched;
        self.summary.mentees_by_priority = all;
    }
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Waiting for both coordinators.
    Open,
    /// Both approved: its pairs are matches.
    Approved,
    /// A later run replaced it.
    Superseded,
}

impl ProposalStatus {
    const ALL: [ProposalStatus; 3] = [
        ProposalStatus::Open,
        ProposalStatus::Approved,
        ProposalStatus::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Open => "open",
            ProposalStatus::Approved => "approved",
            ProposalStatus::Superseded => "superseded",
        }
    }
}

impl FromStr for ProposalStatus {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        ProposalStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| Error::internal(format!("stored proposal status `{raw}`")))
    }
}

/// Where an approved match stands: it ends with its referral, freeing the
/// mentor's place, their period and the iPads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    Approved,
    Ended,
}

impl MatchStatus {
    const ALL: [MatchStatus; 2] = [MatchStatus::Approved, MatchStatus::Ended];

    pub fn as_str(self) -> &'static str {
        match self {
            MatchStatus::Approved => "approved",
            MatchStatus::Ended => "ended",
        }
    }
}

impl FromStr for MatchStatus {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        MatchStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| Error::internal(format!("stored match status `{raw}`")))
    }
}

/// One school's approval of a proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub school_id: Uuid,
    /// Its coordinator who approved.
    pub approved_by: Uuid,
    pub approved_at: DateTime<Utc>,
}

/// A stored proposal.
#[derive(Clone, Debug, Serialize)]
pub struct Proposal {
    pub id: Uuid,
    pub partnership_id: Uuid,
    pub status: ProposalStatus,
    /// Who ran the optimiser (none when run from the command line).
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Approvals so far.
    pub approvals: Vec<Approval>,
    /// The pairs, slots and reasons.
    #[serde(flatten)]
    pub body: ProposalBody,
}

impl Proposal {
    pub fn approved_by_school(&self, school: Uuid) -> bool {
        self.approvals.iter().any(|a| a.school_id == school)
    }
}

/// An approved match, ready for booking.
#[derive(Clone, Debug, Serialize)]
pub struct MatchRecord {
    pub id: Uuid,
    pub partnership_id: Uuid,
    pub referral_id: Uuid,
    pub mentee_id: Uuid,
    pub mentor_id: Uuid,
    pub slot: WeeklySlot,
    /// The proposal it came from.
    pub proposal_id: Uuid,
    /// When the second school approved it.
    pub approved_at: DateTime<Utc>,
}

/// What a rule change asks for: pin, forbid, or neither (clear it).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub mentee_id: Uuid,
    pub mentor_id: Uuid,
    /// `pin`, `forbid`, or `none` to clear.
    pub kind: RuleChoice,
}

/// A rule, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleChoice {
    Pin,
    Forbid,
    /// Clear whatever rule the pair has.
    None,
}

impl RuleChoice {
    /// The rule to store, if any.
    pub fn kind(self) -> Option<RuleKind> {
        match self {
            RuleChoice::Pin => Some(RuleKind::Pin),
            RuleChoice::Forbid => Some(RuleKind::Forbid),
            RuleChoice::None => None,
        }
    }
}

/// As the review page's form names them.
impl FromStr for RuleChoice {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        match raw {
            "pin" => Ok(RuleChoice::Pin),
            "forbid" => Ok(RuleChoice::Forbid),
            "none" => Ok(RuleChoice::None),
            _ => Err(Error::invalid("kind", "pin, forbid or clear")),
        }
    }
}

/// A matched pair as their thread sees it: who is in it, and whether the
/// match still runs (a thread is read-only once it has ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Pair {
    pub id: Uuid,
    pub partnership_id: Uuid,
    pub mentee_id: Uuid,
    pub mentor_id: Uuid,
    pub open: bool,
}

impl Pair {
    /// Whether `user` is the mentee or the mentor.
    pub fn has(&self, user: Uuid) -> bool {
        user == self.mentee_id || user == self.mentor_id
    }

    /// The other student, for `user` in the pair.
    pub fn other(&self, user: Uuid) -> Uuid {
        if user == self.mentee_id {
            self.mentor_id
        } else {
            self.mentee_id
        }
    }
}
