//! Reports: what a school, a partnership or a group of schools has to show
//! for its mentoring, for any range of dates and term by term: mentors
//! recruited, trained and cleared; mentees referred, approved and matched;
//! sessions booked, delivered, missed and cancelled (with why); hours
//! delivered; the attendance rate; the average change per identifier from
//! baseline to exit; targets met; and a summary of feedback.
//!
//! Every figure is a count or an average: a report names schools and terms,
//! never a pupil, which is what lets a group's scheme lead (a local
//! authority's or a trust's officer) read one.
//!
//! ## Where each figure comes from, and what it means
//! Each figure family is one function on its owner's store, counted by the
//! database (one statement per few hundred partnerships, schools or
//! programmes, never one per pair):
//! - **Mentors** (`accounts`, `mentors` stores): *recruited* = mentor
//!   students at the scope's schools whose accounts existed by the end of
//!   the range; *trained* = of those, training recorded with a date on or
//!   before the range's last day; *cleared* = cleared by staff before its
//!   end. These are standing totals at the end of the range, not events in
//!   it (a mentor trained last year is still trained).
//! - **Mentees** (`referrals`, `matching` stores): *referred* = referrals
//!   written in the range and put forward (any status past draft; a
//!   referral keeps no date of submission, so the date it was written
//!   stands for it); *approved* = of those, countersigned; *matched* = of
//!   those, with a match approved by the end of the range (still running
//!   or since ended).
//! - **Sessions** (`booking` store), those that *start* in the range:
//!   *booked* = all of them, whatever became of them; *delivered* =
//!   `completed` ([`SessionStatus::is_delivered`]: settled from attendance,
//!   both students were present); *missed*; *cancelled*, grouped by the
//!   reason given; *to come* = still scheduled or moved. *Hours delivered*
//!   = the delivered sessions' booked length (`ends_at - starts_at`)
//!   added up. *Attendance rate* = delivered / (delivered + missed), none
//!   when neither happened.
//! - **The record** (`record` store), over every programme (referral) of
//!   the scope's schools: the *average change* per identifier is the mean
//!   of (exit − baseline) of the mentees' own scores, over the programmes
//!   whose mentee-view exit assessment falls in the range and that scored
//!   the identifier at both (the school's own view and the midway
//!   assessment are not in it); *targets* are counted by the outcome
//!   decided in the range (met, partly met, dropped), and *open* for those
//!   set before its end and not decided by then; *feedback* is the forms
//!   given in the range, by who gave them (mentee, mentor, teacher), with
//!   their average rating out of 5. No free text leaves the record.
//!
//! ## Scopes
//! - A **school**: its own mentors and referrals; the sessions of every
//!   partnership it is in (each has one of its students in it).
//! - A **partnership**: the two schools' mentors, referrals and record;
//!   the sessions of that partnership only.
//! - A **group**: the member schools that agreed to join
//!   ([`crate::people::groups`]); the sessions of every partnership one of
//!   them is in, each counted once however many members it joins. A
//!   table gives each member school's own figures too (a partnership's
//!   sessions count for each member school in it).
//!
//! ## Dates and terms
//! `from` and `to` are local dates, both included, read in the zone of the
//! scope's *first school* (the school itself; else the first by name):
//! the range is `[from 00:00, to + 1 00:00)` there. Without them the
//! report covers the school year (1 September to 31 August) that holds
//! today. *By term* uses the same first school's terms (from its
//! calendar) that overlap the range, each cut to the range: two schools'
//! terms rarely differ by more than a few days, and one set of rows is
//! easier to read than several. A range with nothing in it (no referral,
//! session, assessment, target or feedback) is refused, naming `from`, so
//! that an empty report is never mistaken for a bad year.
//!
//! `http` serves the report as JSON and each table as CSV; `pages` is the
//! Reports page, whose charts `charts` draws as SVG on the server.

pub mod charts;
pub mod http;
pub mod pages;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::booking::SessionStatus;
use crate::calendar::model::EntryKind;
use crate::error::{Error, Result};
use crate::people::accounts::StudentKind;
use crate::people::partnerships::Partnership;
use crate::people::schools::School;
use crate::store::{Store, period_of};

/// What a report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    School,
    Partnership,
    Group,
}

/// The schools and partnerships a report counts, resolved and authorized.
#[derive(Clone, Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    /// The school's, the partnership's (both schools) or the group's name.
    pub name: String,
    /// Whose mentors, referrals and record count, by name (the first gives
    /// the zone and the terms).
    pub schools: Vec<School>,
    /// Whose sessions count.
    pub partnerships: Vec<Partnership>,
    /// The id in the scope's URLs.
    pub id: Uuid,
}

impl Scope {
    /// A school's scope, for someone the policy lets see its report.
    pub async fn school(store: &Store, actor: &Actor, school: School) -> Result<Scope> {
        authorize(actor, Action::ViewSchoolReport { school: school.id })?;
        Self::of_school(store, school).await
    }

    /// A school's scope without asking the policy: for the command line,
    /// run by whoever runs the server.
    pub async fn of_school(store: &Store, school: School) -> Result<Scope> {
        let partnerships = store.partnerships_of(school.id).await?;
        Ok(Scope {
            kind: ScopeKind::School,
            name: school.name.clone(),
            id: school.id,
            schools: vec![school],
            partnerships,
        })
    }

    /// A partnership's scope, for someone the policy lets see it.
    pub async fn partnership(store: &Store, actor: &Actor, id: Uuid) -> Result<Scope> {
        let partnership = store.partnership(id).await?;
        authorize(
            actor,
            Action::ViewPartnershipReport {
                partnership: &partnership,
            },
        )?;
        Self::of_partnership(store, partnership).await
    }

    /// A partnership's scope without asking the policy (the command line).
    pub async fn of_partnership(store: &Store, partnership: Partnership) -> Result<Scope> {
        let mut schools = vec![
            store.school(partnership.school_low).await?,
            store.school(partnership.school_high).await?,
        ];
        schools.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Scope {
            kind: ScopeKind::Partnership,
            name: format!("{} and {}", schools[0].name, schools[1].name),
            id: partnership.id,
            schools,
            partnerships: vec![partnership],
        })
    }

    /// A group's scope (its agreed member schools), for its scheme lead.
    pub async fn group(store: &Store, actor: &Actor, group: Uuid) -> Result<Scope> {
        authorize(actor, Action::ViewGroupReport { group })?;
        Self::of_group(store, group).await
    }

    /// A group's scope without asking the policy (the command line, the
    /// benchmark).
    pub async fn of_group(store: &Store, group: Uuid) -> Result<Scope> {
        let found = store.group(group).await?;
        let schools = crate::people::groups::member_schools(store, group).await?;
        let mut partnerships: BTreeMap<Uuid, Partnership> = BTreeMap::new();
        for school in &schools {
            for p in store.partnerships_of(school.id).await? {
                partnerships.insert(p.id, p);
            }
        }
        Ok(Scope {
            kind: ScopeKind::Group,
            name: found.name,
            id: group,
            schools,
            partnerships: partnerships.into_values().collect(),
        })
    }

    fn zone(&self) -> chrono_tz::Tz {
        self.schools
            .first()
            .and_then(|s| s.tz().ok())
            .unwrap_or(chrono_tz::Europe::London)
    }

    fn school_ids(&self) -> Vec<Uuid> {
        self.schools.iter().map(|s| s.id).collect()
    }

    fn partnership_ids(&self) -> Vec<Uuid> {
        self.partnerships.iter().map(|p| p.id).collect()
    }
}

/// The dates a report covers, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    /// `from` and `to` as typed (`YYYY-MM-DD`, either may be blank or
    /// absent); a blank one is the school year's start or end that holds
    /// `today`. A date that does not parse, or a `from` after `to`, is an
    /// [`Error::Invalid`] naming the field.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<Self> {
        let year = Self::school_year_of(today);
        let read = |field: &'static str, raw: Option<&str>, default: NaiveDate| match raw
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(default),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                Error::invalid(
                    field,
                    format!("`{s}` is not a date; write it as 2026-09-01"),
                )
            }),
        };
        let from = read("from", from, year.from)?;
        let to = read("to", to, year.to)?;
        if from > to {
            return Err(Error::invalid(
                "from",
                format!("the range starts on {from}, after it ends on {to}"),
            ));
        }
        Ok(DateRange { from, to })
    }

    /// The school year (1 September to 31 August) that holds `day`.
    pub fn school_year_of(day: NaiveDate) -> Self {
        let start_year = if day.month() >= 9 {
            day.year()
        } else {
            day.year() - 1
        };
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(day);
        DateRange {
            from: date(start_year, 9, 1),
            to: date(start_year + 1, 8, 31),
        }
    }

    /// The instants `[from 00:00, to + 1 00:00)` in `tz`.
    fn instants(self, tz: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = self.to.checked_add_days(Days::new(1)).unwrap_or(self.to);
        (
            crate::calendar::time::local_to_utc(tz, self.from, NaiveTime::MIN),
            crate::calendar::time::local_to_utc(tz, after, NaiveTime::MIN),
        )
    }

    fn overlap(self, other: DateRange) -> Option<DateRange> {
        let from = self.from.max(other.from);
        let to = self.to.min(other.to);
        (from <= to).then_some(DateRange { from, to })
    }
}

/// Mentors: standing totals at the end of the range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MentorFigures {
    pub recruited: i64,
    pub trained: i64,
    pub cleared: i64,
}

/// Mentees referred in the range, and how far they got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MenteeFigures {
    pub referred: i64,
    pub approved: i64,
    pub matched: i64,
}

/// Sessions that start in the range.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SessionFigures {
    pub booked: i64,
    pub delivered: i64,
    pub missed: i64,
    pub cancelled: i64,
    /// Still scheduled or moved.
    pub to_come: i64,
    /// Cancelled sessions by the reason given, most first.
    pub cancelled_because: Vec<Reason>,
    /// The delivered sessions' booked length, in minutes.
    pub minutes_delivered: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// As given ("No reason given" when none was).
    pub reason: String,
    pub sessions: i64,
}

impl SessionFigures {
    /// Hours delivered, to one decimal place.
    pub fn hours_delivered(&self) -> f64 {
        (self.minutes_delivered as f64 / 6.0).round() / 10.0
    }

    /// delivered / (delivered + missed), as a fraction; `None` when no
    /// session was either.
    pub fn attendance_rate(&self) -> Option<f64> {
        let settled = self.delivered + self.missed;
        (settled > 0).then(|| self.delivered as f64 / settled as f64)
    }

    fn add(&mut self, status: &str, reason: Option<&str>, sessions: i64, seconds: i64) {
        self.booked += sessions;
        match status.parse::<SessionStatus>() {
            Ok(s) if s.is_delivered() => {
                self.delivered += sessions;
                // Sums of whole seconds; a session's length is whole minutes
                // in practice, so rounding here loses nothing.
                self.minutes_delivered += (seconds + 30) / 60;
            }
            Ok(SessionStatus::Missed) => self.missed += sessions,
            Ok(SessionStatus::Cancelled) => {
                self.cancelled += sessions;
                let reason = match reason.map(str::trim) {
                    Some(r) if !r.is_empty() => r.to_owned(),
                    _ => "No reason given".to_owned(),
                };
                match self
                    .cancelled_because
                    .iter_mut()
                    .find(|r| r.reason == reason)
                {
                    Some(r) => r.sessions += sessions,
                    None => self.cancelled_because.push(Reason { reason, sessions }),
                }
            }
            _ => self.to_come += sessions,
        }
    }

    fn sort_reasons(&mut self) {
        self.cancelled_because
            .sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.reason.cmp(&b.reason)));
    }
}

/// One identifier's change from baseline to exit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdentifierRow {
    pub identifier: String,
    pub label: String,
    /// Programmes with both scores.
    pub programmes: i64,
    pub baseline_average: f64,
    pub exit_average: f64,
    /// exit − baseline, averaged (positive is better: 10 is always the good end).
    pub average_change: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TargetFigures {
    pub met: i64,
    pub partly_met: i64,
    pub dropped: i64,
    /// Set by the end of the range and not decided by then.
    pub open: i64,
}

/// The feedback of one kind of person.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeedbackRow {
    /// `mentee`, `mentor` or `teacher`.
    pub from: String,
    pub responses: i64,
    /// Out of 5.
    pub average_rating: f64,
}

/// One term's figures (the term cut to the range).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TermRow {
    pub label: String,
    pub range: DateRange,
    pub referred: i64,
    pub sessions: SessionFigures,
}

/// One school's own figures, in a partnership's or a group's report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchoolRow {
    pub school: String,
    pub slug: String,
    pub mentors: MentorFigures,
    pub mentees: MenteeFigures,
    /// The sessions of the partnerships it is in (within the scope's).
    pub sessions: SessionFigures,
}

/// A whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub kind: ScopeKind,
    pub name: String,
    pub range: DateRange,
    /// The schools counted, by name.
    pub schools: Vec<String>,
    pub mentors: MentorFigures,
    pub mentees: MenteeFigures,
    pub sessions: SessionFigures,
    pub identifiers: Vec<IdentifierRow>,
    pub targets: TargetFigures,
    pub feedback: Vec<FeedbackRow>,
    pub terms: Vec<TermRow>,
    /// Each school's own figures (partnership and group reports only).
    pub by_school: Vec<SchoolRow>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Works out the report for `scope` over `range`, or says (naming `from`)
/// that nothing happened in it.
pub async fn build(store: &Store, scope: &Scope, range: DateRange) -> Result<Report> {
    let tz = scope.zone();
    let (from, to) = range.instants(tz);
    let schools = scope.school_ids();
    let partnerships = scope.partnership_ids();

    // Mentors.
    let mentors = store
        .students_of_kind_at(&schools, StudentKind::Mentor, to)
        .await?;
    let mentor_ids: Vec<Uuid> = mentors.iter().map(|(id, _)| *id).collect();
    let readiness = store.mentor_readiness(&mentor_ids, range.to, to).await?;
    let mut mentors_by_school: BTreeMap<Uuid, MentorFigures> = BTreeMap::new();
    let school_of_mentor: BTreeMap<Uuid, Uuid> = mentors.iter().copied().collect();
    for (_, school) in &mentors {
        mentors_by_school.entry(*school).or_default().recruited += 1;
    }
    for r in &readiness {
        if let Some(school) = school_of_mentor.get(&r.user_id) {
            let m = mentors_by_school.entry(*school).or_default();
            m.trained += i64::from(r.trained);
            m.cleared += i64::from(r.cleared);
        }
    }

    // Mentees.
    let counts = store.referral_counts(&schools, from, to).await?;
    let refs = store.referral_refs(&schools, from, to).await?;
    let in_range: Vec<Uuid> = refs.iter().filter(|r| r.in_range).map(|r| r.id).collect();
    let matched: BTreeSet<Uuid> = store
        .matched_referrals(&in_range, to)
        .await?
        .into_iter()
        .collect();
    let mut mentees_by_school: BTreeMap<Uuid, MenteeFigures> = BTreeMap::new();
    for c in &counts {
        let m = mentees_by_school.entry(c.school_id).or_default();
        m.referred += c.referred;
        m.approved += c.approved;
    }
    for r in refs
        .iter()
        .filter(|r| r.in_range && matched.contains(&r.id))
    {
        mentees_by_school.entry(r.school_id).or_default().matched += 1;
    }

    // Sessions, by partnership and by term in one pass.
    let terms = terms_of(store, scope, range).await?;
    let cuts: Vec<_> = terms.iter().map(|(_, cut)| cut.instants(tz)).collect();
    let mut sessions_by_partnership: BTreeMap<Uuid, SessionFigures> = BTreeMap::new();
    let mut sessions_by_term = vec![SessionFigures::default(); terms.len()];
    for c in store.session_counts(&partnerships, from, to, &cuts).await? {
        let reason = c.cancel_reason.as_deref();
        sessions_by_partnership
            .entry(c.partnership_id)
            .or_default()
            .add(&c.status, reason, c.sessions, c.seconds);
        if let Some(term) = period_of(c.period).and_then(|n| sessions_by_term.get_mut(n)) {
            term.add(&c.status, reason, c.sessions, c.seconds);
        }
    }
    let sessions = sum_sessions(sessions_by_partnership.values());

    // The record.
    let all_refs: Vec<Uuid> = refs.iter().map(|r| r.id).collect();
    let identifiers = store
        .identifier_changes(&all_refs, from, to)
        .await?
        .into_iter()
        .filter(|c| c.programmes > 0)
        .map(|c| {
            let n = c.programmes as f64;
            IdentifierRow {
                identifier: c.identifier,
                label: c.label,
                programmes: c.programmes,
                baseline_average: round2(c.baseline_sum as f64 / n),
                exit_average: round2(c.exit_sum as f64 / n),
                average_change: round2((c.exit_sum - c.baseline_sum) as f64 / n),
            }
        })
        .collect::<Vec<_>>();
    let mut targets = TargetFigures::default();
    for t in store.target_outcomes(&all_refs, from, to).await? {
        match t.outcome.as_str() {
            "met" => targets.met += t.targets,
            "partly_met" => targets.partly_met += t.targets,
            "dropped" => targets.dropped += t.targets,
            _ => targets.open += t.targets,
        }
    }
    let mut feedback: Vec<FeedbackRow> = store
        .feedback_counts(&all_refs, from, to)
        .await?
        .into_iter()
        .filter(|f| f.responses > 0)
        .map(|f| FeedbackRow {
            average_rating: round2(f.rating_sum as f64 / f.responses as f64),
            from: f.from_role,
            responses: f.responses,
        })
        .collect();
    let order = |role: &str| {
        ["mentee", "mentor", "teacher"]
            .iter()
            .position(|r| *r == role)
    };
    feedback.sort_by_key(|f| order(&f.from));

    let mentors_total = mentors_by_school
        .values()
        .fold(MentorFigures::default(), |a, m| MentorFigures {
            recruited: a.recruited + m.recruited,
            trained: a.trained + m.trained,
            cleared: a.cleared + m.cleared,
        });
    let mentees_total = mentees_by_school
        .values()
        .fold(MenteeFigures::default(), |a, m| MenteeFigures {
            referred: a.referred + m.referred,
            approved: a.approved + m.approved,
            matched: a.matched + m.matched,
        });

    let nothing_happened = mentees_total.referred == 0
        && sessions.booked == 0
        && identifiers.is_empty()
        && targets == TargetFigures::default()
        && feedback.is_empty();
    if nothing_happened {
        return Err(Error::invalid(
            "from",
            format!(
                "nothing was recorded for {} between {} and {}: no referrals, sessions, \
                 assessments, targets or feedback; choose another range",
                scope.name, range.from, range.to
            ),
        ));
    }

    let by_school = if scope.kind == ScopeKind::School {
        Vec::new()
    } else {
        scope
            .schools
            .iter()
            .map(|school| SchoolRow {
                school: school.name.clone(),
                slug: school.slug.clone(),
                mentors: mentors_by_school
                    .get(&school.id)
                    .copied()
                    .unwrap_or_default(),
                mentees: mentees_by_school
                    .get(&school.id)
                    .copied()
                    .unwrap_or_default(),
                sessions: sum_sessions(
                    scope
                        .partnerships
                        .iter()
                        .filter(|p| p.includes(school.id))
                        .filter_map(|p| sessions_by_partnership.get(&p.id)),
                ),
            })
            .collect()
    };

    let mut term_rows = Vec::with_capacity(terms.len());
    for (((label, cut), (from, to)), mut sessions) in
        terms.into_iter().zip(cuts).zip(sessions_by_term)
    {
        sessions.sort_reasons();
        let referred = store
            .referral_counts(&schools, from, to)
            .await?
            .iter()
            .map(|c| c.referred)
            .sum();
        term_rows.push(TermRow {
            label,
            range: cut,
            referred,
            sessions,
        });
    }

    Ok(Report {
        kind: scope.kind,
        name: scope.name.clone(),
        range,
        schools: scope.schools.iter().map(|s| s.name.clone()).collect(),
        mentors: mentors_total,
        mentees: mentees_total,
        sessions,
        identifiers,
        targets,
        feedback,
        terms: term_rows,
        by_school,
    })
}

fn sum_sessions<'a>(parts: impl Iterator<Item = &'a SessionFigures>) -> SessionFigures {
    let mut total = SessionFigures::default();
    for p in parts {
        total.booked += p.booked;
        total.delivered += p.delivered;
        total.missed += p.missed;
        total.cancelled += p.cancelled;
        total.to_come += p.to_come;
        total.minutes_delivered += p.minutes_delivered;
        for r in &p.cancelled_because {
            match total
                .cancelled_because
                .iter_mut()
                .find(|t| t.reason == r.reason)
            {
                Some(t) => t.sessions += r.sessions,
                None => total.cancelled_because.push(r.clone()),
            }
        }
    }
    total.sort_reasons();
    total
}

/// The first school's terms that overlap `range`, cut to it, in order.
async fn terms_of(
    store: &Store,
    scope: &Scope,
    range: DateRange,
) -> Result<Vec<(String, DateRange)>> {
    let Some(first) = scope.schools.first() else {
        return Ok(Vec::new());
    };
    let mut terms: Vec<_> = store
        .calendar_entries(first.id)
        .await?
        .into_iter()
        .filter(|e| e.kind == EntryKind::Term)
        .filter_map(|e| {
            let term = DateRange {
                from: e.start_date,
                to: e.end_date,
            };
            term.overlap(range).map(|cut| (e.label, cut))
        })
        .collect();
    terms.sort_by_key(|(_, r)| r.from);
    Ok(terms)
}

/// How a number of hours reads in a sentence: "55 hours", "12.5 hours",
/// "1 hour".
pub fn hours_text(hours: f64) -> String {
    let n = if hours.fract() == 0.0 {
        format!("{hours:.0}")
    } else {
        format!("{hours:.1}")
    };
    if n == "1" {
        "1 hour".to_owned()
    } else {
        format!("{n} hours")
    }
}

impl Report {
    /// The line a governor reads first, as the real project put it: "23
    /// mentors trained, 12 mentees referred, 11 matched, 55 hours of
    /// mentoring delivered".
    pub fn headline(&self) -> String {
        let plural =
            |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{} trained, {} referred, {} matched, {} of mentoring delivered",
            plural(self.mentors.trained, "mentor", "mentors"),
            plural(self.mentees.referred, "mentee", "mentees"),
            self.mentees.matched,
            hours_text(self.sessions.hours_delivered()),
        )
    }

    /// Every table of the report, by the name its CSV goes by.
    pub fn tables(&self) -> Vec<Table> {
        let mut tables = vec![
            self.summary_table(),
            self.cancellations_table(),
            self.identifiers_table(),
            self.feedback_table(),
            self.terms_table(),
        ];
        if !self.by_school.is_empty() {
            tables.push(self.schools_table());
        }
        tables
    }

    /// The table called `name`, or an [`Error::Invalid`] naming `table`.
    pub fn table(&self, name: &str) -> Result<Table> {
        self.tables()
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = TABLE_NAMES.to_vec();
                Error::invalid(
                    "table",
                    format!(
                        "there is no table `{name}`; choose one of {}",
                        names.join(", ")
                    ),
                )
            })
    }

    fn summary_table(&self) -> Table {
        let s = &self.sessions;
        let row = |figure: &str, value: String| vec![figure.to_owned(), value];
        Table {
            name: "summary",
            title: "Summary",
            header: vec!["figure".into(), "value".into()],
            rows: vec![
                row("Mentors recruited", self.mentors.recruited.to_string()),
                row("Mentors trained", self.mentors.trained.to_string()),
                row("Mentors cleared", self.mentors.cleared.to_string()),
                row("Mentees referred", self.mentees.referred.to_string()),
                row("Mentees approved", self.mentees.approved.to_string()),
                row("Mentees matched", self.mentees.matched.to_string()),
                row("Sessions booked", s.booked.to_string()),
                row("Sessions delivered", s.delivered.to_string()),
                row("Sessions missed", s.missed.to_string()),
                row("Sessions cancelled", s.cancelled.to_string()),
                row("Sessions still to come", s.to_come.to_string()),
                row("Hours delivered", format!("{:.1}", s.hours_delivered())),
                row("Attendance rate", percent(s.attendance_rate())),
                row("Targets met", self.targets.met.to_string()),
                row("Targets partly met", self.targets.partly_met.to_string()),
                row("Targets dropped", self.targets.dropped.to_string()),
                row("Targets open", self.targets.open.to_string()),
            ],
        }
    }

    fn cancellations_table(&self) -> Table {
        Table {
            name: "cancellations",
            title: "Sessions cancelled, and why",
            header: vec!["reason".into(), "sessions".into()],
            rows: self
                .sessions
                .cancelled_because
                .iter()
                .map(|r| vec![r.reason.clone(), r.sessions.to_string()])
                .collect(),
        }
    }

    fn identifiers_table(&self) -> Table {
        Table {
            name: "identifiers",
            title: "Change from baseline to exit",
            header: vec![
                "identifier".into(),
                "programmes".into(),
                "baseline_average".into(),
                "exit_average".into(),
                "average_change".into(),
            ],
            rows: self
                .identifiers
                .iter()
                .map(|i| {
                    vec![
                        i.label.clone(),
                        i.programmes.to_string(),
                        format!("{:.2}", i.baseline_average),
                        format!("{:.2}", i.exit_average),
                        format!("{:+.2}", i.average_change),
                    ]
                })
                .collect(),
        }
    }

    fn feedback_table(&self) -> Table {
        Table {
            name: "feedback",
            title: "Feedback",
            header: vec!["from".into(), "responses".into(), "average_rating".into()],
            rows: self
                .feedback
                .iter()
                .map(|f| {
                    vec![
                        f.from.clone(),
                        f.responses.to_string(),
                        format!("{:.2}", f.average_rating),
                    ]
                })
                .collect(),
        }
    }

    fn terms_table(&self) -> Table {
        Table {
            name: "terms",
            title: "By term",
            header: [
                "term",
                "from",
                "to",
                "referred",
                "booked",
                "delivered",
                "missed",
                "cancelled",
                "hours_delivered",
                "attendance_rate",
            ]
            .map(String::from)
            .to_vec(),
            rows: self
                .terms
                .iter()
                .map(|t| {
                    vec![
                        t.label.clone(),
                        t.range.from.to_string(),
                        t.range.to.to_string(),
                        t.referred.to_string(),
                        t.sessions.booked.to_string(),
                        t.sessions.delivered.to_string(),
                        t.sessions.missed.to_string(),
                        t.sessions.cancelled.to_string(),
                        format!("{:.1}", t.sessions.hours_delivered()),
                        percent(t.sessions.attendance_rate()),
                    ]
                })
                .collect(),
        }
    }

    fn schools_table(&self) -> Table {
        Table {
            name: "schools",
            title: "By school",
            header: [
                "school",
                "mentors_recruited",
                "mentors_trained",
                "mentors_cleared",
                "mentees_referred",
                "mentees_approved",
                "mentees_matched",
                "sessions_delivered",
                "hours_delivered",
                "attendance_rate",
            ]
            .map(String::from)
            .to_vec(),
            rows: self
                .by_school
                .iter()
                .map(|s| {
                    vec![
                        s.school.clone(),
                        s.mentors.recruited.to_string(),
                        s.mentors.trained.to_string(),
                        s.mentors.cleared.to_string(),
                        s.mentees.referred.to_string(),
                        s.mentees.approved.to_string(),
                        s.mentees.matched.to_string(),
                        s.sessions.delivered.to_string(),
                        format!("{:.1}", s.sessions.hours_delivered()),
                        percent(s.sessions.attendance_rate()),
                    ]
                })
                .collect(),
        }
    }
}

/// The names [`Report::table`] knows.
pub const TABLE_NAMES: [&str; 6] = [
    "summary",
    "cancellations",
    "identifiers",
    "feedback",
    "terms",
    "schools",
];

/// A rate as a whole percentage ("92%"), or "–" for none.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.0}%", r * 100.0),
        None => "–".to_owned(),
    }
}

/// One table of a report: what the page shows and the CSV holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Its name in URLs and file names.
    pub name: &'static str,
    pub title: &'static str,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The header as a page shows it: the CSV's column names, which
    /// spreadsheets and scripts key on, in words (`average_change` reads
    /// "Average change").
    pub fn headings(&self) -> Vec<String> {
        self.header
            .iter()
            .map(|h| {
                let words = h.replace('_', " ");
                let mut chars = words.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => words,
                }
            })
            .collect()
    }

    /// The table as CSV (RFC 4180: quoted where needed, CRLF line ends).
    /// A cell that a spreadsheet would read as a formula (`=`, `+`, `-`,
    /// `@` first) is written with a leading `'`, so a cancellation reason
    /// someone typed cannot run in the reader's spreadsheet; the signed
    /// changes (`+0.50`) are numbers and left alone.
    pub fn to_csv(&self) -> Result<String> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        out.write_record(&self.header)
            .map_err(|e| Error::internal_from("writing a report's CSV", e))?;
        for row in &self.rows {
            let safe: Vec<String> = row.iter().map(|c| defuse(c)).collect();
            out.write_record(&safe)
                .map_err(|e| Error::internal_from("writing a report's CSV", e))?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| Error::internal_from("writing a report's CSV", e.into_error()))?;
        String::from_utf8(bytes).map_err(|e| Error::internal_from("a report's CSV", e))
    }
}

fn defuse(cell: &str) -> String {
    let numeric = cell.parse::<f64>().is_ok();
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if !numeric => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_range_defaults_to_the_school_year_and_refuses_from_after_to() {
        let today = day("2027-02-10");
        let r = DateRange::parse(None, Some(""), today).unwrap();
        assert_eq!((r.from, r.to), (day("2026-09-01"), day("2027-08-31")));
        let r = DateRange::parse(None, None, day("2026-09-01")).unwrap();
        assert_eq!(r.from, day("2026-09-01"));
        let err = DateRange::parse(Some("2027-03-01"), Some("2027-02-01"), today).unwrap_err();
        assert!(matches!(err, Error::Invalid { field: "from", .. }), "{err}");
        let err = DateRange::parse(Some("1/3/2027"), None, today).unwrap_err();
        assert!(matches!(err, Error::Invalid { field: "from", .. }), "{err}");
        let err = DateRange::parse(None, Some("next week"), today).unwrap_err();
        assert!(matches!(err, Error::Invalid { field: "to", .. }), "{err}");
    }

    #[test]
    fn sessions_add_up_by_status_and_reason_and_give_hours_and_attendance() {
        let mut s = SessionFigures::default();
        s.add("completed", None, 3, 3 * 20 * 60);
        s.add("missed", None, 1, 20 * 60);
        s.add("cancelled", Some("Trip"), 2, 40 * 60);
        s.add("cancelled", Some(""), 1, 20 * 60);
        s.add("scheduled", None, 4, 80 * 60);
        s.sort_reasons();
        assert_eq!(
            (s.booked, s.delivered, s.missed, s.cancelled, s.to_come),
            (11, 3, 1, 3, 4)
        );
        assert_eq!(s.minutes_delivered, 60);
        assert_eq!(s.hours_delivered(), 1.0);
        assert_eq!(s.attendance_rate(), Some(0.75));
        assert_eq!(s.cancelled_because[0].reason, "Trip");
        assert_eq!(s.cancelled_because[1].reason, "No reason given");
        assert_eq!(SessionFigures::default().attendance_rate(), None);
    }

    #[test]
    fn hours_read_as_a_person_would_say_them() {
        assert_eq!(hours_text(55.0), "55 hours");
        assert_eq!(hours_text(12.5), "12.5 hours");
        assert_eq!(hours_text(1.0), "1 hour");
    }

    #[test]
    fn a_csv_cell_that_looks_like_a_formula_is_defused_but_a_signed_number_is_not() {
        let t = Table {
            name: "t",
            title: "T",
            header: vec!["a".into(), "b".into()],
            rows: vec![vec!["=HYPERLINK(\"x\")".into(), "+0.50".into()]],
        };
        assert_eq!(
            t.to_csv().unwrap(),
            "a,b\r\n\"'=HYPERLINK(\"\"x\"\")\",+0.50\r\n"
        );
    }
}
