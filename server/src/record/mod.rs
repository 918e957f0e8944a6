//! The mentoring record: what happens to a mentee's programme after the
//! match, following UK learning-mentor practice.
//!
//! - **Assessments**: after the first session the mentee scores themselves
//!   1–10 on the school's identifiers ([`Identifier`]; 10 is always the
//!   good end), again at the exit and optionally midway; the school may add
//!   its own view beside each (attendance and behaviour data,
//!   observations). [`compare`] sets baseline against exit.
//! - **The action plan**: SMART targets (what, how it is measured, by when)
//!   set by one of the pair and agreed by the other, with progress noted at
//!   any session, and an outcome: met, partly met, or dropped with a reason.
//! - **Session notes**: the mentor's account of each session (what we did,
//!   the next step), and a supervising teacher's observation.
//! - **Reviews and exit**: the coordinator's termly review (close, continue
//!   or monitor); the exit, with its reason, which ends the match, cancels
//!   the sessions still to come and closes the referral in one transaction.
//! - **Feedback** from the mentee, the mentor and the referring teacher.
//!
//! The record hangs off the referral, which is the mentee's programme from
//! referral to exit; its sessions are those of every match the referral
//! had. Who sees which part is [`crate::auth::policy::record_access`]'s
//! business; [`Record::for_viewer`] leaves out what a viewer may not see.
//!
//! Here are the types and rules; `store` keeps the tables, `http` is the
//! JSON API and `pages` the record page and the mentee's check-in.

pub mod actions;
pub mod http;
pub mod pages;
pub mod programme;
pub mod store;

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::policy::RecordAccess;
use crate::booking::SessionStatus;
use crate::error::{Error, Result};
use crate::people::referrals::ReferralStatus;
use crate::text;

/// Something a mentee scores themselves on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    /// Stable within the school (`calm`), what scores are stored under.
    pub key: String,
    /// A few words for charts and tables ("Staying calm").
    pub label: String,
    /// What the mentee is asked, in words a 12-year-old reads alone.
    pub question: String,
}

/// The identifiers of UK learning-mentor baseline forms, each phrased so
/// that 10 is the good end: "anger" becomes "Staying calm", "friendship
/// issues" "Getting on with friends".
pub const DEFAULT_IDENTIFIERS: &[(&str, &str, &str)] = &[
    (
        "attendance",
        "Coming to school",
        "How often do I come to school?",
    ),
    (
        "punctuality",
        "Being on time",
        "How good am I at getting to school and lessons on time?",
    ),
    (
        "happiness",
        "Feeling happy",
        "How happy do I feel at school?",
    ),
    (
        "calm",
        "Staying calm",
        "How well do I stay calm when something makes me angry?",
    ),
    (
        "presentation",
        "Neat work",
        "How neat and careful is my work?",
    ),
    (
        "friendships",
        "Getting on with friends",
        "How well do I get on with other people my age?",
    ),
    (
        "learning",
        "Attitude to learning",
        "How much do I try my best in lessons?",
    ),
    (
        "homework",
        "Doing homework",
        "How often do I do my homework, on time?",
    ),
    (
        "cooperation",
        "Working with others",
        "How well do I work with others in class?",
    ),
    ("behaviour", "Behaviour", "How well do I behave in lessons?"),
];

/// The default identifiers, in order.
pub fn default_identifiers() -> Vec<Identifier> {
    DEFAULT_IDENTIFIERS
        .iter()
        .map(|(key, label, question)| Identifier {
            key: (*key).to_owned(),
            label: (*label).to_owned(),
            question: (*question).to_owned(),
        })
        .collect()
}

/// A school's identifiers as a coordinator sets them: the whole list, in
/// order. Keys are made from labels where none is given.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifierInput {
    #[serde(default)]
    pub key: Option<String>,
    pub label: String,
    pub question: String,
}

/// Checks a school's new list: 1 to 20 identifiers, each labelled and
/// asked, no two with one key.
pub fn check_identifiers(input: &[IdentifierInput]) -> Result<Vec<Identifier>> {
    if input.is_empty() || input.len() > 20 {
        return Err(Error::invalid(
            "identifiers",
            "list between 1 and 20 things for mentees to score",
        ));
    }
    let mut out: Vec<Identifier> = Vec::with_capacity(input.len());
    for item in input {
        let label = text::line("label", &item.label, 40, true)?;
        let question = text::line("question", &item.question, 160, true)?;
        let key = match item.key.as_deref().map(str::trim) {
            Some(k) if !k.is_empty() => k.to_owned(),
            _ => key_of(&label),
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(Error::invalid(
                "key",
                format!("“{label}” needs a key of lower-case letters, digits and _"),
            ));
        }
        if out.iter().any(|i| i.key == key) {
            return Err(Error::invalid(
                "label",
                format!("“{label}” is listed twice"),
            ));
        }
        out.push(Identifier {
            key,
            label,
            question,
        });
    }
    Ok(out)
}

/// A key from a label: "Staying calm" → `staying_calm`.
fn key_of(label: &str) -> String {
    let mut key = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    key.trim_end_matches('_').chars().take(40).collect()
}

/// When in the programme an assessment is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// After the first, rapport-building session.
    Baseline,
    Midway,
    /// At the end.
    Exit,
}

/// Whose view an assessment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// The mentee's own scores.
    Mentee,
    /// The school's: attendance and behaviour data, observations.
    Staff,
}

macro_rules! stored_names {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored name ([`FromStr`] reads it back; serde uses the same).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl FromStr for $ty {
            type Err = Error;

            fn from_str(raw: &str) -> Result<Self> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == raw)
                    .ok_or_else(|| Error::internal(format!("stored {} `{raw}`", $what)))
            }
        }
    };
}

stored_names!(Stage, "assessment stage", { Baseline => "baseline", Midway => "midway", Exit => "exit" });
stored_names!(View, "assessment view", { Mentee => "mentee", Staff => "staff" });

impl Stage {
    /// For headings: "Start", "Midway", "End".
    pub fn title(self) -> &'static str {
        match self {
            Stage::Baseline => "Start",
            Stage::Midway => "Midway",
            Stage::Exit => "End",
        }
    }
}

/// An assessment as it is sent: a score for each identifier.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    pub stage: Stage,
    #[serde(default = "mentee_view")]
    pub view: View,
    /// Identifier key → score, 1 to 10.
    pub scores: BTreeMap<String, i64>,
    #[serde(default)]
    pub note: String,
}

fn mentee_view() -> View {
    View::Mentee
}

/// One score, with the identifier's label as it was asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub identifier: String,
    pub label: String,
    pub score: i64,
}

/// A checked assessment, ready to store.
#[derive(Clone, Debug)]
pub struct CheckedAssessment {
    pub stage: Stage,
    pub view: View,
    /// In the school's order.
    pub scores: Vec<Score>,
    pub note: String,
}

/// Checks an assessment against the school's identifiers: every score 1 to
/// 10, none for an identifier the school does not have; the mentee scores
/// every identifier, staff only those they have a view on (at least one,
/// or a note).
pub fn check_assessment(
    input: &AssessmentInput,
    identifiers: &[Identifier],
) -> Result<CheckedAssessment> {
    if let Some(unknown) = input
        .scores
        .keys()
        .find(|k| !identifiers.iter().any(|i| &i.key == *k))
    {
        return Err(Error::invalid(
            "scores",
            format!("`{unknown}` is not one of the things this school asks about"),
        ));
    }
    let mut scores = Vec::new();
    for id in identifiers {
        match input.scores.get(&id.key) {
            Some(&score) if (1..=10).contains(&score) => scores.push(Score {
                identifier: id.key.clone(),
                label: id.label.clone(),
                score,
            }),
            Some(&score) => {
                return Err(Error::invalid(
                    "scores",
                    format!(
                        "“{}” was given {score}; choose a number from 1 to 10",
                        id.label
                    ),
                ));
            }
            None if input.view == View::Mentee => {
                return Err(Error::invalid(
                    "scores",
                    format!(
                        "“{}” has no score yet; choose a number from 1 to 10",
                        id.label
                    ),
                ));
            }
            None => {}
        }
    }
    let note = text::paragraphs("note", &input.note, 2000, false)?;
    if scores.is_empty() && note.is_empty() {
        return Err(Error::invalid(
            "scores",
            "give a score for at least one thing, or write a note",
        ));
    }
    Ok(CheckedAssessment {
        stage: input.stage,
        view: input.view,
        scores,
        note,
    })
}

/// A stored assessment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Assessment {
    pub id: Uuid,
    pub stage: Stage,
    pub view: View,
    pub by_user: Uuid,
    pub note: String,
    pub at: DateTime<Utc>,
    pub scores: Vec<Score>,
}

/// One identifier's scores at the start and the end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub identifier: String,
    pub label: String,
    pub baseline: Option<i64>,
    pub midway: Option<i64>,
    pub exit: Option<i64>,
}

impl Comparison {
    /// Exit minus baseline, when both were scored.
    pub fn change(&self) -> Option<i64> {
        Some(self.exit? - self.baseline?)
    }
}

/// The mentee's own scores, identifier by identifier, baseline against
/// midway and exit, in the order they were first asked.
pub fn compare(assessments: &[Assessment]) -> Vec<Comparison> {
    let mut out: Vec<Comparison> = Vec::new();
    let mut own: Vec<&Assessment> = assessments
        .iter()
        .filter(|a| a.view == View::Mentee)
        .collect();
    own.sort_by_key(|a| a.stage);
    for a in own {
        for s in &a.scores {
            let row = match out.iter_mut().find(|c| c.identifier == s.identifier) {
                Some(row) => row,
                None => {
                    out.push(Comparison {
                        identifier: s.identifier.clone(),
                        label: s.label.clone(),
                        baseline: None,
                        midway: None,
                        exit: None,
                    });
                    out.last_mut().expect("just pushed")
                }
            };
            match a.stage {
                Stage::Baseline => row.baseline = Some(s.score),
                Stage::Midway => row.midway = Some(s.score),
                Stage::Exit => row.exit = Some(s.score),
            }
        }
    }
    out
}

/// A target as it is typed.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    /// What the mentee will do ("Hand in every maths homework").
    pub what: String,
    /// How we will know ("Homework planner signed each Friday").
    pub measure: String,
    /// By when.
    pub by_date: Option<NaiveDate>,
    /// When the pair will look at it again.
    #[serde(default)]
    pub review_date: Option<NaiveDate>,
}

/// A checked target.
#[derive(Clone, Debug)]
pub struct CheckedTarget {
    pub what: String,
    pub measure: String,
    pub by_date: NaiveDate,
    pub review_date: Option<NaiveDate>,
}

/// A target is SMART enough to store when it says what, how it is
/// measured, and by when (not already past); a review falls before or on
/// the target date.
pub fn check_target(input: &TargetInput, today: NaiveDate) -> Result<CheckedTarget> {
    let what = text::paragraphs("what", &input.what, 300, true)
        .map_err(|e| with_hint(e, "say what you will do"))?;
    let measure = text::paragraphs("measure", &input.measure, 300, true)
        .map_err(|e| with_hint(e, "say how you will know it is done"))?;
    let Some(by_date) = input.by_date else {
        return Err(Error::invalid(
            "by_date",
            "choose the date this should be done by",
        ));
    };
    if by_date < today {
        return Err(Error::invalid(
            "by_date",
            format!("{by_date} has already passed; choose a date from today on"),
        ));
    }
    if let Some(review) = input.review_date
        && (review < today || review > by_date)
    {
        return Err(Error::invalid(
            "review_date",
            format!("choose a review date between today and {by_date}"),
        ));
    }
    Ok(CheckedTarget {
        what,
        measure,
        by_date,
        review_date: input.review_date,
    })
}

/// "must not be empty" becomes what to write.
fn with_hint(err: Error, hint: &str) -> Error {
    match err {
        Error::Invalid { field, message } if message == "must not be empty" => {
            Error::invalid(field, format!("is empty: {hint}"))
        }
        other => other,
    }
}

/// How a target ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    PartlyMet,
    /// Given up, with a reason.
    Dropped,
}

stored_names!(Outcome, "target outcome", { Met => "met", PartlyMet => "partly_met", Dropped => "dropped" });

impl Outcome {
    pub fn title(self) -> &'static str {
        match self {
            Outcome::Met => "Met",
            Outcome::PartlyMet => "Partly met",
            Outcome::Dropped => "Dropped",
        }
    }
}

/// An outcome as it is sent.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    pub outcome: Outcome,
    #[serde(default)]
    pub note: String,
}

/// A dropped target needs its reason; the others may say a word.
pub fn check_outcome(input: &OutcomeInput) -> Result<String> {
    let note = text::paragraphs("note", &input.note, 1000, false)?;
    if input.outcome == Outcome::Dropped && note.is_empty() {
        return Err(Error::invalid(
            "note",
            "say why the target is being dropped",
        ));
    }
    Ok(note)
}

/// A note of progress on a target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Progress {
    pub by_user: Uuid,
    pub by_name: String,
    pub session_id: Option<Uuid>,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// A target of the action plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Target {
    pub id: Uuid,
    pub referral_id: Uuid,
    pub what: String,
    pub measure: String,
    pub by_date: NaiveDate,
    pub review_date: Option<NaiveDate>,
    pub set_by: Uuid,
    pub set_at: DateTime<Utc>,
    pub mentee_agreed_at: Option<DateTime<Utc>>,
    pub mentor_agreed_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub outcome_note: Option<String>,
    pub outcome_at: Option<DateTime<Utc>>,
    pub progress: Vec<Progress>,
}

impl Target {
    /// Agreed by both of the pair.
    pub fn agreed(&self) -> bool {
        self.mentee_agreed_at.is_some() && self.mentor_agreed_at.is_some()
    }
}

/// A session's account.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// What we did (the mentor), or what the teacher saw.
    pub body: String,
    /// What we will do next time.
    #[serde(default)]
    pub next_step: String,
}

/// Who wrote a session note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    Mentor,
    /// A supervising teacher's observation.
    Observer,
}

stored_names!(NoteKind, "note kind", { Mentor => "mentor", Observer => "observer" });

/// Checks a note: something written, of a sensible length.
pub fn check_note(input: &NoteInput, kind: NoteKind) -> Result<(String, String)> {
    let body = text::paragraphs("body", &input.body, 2000, true).map_err(|e| {
        with_hint(
            e,
            match kind {
                NoteKind::Mentor => "say what you did together",
                NoteKind::Observer => "say what you saw",
            },
        )
    })?;
    let next_step = text::paragraphs("next_step", &input.next_step, 1000, false)?;
    Ok((body, next_step))
}

/// A stored session note.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionNote {
    pub session_id: Uuid,
    pub author: Uuid,
    pub author_name: String,
    pub kind: NoteKind,
    pub body: String,
    pub next_step: String,
    pub at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a review decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// End the mentoring now (an exit, with its reason).
    Close,
    Continue,
    /// Continue, watched more closely.
    Monitor,
}

stored_names!(Decision, "review decision", { Close => "close", Continue => "continue", Monitor => "monitor" });

impl Decision {
    pub fn title(self) -> &'static str {
        match self {
            Decision::Close => "Close",
            Decision::Continue => "Continue",
            Decision::Monitor => "Continue and monitor",
        }
    }
}

/// Why a programme ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    TargetsMet,
    PlannedLengthEnded,
    Withdrawn,
    LeftSchool,
}

stored_names!(ExitReason, "exit reason", {
    TargetsMet => "targets_met",
    PlannedLengthEnded => "planned_length_ended",
    Withdrawn => "withdrawn",
    LeftSchool => "left_school",
});

impl ExitReason {
    pub fn title(self) -> &'static str {
        match self {
            ExitReason::TargetsMet => "Targets met",
            ExitReason::PlannedLengthEnded => "Planned length ended",
            ExitReason::Withdrawn => "Withdrawn",
            ExitReason::LeftSchool => "Left school",
        }
    }
}

/// A review as the coordinator writes it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub decision: Option<Decision>,
    pub note: String,
    /// The action plan was looked at together.
    #[serde(default)]
    pub plan_reviewed: bool,
    /// When to review again (continue or monitor).
    #[serde(default)]
    pub next_review: Option<NaiveDate>,
    /// Why the mentoring ends, when the decision is to close.
    #[serde(default)]
    pub exit_reason: Option<ExitReason>,
}

/// A checked review.
#[derive(Clone, Debug)]
pub struct CheckedReview {
    pub decision: Decision,
    pub note: String,
    pub plan_reviewed: bool,
    pub next_review: Option<NaiveDate>,
    pub exit_reason: Option<ExitReason>,
}

/// A review decides, says why, and (unless it closes) may set the next
/// review; closing names the exit's reason.
pub fn check_review(input: &ReviewInput, today: NaiveDate) -> Result<CheckedReview> {
    let Some(decision) = input.decision else {
        return Err(Error::invalid(
            "decision",
            "choose close, continue or monitor",
        ));
    };
    let note = text::paragraphs("note", &input.note, 2000, true)
        .map_err(|e| with_hint(e, "say what the review found"))?;
    if decision == Decision::Close && input.exit_reason.is_none() {
        return Err(Error::invalid(
            "exit_reason",
            "closing ends the mentoring: choose why it ends",
        ));
    }
    if let Some(next) = input.next_review {
        if decision == Decision::Close {
            return Err(Error::invalid(
                "next_review",
                "a closed case has no next review",
            ));
        }
        if next <= today {
            return Err(Error::invalid(
                "next_review",
                "choose a date after today for the next review",
            ));
        }
    }
    Ok(CheckedReview {
        decision,
        note,
        plan_reviewed: input.plan_reviewed,
        next_review: input.next_review,
        exit_reason: (decision == Decision::Close)
            .then_some(input.exit_reason)
            .flatten(),
    })
}

/// A stored review.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Review {
    pub id: Uuid,
    pub decision: Decision,
    pub note: String,
    pub plan_reviewed: bool,
    pub next_review: Option<NaiveDate>,
    pub by_user: Uuid,
    pub by_name: String,
    pub at: DateTime<Utc>,
}

/// An exit as the coordinator records it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitInput {
    pub reason: Option<ExitReason>,
    #[serde(default)]
    pub note: String,
}

/// An exit needs its reason.
pub fn check_exit(input: &ExitInput) -> Result<(ExitReason, String)> {
    let Some(reason) = input.reason else {
        return Err(Error::invalid(
            "reason",
            "choose why the mentoring ends: targets met, planned length ended, withdrawn or left school",
        ));
    };
    Ok((reason, text::paragraphs("note", &input.note, 2000, false)?))
}

/// A stored exit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Exit {
    pub reason: ExitReason,
    pub note: String,
    pub sessions_cancelled: i64,
    pub by_user: Uuid,
    pub at: DateTime<Utc>,
}

/// Whose feedback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackFrom {
    Mentee,
    Mentor,
    /// The referring teacher (or another of the mentee's school's staff).
    Teacher,
}

stored_names!(FeedbackFrom, "feedback role", { Mentee => "mentee", Mentor => "mentor", Teacher => "teacher" });

impl FeedbackFrom {
    pub fn title(self) -> &'static str {
        match self {
            FeedbackFrom::Mentee => "Mentee",
            FeedbackFrom::Mentor => "Mentor",
            FeedbackFrom::Teacher => "Referring teacher",
        }
    }
}

/// At the end, or at a term's end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStage {
    #[default]
    End,
    Term,
}

stored_names!(FeedbackStage, "feedback stage", { End => "end", Term => "term" });

/// Feedback as it is typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    #[serde(default = "end_stage")]
    pub stage: FeedbackStage,
    /// How much the mentoring helped, 1 to 5.
    pub rating: Option<i64>,
    pub went_well: String,
    #[serde(default)]
    pub even_better: String,
}

fn end_stage() -> FeedbackStage {
    FeedbackStage::End
}

/// A rating from 1 to 5 and a few words on what went well.
pub fn check_feedback(input: &FeedbackInput) -> Result<(i64, String, String)> {
    let rating = match input.rating {
        Some(r) if (1..=5).contains(&r) => r,
        Some(r) => {
            return Err(Error::invalid(
                "rating",
                format!("{r} is not a rating; choose from 1 to 5 stars"),
            ));
        }
        None => return Err(Error::invalid("rating", "choose from 1 to 5 stars")),
    };
    let went_well = text::paragraphs("went_well", &input.went_well, 1000, true)
        .map_err(|e| with_hint(e, "write a few words about what went well"))?;
    let even_better = text::paragraphs("even_better", &input.even_better, 1000, false)?;
    Ok((rating, went_well, even_better))
}

/// Stored feedback.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Feedback {
    pub id: Uuid,
    pub from_role: FeedbackFrom,
    pub stage: FeedbackStage,
    pub by_user: Uuid,
    pub rating: i64,
    pub went_well: String,
    pub even_better: String,
    pub at: DateTime<Utc>,
}

/// One session in the programme's timeline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimelineSession {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The mentee's school's local date and times ("Tue 8 Sep, 08:40–09:00").
    pub when: String,
    pub status: SessionStatus,
    /// Why it was moved or cancelled.
    pub reason: Option<String>,
    /// The mentor's given name.
    pub mentor_name: String,
    pub mentee_present: Option<bool>,
    pub mentor_present: Option<bool>,
    pub notes: Vec<SessionNote>,
    /// Whether the viewer may write their note on it now.
    pub may_note: Option<NoteKind>,
}

/// What the viewer may do on the record, worked out once for the page.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Abilities {
    pub assess_own: bool,
    pub assess_staff: bool,
    pub plan: bool,
    pub review: bool,
    pub exit: bool,
    pub feedback: Option<FeedbackFrom>,
}

/// A review or the planned end falling due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub what: String,
    pub due: NaiveDate,
    pub overdue: bool,
}

/// The check-in a mentee is asked for next: the baseline while the
/// mentoring runs, and the exit one once an exit is recorded; none once
/// they have done it.
pub fn check_in_due(assessments: &[Assessment], under_way: bool, exited: bool) -> Option<Stage> {
    let done = |stage| {
        assessments
            .iter()
            .any(|a| a.view == View::Mentee && a.stage == stage)
    };
    if under_way && !done(Stage::Baseline) {
        Some(Stage::Baseline)
    } else if exited && !done(Stage::Exit) {
        Some(Stage::Exit)
    } else {
        None
    }
}

/// When a programme's next review falls: what its latest review set
/// (`latest` is `None` before the first review, `Some(None)` when the
/// latest set no date), else the referral's review date.
pub fn review_due(
    latest: Option<Option<NaiveDate>>,
    referral_review: Option<NaiveDate>,
) -> Option<NaiveDate> {
    latest.unwrap_or(referral_review)
}

/// Whether a session is still to come and would be cancelled by an exit:
/// booked (or moved) and not yet begun.
pub fn still_to_come(status: SessionStatus, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status.is_live() && starts_at > now
}

/// How long before a date a reminder appears.
pub const REMIND_DAYS: i64 = 7;

/// The reminders for a running programme on `today`: the next review (the
/// latest review's next date, else the referral's review date) and the
/// planned end (the first session plus the planned weeks).
pub fn reminders(
    closed: bool,
    review_due: Option<NaiveDate>,
    planned_end: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<Reminder> {
    if closed {
        return Vec::new();
    }
    let soon = today + chrono::Duration::days(REMIND_DAYS);
    let mut out = Vec::new();
    if let Some(due) = review_due.filter(|d| *d <= soon) {
        out.push(Reminder {
            what: "Review due".to_owned(),
            due,
            overdue: due < today,
        });
    }
    if let Some(due) = planned_end.filter(|d| *d <= soon) {
        out.push(Reminder {
            what: "Planned end: record the exit".to_owned(),
            due,
            overdue: due < today,
        });
    }
    out
}

/// The referral as the record shows it: never the confidential details to
/// anyone outside the mentee's school.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordReferral {
    pub id: Uuid,
    pub school_id: Uuid,
    pub mentee_id: Uuid,
    /// The mentee's full name for their own school, given name elsewhere.
    pub mentee_name: String,
    pub year_group: Option<i32>,
    pub status: ReferralStatus,
    pub focus: Vec<String>,
    pub planned_weeks: i32,
    /// Mentee's school only.
    pub referred_by: Option<String>,
    pub concerns: Vec<String>,
    pub reasons: Option<String>,
    pub strengths: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A mentee's whole programme on one page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub access: RecordAccess,
    pub referral: RecordReferral,
    pub identifiers: Vec<Identifier>,
    pub assessments: Vec<Assessment>,
    pub comparison: Vec<Comparison>,
    pub targets: Vec<Target>,
    pub sessions: Vec<TimelineSession>,
    pub reviews: Vec<Review>,
    pub exit: Option<Exit>,
    pub feedback: Vec<Feedback>,
    pub reminders: Vec<Reminder>,
    pub abilities: Abilities,
    /// Held and booked hours so far.
    pub delivered_sessions: usize,
    pub delivered_minutes: i64,
}

impl Record {
    /// Leaves out what `access` may not see. The mentee's school sees it
    /// all. The mentee sees their own scores, the plan, the sessions with
    /// their mentor's notes, and their own feedback. The mentor and the
    /// mentor's school see the plan and the sessions with their notes — the
    /// work they share — and the mentor's own feedback, never the
    /// referral's confidential details, the scores or the reviews.
    pub fn for_viewer(mut self, viewer: Uuid) -> Record {
        match self.access {
            RecordAccess::School => {}
            RecordAccess::Mentee => {
                self.assessments.retain(|a| a.view == View::Mentee);
                self.reviews.clear();
                for s in &mut self.sessions {
                    s.notes.retain(|n| n.kind == NoteKind::Mentor);
                }
                self.feedback.retain(|f| f.by_user == viewer);
                self.hide_referral();
            }
            RecordAccess::Mentor | RecordAccess::Partner => {
                self.assessments.clear();
                self.comparison.clear();
                self.reviews.clear();
                self.reminders.clear();
                if self.access == RecordAccess::Mentor {
                    for s in &mut self.sessions {
                        s.notes.retain(|n| n.kind == NoteKind::Mentor);
                    }
                    self.feedback.retain(|f| f.by_user == viewer);
                } else {
                    self.feedback
                        .retain(|f| f.from_role == FeedbackFrom::Mentor);
                }
                self.hide_referral();
            }
        }
        self
    }

    fn hide_referral(&mut self) {
        self.referral.referred_by = None;
        self.referral.concerns.clear();
        self.referral.reasons = None;
        self.referral.strengths = None;
    }

    /// The check-in the mentee is asked for next, if any.
    pub fn next_check_in(&self) -> Option<Stage> {
        check_in_due(
            &self.assessments,
            self.referral.status.under_way(),
            self.exit.is_some(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<Identifier> {
        default_identifiers()
    }

    fn all(score: i64) -> BTreeMap<String, i64> {
        ids().into_iter().map(|i| (i.key, score)).collect()
    }

    #[test]
    fn a_mentee_scores_every_identifier_from_1_to_10() {
        let mut scores = all(5);
        let ok = check_assessment(
            &AssessmentInput {
                stage: Stage::Baseline,
                view: View::Mentee,
                scores: scores.clone(),
                note: String::new(),
            },
            &ids(),
        )
        .unwrap();
        assert_eq!(ok.scores.len(), 10);
        scores.insert("calm".into(), 11);
        let err = check_assessment(
            &AssessmentInput {
                stage: Stage::Baseline,
                view: View::Mentee,
                scores: scores.clone(),
                note: String::new(),
            },
            &ids(),
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("scores"));
        assert!(err.public_message().contains("Staying calm"), "{err}");
        scores.remove("calm");
        let err = check_assessment(
            &AssessmentInput {
                stage: Stage::Baseline,
                view: View::Mentee,
                scores,
                note: String::new(),
            },
            &ids(),
        )
        .unwrap_err();
        assert!(err.public_message().contains("no score yet"), "{err}");
    }

    #[test]
    fn baseline_and_exit_are_compared_identifier_by_identifier() {
        let at = Utc::now();
        let a = |stage, score| Assessment {
            id: Uuid::new_v4(),
            stage,
            view: View::Mentee,
            by_user: Uuid::nil(),
            note: String::new(),
            at,
            scores: vec![Score {
                identifier: "calm".into(),
                label: "Staying calm".into(),
                score,
            }],
        };
        let rows = compare(&[a(Stage::Exit, 8), a(Stage::Baseline, 3)]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].change(), Some(5));
    }

    #[test]
    fn a_target_needs_a_measure_and_a_date_to_come() {
        let today = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let mut t = TargetInput {
            what: "Hand in maths homework".into(),
            measure: String::new(),
            by_date: Some(today),
            review_date: None,
        };
        assert_eq!(
            check_target(&t, today).unwrap_err().field(),
            Some("measure")
        );
        t.measure = "Planner signed".into();
        t.by_date = None;
        assert_eq!(
            check_target(&t, today).unwrap_err().field(),
            Some("by_date")
        );
        t.by_date = today.pred_opt();
        assert_eq!(
            check_target(&t, today).unwrap_err().field(),
            Some("by_date")
        );
        t.by_date = Some(today);
        assert!(check_target(&t, today).is_ok());
    }

    #[test]
    fn closing_a_case_needs_the_exit_reason_and_dropping_a_target_its_reason() {
        let today = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let review = ReviewInput {
            decision: Some(Decision::Close),
            note: "Going well".into(),
            ..ReviewInput::default()
        };
        assert_eq!(
            check_review(&review, today).unwrap_err().field(),
            Some("exit_reason")
        );
        assert_eq!(
            check_exit(&ExitInput::default()).unwrap_err().field(),
            Some("reason")
        );
        assert_eq!(
            check_outcome(&OutcomeInput {
                outcome: Outcome::Dropped,
                note: " ".into()
            })
            .unwrap_err()
            .field(),
            Some("note")
        );
    }

    #[test]
    fn keys_come_from_labels() {
        assert_eq!(key_of("Staying calm!"), "staying_calm");
        let err = check_identifiers(&[
            IdentifierInput {
                key: None,
                label: "Reading".into(),
                question: "How much do I read?".into(),
            },
            IdentifierInput {
                key: None,
                label: "reading".into(),
                question: "Again?".into(),
            },
        ])
        .unwrap_err();
        assert!(err.public_message().contains("twice"), "{err}");
    }

    #[test]
    fn reminders_appear_a_week_ahead_and_stop_when_closed() {
        let today = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let soon = today + chrono::Duration::days(3);
        let later = today + chrono::Duration::days(30);
        assert_eq!(reminders(false, Some(soon), Some(later), today).len(), 1);
        assert!(reminders(true, Some(soon), Some(soon), today).is_empty());
        let late = reminders(false, today.pred_opt(), None, today);
        assert!(late[0].overdue);
    }
}
