//! Sessions over the JSON API: a person's or a school's sessions, moving
//! and cancelling them, and undoing cancellations: restoring a cancelled
//! session, and booking again a pair left with no sessions. (Calendar
//! feeds are in `invites`.)

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Session;
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{ApiError, Error, Result};
use crate::extract::ApiJson;
use crate::people::accounts::Role;
use crate::state::{AppState, Routes};
use crate::store::Store;

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/me/sessions", api_my_sessions)
        .get("/api/schools/{school_id}/sessions", api_school_sessions)
        .post("/api/sessions/{session_id}/cancel", api_cancel)
        .post("/api/sessions/{session_id}/move", api_move)
        .post("/api/sessions/{session_id}/restore", api_restore)
        .get("/api/partnerships/{partnership_id}/unbooked", api_unbooked)
        .post(
            "/api/partnerships/{partnership_id}/book-again",
            api_book_again_all,
        )
        .post(
            "/api/partnerships/{partnership_id}/matches/{match_id}/book-again",
            api_book_again,
        )
}

/// A session as the API shows it to one reader.
#[derive(Debug, Serialize)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: Session,
    /// The mentee's given name.
    pub mentee: String,
    pub mentee_school: String,
    /// The mentor's given name.
    pub mentor: String,
    pub mentor_school: String,
}

async fn views(store: &Store, sessions: Vec<Session>) -> Result<Vec<SessionView>> {
    let names = store.session_names(&sessions).await?;
    let mut out = Vec::with_capacity(sessions.len());
    for (session, names) in sessions.into_iter().zip(names) {
        out.push(SessionView {
            session,
            mentee: names.mentee,
            mentee_school: names.mentee_school,
            mentor: names.mentor,
            mentor_school: names.mentor_school,
        });
    }
    Ok(out)
}

/// A date range from the query string: `from` (default today) to `to`
/// (default four weeks on), as instants.
#[derive(Debug, Deserialize)]
struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Range {
    /// The range as instants: from the start of `from` to the end of `to`,
    /// in the school's own time zone (its days, not UTC's).
    async fn instants(
        &self,
        store: &Store,
        school: Option<Uuid>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
        let tz = match school {
            Some(id) => {
                crate::people::schools::SchoolTz::parse(&store.school(id).await?.time_zone)?.tz()
            }
            None => chrono_tz::UTC,
        };
        let today = Utc::now().with_timezone(&tz).date_naive();
        let from = self.from.unwrap_or(today);
        let to = self.to.unwrap_or(from + Duration::days(28));
        if to < from {
            return Err(Error::invalid("to", "must not be before `from`"));
        }
        if (to - from).num_days() > 400 {
            return Err(Error::invalid("to", "ask for at most 400 days at a time"));
        }
        let midnight =
            |d: NaiveDate| crate::calendar::time::local_to_utc(tz, d, chrono::NaiveTime::MIN);
        Ok((midnight(from), midnight(to + Duration::days(1))))
    }
}

async fn api_my_sessions(
    State(state): State<AppState>,
    actor: Actor,
    Query(range): Query<Range>,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    authorize(&actor, Action::OwnCalendar)?;
    let (from, to) = range.instants(&state.store, actor.school_id()).await?;
    let mut sessions = state
        .store
        .sessions_of_student(actor.user.id, from, to)
        .await?;
    if actor.role() == Role::Student {
        // Reasons are written by staff for staff.
        for s in &mut sessions {
            s.reason = None;
        }
    }
    Ok(Json(views(&state.store, sessions).await?))
}

async fn api_school_sessions(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    Query(range): Query<Range>,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    authorize(&actor, Action::ViewSessions { school })?;
    let (from, to) = range.instants(&state.store, Some(school)).await?;
    let sessions = state.store.sessions_at_school(school, from, to).await?;
    Ok(Json(views(&state.store, sessions).await?))
}

/// A session the actor may move or cancel (its partnership's coordinators
/// and teachers).
pub(crate) async fn session_to_change(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<Session> {
    let session = state.store.session(id).await?;
    let partnership = state.store.partnership(session.partnership_id).await?;
    authorize(
        actor,
        Action::ManageSession {
            partnership: &partnership,
        },
    )?;
    Ok(session)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelInput {
    reason: String,
    /// Cancel this session and every later one of the series.
    #[serde(default)]
    rest_of_series: bool,
}

/// Cancels a session (or it and the rest of its series); returns the
/// sessions cancelled, earliest first.
async fn api_cancel(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<CancelInput>,
) -> Result<Json<Vec<Session>>, ApiError> {
    let session = session_to_change(&state, &actor, id).await?;
    let cancelled = if input.rest_of_series {
        state.store.cancel_series(&session, &input.reason).await?
    } else {
        vec![state.store.cancel_session(&session, &input.reason).await?]
    };
    tracing::info!(session = %id, by = %actor.user.id, count = cancelled.len(), "sessions cancelled");
    Ok(Json(cancelled))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveInput {
    starts_at: DateTime<Utc>,
    #[serde(default)]
    reason: String,
    /// Move this session and every later one of the series to that weekly slot.
    #[serde(default)]
    rest_of_series: bool,
}

async fn api_move(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<MoveInput>,
) -> Result<Json<Vec<Session>>, ApiError> {
    let session = session_to_change(&state, &actor, id).await?;
    let moved = if input.rest_of_series {
        state
            .store
            .move_series(&session, input.starts_at, &input.reason)
            .await?
    } else {
        vec![
            state
                .store
                .move_session(&session, input.starts_at, &input.reason)
                .await?,
        ]
    };
    tracing::info!(session = %id, by = %actor.user.id, sessions = moved.len(), "moved");
    Ok(Json(moved))
}

/// A partnership the actor may undo cancellations in (its coordinators).
pub(crate) async fn partnership_to_restore(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<crate::people::partnerships::Partnership> {
    let partnership = state.store.partnership(id).await?;
    authorize(
        actor,
        Action::RestoreSessions {
            partnership: &partnership,
        },
    )?;
    Ok(partnership)
}

/// A cancelled session the actor may restore.
pub(crate) async fn session_to_restore(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<Session> {
    let session = state.store.session(id).await?;
    partnership_to_restore(state, actor, session.partnership_id).await?;
    Ok(session)
}

/// Restores a cancelled session at its own time; a 409 says why not (the
/// day is no longer a school day, a student or every iPad is booked then).
async fn api_restore(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Session>, ApiError> {
    let session = session_to_restore(&state, &actor, id).await?;
    let restored = state.store.restore_session(&session).await?;
    tracing::info!(session = %id, by = %actor.user.id, "session restored");
    Ok(Json(restored))
}

/// The partnership's pairs with an approved match and nothing booked ahead.
async fn api_unbooked(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<crate::booking::store::Unbooked>>, ApiError> {
    let p = partnership_to_restore(&state, &actor, id).await?;
    Ok(Json(state.store.unbooked_pairs(p.id).await?))
}

/// What booking one pair again did.
#[derive(Debug, Serialize)]
struct BookedAgain {
    match_id: Uuid,
    #[serde(flatten)]
    report: super::SeriesReport,
}

/// Books one pair again from its approved match.
async fn api_book_again(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, match_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<BookedAgain>, ApiError> {
    let p = partnership_to_restore(&state, &actor, id).await?;
    let record = state.store.approved_match_of(p.id, match_id).await?;
    let report = state.store.book_again(&record).await?;
    tracing::info!(%match_id, by = %actor.user.id, booked = report.booked.len(), "pair booked again");
    Ok(Json(BookedAgain { match_id, report }))
}

/// Books again every pair of the partnership left with nothing ahead.
async fn api_book_again_all(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<BookedAgain>>, ApiError> {
    let p = partnership_to_restore(&state, &actor, id).await?;
    let done = state.store.book_again_all(&p).await?;
    tracing::info!(partnership = %id, by = %actor.user.id, pairs = done.len(), "pairs booked again");
    Ok(Json(
        done.into_iter()
            .map(|(match_id, report)| BookedAgain { match_id, report })
            .collect(),
    ))
}
