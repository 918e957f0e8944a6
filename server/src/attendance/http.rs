//! The calls' JSON API: joining a call (a join token), the signalling
//! websocket at `/ws`, the pre-call check's network test and ICE servers,
//! and attendance.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use mentorbridge_signalling::token::{CallRole, JoinClaims, TOKEN_LIFETIME};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CorrectionInput, Presence, call_role, window};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::booking::Session;
use crate::error::{ApiError, Error, Result};
use crate::extract::ApiJson;
use crate::state::{AppState, Routes};

/// The call and attendance API routes, and the websocket.
pub fn routes(routes: Routes) -> Routes {
    routes
        .post("/api/sessions/{session_id}/join", api_join)
        .get("/api/sessions/{session_id}/attendance", api_attendance)
        .post("/api/sessions/{session_id}/attendance", api_correct)
        .post("/api/precall/ice-servers", api_ice_servers)
        .post("/api/precall", api_precall)
        .get("/ws", websocket)
}

/// The STUN/TURN servers for the signed-in person's pre-call check. TURN
/// credentials are minted for them, valid for a few minutes (coturn checks
/// a credential when an allocation is made, not while it lasts), and a few
/// times in ten minutes at most: a relay is bandwidth a school pays for,
/// and these are the only credentials issued outside a call's welcome.
async fn api_ice_servers(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<mentorbridge_signalling::ice::IceServer>>, ApiError> {
    authorize(&actor, Action::PrecallCheck)?;
    state.precall_ice_limiter.check(actor.user.id)?;
    Ok(Json(
        state
            .settings
            .ice
            .servers_for(actor.user.id, super::PRECALL_TURN_LIFETIME),
    ))
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
    match state.precall.answer(actor.user.id, &offer.sdp).await {
        Ok(sdp) => Ok(Json(Sdp { sdp })),
        Err(why @ (PrecallError::Busy | PrecallError::AlreadyRunning)) => Err(Error::TryLater {
            message: why.to_string(),
            retry_after_secs: 60,
        }
        .into()),
        Err(PrecallError::BadOffer(why)) => Err(Error::invalid("sdp", why).into()),
        Err(PrecallError::Internal(why)) => Err(Error::internal(why).into()),
    }
}

/// `GET /ws`: the signalling websocket. Open to every caller, signed in or
/// not: its authority is the join token in the first message, whoever opens
/// the socket (a cookie grants nothing here), and the token tests cover it.
/// The authorization matrix checks that every caller gets the upgrade.
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
    pub role: CallRole,
    pub user_id: Uuid,
    /// When the room opens.
    pub opens_at: chrono::DateTime<Utc>,
    /// When the room closes.
    pub closes_at: chrono::DateTime<Utc>,
    /// What to call each person who may be in the call.
    pub names: BTreeMap<Uuid, String>,
}

/// Mints a join token for a person the policy seats in the session's call,
/// inside its window. Names are first names and schools, as in invites.
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
    let claims = JoinClaims {
        session: session.id,
        user: actor.user.id,
        role,
        school: actor.user.school_id.unwrap_or_default(),
        opens_at,
        closes_at,
        expires_at: now + TOKEN_LIFETIME,
        nonce: Uuid::new_v4(),
        needs_supervisor: needs_supervisor(state, session).await?,
    };
    let names = call_names(state, actor, session).await?;
    // The hub's chat filter checks against both schools' rules, held in
    // memory from here on.
    let schools = [
        state.store.user(session.mentee_id).await?.school_id,
        state.store.user(session.mentor_id).await?.school_id,
    ];
    if let [Some(a), Some(b)] = schools {
        state
            .moderator
            .prepare_call(&state.store, session.id, [a, b])
            .await?;
    }
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

/// Whether the session's students wait for a supervisor before talking.
async fn needs_supervisor(state: &AppState, session: &Session) -> Result<bool> {
    let policy = state
        .store
        .slot_policy(session.partnership_id)
        .await?
        .unwrap_or_default();
    // With no policy to say otherwise, students wait (deny by default).
    Ok(policy.schools.is_empty() || policy.schools.values().any(|s| s.require_supervisor()))
}

/// What the call page calls each person who may be in the call.
async fn call_names(
    state: &AppState,
    actor: &Actor,
    session: &Session,
) -> Result<BTreeMap<Uuid, String>> {
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
        names.insert(*id, staff_name(state, &who).await?);
    }
    if let Entry::Vacant(place) = names.entry(actor.user.id) {
        place.insert(staff_name(state, &actor.user).await?);
    }
    // A safeguarding lead of either school may watch without being booked:
    // the students see who they are when they come in.
    let schools = [
        state.store.user(session.mentee_id).await?.school_id,
        state.store.user(session.mentor_id).await?.school_id,
    ];
    for school in schools.into_iter().flatten() {
        for lead in state
            .store
            .users_at_school(school, &[crate::people::accounts::Role::SafeguardingLead])
            .await?
        {
            if let Entry::Vacant(place) = names.entry(lead.id) {
                place.insert(staff_name(state, &lead).await?);
            }
        }
    }
    Ok(names)
}

/// "Helen Marsh, Hillside Academy, safeguarding lead": how a call names a
/// member of staff, so a student knows who watches.
async fn staff_name(state: &AppState, who: &crate::people::accounts::User) -> Result<String> {
    let school = match who.school_id {
        Some(s) => state.store.school(s).await?.name,
        None => String::new(),
    };
    let role = match who.role {
        crate::people::accounts::Role::SafeguardingLead => "safeguarding lead",
        crate::people::accounts::Role::Coordinator => "coordinator",
        _ => "supervising teacher",
    };
    Ok(format!("{}, {school}, {role}", who.full_name()))
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
    pub session_id: Uuid,
    /// Where the media figures come from.
    pub media: &'static str,
    /// Each person.
    pub people: Vec<Presence>,
}

/// What the media figures are: the devices' reports, counted only where
/// both ends of a connection agree.
pub const MEDIA_SOURCE: &str =
    "reported by the devices; connected minutes count only while both ends of a call said so";

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
        media: MEDIA_SOURCE,
        people,
    }))
}

/// Corrects session `id`'s attendance, for the API and the Today page's form.
pub(super) async fn correct(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &CorrectionInput,
) -> Result<()> {
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
        media: MEDIA_SOURCE,
        people,
    }))
}
