//! The record's pages: a mentee's whole programme on one page (for
//! everyone it is for, each seeing their part), the mentee's check-in, the
//! school's list of records, and the forms the record page carries. A form
//! the server refuses shows the page again with the error beside that form
//! and everything typed kept.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::programme::{Programme, record};
use super::{
    AssessmentInput, Comparison, Decision, ExitInput, ExitReason, FeedbackInput, FeedbackStage,
    NoteInput, NoteKind, Outcome, OutcomeInput, Record, ReviewInput, Stage, TargetInput, View,
    actions,
};
use crate::auth::Actor;
use crate::auth::policy::{Action, RecordAccess, authorize};
use crate::booking::SessionStatus;
use crate::error::{Error, PageError, Result};
use crate::people::referrals::ReferralStatus;
use crate::state::{AppState, Routes};
use crate::web::{Nav, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/record", my_record_page)
        .get("/records", records_page)
        .get("/records/{referral_id}", record_page)
        .get("/records/{referral_id}/check-in", check_in_page)
        .post("/records/{referral_id}/check-in", check_in_submit)
        .post("/records/{referral_id}/staff-view", staff_view_submit)
        .post("/records/{referral_id}/targets", target_submit)
        .post("/records/targets/{target_id}/agree", agree_submit)
        .post("/records/targets/{target_id}/progress", progress_submit)
        .post("/records/targets/{target_id}/outcome", outcome_submit)
        .post("/records/sessions/{session_id}/note", note_submit)
        .post("/records/{referral_id}/review", review_submit)
        .post("/records/{referral_id}/exit", exit_submit)
        .post("/records/{referral_id}/feedback", feedback_submit)
}

/// What was typed into the one form the server refused, to show again.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    /// Which form: `target`, `note-<session>`, `review`, …
    pub form: String,
    pub error: String,
    pub fields: BTreeMap<String, String>,
}

impl Draft {
    fn new(form: impl Into<String>, fields: &[(String, String)], error: String) -> Draft {
        Draft {
            form: form.into(),
            error,
            fields: fields.iter().cloned().collect(),
        }
    }

    /// Whether `form` is the one that was refused.
    pub fn failed(&self, form: &str) -> bool {
        !self.form.is_empty() && self.form == form
    }

    /// What was typed in `field` of `form`, or nothing.
    pub fn get(&self, form: &str, field: &str) -> &str {
        if self.failed(form) {
            self.fields.get(field).map_or("", String::as_str)
        } else {
            ""
        }
    }

    /// Whether `value` was the choice in `field` of `form`.
    pub fn chose(&self, form: &str, field: &str, value: &str) -> bool {
        self.get(form, field) == value
    }
}

/// One row of the assessment table, ready to show.
pub struct ScoreRow {
    pub label: String,
    pub baseline: String,
    pub midway: String,
    pub exit: String,
    pub change: String,
    /// `up`, `down` or `same`, for the change's colour.
    pub trend: &'static str,
    pub staff: String,
}

fn score_rows(record: &Record) -> Vec<ScoreRow> {
    let staff: Vec<&super::Assessment> = record
        .assessments
        .iter()
        .filter(|a| a.view == View::Staff)
        .collect();
    let show = |v: Option<i64>| v.map_or_else(|| "–".to_owned(), |v| v.to_string());
    record
        .comparison
        .iter()
        .map(|c: &Comparison| {
            let change = c.change();
            let staff_view = staff
                .iter()
                .filter_map(|a| {
                    a.scores
                        .iter()
                        .find(|s| s.identifier == c.identifier)
                        .map(|s| format!("{} {}", a.stage.title(), s.score))
                })
                .collect::<Vec<_>>()
                .join(", ");
            ScoreRow {
                label: c.label.clone(),
                baseline: show(c.baseline),
                midway: show(c.midway),
                exit: show(c.exit),
                change: change.map_or_else(String::new, |d| format!("{d:+}")),
                trend: match change {
                    Some(d) if d > 0 => "up",
                    Some(d) if d < 0 => "down",
                    _ => "same",
                },
                staff: staff_view,
            }
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "record.html")]
struct RecordPage {
    nav: Nav,
    record: Record,
    rows: Vec<ScoreRow>,
    /// The sessions an exit would cancel, for its confirm step.
    exit_cancels: Vec<String>,
    notice: Option<&'static str>,
    draft: Draft,
    today: String,
    check_in: Option<Stage>,
    outcomes: &'static [Outcome],
    decisions: &'static [Decision],
    exit_reasons: &'static [ExitReason],
    viewer: Uuid,
    /// Where the timeline folds: the sessions from here on (after the next
    /// few still to come) are behind "more booked sessions".
    later_from: usize,
    /// Start against end for each identifier scored at both, as SVG (empty
    /// until an exit check-in is done); the table beside it has the numbers.
    chart: String,
}

/// How many sessions still to come the timeline shows before it folds.
const NEXT_SHOWN: usize = 3;

impl RecordPage {
    /// Whether the viewer has written their note on `s` already.
    pub fn has_note(&self, s: &super::TimelineSession) -> bool {
        s.notes.iter().any(|n| n.author == self.viewer)
    }

    pub fn is_mentor(&self) -> bool {
        self.record.access == RecordAccess::Mentor
    }

    pub fn is_school(&self) -> bool {
        self.record.access == RecordAccess::School
    }

    pub fn is_mentee(&self) -> bool {
        self.record.access == RecordAccess::Mentee
    }

    pub fn hours(&self) -> String {
        hours(self.record.delivered_minutes)
    }

    pub fn targets_met(&self) -> usize {
        self.record
            .targets
            .iter()
            .filter(|t| t.outcome == Some(Outcome::Met))
            .count()
    }

    /// Whether the viewer still has to agree this target.
    pub fn may_agree(&self, target: &super::Target) -> bool {
        self.record.abilities.plan
            && target.outcome.is_none()
            && match self.record.access {
                RecordAccess::Mentee => target.mentee_agreed_at.is_none(),
                RecordAccess::Mentor => target.mentor_agreed_at.is_none(),
                _ => false,
            }
    }

    pub fn gave_feedback(&self) -> bool {
        self.record
            .feedback
            .iter()
            .any(|f| f.by_user == self.viewer && f.stage == FeedbackStage::End)
    }

    pub fn session_word(&self, s: &super::TimelineSession) -> &'static str {
        match s.status {
            SessionStatus::Completed => "Held",
            SessionStatus::Missed => "Missed",
            SessionStatus::Cancelled => "Cancelled",
            SessionStatus::Scheduled | SessionStatus::Moved => "Booked",
        }
    }

    pub fn session_pill(&self, s: &super::TimelineSession) -> &'static str {
        match s.status {
            SessionStatus::Completed => "ok",
            SessionStatus::Missed | SessionStatus::Cancelled => "wait",
            _ => "",
        }
    }

    /// Who was missing from a missed session, in the viewer's words.
    pub fn missing(&self, s: &super::TimelineSession) -> String {
        let mut away = Vec::new();
        if s.mentee_present == Some(false) {
            away.push(if self.is_mentee() {
                "you".to_owned()
            } else {
                self.record.referral.mentee_name.clone()
            });
        }
        if s.mentor_present == Some(false) {
            away.push(s.mentor_name.clone());
        }
        if away.is_empty() {
            String::new()
        } else {
            format!("Not there: {}", away.join(" and "))
        }
    }

    pub fn stars(&self, rating: &i64) -> String {
        let n = usize::try_from(*rating).unwrap_or(0).min(5);
        format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
    }
}

fn hours(minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m} minutes"),
        (h, 0) => format!("{h} {}", if h == 1 { "hour" } else { "hours" }),
        (h, m) => format!("{h} h {m:02} min"),
    }
}

#[derive(Deserialize)]
struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

fn notice(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "checked_in" => Some("Thank you! Your answers are saved."),
        "staff_view" => Some("The school's view is saved beside the mentee's scores."),
        "target" => Some("Target added to the plan."),
        "agreed" => Some("Target agreed."),
        "progress" => Some("Progress noted."),
        "outcome" => Some("Target updated."),
        "note" => Some("Session note saved."),
        "review" => Some("Review recorded."),
        "exit" => Some(
            "Exit recorded. The match has ended, its later sessions are cancelled and everyone's calendar drops them.",
        ),
        "feedback" => Some("Thank you for your feedback."),
        _ => None,
    }
}

async fn show(
    state: &AppState,
    actor: &Actor,
    programme: &Programme,
    notice: Option<&'static str>,
    draft: Draft,
) -> Result<RecordPage> {
    let record = record(&state.store, actor, programme).await?;
    let now = chrono::Utc::now();
    // What `actions::exit` would cancel, read off the timeline already
    // loaded rather than asked of the store again.
    let exit_cancels = if record.abilities.exit {
        record
            .sessions
            .iter()
            .filter(|s| super::still_to_come(s.status, s.starts_at, now))
            .map(|s| s.when.clone())
            .collect()
    } else {
        Vec::new()
    };
    let later_from = record
        .sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| s.starts_at > now)
        .nth(NEXT_SHOWN)
        .map_or(record.sessions.len(), |(i, _)| i);
    let both: Vec<(String, f64, f64)> = record
        .comparison
        .iter()
        .filter_map(|c| {
            let (start, end) = (c.baseline?, c.exit?);
            Some((c.label.clone(), start as f64, end as f64))
        })
        .collect();
    let chart = if both.is_empty() {
        String::new()
    } else {
        crate::reports::charts::paired(&both, "Start", "End")?
    };
    Ok(RecordPage {
        chart,
        later_from,
        nav: Nav::for_actor(actor),
        rows: score_rows(&record),
        check_in: if record.abilities.assess_own {
            record.next_check_in()
        } else {
            None
        },
        record,
        exit_cancels,
        notice,
        draft,
        today: programme.today()?.to_string(),
        outcomes: Outcome::ALL,
        decisions: Decision::ALL,
        exit_reasons: ExitReason::ALL,
        viewer: actor.user.id,
    })
}

async fn record_page(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, PageError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let page = show(
        &state,
        &actor,
        &programme,
        notice(q.notice.as_deref()),
        Draft::default(),
    )
    .await?;
    Ok(Html(render(&page)))
}

/// A student's own record: the mentee's programme, or the mentor's
/// mentee's (the running one first).
async fn my_record_page(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Response, PageError> {
    match Programme::own(&state.store, &actor).await? {
        Some(p) => Ok(Redirect::to(&format!("/records/{}", p.referral.id)).into_response()),
        None => Err(Error::NotFound("record").into()),
    }
}

/// One programme in the school's list.
pub struct RecordRow {
    pub referral_id: Uuid,
    pub mentee: String,
    pub year_group: Option<i32>,
    pub status: ReferralStatus,
    pub review_date: Option<chrono::NaiveDate>,
}

#[derive(askama::Template)]
#[template(path = "records.html")]
struct RecordsPage {
    nav: Nav,
    rows: Vec<RecordRow>,
}

/// The mentee's school's programmes that reached a match.
async fn records_page(State(state): State<AppState>, actor: Actor) -> Result<Response, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::ViewRecords { school })?;
    let rows = state
        .store
        .referrals_at(school)
        .await?
        .into_iter()
        .filter(|r| {
            matches!(
                r.status,
                ReferralStatus::Matched
                    | ReferralStatus::Active
                    | ReferralStatus::Review
                    | ReferralStatus::Closed
            )
        })
        .map(|r| RecordRow {
            referral_id: r.id,
            mentee: r.mentee_name,
            year_group: r.year_group,
            status: r.status,
            review_date: r.review_date,
        })
        .collect();
    Ok(Html(render(&RecordsPage {
        nav: Nav::for_actor(&actor),
        rows,
    }))
    .into_response())
}

#[derive(askama::Template)]
#[template(path = "check_in.html")]
struct CheckInPage {
    nav: Nav,
    referral_id: Uuid,
    stage: Stage,
    items: Vec<CheckInItem>,
    error: Option<String>,
    first_name: String,
    /// The first question left unanswered, to jump to from the error.
    first_missing: Option<String>,
}

/// One identifier on the check-in, with what was chosen before a refusal.
pub struct CheckInItem {
    pub key: String,
    pub question: String,
    pub label: String,
    pub chosen: i64,
    pub missing: bool,
}

#[derive(Deserialize)]
struct StageQuery {
    #[serde(default)]
    stage: Option<Stage>,
}

async fn check_in_form(
    state: &AppState,
    actor: &Actor,
    programme: &Programme,
    stage: Stage,
    chosen: &BTreeMap<String, i64>,
    error: Option<String>,
) -> Result<CheckInPage> {
    let identifiers = state
        .store
        .record_identifiers(programme.referral.school_id)
        .await?;
    let tried = error.is_some();
    let first_missing = identifiers
        .iter()
        .find(|i| tried && !chosen.contains_key(&i.key))
        .map(|i| i.key.clone());
    Ok(CheckInPage {
        first_missing,
        nav: Nav::for_actor(actor),
        referral_id: programme.referral.id,
        stage,
        items: identifiers
            .into_iter()
            .map(|i| {
                let chosen = chosen.get(&i.key).copied().unwrap_or(0);
                CheckInItem {
                    missing: tried && chosen == 0,
                    chosen,
                    key: i.key,
                    question: i.question,
                    label: i.label,
                }
            })
            .collect(),
        error,
        first_name: actor.user.given_name.clone(),
    })
}

async fn check_in_page(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<StageQuery>,
) -> Result<Response, PageError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    if programme.access != RecordAccess::Mentee {
        return Err(Error::Forbidden.into());
    }
    let record = record(&state.store, &actor, &programme).await?;
    let Some(stage) = q.stage.or(record.next_check_in()) else {
        return Ok(Redirect::to(&format!("/records/{id}")).into_response());
    };
    let page = check_in_form(&state, &actor, &programme, stage, &BTreeMap::new(), None).await?;
    Ok(Html(render(&page)).into_response())
}

/// The form's fields as (name, value) pairs.
fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn date_field(
    fields: &[(String, String)],
    name: &'static str,
) -> Result<Option<chrono::NaiveDate>> {
    match field(fields, name).trim() {
        "" => Ok(None),
        raw => raw.parse().map(Some).map_err(|_| {
            Error::invalid(
                name,
                format!("`{raw}` is not a date; choose one from the calendar"),
            )
        }),
    }
}

/// The check-in a form is for (the baseline unless it says otherwise).
fn stage_field(fields: &[(String, String)]) -> Stage {
    field(fields, "stage").parse().unwrap_or(Stage::Baseline)
}

/// Scores arrive as `score.<key>=<n>`.
fn scores(fields: &[(String, String)]) -> BTreeMap<String, i64> {
    fields
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("score.")?;
            let n = v.trim().parse().ok()?;
            Some((key.to_owned(), n))
        })
        .collect()
}

fn back(id: Uuid, notice: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/records/{id}?notice={notice}#{anchor}")).into_response()
}

async fn check_in_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let f = fields(&body);
    let stage = stage_field(&f);
    let chosen = scores(&f);
    let input = AssessmentInput {
        stage,
        view: View::Mentee,
        scores: chosen.clone(),
        note: String::new(),
    };
    match actions::assess(&state.store, &actor, &programme, &input).await {
        Ok(_) => Ok(back(id, "checked_in", "scores")),
        Err(err) => {
            // The check-in's own words name the question; no field label.
            let (status, _, message) = refusal(err)?;
            let page =
                check_in_form(&state, &actor, &programme, stage, &chosen, Some(message)).await?;
            Ok((status, Html(render(&page))).into_response())
        }
    }
}

/// A refusal the person can act on (422, 409): its status, the field at
/// fault and what to do; anything else goes on to the error page.
fn refusal(err: Error) -> Result<(StatusCode, &'static str, String), PageError> {
    let status = err.status();
    match err {
        Error::Invalid { field, message } | Error::Conflict { field, message } => {
            Ok((status, field, message))
        }
        other => Err(other.into()),
    }
}

/// A record form as it was sent: which form, what was typed, and where
/// success lands (the notice to show and the part of the page).
struct Sent<'a> {
    form: &'a str,
    fields: &'a [(String, String)],
    notice: &'a str,
    anchor: &'a str,
}

/// Finishes a record form: back to the record on success; on a refusal
/// the record again with the error beside the form and what was typed.
async fn finish(
    state: &AppState,
    actor: &Actor,
    programme: &Programme,
    result: Result<()>,
    sent: Sent<'_>,
) -> Result<Response, PageError> {
    let Sent {
        form,
        fields,
        notice,
        anchor,
    } = sent;
    match result {
        Ok(()) => Ok(back(programme.referral.id, notice, anchor)),
        Err(err) => {
            let (status, field, message) = refusal(err)?;
            let draft = Draft::new(form, fields, format!("{}: {message}", field_words(field)));
            let page = show(state, actor, programme, None, draft).await?;
            Ok((status, Html(render(&page))).into_response())
        }
    }
}

/// A field's name as the form labels it.
fn field_words(field: &str) -> &'static str {
    match field {
        "what" => "What you will do",
        "measure" => "How you will know",
        "by_date" => "By when",
        "review_date" => "Look at it again on",
        "note" => "Note",
        "body" => "What happened",
        "next_step" => "Next step",
        "decision" => "Decision",
        "next_review" => "Next review",
        "exit_reason" | "reason" => "Why it ends",
        "rating" => "Rating",
        "went_well" => "What went well",
        "even_better" => "Even better if",
        "scores" => "Scores",
        "status" => "This mentoring",
        "stage" => "Check-in",
        "outcome" => "Outcome",
        "target" => "Target",
        "session" => "Session",
        _ => "This form",
    }
}

async fn staff_view_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let f = fields(&body);
    let stage = stage_field(&f);
    let input = AssessmentInput {
        stage,
        view: View::Staff,
        scores: scores(&f),
        note: field(&f, "note").to_owned(),
    };
    let result = actions::assess(&state.store, &actor, &programme, &input)
        .await
        .map(|_| ());
    finish(
        &state,
        &actor,
        &programme,
        result,
        Sent {
            form: "staff",
            fields: &f,
            notice: "staff_view",
            anchor: "scores",
        },
    )
    .await
}

async fn target_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let f = fields(&body);
    let result = async {
        let input = TargetInput {
            what: field(&f, "what").to_owned(),
            measure: field(&f, "measure").to_owned(),
            by_date: date_field(&f, "by_date")?,
            review_date: date_field(&f, "review_date")?,
        };
        actions::add_target(&state.store, &actor, &programme, &input).await?;
        Ok(())
    }
    .await;
    finish(
        &state,
        &actor,
        &programme,
        result,
        Sent {
            form: "target",
            fields: &f,
            notice: "target",
            anchor: "plan",
        },
    )
    .await
}

async fn agree_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let (target, programme) = actions::target_of(&state.store, &actor, id).await?;
    let result = actions::agree_target(&state.store, &actor, target.id)
        .await
        .map(|_| ());
    finish(
        &state,
        &actor,
        &programme,
        result,
        Sent {
            form: &format!("target-{id}"),
            fields: &[],
            notice: "agreed",
            anchor: "plan",
        },
    )
    .await
}

async fn progress_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let (target, programme) = actions::target_of(&state.store, &actor, id).await?;
    let f = fields(&body);
    let result =
        actions::add_progress(&state.store, &actor, target.id, None, field(&f, "note")).await;
    finish(
        &state,
        &actor,
        &programme,
        result,
        Sent {
            form: &format!("target-{id}"),
            fields: &f,
            notice: "progress",
            anchor: "plan",
        },
    )
    .await
}

async fn outcome_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let (target, programme) = actions::target_of(&state.store, &actor, id).await?;
    let f = fields(&body);
    let result = async {
        let outcome = field(&f, "outcome")
            .parse()
            .map_err(|_| Error::invalid("outcome", "choose met, partly met or dropped"))?;
        let input = OutcomeInput {
            outcome,
            note: field(&f, "note").to_owned(),
        };
        actions::set_outcome(&state.store, &actor, target.id, &input).await?;
        Ok(())
    }
    .await;
    finish(
        &state,
        &actor,
        &programme,
        result,
        Sent {
            form: &format!("outcome-{id}"),
            fields: &f,
            notice: "outcome",
            anchor: "plan",
        },
    )
    .await
}

async fn note_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(session): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let s = state.store.session(session).await?;
    let referral = state.store.referral_of_match(s.match_id).await?;
    let programme = Programme::load(&state.store, &actor, referral).await?;
    let f = fields(&body);
    let input = NoteInput {
        body: field(&f, "body").to_owned(),
        next_step: field(&f, "next_step").to_owned(),
    };
    let result = actions::write_note(&state.store, &actor, session, &input).await;
    finish(
        &state,
        &actor,
        &programme,
        result,
        Sent {
            form: &format!("note-{session}"),
            fields: &f,
            notice: "note",
            anchor: &format!("session-{session}"),
        },
    )
    .await
}

async fn review_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let f = fields(&body);
    let result = async {
        let input = ReviewInput {
            decision: field(&f, "decision").parse().ok(),
            note: field(&f, "note").to_owned(),
            plan_reviewed: !field(&f, "plan_reviewed").is_empty(),
            next_review: date_field(&f, "next_review")?,
            exit_reason: field(&f, "exit_reason").parse().ok(),
        };
        actions::review(&state.store, &actor, &programme, &input).await?;
        Ok(())
    }
    .await;
    finish(
        &state,
        &actor,
        &programme,
        result,
        Sent {
            form: "review",
            fields: &f,
            notice: "review",
            anchor: "reviews",
        },
    )
    .await
}

async fn exit_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let f = fields(&body);
    let input = ExitInput {
        reason: field(&f, "reason").parse().ok(),
        note: field(&f, "note").to_owned(),
    };
    let result = actions::exit(&state.store, &actor, &programme, &input)
        .await
        .map(|_| ());
    finish(
        &state,
        &actor,
        &programme,
        result,
        Sent {
            form: "exit",
            fields: &f,
            notice: "exit",
            anchor: "exit",
        },
    )
    .await
}

async fn feedback_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let programme = Programme::load(&state.store, &actor, id).await?;
    let f = fields(&body);
    let input = FeedbackInput {
        stage: field(&f, "stage").parse().unwrap_or_default(),
        rating: field(&f, "rating").trim().parse().ok(),
        went_well: field(&f, "went_well").to_owned(),
        even_better: field(&f, "even_better").to_owned(),
    };
    let result = actions::give_feedback(&state.store, &actor, &programme, &input).await;
    finish(
        &state,
        &actor,
        &programme,
        result,
        Sent {
            form: "feedback",
            fields: &f,
            notice: "feedback",
            anchor: "feedback",
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_read_as_people_say_them() {
        assert_eq!(hours(20), "20 minutes");
        assert_eq!(hours(60), "1 hour");
        assert_eq!(hours(180), "3 hours");
        assert_eq!(hours(200), "3 h 20 min");
    }

    #[test]
    fn a_refused_form_keeps_only_its_own_fields() {
        let d = Draft::new(
            "target",
            &[("what".into(), "Read every night".into())],
            "By when: choose a date".into(),
        );
        assert_eq!(d.get("target", "what"), "Read every night");
        assert_eq!(d.get("review", "what"), "");
        assert!(d.failed("target"));
        assert!(!d.failed("review"));
    }
}
