//! Joining calls, the call page, today's live register, and attendance over
//! the API.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use chrono::{Duration, Utc};
use mentorbridge_signalling::token::{CallRole, JoinClaims, TOKEN_LIFETIME};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CorrectionInput, Presence, call_role, window};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::booking::Session;
use crate::error::{ApiError, Error, PageError, Result};
use crate::extract::{ApiJson, PageForm};
use crate::people::accounts::Role;
use crate::state::{AppState, Routes};
use crate::web::{Nav, after_form, render};

/// The call and attendance routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .post("/api/sessions/{session_id}/join", api_join)
        .get("/api/sessions/{session_id}/attendance", api_attendance)
        .post("/api/sessions/{session_id}/attendance", api_correct)
        .get("/sessions/{session_id}/call", call_page)
        .get("/sessions/today", today_page)
        .post("/sessions/{session_id}/attendance", correct_submit)
        .get("/precall", precall_page)
        .get("/api/me/ice-servers", api_ice_servers)
        .post("/api/precall", api_precall)
}

/// The STUN/TURN servers for the signed-in person (TURN credentials are
/// minted for them, valid for an hour).
async fn api_ice_servers(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<mentorbridge_signalling::ice::IceServer>>, ApiError> {
    authorize(&actor, Action::PrecallCheck)?;
    Ok(Json(mentorbridge_signalling::hub::IceProvider::servers(
        &state.settings.ice,
        actor.user.id,
    )))
}

/// A complete SDP offer, or answer.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Sdp {
    sdp: String,
}

/// The pre-call check's network test: the page's offer, answered by
/// mentorbridge's own peer, which echoes the data channel.
async fn api_precall(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(offer): ApiJson<Sdp>,
) -> Result<Json<Sdp>, ApiError> {
    use mentorbridge_signalling::precall::PrecallError;
    authorize(&actor, Action::PrecallCheck)?;
    if offer.sdp.len() > 64 * 1024 {
        return Err(Error::invalid("sdp", "an offer is at most 64 KB").into());
    }
    match state.precall.answer(&offer.sdp).await {
        Ok(sdp) => Ok(Json(Sdp { sdp })),
        Err(PrecallError::Busy) => Err(Error::RateLimited {
            retry_after_secs: 60,
        }
        .into()),
        Err(PrecallError::BadOffer(why)) => Err(Error::invalid("sdp", why).into()),
        Err(PrecallError::Internal(why)) => Err(Error::internal(why).into()),
    }
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

/// `GET /ws`: the signalling websocket. Mounted outside [`Routes`] (and so
/// outside the authorization matrix, which judges cookies): its authority
/// is the join token in the first message, whoever opens the socket, and
/// the token tests cover it.
pub async fn websocket(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    mentorbridge_signalling::ws::handler(State(state.hub.clone()), request).await
}

/// What a page needs to join a call.
#[derive(Debug, Serialize)]
pub struct JoinInfo {
    /// Single use, valid for two minutes: send it in `hello`.
    pub token: String,
    /// Where the websocket is.
    pub ws_path: &'static str,
    /// The joiner's role.
    pub role: CallRole,
    /// The joiner.
    pub user_id: Uuid,
    /// When the room opens and closes.
    pub opens_at: chrono::DateTime<Utc>,
    /// When the room closes.
    pub closes_at: chrono::DateTime<Utc>,
    /// What to call each person who may be in the call.
    pub names: BTreeMap<Uuid, String>,
}

/// Mints a join token for a person booked in the session, inside its
/// window. Names are first names and schools, as in invites.
pub async fn join_info(state: &AppState, actor: &Actor, session: &Session) -> Result<JoinInfo> {
    let role = call_role(&state.store, &actor.user, session).await?;
    if !session.status.is_live() {
        return Err(Error::conflict(
            "status",
            format!("this session is {}", session.status.as_str()),
        ));
    }
    let (opens_at, closes_at) = window(session);
    let now = Utc::now();
    if now < opens_at || now >= closes_at {
        return Err(Error::conflict(
            "starts_at",
            format!(
                "the call is open from {} to {} (UTC)",
                opens_at.format("%a %-d %b %H:%M"),
                closes_at.format("%H:%M")
            ),
        ));
    }
    let policy = state
        .store
        .slot_policy(session.partnership_id)
        .await?
        .unwrap_or_default();
    let claims = JoinClaims {
        session: session.id,
        user: actor.user.id,
        role,
        school: actor.user.school_id.unwrap_or_default(),
        opens_at,
        closes_at,
        expires_at: now + TOKEN_LIFETIME,
        nonce: Uuid::new_v4(),
        // With no policy to say otherwise, students wait (deny by default).
        needs_supervisor: policy.schools.is_empty()
            || policy.schools.values().any(|s| s.require_supervisor()),
    };
    let mut names = BTreeMap::new();
    let n = state.store.names_of_session(session).await?;
    names.insert(
        session.mentee_id,
        format!("{} ({})", n.mentee, n.mentee_school),
    );
    names.insert(
        session.mentor_id,
        format!("{} ({})", n.mentor, n.mentor_school),
    );
    for id in &session.supervisors {
        let who = state.store.user(*id).await?;
        names.insert(*id, format!("{} (supervising)", who.full_name()));
    }
    names
        .entry(actor.user.id)
        .or_insert_with(|| format!("{} (safeguarding)", actor.user.full_name()));
    tracing::info!(session = %session.id, user = %actor.user.id, ?role, "join token minted");
    Ok(JoinInfo {
        token: state.join_key.sign(&claims),
        ws_path: "/ws",
        role,
        user_id: actor.user.id,
        opens_at,
        closes_at,
        names,
    })
}

async fn api_join(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<JoinInfo>, ApiError> {
    let session = state.store.session(id).await?;
    Ok(Json(join_info(&state, &actor, &session).await?))
}

/// A session's attendance, for staff of the partnership.
#[derive(Debug, Serialize)]
pub struct AttendanceView {
    /// The session.
    pub session_id: Uuid,
    /// Each person.
    pub people: Vec<Presence>,
}

async fn attendance_of(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<(Session, Vec<Presence>)> {
    let session = state.store.session(id).await?;
    let partnership = state.store.partnership(session.partnership_id).await?;
    authorize(
        actor,
        Action::ViewAttendance {
            partnership: &partnership,
        },
    )?;
    let people = state.store.attendance(&session).await?;
    Ok((session, people))
}

async fn api_attendance(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<AttendanceView>, ApiError> {
    let (session, people) = attendance_of(&state, &actor, id).await?;
    Ok(Json(AttendanceView {
        session_id: session.id,
        people,
    }))
}

async fn correct(state: &AppState, actor: &Actor, id: Uuid, input: &CorrectionInput) -> Result<()> {
    let session = state.store.session(id).await?;
    let partnership = state.store.partnership(session.partnership_id).await?;
    authorize(
        actor,
        Action::CorrectAttendance {
            partnership: &partnership,
        },
    )?;
    state
        .store
        .correct_attendance(&session, input, actor.user.id)
        .await
}

async fn api_correct(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<CorrectionInput>,
) -> Result<Json<AttendanceView>, ApiError> {
    correct(&state, &actor, id, &input).await?;
    let (session, people) = attendance_of(&state, &actor, id).await?;
    Ok(Json(AttendanceView {
        session_id: session.id,
        people,
    }))
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
    let (opens_at, _) = window(&session);
    Ok(Html(render(&CallPage {
        nav: Nav::for_actor(&actor),
        title,
        when,
        role: match role {
            CallRole::Mentee => "mentee",
            CallRole::Mentor => "mentor",
            CallRole::Supervisor => "supervisor",
        },
        opens_at: opens_at.to_rfc3339(),
        session,
    })))
}

/// One session on today's register.
pub struct TodayRow {
    /// The session.
    pub session: Session,
    /// "08:40–09:00".
    pub time: String,
    /// Who, in first names and schools.
    pub who: String,
    /// Each person's attendance.
    pub people: Vec<Presence>,
    /// Whether the viewer may join (booked or supervising).
    pub can_join: bool,
    /// Whether the viewer may correct the record.
    pub can_correct: bool,
}

impl TodayRow {
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
}

/// The calls still to happen or happening today at `school` (its own
/// date), each with its times there: what *Today's calls* lists.
pub async fn todays_calls(
    store: &crate::store::Store,
    school: Uuid,
) -> Result<Vec<(Session, crate::calendar::align::SlotEnd)>> {
    let own = store.school(school).await?;
    let today = own.today()?;
    let from = today.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - Duration::hours(14);
    Ok(store
        .sessions_at_school(school, from, from + Duration::hours(52))
        .await?
        .into_iter()
        .filter_map(|session| {
            let end = session.local.get(&own.slug).cloned()?;
            (end.date == today && session.status.is_live()).then_some((session, end))
        })
        .collect())
}

async fn show_today(state: &AppState, actor: &Actor, error: Option<String>) -> Result<TodayPage> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ViewSessions { school })?;
    let mut rows = Vec::new();
    let calls = todays_calls(&state.store, school).await?;
    let sessions: Vec<Session> = calls.iter().map(|(s, _)| s.clone()).collect();
    let names = state.store.session_names(&sessions).await?;
    for ((session, end), n) in calls.into_iter().zip(names) {
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
        rows.push(TodayRow {
            time: format!("{}–{}", end.start.format("%H:%M"), end.end.format("%H:%M")),
            who: format!(
                "{} ({}) with {} ({})",
                n.mentee, n.mentee_school, n.mentor, n.mentor_school
            ),
            people,
            can_join: call_role(&state.store, &actor.user, &session).await.is_ok(),
            can_correct: authorize(
                actor,
                Action::CorrectAttendance {
                    partnership: &partnership,
                },
            )
            .is_ok(),
            session,
        });
    }
    Ok(TodayPage {
        nav: Nav::for_actor(actor),
        rows,
        error,
    })
}

async fn today_page(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Html<String>, PageError> {
    if actor.role() == Role::Student {
        return Err(Error::Forbidden.into());
    }
    Ok(Html(render(&show_today(&state, &actor, None).await?)))
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

async fn correct_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<CorrectForm>,
) -> Result<Response, PageError> {
    let result = async {
        let input = CorrectionInput {
            user_id: form
                .user_id
                .parse()
                .map_err(|_| Error::invalid("user_id", "choose a person"))?,
            present: form.present == "yes",
            minutes: match form.minutes.trim() {
                "" => None,
                m => Some(
                    m.parse()
                        .map_err(|_| Error::invalid("minutes", "a whole number of minutes"))?,
                ),
            },
            reason: form.reason.clone(),
        };
        correct(&state, &actor, id, &input).await
    }
    .await;
    after_form(result, "/sessions/today", |error| {
        show_today(&state, &actor, Some(error))
    })
    .await
}
