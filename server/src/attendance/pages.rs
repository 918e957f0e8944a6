//! The calls' pages: the call itself, the pre-call check of an iPad, and
//! *Today's calls* (the live register, where staff correct attendance).

use axum::extract::{Path, State};
use axum::response::{Html, Response};
use mentorbridge_signalling::token::CallRole;
use serde::Deserialize;
use uuid::Uuid;

use super::http::correct;
use super::{CorrectionInput, Presence, call_role, call_role_name, window};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::booking::Session;
use crate::calendar::align::SlotEnd;
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::state::{AppState, Routes};
use crate::web::{Nav, after_form, render};

/// The call pages' routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/sessions/{session_id}/call", call_page)
        .get("/sessions/today", today_page)
        .post("/sessions/{session_id}/attendance", correct_submit)
        .get("/precall", precall_page)
}

#[derive(askama::Template)]
#[template(path = "precall.html")]
struct PrecallPage {
    nav: Nav,
}

async fn precall_page(actor: Actor) -> Result<Html<String>, PageError> {
    authorize(&actor, Action::PrecallCheck)?;
    Ok(Html(render(&PrecallPage {
        nav: Nav::for_actor(&actor),
    })))
}

#[derive(askama::Template)]
#[template(path = "call.html")]
struct CallPage {
    nav: Nav,
    session: Session,
    title: String,
    when: String,
    role: &'static str,
    opens_at: String,
    closes_at: String,
}

async fn call_page(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Html<String>, PageError> {
    let session = state.store.session(id).await?;
    let role = call_role(&state.store, &actor.user, &session).await?;
    let n = state.store.names_of_session(&session).await?;
    let title = match role {
        CallRole::Mentee => format!("Mentoring with {} ({})", n.mentor, n.mentor_school),
        CallRole::Mentor => format!("Mentoring {} ({})", n.mentee, n.mentee_school),
        CallRole::Supervisor => format!(
            "{} ({}) with {} ({})",
            n.mentee, n.mentee_school, n.mentor, n.mentor_school
        ),
    };
    let own = match actor.user.school_id {
        Some(s) => Some(state.store.school(s).await?.slug),
        None => None,
    };
    let when = own
        .and_then(|slug| session.local.get(&slug).cloned())
        .map(|e| {
            format!(
                "{} {}–{}",
                e.date.format("%a %-d %b"),
                e.start.format("%H:%M"),
                e.end.format("%H:%M")
            )
        })
        .unwrap_or_else(|| session.starts_at.format("%a %-d %b %H:%M UTC").to_string());
    let (opens_at, closes_at) = window(&session);
    Ok(Html(render(&CallPage {
        nav: Nav::for_actor(&actor),
        title,
        when,
        role: call_role_name(role),
        opens_at: opens_at.to_rfc3339(),
        closes_at: closes_at.to_rfc3339(),
        session,
    })))
}

/// One session on today's register.
pub struct TodayRow {
    pub session: Session,
    /// "08:40–09:00".
    pub time: String,
    /// Who, in first names and schools.
    pub who: String,
    /// Each person's attendance.
    pub people: Vec<Presence>,
    /// The school's time zone, for when people joined and left.
    pub tz: chrono_tz::Tz,
    /// A supervisor has ended the call.
    pub ended: bool,
    /// Whether the viewer may join (booked or supervising).
    pub can_join: bool,
    /// Whether the viewer may correct the record.
    pub can_correct: bool,
}

impl TodayRow {
    /// When `p` joined and left, at the school ("joined 08:41, left 08:59").
    pub fn times_of(&self, p: &Presence) -> String {
        let at = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&self.tz).format("%H:%M").to_string()
        };
        match (p.joined_at, p.left_at) {
            (Some(j), Some(l)) => format!("joined {}, left {}", at(j), at(l)),
            (Some(j), None) => format!("joined {}", at(j)),
            _ => String::new(),
        }
    }

    /// A person's state in words.
    pub fn state_of(p: &Presence) -> &'static str {
        match (p.in_call, p.connected, p.present, p.no_show) {
            (true, true, _, _) => "connected",
            (true, false, _, _) => "in the room",
            (false, _, true, _) => "was there",
            (false, _, false, true) => "missing",
            _ => "not yet",
        }
    }
}

#[derive(askama::Template)]
#[template(path = "today.html")]
struct TodayPage {
    nav: Nav,
    rows: Vec<TodayRow>,
    error: Option<String>,
    /// Said after a concern was sent from the register.
    notice: Option<&'static str>,
}

async fn show_today(state: &AppState, actor: &Actor, error: Option<String>) -> Result<TodayPage> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ViewTodaysCalls { school })?;
    let mut rows = Vec::new();
    let calls = state.store.todays_calls(school).await?;
    let tz =
        crate::people::schools::SchoolTz::parse(&state.store.school(school).await?.time_zone)?.tz();
    let sessions: Vec<Session> = calls.iter().map(|(s, _)| s.clone()).collect();
    let names = state.store.session_names(&sessions).await?;
    for ((session, end), n) in calls.into_iter().zip(names) {
        let who = format!(
            "{} ({}) with {} ({})",
            n.mentee, n.mentee_school, n.mentor, n.mentor_school
        );
        rows.push(today_row(state, actor, session, &end, who, tz).await?);
    }
    Ok(TodayPage {
        nav: Nav::for_actor(actor),
        rows,
        error,
        notice: None,
    })
}

/// A call on the register, with what this viewer may see and do to it (the
/// policy's attendance, correction and call rules, call by call).
async fn today_row(
    state: &AppState,
    actor: &Actor,
    session: Session,
    end: &SlotEnd,
    who: String,
    tz: chrono_tz::Tz,
) -> Result<TodayRow> {
    let partnership = state.store.partnership(session.partnership_id).await?;
    let people = if authorize(
        actor,
        Action::ViewAttendance {
            partnership: &partnership,
        },
    )
    .is_ok()
    {
        state.store.attendance(&session).await?
    } else {
        Vec::new()
    };
    Ok(TodayRow {
        time: format!("{}–{}", end.start.format("%H:%M"), end.end.format("%H:%M")),
        who,
        people,
        tz,
        ended: state.hub.has_ended(session.id),
        can_join: call_role(&state.store, &actor.user, &session).await.is_ok(),
        can_correct: authorize(
            actor,
            Action::CorrectAttendance {
                partnership: &partnership,
            },
        )
        .is_ok(),
        session,
    })
}

#[derive(Deserialize)]
struct TodayQuery {
    #[serde(default)]
    concern: Option<String>,
}

async fn today_page(
    State(state): State<AppState>,
    actor: Actor,
    axum::extract::Query(query): axum::extract::Query<TodayQuery>,
) -> Result<Html<String>, PageError> {
    let mut page = show_today(&state, &actor, None).await?;
    if query.concern.as_deref() == Some("sent") {
        page.notice =
            Some("Your concern has gone to the safeguarding leads of both pupils' schools.");
    }
    Ok(Html(render(&page)))
}

#[derive(Deserialize)]
struct CorrectForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    present: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    reason: String,
}

impl CorrectForm {
    fn parse(&self) -> Result<CorrectionInput> {
        Ok(CorrectionInput {
            user_id: self
                .user_id
                .parse()
                .map_err(|_| Error::invalid("user_id", "choose a person"))?,
            present: self.present == "yes",
            minutes: match self.minutes.trim() {
                "" => None,
                m => Some(
                    m.parse()
                        .map_err(|_| Error::invalid("minutes", "a whole number of minutes"))?,
                ),
            },
            reason: self.reason.clone(),
        })
    }
}

async fn correct_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<CorrectForm>,
) -> Result<Response, PageError> {
    let result = async { correct(&state, &actor, id, &form.parse()?).await }.await;
    after_form(result, "/sessions/today", |error| {
        show_today(&state, &actor, Some(error))
    })
    .await
}
