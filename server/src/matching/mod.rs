//! Matching mentees with mentors across a partnership.
//!
//! A run gathers the partnership's approved referrals (mentees at either
//! school), the ready mentors at the other school, and the weekly slots the
//! two calendars share; [`propose`] turns them into a [`solver::Problem`],
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
//! mentees are free in every slot, because the slot policy picks their
//! school's tutor and registration periods.

pub mod http;
pub mod solver;
pub mod store;
pub mod synthetic;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::align::Slot;
use crate::calendar::model::PeriodKind;
use crate::people::mentors::{FreePeriod, Level, Offer};
use solver::{Choice, MenteeNode, MentorNode, Problem};

/// How far ahead a run looks for weekly slots.
pub const HORIZON_WEEKS: i64 = 16;

/// Fit for offering the mentee's first-choice subject.
const FIRST_CHOICE: u32 = 12;
/// Fit for offering another subject the mentee asked for.
const OTHER_SUBJECT: u32 = 6;
/// Extra fit when the offer is at exactly the mentee's level.
const EXACT_LEVEL: u32 = 3;
/// Extra fit for keeping a pair from the last proposal, so a re-run after
/// one pin or forbid does not reshuffle everyone else.
const KEPT_PAIR: u32 = 5;

/// One school's end of a weekly slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyEnd {
    /// The cycle week (A, B …).
    pub week: String,
    /// The weekday (Mon … Fri).
    pub day: String,
    /// The period code.
    pub period: String,
    /// What the period is for: the school's mentees are free in it only
    /// when it is registration or tutor time.
    pub kind: PeriodKind,
    /// The school's iPads for mentoring in this period.
    pub devices: u32,
    /// Of those, already taken by approved matches (in any of the school's
    /// partnerships: the iPads are the school's, not the partnership's).
    #[serde(default)]
    pub in_use: u32,
    /// Local start.
    pub start: NaiveTime,
    /// Local end.
    pub end: NaiveTime,
}

/// A slot that recurs in the two timetables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklySlot {
    /// Both ends' week, day and period: the slot's identity.
    pub key: String,
    /// Each school's end, by school slug.
    pub ends: BTreeMap<String, WeeklyEnd>,
    /// Pairs it can hold: the fewer iPads of the two ends (a session takes
    /// one at each school).
    pub devices: u32,
    /// iPads already taken at its busier end by approved matches.
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

    /// Pairs it can still take: one iPad at each end per pair.
    pub fn free_pairs(&self) -> u32 {
        self.ends
            .values()
            .map(|e| e.devices.saturating_sub(e.in_use))
            .min()
            .unwrap_or(0)
    }

    /// Records what approved matches already take at each end, from
    /// `(slug, week, day, period)` counts.
    pub fn count_use(&mut self, used: &BTreeMap<(String, PeriodRef), u32>) {
        for (slug, end) in &mut self.ends {
            let at = (end.week.clone(), end.day.clone(), end.period.clone());
            end.in_use = used.get(&(slug.clone(), at)).copied().unwrap_or(0);
        }
        self.in_use = self.ends.values().map(|e| e.in_use).max().unwrap_or(0);
    }
}

fn day_name(date: NaiveDate) -> &'static str {
    match date.weekday() {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

/// The weekly slot a dated slot belongs to: both ends' week, weekday and
/// period ("hillside:A-Mon-TUT|st-columbas:A-Mon-FORM").
pub fn key_of(slot: &Slot) -> String {
    slot.schools
        .iter()
        .map(|(slug, e)| format!("{slug}:{}-{}-{}", e.week, day_name(e.date), e.period))
        .collect::<Vec<_>>()
        .join("|")
}

/// Groups dated slots into weekly slots, keeping those that happen at
/// least twice (a line-up that occurs once, e.g. in the weeks two countries
/// change their clocks on different dates, is no basis for a series).
pub fn weekly_slots(slots: &[Slot]) -> Vec<WeeklySlot> {
    let mut by_key: BTreeMap<String, WeeklySlot> = BTreeMap::new();
    for slot in slots {
        let ends: BTreeMap<String, WeeklyEnd> = slot
            .schools
            .iter()
            .map(|(slug, e)| {
                (
                    slug.clone(),
                    WeeklyEnd {
                        week: e.week.clone(),
                        day: day_name(e.date).to_owned(),
                        period: e.period.clone(),
                        kind: e.kind,
                        // A pair needs an iPad and a place with a
                        // supervisor at each end: the fewer of the two.
                        devices: e.devices.min(e.supervision),
                        in_use: 0,
                        start: e.start,
                        end: e.end,
                    },
                )
            })
            .collect();
        let key = key_of(slot);
        let devices = slot
            .schools
            .values()
            .map(|e| e.devices.min(e.supervision))
            .min()
            .unwrap_or(0);
        let date = slot.schools.values().map(|e| e.date).min();
        by_key
            .entry(key.clone())
            .and_modify(|w| {
                w.occurrences += 1;
                w.devices = w.devices.min(devices);
            })
            .or_insert_with(|| WeeklySlot {
                key,
                ends,
                devices,
                in_use: 0,
                occurrences: 1,
                first_date: date.unwrap_or_default(),
            });
    }
    let mut weekly: Vec<WeeklySlot> = by_key
        .into_values()
        .filter(|w| w.occurrences >= 2)
        .collect();
    weekly.sort_by(|a, b| (a.first_date, &a.key).cmp(&(b.first_date, &b.key)));
    weekly
}

/// A student as a match shows them: first name and year only, which both
/// schools may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Their account.
    pub id: Uuid,
    /// Their school.
    pub school_id: Uuid,
    /// Given name.
    pub given_name: String,
    /// Year group.
    pub year_group: Option<i32>,
}

/// A mentee waiting for a match.
#[derive(Clone, Debug)]
pub struct MenteeCase {
    /// Their approved referral.
    pub referral_id: Uuid,
    /// Who they are.
    pub person: Person,
    /// Referral priority: 3 most urgent, 1 least.
    pub priority: u8,
    /// The focus requested, most wanted first.
    pub focus: Vec<String>,
}

/// A mentor who might take a mentee.
#[derive(Clone, Debug)]
pub struct MentorCase {
    /// Who they are.
    pub person: Person,
    /// Trained and cleared: only ready mentors are matched.
    pub ready: bool,
    /// What they offer.
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
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Pin => "pin",
            RuleKind::Forbid => "forbid",
        }
    }

    /// Reads the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pin" => Some(RuleKind::Pin),
            "forbid" => Some(RuleKind::Forbid),
            _ => None,
        }
    }
}

/// A pinned or forbidden pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRule {
    /// The mentee.
    pub mentee_id: Uuid,
    /// The mentor.
    pub mentor_id: Uuid,
    /// Pin or forbid.
    pub kind: RuleKind,
    /// Who set it.
    pub set_by: Uuid,
    /// When.
    pub set_at: DateTime<Utc>,
}

/// A school in the partnership.
#[derive(Clone, Debug)]
pub struct SchoolRef {
    /// Its id.
    pub id: Uuid,
    /// Its slug (the key of its end of a slot).
    pub slug: String,
    /// Its name.
    pub name: String,
}

/// Everything a run needs, gathered from the store (or generated).
#[derive(Clone, Debug, Default)]
pub struct MatchInput {
    /// The two schools.
    pub schools: Vec<SchoolRef>,
    /// The weekly slots, with what approved matches already use.
    pub slots: Vec<WeeklySlot>,
    /// Approved referrals at both schools.
    pub mentees: Vec<MenteeCase>,
    /// Mentors at both schools, ready or not.
    pub mentors: Vec<MentorCase>,
    /// Pinned and forbidden pairs.
    pub rules: Vec<MatchRule>,
    /// Pairs in the last proposal, kept together where nothing better
    /// comes of splitting them.
    pub previous: BTreeSet<(Uuid, Uuid)>,
}

/// A proposed pair and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedMatch {
    /// The mentee's referral.
    pub referral_id: Uuid,
    /// The mentee.
    pub mentee: Person,
    /// The mentor.
    pub mentor: Person,
    /// The referral's priority (only the mentee's own school sees it: see
    /// [`ProposalBody::for_school`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// The weekly slot's key.
    pub slot_key: String,
    /// The slot in words.
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
    /// The referral.
    pub referral_id: Uuid,
    /// The mentee.
    pub mentee: Person,
    /// Referral priority (only the mentee's own school sees it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// The focus requested.
    pub focus: Vec<String>,
    /// The binding reason.
    pub blocker: Blocker,
    /// The reason in words.
    pub because: String,
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
    /// Ready mentors.
    pub ready_mentors: u32,
    /// Weekly slots with room.
    pub slots: u32,
}

/// What a run proposes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalBody {
    /// Proven optimal for the instance (the flow is exact; see [`solver`]).
    pub optimal: bool,
    /// The counts.
    pub summary: Summary,
    /// The weekly slots considered.
    pub slots: Vec<WeeklySlot>,
    /// The proposed pairs.
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
            } else if let Some(p) = u.priority {
                *all.entry(p).or_default() += 1;
            }
        }
        self.summary.matched_by_priority = matched;
        self.summary.mentees_by_priority = all;
    }
}

/// The level a mentee in this year group needs.
pub fn level_for(year: Option<i32>) -> Level {
    match year {
        Some(y) if y >= 12 => Level::ALevel,
        Some(10 | 11) => Level::Gcse,
        _ => Level::Ks3,
    }
}

/// The level's name in words.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Ks3 => "KS3",
        Level::Gcse => "GCSE",
        Level::ALevel => "A level",
    }
}

/// An offered subject covers a requested focus when they are the same or
/// one narrows the other by whole words ("English" covers "English
/// poetry"), ignoring case and surrounding space.
pub fn covers(offer: &str, focus: &str) -> bool {
    let (o, f) = (offer.trim(), focus.trim());
    !o.is_empty() && !f.is_empty() && (word_prefix(o, f) || word_prefix(f, o))
}

/// Whether `long` starts with the words of `short` (case-insensitively),
/// without allocating: this runs for every mentee, mentor and subject.
fn word_prefix(short: &str, long: &str) -> bool {
    let mut rest = long.chars().flat_map(char::to_lowercase);
    for c in short.chars().flat_map(char::to_lowercase) {
        if rest.next() != Some(c) {
            return false;
        }
    }
    matches!(rest.next(), None | Some(' '))
}

/// For each focus the mentor covers: its rank in the mentee's list, the
/// best (lowest sufficient) offer, and whether that is the mentee's own level.
fn covered<'a>(
    mentee: &'a MenteeCase,
    mentor: &'a MentorCase,
) -> impl Iterator<Item = (usize, &'a str, &'a Offer, bool)> + 'a {
    let need = level_for(mentee.person.year_group);
    mentee
        .focus
        .iter()
        .enumerate()
        .filter_map(move |(rank, focus)| {
            mentor
                .offers
                .iter()
                .filter(|o| o.level >= need && covers(&o.subject, focus))
                .min_by_key(|o| o.level)
                .map(|offer| (rank, focus.as_str(), offer, offer.level == need))
        })
}

/// How well a mentor fits a mentee's focus; `None` when they offer none of
/// it at the mentee's level or above. (This runs for every pair, so it
/// builds no strings; [`subject_reasons`] words it for the chosen pairs.)
fn subject_fit(mentee: &MenteeCase, mentor: &MentorCase) -> Option<u32> {
    let fit: u32 = covered(mentee, mentor)
        .map(|(rank, _, _, exact)| {
            (if rank == 0 {
                FIRST_CHOICE
            } else {
                OTHER_SUBJECT
            }) + if exact { EXACT_LEVEL } else { 0 }
        })
        .sum();
    (fit > 0).then_some(fit)
}

/// Why a mentor fits a mentee, one line per focus they cover.
fn subject_reasons(mentee: &MenteeCase, mentor: &MentorCase) -> Vec<String> {
    covered(mentee, mentor)
        .map(|(rank, focus, offer, exact)| {
            format!(
                "{} offers {} at {}{} — {}'s {} ({focus})",
                mentor.person.given_name,
                offer.subject,
                level_name(offer.level),
                if exact {
                    ", the mentee's own level"
                } else {
                    ""
                },
                mentee.person.given_name,
                if rank == 0 {
                    "first choice"
                } else {
                    "other request"
                },
            )
        })
        .collect()
}

/// Whether a period is among a mentor's free periods.
fn mentor_free(mentor: &MentorCase, end: &WeeklyEnd) -> bool {
    mentor
        .free_periods
        .iter()
        .any(|p| p.covers(&end.week, &end.day, &end.period))
}

/// Whether an approved match already takes a mentor's period.
fn mentor_busy(mentor: &MentorCase, end: &WeeklyEnd) -> bool {
    mentor
        .busy
        .contains(&(end.week.clone(), end.day.clone(), end.period.clone()))
}

/// Whether a school's mentees are free at its end of a slot.
fn mentees_free(end: &WeeklyEnd) -> bool {
    end.kind.is_form_time()
}

/// The slots a mentor could take a mentee in, ignoring what is already
/// booked: free at their end, and registration or tutor time at the
/// mentee's (the other) end.
fn open_slots<'a>(
    input: &'a MatchInput,
    mentor: &'a MentorCase,
    own_slug: &'a str,
) -> impl Iterator<Item = (usize, &'a WeeklyEnd)> + 'a {
    input.slots.iter().enumerate().filter_map(move |(i, s)| {
        let own = s.ends.get(own_slug)?;
        let other_ok = s
            .ends
            .iter()
            .filter(|(slug, _)| slug.as_str() != own_slug)
            .all(|(_, e)| mentees_free(e));
        (other_ok && mentor_free(mentor, own)).then_some((i, own))
    })
}

fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Proposes the best pairs for a partnership and explains them.
pub fn propose(input: &MatchInput) -> ProposalBody {
    let prepared = prepare(input);
    let solution = solver::solve(&prepared.problem);
    let baseline = solver::greedy(&prepared.problem);
    explain(input, &prepared, &solution, &baseline)
}

/// The optimiser's problem for a partnership (what [`propose`] solves).
pub fn problem_for(input: &MatchInput) -> Problem {
    prepare(input).problem
}

/// A run's problem, and what explaining its answer needs.
struct Prepared<'a> {
    names: BTreeMap<String, String>,
    ready: Vec<&'a MentorCase>,
    pins: BTreeMap<Uuid, Uuid>,
    problem: Problem,
}

fn prepare(input: &MatchInput) -> Prepared<'_> {
    let names: BTreeMap<String, String> = input
        .schools
        .iter()
        .map(|s| (s.slug.clone(), s.name.clone()))
        .collect();
    let slug_of: BTreeMap<Uuid, &str> = input
        .schools
        .iter()
        .map(|s| (s.id, s.slug.as_str()))
        .collect();
    let ready: Vec<&MentorCase> = input.mentors.iter().filter(|m| m.ready).collect();
    let pins: BTreeMap<Uuid, Uuid> = input
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::Pin)
        .map(|r| (r.mentee_id, r.mentor_id))
        .collect();
    let forbidden: BTreeSet<(Uuid, Uuid)> = input
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::Forbid)
        .map(|r| (r.mentee_id, r.mentor_id))
        .collect();

    // Mentor j's free slots, and each mentee's options with their reasons.
    // Each mentor's slots, grouped by their own period (one mentee each),
    // leaving out periods approved matches already take.
    let mentor_slots: Vec<Vec<Vec<usize>>> = ready
        .iter()
        .map(|m| {
            let Some(slug) = slug_of.get(&m.person.school_id) else {
                return Vec::new();
            };
            let mut groups: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
            for (i, own) in open_slots(input, m, slug) {
                if !mentor_busy(m, own) {
                    groups
                        .entry((&own.week, &own.day, &own.period))
                        .or_default()
                        .push(i);
                }
            }
            groups.into_values().collect()
        })
        .collect();
    let mut mentees = Vec::with_capacity(input.mentees.len());
    for mentee in &input.mentees {
        let pin = pins.get(&mentee.person.id);
        let mut options = Vec::new();
        for (j, mentor) in ready.iter().enumerate() {
            if mentor.person.school_id == mentee.person.school_id
                || forbidden.contains(&(mentee.person.id, mentor.person.id))
                || pin.is_some_and(|p| *p != mentor.person.id)
            {
                continue;
            }
            let mut fit = match (subject_fit(mentee, mentor), pin) {
                (Some(f), _) => f,
                // A pinned pair is matched on the coordinator's word.
                (None, Some(_)) => 0,
                (None, None) => continue,
            };
            if input
                .previous
                .contains(&(mentee.person.id, mentor.person.id))
            {
                fit += KEPT_PAIR;
            }
            options.push(Choice { mentor: j, fit });
        }
        mentees.push(MenteeNode {
            // A pin puts a pair ahead of others of the same priority, never
            // ahead of a more urgent referral.
            tier: 2 * (mentee.priority.clamp(1, 3) - 1) + u8::from(pin.is_some()),
            options,
        });
    }
    let problem = Problem {
        mentees,
        mentors: ready
            .iter()
            .zip(&mentor_slots)
            .map(|(m, slots)| MentorNode {
                capacity: m.capacity_left,
                slots: slots.clone(),
            })
            .collect(),
        slot_capacity: input.slots.iter().map(WeeklySlot::free_pairs).collect(),
        // More sessions in the term is better: an every-week slot beats a
        // fortnightly one, all else being equal.
        slot_value: input
            .slots
            .iter()
            .map(|s| {
                s.occurrences
                    .min(u32::try_from(HORIZON_WEEKS).unwrap_or(16))
                    / 2
            })
            .collect(),
    };
    Prepared {
        names,
        ready,
        pins,
        problem,
    }
}

/// Turns a solution into the proposal: pairs with their reasons, and the
/// binding reason for each mentee left out.
fn explain(
    input: &MatchInput,
    prepared: &Prepared<'_>,
    solution: &solver::Solution,
    baseline: &solver::Solution,
) -> ProposalBody {
    let Prepared {
        names,
        ready,
        pins,
        problem,
    } = prepared;
    let mut body = ProposalBody {
        optimal: true,
        slots: input.slots.clone(),
        ..ProposalBody::default()
    };
    let mut load = vec![0u32; ready.len()];
    let mut in_slot = vec![0u32; input.slots.len()];
    let mut taken = BTreeSet::new();
    for place in solution.placements.iter().flatten() {
        load[place.mentor] += 1;
        in_slot[place.slot] += 1;
        if let Some(group) = problem.mentors[place.mentor].group_of(place.slot) {
            taken.insert((place.mentor, group));
        }
    }
    for (i, (mentee, place)) in input.mentees.iter().zip(&solution.placements).enumerate() {
        *body
            .summary
            .mentees_by_priority
            .entry(mentee.priority)
            .or_default() += 1;
        if let Some(place) = place {
            let mentor = ready[place.mentor];
            let slot = &input.slots[place.slot];
            let fit = problem.mentees[i]
                .options
                .iter()
                .find(|c| c.mentor == place.mentor)
                .map_or(0, |c| c.fit);
            let pinned = pins.get(&mentee.person.id) == Some(&mentor.person.id);
            let kept = input
                .previous
                .contains(&(mentee.person.id, mentor.person.id));
            let mut because = subject_reasons(mentee, mentor);
            because.push(format!(
                "Both free in {} ({} sessions in the next {HORIZON_WEEKS} weeks)",
                slot.label(names),
                slot.occurrences
            ));
            if kept {
                because.push("Kept together from the last proposal".to_owned());
            }
            if pinned {
                because.push("Pinned by a coordinator".to_owned());
            }
            *body
                .summary
                .matched_by_priority
                .entry(mentee.priority)
                .or_default() += 1;
            body.matches.push(ProposedMatch {
                referral_id: mentee.referral_id,
                mentee: mentee.person.clone(),
                mentor: mentor.person.clone(),
                priority: Some(mentee.priority),
                slot_key: slot.key.clone(),
                slot: slot.label(names),
                fit: fit + problem.slot_value[place.slot],
                pinned,
                kept,
                because,
            });
        } else {
            let context = Context {
                input,
                ready,
                problem,
                names,
                load: &load,
                in_slot: &in_slot,
                taken: &taken,
                pin: pins.get(&mentee.person.id).copied(),
            };
            let (blocker, because) = context.why_unmatched(i, mentee);
            body.unmatched.push(Unmatched {
                referral_id: mentee.referral_id,
                mentee: mentee.person.clone(),
                priority: Some(mentee.priority),
                focus: mentee.focus.clone(),
                blocker,
                because,
            });
        }
    }
    body.summary.mentees = u32::try_from(input.mentees.len()).unwrap_or(u32::MAX);
    body.summary.matched = u32::try_from(body.matches.len()).unwrap_or(u32::MAX);
    body.summary.fit = solution.score.fit;
    body.summary.greedy_matched = baseline.score.matched.iter().sum();
    body.summary.greedy_fit = baseline.score.fit;
    body.summary.ready_mentors = u32::try_from(ready.len()).unwrap_or(u32::MAX);
    body.summary.slots = u32::try_from(input.slots.iter().filter(|s| s.free_pairs() > 0).count())
        .unwrap_or(u32::MAX);
    body.unmatched.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.mentee.given_name.cmp(&b.mentee.given_name))
    });
    body.matches.sort_by(|a, b| {
        a.mentee
            .given_name
            .cmp(&b.mentee.given_name)
            .then(a.mentee.id.cmp(&b.mentee.id))
    });
    body
}

/// Why a proposal can no longer be approved as it stands, if it cannot:
/// something it relied on has changed since it was made (a referral
/// withdrawn, a mentor's clearance or free periods changed, a pair
/// forbidden, iPads or a mentor's period taken by another partnership's
/// approval). `input` is the partnership as it is now.
pub fn stale(input: &MatchInput, body: &ProposalBody) -> Option<String> {
    let slots: BTreeMap<&str, &WeeklySlot> =
        input.slots.iter().map(|s| (s.key.as_str(), s)).collect();
    let slug_of: BTreeMap<Uuid, &str> = input
        .schools
        .iter()
        .map(|s| (s.id, s.slug.as_str()))
        .collect();
    let forbidden: BTreeSet<(Uuid, Uuid)> = input
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::Forbid)
        .map(|r| (r.mentee_id, r.mentor_id))
        .collect();
    let mut load: BTreeMap<Uuid, u32> = BTreeMap::new();
    let mut periods = BTreeSet::new();
    let mut in_slot: BTreeMap<&str, u32> = BTreeMap::new();
    for m in &body.matches {
        let (mentee, mentor_name) = (&m.mentee.given_name, &m.mentor.given_name);
        if !input.mentees.iter().any(|x| x.referral_id == m.referral_id) {
            return Some(format!(
                "{mentee}'s referral is no longer waiting for a match"
            ));
        }
        let Some(mentor) = input
            .mentors
            .iter()
            .find(|x| x.person.id == m.mentor.id && x.ready)
        else {
            return Some(format!("{mentor_name} is no longer a ready mentor"));
        };
        if forbidden.contains(&(m.mentee.id, m.mentor.id)) {
            return Some(format!(
                "a coordinator has ruled out {mentee} with {mentor_name}"
            ));
        }
        let own = slots.get(m.slot_key.as_str()).and_then(|slot| {
            let slug = slug_of.get(&mentor.person.school_id)?;
            Some((*slot, slot.ends.get(*slug)?))
        });
        let Some((slot, own)) = own else {
            return Some(format!("{} is no longer in both calendars", m.slot));
        };
        let period = (own.week.clone(), own.day.clone(), own.period.clone());
        if !mentor_free(mentor, own)
            || mentor_busy(mentor, own)
            || !periods.insert((mentor.person.id, period))
        {
            return Some(format!("{mentor_name} is no longer free in {}", m.slot));
        }
        let taken = load.entry(mentor.person.id).or_default();
        *taken += 1;
        if *taken > mentor.capacity_left {
            return Some(format!("{mentor_name} has no room for another mentee"));
        }
        let pairs = in_slot.entry(slot.key.as_str()).or_default();
        *pairs += 1;
        if *pairs > slot.free_pairs() {
            return Some(format!("the iPads in {} have been taken", m.slot));
        }
    }
    None
}

/// What explaining an unmatched mentee needs to look at.
struct Context<'a> {
    input: &'a MatchInput,
    ready: &'a [&'a MentorCase],
    problem: &'a Problem,
    names: &'a BTreeMap<String, String>,
    load: &'a [u32],
    in_slot: &'a [u32],
    taken: &'a BTreeSet<(usize, usize)>,
    pin: Option<Uuid>,
}

impl Context<'_> {
    /// The constraint that keeps this mentee out, checked from the most
    /// basic (nobody offers the subject) to the most contended (every
    /// shared slot is full): the first that holds is the one to act on.
    fn why_unmatched(&self, i: usize, mentee: &MenteeCase) -> (Blocker, String) {
        let name = &mentee.person.given_name;
        let partner = self
            .input
            .schools
            .iter()
            .find(|s| s.id != mentee.person.school_id)
            .map_or("the partner school", |s| s.name.as_str());
        if self.problem.slot_capacity.iter().all(|&c| c == 0) {
            return (
                Blocker::NoSlots,
                format!(
                    "The partnership has no weekly slot with an iPad and a supervisor free at both schools in the next {HORIZON_WEEKS} weeks"
                ),
            );
        }
        let mut fitting = 0;
        if let Some(pinned) = self.pin {
            let mentor = self.input.mentors.iter().find(|m| m.person.id == pinned);
            let why = match mentor {
                None => Some("is no longer a mentor at the partner school"),
                Some(m) if !m.ready => Some("is not ready (training or clearance missing)"),
                Some(m) if m.capacity_left == 0 => Some("has no room for another mentee"),
                // Otherwise the pinned mentor is the one option, and the
                // limits below say what stopped it.
                Some(_) => None,
            };
            if let Some(why) = why {
                let who = mentor.map_or("The pinned mentor".to_owned(), |m| {
                    format!("{}, the pinned mentor,", m.person.given_name)
                });
                return (
                    Blocker::PinnedMentorUnavailable,
                    format!("{who} {why}; remove the pin to consider others"),
                );
            }
        } else {
            fitting = self
                .ready
                .iter()
                .filter(|m| {
                    m.person.school_id != mentee.person.school_id
                        && subject_fit(mentee, m).is_some()
                })
                .count();
            if fitting == 0 {
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
                return (Blocker::NoMentorOffers, because);
            }
        }
        let options = &self.problem.mentees[i].options;
        if options.is_empty() {
            return (
                Blocker::Forbidden,
                format!(
                    "A coordinator ruled out every mentor who offers what {name} asked for ({fitting})"
                ),
            );
        }
        // Every (mentor, slot) the mentee could have had were nothing booked.
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
        if open.is_empty() {
            let mentors: BTreeSet<usize> = options.iter().map(|c| c.mentor).collect();
            return (
                Blocker::NoSharedSlot,
                format!(
                    "None of the {} mentors who fit ({}) is free in a slot the partnership has in {name}'s registration or tutor time",
                    mentors.len(),
                    self.mentor_names(mentors.into_iter())
                ),
            );
        }
        // In an optimal solution every one of those is blocked (otherwise
        // adding it would have been better). A limit binds when lifting it
        // alone would open an option: options blocked by the mentor only
        // (full, or already mentoring in that period) point at mentors, by
        // the iPads only at slots.
        let mut by_mentor = BTreeSet::new();
        let mut by_devices = BTreeSet::new();
        let mut by_both = (BTreeSet::new(), BTreeSet::new());
        for &(j, s, own) in &open {
            let node = &self.problem.mentors[j];
            let mentor_blocked = self.load[j] >= node.capacity
                || mentor_busy(self.ready[j], own)
                || node
                    .group_of(s)
                    .is_none_or(|g| self.taken.contains(&(j, g)));
            let slot_blocked = self.in_slot[s] >= self.problem.slot_capacity[s];
            debug_assert!(
                mentor_blocked || slot_blocked,
                "an open option was left unused"
            );
            match (mentor_blocked, slot_blocked) {
                (true, false) => {
                    by_mentor.insert(j);
                }
                (false, true) => {
                    by_devices.insert(s);
                }
                _ => {
                    by_both.0.insert(j);
                    by_both.1.insert(s);
                }
            }
        }
        if by_mentor.is_empty() && by_devices.is_empty() {
            (by_mentor, by_devices) = by_both;
        }
        let slots = by_devices
            .iter()
            .map(|&s| self.input.slots[s].label(self.names))
            .collect::<Vec<_>>();
        let outranked =
            "taken by mentees with a higher priority, a pinned pair, or no other option";
        match (by_mentor.is_empty(), by_devices.is_empty()) {
            (true, _) => (
                Blocker::DevicesFull,
                format!(
                    "The iPads are all in use in the only slots {name} shares with a fitting mentor ({}): {outranked}",
                    slots.join("; ")
                ),
            ),
            (false, true) => (
                Blocker::MentorsFull,
                format!(
                    "Every fitting mentor ({}) is full or busy in the slots they share: {outranked}",
                    self.mentor_names(by_mentor.iter().copied())
                ),
            ),
            (false, false) => (
                Blocker::MentorsAndDevicesFull,
                format!(
                    "Fitting mentors ({}) are full, and the other shared slots have no iPads left ({}): {outranked}",
                    self.mentor_names(by_mentor.iter().copied()),
                    slots.join("; ")
                ),
            ),
        }
    }

    fn mentor_names(&self, mentors: impl Iterator<Item = usize>) -> String {
        let names: Vec<String> = mentors
            .map(|j| self.ready[j].person.given_name.clone())
            .collect();
        join_words(&names)
    }
}
