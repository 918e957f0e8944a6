//! Mentors' volunteering certificates: a PDF per mentor that says what they
//! did (name, school, the partner school, the first and last dates, the
//! sessions and hours delivered, what they supported, how often), signed by
//! a coordinator of their school, with a verification code that anyone can
//! check at a public page. It is meant to be the evidence a Duke of
//! Edinburgh's Award assessor's report or a UCAS reference asks for:
//! activity, frequency, dates and the assessor's contact.
//!
//! The rules, all here:
//! - **Delivered** is booking's one definition ([`booking::DELIVERED`],
//!   [`booking::delivered_minutes`]): sessions attendance settled as
//!   completed (both students present), each counting its booked length.
//!   A mentor with none has nothing to certify: asking is refused, naming
//!   the mentor and why, and nothing is written.
//! - **What they supported** is the focus of the referrals their delivered
//!   sessions served (the subjects or skills the partner school already
//!   sees on the match), never a mentee's name; the certificate says how
//!   many younger students, not who.
//! - **Dates** are the mentor's own school's local dates of the first and
//!   last delivered sessions; **frequency** is read from the gaps between
//!   them ([`frequency`]), with the usual length and the part of the school
//!   day ("weekly, 20 minutes, in registration").
//! - **Signed by** a coordinator of the mentor's school, who must have an
//!   email address: the certificate gives their name, role, school and
//!   address as the assessor's contact.
//! - **The code** ([`VerificationCode`]) is 80 random bits written as 16
//!   Crockford base32 characters in four groups (`7K2M-QX9D-...`):
//!   unguessable, and typable from paper (no I, L, O or U; case, spaces
//!   and dashes do not matter, and O, I and L read as 0, 1 and 1).
//! - **A snapshot.** A certificate is stored as printed ([`Printed`]); the
//!   PDF and the verification page are drawn from that snapshot, so both
//!   keep saying what the paper says after more sessions are delivered.
//!   Issuing again makes a new certificate with a new code; the old one
//!   stays genuine, for what it said on its date.
//!
//! Layout: this file holds the types and rules and [`prepare`], which
//! gathers a certificate through the booking, matching, referrals,
//! partnerships, schools and accounts stores; [`pdf`] draws it (krilla,
//! DejaVu Sans embedded); [`store`] keeps the `certificates` table; [`http`]
//! is the JSON API and the PDF download, [`pages`] the public verification
//! page and the Mentors page's button.

pub mod http;
pub mod pages;
pub mod pdf;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::booking::{self, Session};
use crate::calendar::model::PeriodKind;
use crate::error::{Error, Result};
use crate::people::accounts::{Role, StudentKind, User};
use crate::people::schools::{School, SchoolTz};
use crate::store::Store;

/// Certificate codes one address may check on the public pages in ten
/// minutes: plenty for an assessor with a pile of them (and a school's
/// iPads share one address), nothing like enough to try codes at random,
/// which 80 bits would defeat anyway.
pub const CHECKS_PER_TEN_MINUTES: std::num::NonZeroU32 = std::num::NonZeroU32::new(60).unwrap();

/// Crockford's base32 alphabet: digits and letters without I, L, O and U,
/// so a code copied by hand from paper cannot be misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code (5 bits each: 80 bits).
const CODE_CHARS: usize = 16;

/// A certificate's verification code, in its canonical spelling
/// (`XXXX-XXXX-XXXX-XXXX`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VerificationCode(String);

impl VerificationCode {
    /// A new code from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; CODE_CHARS];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        // Each byte gives its low five bits: 16 characters, 80 bits.
        let chars: Vec<u8> = bytes
            .iter()
            .map(|b| ALPHABET[usize::from(b & 31)])
            .collect();
        Self::from_chars(&chars)
    }

    /// Reads a code as a person typed it: any case, with or without the
    /// dashes or spaces, O for 0 and I or L for 1. `None` when it cannot be
    /// a code at all (which the verification page answers as it answers an
    /// unknown one: not found).
    pub fn parse(raw: &str) -> Option<Self> {
        let mut chars = Vec::with_capacity(CODE_CHARS);
        for c in raw.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || chars.len() == CODE_CHARS {
                return None;
            }
            chars.push(c as u8);
        }
        (chars.len() == CODE_CHARS).then(|| Self::from_chars(&chars))
    }

    fn from_chars(chars: &[u8]) -> Self {
        let groups: Vec<&str> = chars
            .chunks(4)
            .map(|g| std::str::from_utf8(g).unwrap_or_default())
            .collect();
        VerificationCode(groups.join("-"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path of the public verification page.
    pub fn verify_path(&self) -> String {
        format!("/certificates/{}", self.0)
    }
}

impl std::fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who signed a certificate, as printed: the assessor's contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    pub name: String,
    /// "Coordinator".
    pub role: String,
    pub school: String,
    pub email: String,
}

/// Everything a certificate prints, kept as printed (the `printed` column).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Printed {
    /// The mentor's full name.
    pub mentor: String,
    pub school: String,
    /// The partner schools whose students they mentored.
    pub partner_schools: Vec<String>,
    /// The first and last delivered sessions, in the mentor's school's dates.
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub sessions: u32,
    pub minutes: i64,
    /// How many younger students they mentored.
    pub mentees: u32,
    /// Subjects and skills, from the referrals' focus.
    pub supported: Vec<String>,
    /// "weekly, 20 minutes, in registration".
    pub frequency: String,
    /// What the volunteering was, in a sentence.
    pub activity: String,
    pub signer: Signer,
    /// The date it was signed, in the mentor's school's dates.
    pub signed_on: NaiveDate,
}

impl Printed {
    /// "12 hours", "1 hour 40 minutes", "20 minutes".
    pub fn hours_text(&self) -> String {
        hours_text(self.minutes)
    }

    /// "3 November 2026".
    pub fn date_text(date: NaiveDate) -> String {
        date.format("%-d %B %Y").to_string()
    }

    /// "Maths, English poetry", or a plain phrase when no focus was given.
    pub fn supported_text(&self) -> String {
        if self.supported.is_empty() {
            "general study skills and confidence".to_owned()
        } else {
            self.supported.join(", ")
        }
    }

    /// "1 younger student", "3 younger students".
    pub fn mentees_text(&self) -> String {
        let s = if self.mentees == 1 { "" } else { "s" };
        format!("{} younger student{s}", self.mentees)
    }
}

/// A certificate as issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Certificate {
    pub id: Uuid,
    pub code: VerificationCode,
    pub mentor_id: Uuid,
    pub school_id: Uuid,
    pub signed_by: Uuid,
    pub issued_at: DateTime<Utc>,
    pub printed: Printed,
}

/// "12 hours", "1 hour 40 minutes", "20 minutes".
pub fn hours_text(minutes: i64) -> String {
    let (hours, rest) = (minutes / 60, minutes % 60);
    let unit = |n: i64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    match (hours, rest) {
        (0, m) => unit(m, "minute"),
        (h, 0) => unit(h, "hour"),
        (h, m) => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
    }
}

/// One delivered session as a certificate counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveredSession {
    /// Its date at the mentor's school.
    pub date: NaiveDate,
    /// [`booking::delivered_minutes`].
    pub minutes: i64,
    /// The part of the mentor's school day it was in, when known.
    pub kind: Option<PeriodKind>,
}

impl DeliveredSession {
    /// `session` as seen from the mentor's school (its local date and
    /// period there; the UTC date in the school's zone if the session has
    /// no local view for it).
    pub fn of(session: &Session, school: &School, zone: &SchoolTz) -> Self {
        let local = session.local.get(&school.slug);
        DeliveredSession {
            date: local.map_or_else(
                || session.starts_at.with_timezone(&zone.tz()).date_naive(),
                |l| l.date,
            ),
            minutes: booking::delivered_minutes(session),
            kind: local.map(|l| l.kind),
        }
    }
}

/// The figures of a run of delivered sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figures {
    pub sessions: u32,
    pub minutes: i64,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub frequency: String,
}

/// The figures of `sessions`, or `None` when there are none.
pub fn figures(sessions: &[DeliveredSession]) -> Option<Figures> {
    let first_date = sessions.iter().map(|s| s.date).min()?;
    let last_date = sessions.iter().map(|s| s.date).max()?;
    Some(Figures {
        sessions: u32::try_from(sessions.len()).unwrap_or(u32::MAX),
        minutes: sessions.iter().map(|s| s.minutes).sum(),
        first_date,
        last_date,
        frequency: frequency(sessions),
    })
}

/// How often, how long and when: "weekly, 20 minutes, in registration".
///
/// How often is read from the median gap between the dates of consecutive
/// sessions, not from sessions per week over the whole run, so holidays
/// and the odd missed week do not make a weekly commitment read as
/// fortnightly: up to 4 days is "N times a week", 5 to 10 "weekly", 11 to
/// 20 "fortnightly", more "about monthly"; a single session is "once". The
/// length is the most usual one, and the part of the day the most usual
/// kind of period (left out when it is not a named part of the day).
pub fn frequency(sessions: &[DeliveredSession]) -> String {
    let mut dates: Vec<NaiveDate> = sessions.iter().map(|s| s.date).collect();
    dates.sort();
    dates.dedup();
    let mut gaps: Vec<i64> = dates.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
    gaps.sort();
    let how_often = match gaps.get(gaps.len() / 2) {
        None if sessions.len() <= 1 => "once".to_owned(),
        // Several on one day, and no other day.
        None => format!("{} sessions in one day", sessions.len()),
        Some(&g) if g <= 4 => format!("{} times a week", (7 + g / 2) / g.max(1)),
        Some(&g) if g <= 10 => "weekly".to_owned(),
        Some(&g) if g <= 20 => "fortnightly".to_owned(),
        Some(_) => "about monthly".to_owned(),
    };
    let mut parts = vec![how_often];
    if let Some(minutes) = most_usual(sessions.iter().map(|s| s.minutes)) {
        parts.push(hours_text(minutes));
    }
    if let Some(when) = most_usual(sessions.iter().filter_map(|s| s.kind)).and_then(part_of_day) {
        parts.push(when.to_owned());
    }
    parts.join(", ")
}

/// The most frequent value (the smallest of equals), if any.
fn most_usual<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(v, _)| v)
}

/// "in registration", as a certificate says when in the day it was.
fn part_of_day(kind: PeriodKind) -> Option<&'static str> {
    match kind {
        PeriodKind::Registration => Some("in registration"),
        PeriodKind::Tutor => Some("in tutor time"),
        PeriodKind::Lesson => Some("in lesson time"),
        PeriodKind::Break => Some("at break"),
        PeriodKind::Lunch => Some("at lunchtime"),
        PeriodKind::Other => None,
    }
}

/// The activity, in a sentence an assessor can copy.
fn activity(mentees: u32, partners: &[String]) -> String {
    let whom = if mentees == 1 {
        "a younger student".to_owned()
    } else {
        format!("{mentees} younger students")
    };
    let at = match partners {
        [] => "a partner school".to_owned(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    format!(
        "Volunteer peer mentor: one-to-one video sessions on school iPads, mentoring {whom} at {at}, \
         timetabled in the school day and supervised by teachers at both schools."
    )
}

/// Checks that `mentor` is a mentor with a school, and returns the school.
fn mentor_school(mentor: &User) -> Result<Uuid> {
    match (mentor.role, mentor.kind, mentor.school_id) {
        (Role::Student, Some(StudentKind::Mentor), Some(school)) => Ok(school),
        _ => Err(Error::invalid(
            "mentor",
            format!(
                "{} ({}) is not a mentor: certificates are for students who mentor",
                mentor.full_name(),
                mentor.username
            ),
        )),
    }
}

/// Checks that `signer` may sign for a mentor of `school`: one of its
/// coordinators, whose account is on, with an address an assessor can
/// write to. Returns the address.
fn signer_email(signer: &User, school: &School) -> Result<String> {
    if signer.role != Role::Coordinator || signer.school_id != Some(school.id) {
        return Err(Error::invalid(
            "signed_by",
            format!(
                "{} ({}) is not a coordinator at {}: a coordinator of the mentor's school signs",
                signer.full_name(),
                signer.username,
                school.name
            ),
        ));
    }
    if signer.disabled_at.is_some() {
        return Err(Error::invalid(
            "signed_by",
            format!(
                "{} ({})'s account is turned off; a coordinator who is still at {} signs",
                signer.full_name(),
                signer.username,
                school.name
            ),
        ));
    }
    signer
        .email
        .clone()
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| {
            Error::invalid(
                "signed_by",
                format!(
                    "{} ({}) has no email address, and the certificate gives the signer's address \
                     as the assessor's contact; add one on their Account page first",
                    signer.full_name(),
                    signer.username
                ),
            )
        })
}

/// Works out the certificate `signer` would sign for `mentor` now, with a
/// fresh code, reading only: [`store::Store::insert_certificate`] keeps it.
/// Refuses, naming the field, a mentor who is not one or has delivered no
/// sessions, and a signer who is not a coordinator of the mentor's school
/// or has no email address.
pub async fn prepare(store: &Store, mentor: &User, signer: &User) -> Result<Certificate> {
    let school = store.school(mentor_school(mentor)?).await?;
    let email = signer_email(signer, &school)?;
    let zone = SchoolTz::parse(&school.time_zone)?;
    let delivered = store.delivered_by_mentor(mentor.id).await?;
    let counted: Vec<DeliveredSession> = delivered
        .iter()
        .map(|s| DeliveredSession::of(s, &school, &zone))
        .collect();
    let Some(figures) = figures(&counted) else {
        return Err(Error::invalid(
            "mentor",
            format!(
                "{} ({}) has no delivered sessions yet, so there is nothing to certify: a session \
                 counts once attendance has settled it as completed, with both students present",
                mentor.full_name(),
                mentor.username
            ),
        ));
    };
    let mut partner_ids = BTreeSet::new();
    for partnership in delivered
        .iter()
        .map(|s| s.partnership_id)
        .collect::<BTreeSet<_>>()
    {
        partner_ids.insert(store.partnership(partnership).await?.partner_of(school.id));
    }
    let mut partner_schools = Vec::new();
    for id in partner_ids {
        partner_schools.push(store.school(id).await?.name);
    }
    partner_schools.sort();
    let match_ids: Vec<Uuid> = delivered
        .iter()
        .map(|s| s.match_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let referrals: BTreeSet<Uuid> = store
        .matches_by_id(&match_ids)
        .await?
        .into_iter()
        .map(|m| m.referral_id)
        .collect();
    // Focus as written, each subject once whatever its case.
    let mut supported: Vec<String> = Vec::new();
    for referral in referrals {
        for focus in store.referral(referral).await?.focus {
            let focus = focus.trim().to_owned();
            if !focus.is_empty() && !supported.iter().any(|s| s.eq_ignore_ascii_case(&focus)) {
                supported.push(focus);
            }
        }
    }
    let mentees = u32::try_from(
        delivered
            .iter()
            .map(|s| s.mentee_id)
            .collect::<BTreeSet<_>>()
            .len(),
    )
    .unwrap_or(u32::MAX);
    let issued_at = Utc::now();
    Ok(Certificate {
        id: Uuid::new_v4(),
        code: VerificationCode::generate(),
        mentor_id: mentor.id,
        school_id: school.id,
        signed_by: signer.id,
        issued_at,
        printed: Printed {
            mentor: mentor.full_name(),
            school: school.name.clone(),
            activity: activity(mentees, &partner_schools),
            partner_schools,
            first_date: figures.first_date,
            last_date: figures.last_date,
            sessions: figures.sessions,
            minutes: figures.minutes,
            mentees,
            supported,
            frequency: figures.frequency,
            signer: Signer {
                name: signer.full_name(),
                role: signer.role.label().to_owned(),
                school: school.name.clone(),
                email,
            },
            signed_on: issued_at.with_timezone(&zone.tz()).date_naive(),
        },
    })
}

/// Issues and keeps a certificate for `mentor`, signed by `signer`
/// ([`prepare`], then stored).
pub async fn issue(store: &Store, mentor: &User, signer: &User) -> Result<Certificate> {
    let mut certificate = prepare(store, mentor, signer).await?;
    store.insert_certificate(&mut certificate).await?;
    tracing::info!(mentor = %mentor.id, by = %signer.id, code = %certificate.code, "certificate issued");
    Ok(certificate)
}

/// For `mentorbridge demo`: a certificate for every demo mentor who has
/// delivered a session, signed by their school's first coordinator with
/// an address. Returns how many were issued.
pub async fn demo_certificates(store: &Store) -> Result<usize> {
    let mut issued = 0;
    for school in store.list_schools().await? {
        let people = store
            .users_at_school(school.id, &[Role::Coordinator, Role::Student])
            .await?;
        let Some(signer) = people
            .iter()
            .find(|u| u.role == Role::Coordinator && u.email.is_some() && u.disabled_at.is_none())
        else {
            continue;
        };
        for mentor in people
            .iter()
            .filter(|u| u.kind == Some(StudentKind::Mentor))
        {
            if !store.delivered_by_mentor(mentor.id).await?.is_empty() {
                issue(store, mentor, signer).await?;
                issued += 1;
            }
        }
    }
    Ok(issued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(date: &str, minutes: i64, kind: Option<PeriodKind>) -> DeliveredSession {
        DeliveredSession {
            date: date.parse().unwrap(),
            minutes,
            kind,
        }
    }

    #[test]
    fn a_code_is_sixteen_crockford_characters_in_four_groups_and_reads_back_as_typed() {
        let code = VerificationCode::generate();
        assert_eq!(code.as_str().len(), 19, "{code}");
        assert_eq!(code.as_str().matches('-').count(), 3);
        assert_eq!(VerificationCode::parse(code.as_str()), Some(code.clone()));
        let typed = code.as_str().to_lowercase().replace('-', " ");
        assert_eq!(VerificationCode::parse(&typed), Some(code.clone()));
        // Two codes in a row differ: they are random, not counted.
        assert_ne!(VerificationCode::generate(), code);
        // Misreadable letters read as the digits they look like.
        assert_eq!(
            VerificationCode::parse("oIl0-0000-0000-0000").map(|c| c.0),
            Some("0110-0000-0000-0000".to_owned())
        );
        for wrong in [
            "",
            "ABCD-EFGH-JKMN",
            "ABCD-EFGH-JKMN-PQRSZ",
            "ABCD-EFGH-JKMN-PQRU",
            "ÄBCD-EFGH-JKMN-PQRS",
        ] {
            assert_eq!(VerificationCode::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn hours_read_as_people_say_them() {
        assert_eq!(hours_text(20), "20 minutes");
        assert_eq!(hours_text(60), "1 hour");
        assert_eq!(hours_text(100), "1 hour 40 minutes");
        assert_eq!(hours_text(720), "12 hours");
        assert_eq!(hours_text(1), "1 minute");
    }

    #[test]
    fn figures_count_sessions_minutes_and_the_first_and_last_dates() {
        let reg = Some(PeriodKind::Registration);
        let sessions = [
            on("2026-11-16", 20, reg),
            on("2026-11-02", 20, reg),
            on("2026-11-09", 25, reg),
        ];
        let f = figures(&sessions).unwrap();
        assert_eq!(f.sessions, 3);
        assert_eq!(f.minutes, 65);
        assert_eq!(f.first_date.to_string(), "2026-11-02");
        assert_eq!(f.last_date.to_string(), "2026-11-16");
        assert_eq!(f.frequency, "weekly, 20 minutes, in registration");
        assert_eq!(figures(&[]), None);
    }

    #[test]
    fn frequency_reads_the_usual_gap_so_a_half_term_does_not_halve_a_weekly_commitment() {
        let tutor = Some(PeriodKind::Tutor);
        // Weekly, with half-term's fortnight in the middle.
        let weekly = [
            on("2026-10-05", 20, tutor),
            on("2026-10-12", 20, tutor),
            on("2026-10-19", 20, tutor),
            on("2026-11-02", 20, tutor),
            on("2026-11-09", 20, tutor),
        ];
        assert_eq!(frequency(&weekly), "weekly, 20 minutes, in tutor time");
        let fortnightly = [
            on("2026-10-05", 30, None),
            on("2026-10-19", 30, None),
            on("2026-11-02", 30, None),
        ];
        assert_eq!(frequency(&fortnightly), "fortnightly, 30 minutes");
        let twice = [
            on("2026-10-05", 20, None),
            on("2026-10-08", 20, None),
            on("2026-10-12", 20, None),
            on("2026-10-15", 20, None),
        ];
        assert_eq!(frequency(&twice), "2 times a week, 20 minutes");
        assert_eq!(
            frequency(&[on("2026-10-05", 20, Some(PeriodKind::Lunch))]),
            "once, 20 minutes, at lunchtime"
        );
    }

    #[test]
    fn the_activity_names_the_partner_schools_and_how_many_students_but_nobody_else() {
        assert_eq!(
            activity(1, &["Columba".into()]),
            "Volunteer peer mentor: one-to-one video sessions on school iPads, mentoring a younger \
             student at Columba, timetabled in the school day and supervised by teachers at both schools."
        );
        assert!(
            activity(3, &["A".into(), "B".into(), "C".into()])
                .contains("3 younger students at A, B and C")
        );
    }

    #[test]
    fn only_a_coordinator_of_the_school_with_an_address_and_an_account_that_is_on_signs() {
        let school = School {
            id: Uuid::new_v4(),
            slug: "hillside".into(),
            name: "Hillside Academy".into(),
            time_zone: "Europe/London".into(),
            country: "GB".into(),
            region: None,
            created_at: Utc::now(),
        };
        let coordinator = User {
            id: Uuid::new_v4(),
            school_id: Some(school.id),
            group_id: None,
            username: "rpatel".into(),
            role: Role::Coordinator,
            given_name: "Rachel".into(),
            family_name: "Patel".into(),
            year_group: None,
            kind: None,
            subjects: Vec::new(),
            created_at: Utc::now(),
            student_ref: None,
            has_password: true,
            email: Some("rpatel@hillside.example".into()),
            disabled_at: None,
        };
        assert_eq!(
            signer_email(&coordinator, &school).unwrap(),
            "rpatel@hillside.example"
        );
        let refused = |u: &User| signer_email(u, &school).unwrap_err();
        let teacher = User {
            role: Role::Teacher,
            ..coordinator.clone()
        };
        assert!(
            refused(&teacher)
                .to_string()
                .contains("is not a coordinator at Hillside Academy")
        );
        let elsewhere = User {
            school_id: Some(Uuid::new_v4()),
            ..coordinator.clone()
        };
        assert_eq!(refused(&elsewhere).field(), Some("signed_by"));
        let no_address = User {
            email: Some("  ".into()),
            ..coordinator.clone()
        };
        assert!(
            refused(&no_address)
                .to_string()
                .contains("has no email address")
        );
        let off = User {
            disabled_at: Some(Utc::now()),
            ..coordinator.clone()
        };
        assert!(refused(&off).to_string().contains("turned off"));
        // A mentor is a student who mentors.
        assert_eq!(
            mentor_school(&coordinator).unwrap_err().field(),
            Some("mentor")
        );
    }
}
