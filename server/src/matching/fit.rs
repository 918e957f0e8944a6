//! Who fits whom, and who is free when: a mentor's offers against a
//! mentee's focus and level, and the weekly slots a pair could meet in.

use super::{MatchInput, MenteeCase, MentorCase, WeeklyEnd};
use crate::people::mentors::{Level, Offer};

/// Fit for offering the mentee's first-choice subject.
const FIRST_CHOICE: u32 = 12;
/// Fit for offering another subject the mentee asked for.
const OTHER_SUBJECT: u32 = 6;
/// Extra fit when the offer is at exactly the mentee's level.
const EXACT_LEVEL: u32 = 3;

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
pub(super) fn subject_fit(mentee: &MenteeCase, mentor: &MentorCase) -> Option<u32> {
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
pub(super) fn subject_reasons(mentee: &MenteeCase, mentor: &MentorCase) -> Vec<String> {
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
pub(super) fn mentor_free(mentor: &MentorCase, end: &WeeklyEnd) -> bool {
    mentor
        .free_periods
        .iter()
        .any(|p| p.covers(&end.week, &end.day, &end.period))
}

/// Whether an approved match already takes a mentor's period.
pub(super) fn mentor_busy(mentor: &MentorCase, end: &WeeklyEnd) -> bool {
    mentor
        .busy
        .contains(&(end.week.clone(), end.day.clone(), end.period.clone()))
}

/// The slots a mentor could take a mentee in, ignoring what is already
/// booked: free at their own end. The mentee's end is a period their
/// school's share of the slot policy names (lunchtime, after school, tutor
/// time: whatever the scheme runs in), so their school's mentees are free
/// in it, less what each referral says they cannot make.
pub(super) fn open_slots<'a>(
    input: &'a MatchInput,
    mentor: &'a MentorCase,
    own_slug: &'a str,
) -> impl Iterator<Item = (usize, &'a WeeklyEnd)> + 'a {
    input.slots.iter().enumerate().filter_map(move |(i, s)| {
        let own = s.ends.get(own_slug)?;
        mentor_free(mentor, own).then_some((i, own))
    })
}

pub(super) fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
