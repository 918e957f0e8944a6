//! Sessions over the JSON API, and calendar subscriptions.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Session;
use crate::auth::policy::{Action, authorize};
use crate::auth::{Actor, random_token, token_hash};
use crate::error::{ApiError, Error, Result};
use crate::extract::ApiJson;
use crate::invites::{Entry, Reader, SessionNames, feed};
use crate::people::accounts::{Role, StudentKind};
use crate::state::{AppState, Routes};
use crate::store::{Constraint, Store};
use crate::{on_pool, on_tx};

/// The session and calendar routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/me/sessions", api_my_sessions)
        .get("/api/schools/{school_id}/sessions", api_school_sessions)
        .post("/api/sessions/{session_id}/cancel", api_cancel)
        .post("/api/sessions/{session_id}/move", api_move)
        .post("/api/me/calendar-feed", api_my_feed)
        .delete("/api/me/calendar-feed", api_revoke_my_feed)
        .post("/api/schools/{school_id}/calendar-feed", api_school_feed)
        .delete(
            "/api/schools/{school_id}/calendar-feed",
            api_revoke_school_feed,
        )
        .get("/api/schools/{school_id}/invites", api_school_invites)
        .get("/calendar/{file}", calendar_file)
}

/// One emailed invite as a coordinator sees it.
#[derive(Debug, Serialize)]
pub struct InviteView {
    /// The queued message.
    #[serde(flatten)]
    pub message: crate::invites::outbox::OutboxMessage,
    /// Every try at sending it: when, what came of it, what the server said.
    pub tries: Vec<InviteTry>,
}

/// One try at sending an invite.
#[derive(Debug, Serialize)]
pub struct InviteTry {
    /// When.
    pub at: DateTime<Utc>,
    /// `sent`, `deferred`, `refused` or `expired`.
    pub outcome: String,
    /// What the mail server said.
    pub detail: String,
}

/// The invites emailed to a school's staff, newest first (at most 200),
/// with every try: so a coordinator can see one that was refused.
async fn api_school_invites(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<Vec<InviteView>>, ApiError> {
    authorize(&actor, Action::ViewInvites { school })?;
    let messages = state.store.school_mail(school, 200).await?;
    let Some(oldest) = messages.iter().map(|m| m.created_at).min() else {
        return Ok(Json(Vec::new()));
    };
    let mut tries: std::collections::HashMap<Uuid, Vec<InviteTry>> =
        std::collections::HashMap::new();
    for (message, at, outcome, detail) in state.store.school_mail_attempts(school, oldest).await? {
        tries.entry(message).or_default().push(InviteTry {
            at,
            outcome,
            detail,
        });
    }
    Ok(Json(
        messages
            .into_iter()
            .map(|message| InviteView {
                tries: tries.remove(&message.id).unwrap_or_default(),
                message,
            })
            .collect(),
    ))
}

/// A session as the API shows it to one reader.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// The session.
    #[serde(flatten)]
    pub session: Session,
    /// The names the reader may see.
    pub mentee: String,
    /// The mentee's school.
    pub mentee_school: String,
    /// The mentor's given name.
    pub mentor: String,
    /// The mentor's school.
    pub mentor_school: String,
}

/// Whose calendar a feed is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedOwner {
    /// A person's own sessions.
    User(Uuid),
    /// Every session with a student of the school.
    School(Uuid),
}

impl FeedOwner {
    /// The `(user_id, school_id)` columns of a feed row: one is set.
    fn columns(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            FeedOwner::User(u) => (Some(u), None),
            FeedOwner::School(s) => (None, Some(s)),
        }
    }
}

/// Names looked up once per request: a school's feed has thousands of
/// sessions but only a few dozen people and two schools.
#[derive(Default)]
pub struct NameCache {
    people: std::collections::HashMap<Uuid, (String, Option<Uuid>)>,
    schools: std::collections::HashMap<Uuid, String>,
}

impl NameCache {
    async fn person(&mut self, store: &Store, id: Uuid) -> Result<(String, String)> {
        let (name, school) = match self.people.get(&id) {
            Some(known) => known.clone(),
            None => {
                let user = store.user(id).await?;
                let found = (user.given_name, user.school_id);
                self.people.insert(id, found.clone());
                found
            }
        };
        let Some(school) = school else {
            return Ok((name, String::new()));
        };
        let school_name = match self.schools.get(&school) {
            Some(known) => known.clone(),
            None => {
                let found = store.school(school).await?.name;
                self.schools.insert(school, found.clone());
                found
            }
        };
        Ok((name, school_name))
    }

    /// The names a session's calendar entry may show.
    pub async fn names(&mut self, store: &Store, session: &Session) -> Result<SessionNames> {
        let (mentee, mentee_school) = self.person(store, session.mentee_id).await?;
        let (mentor, mentor_school) = self.person(store, session.mentor_id).await?;
        Ok(SessionNames {
            mentee,
            mentee_school,
            mentor,
            mentor_school,
        })
    }
}

impl Store {
    /// A new private feed token for `owner`, revoking any earlier one.
    pub async fn new_feed(&self, owner: FeedOwner) -> Result<String> {
        let token = random_token();
        let (user, school) = owner.columns();
        let now = Utc::now();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| {
            sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $1 WHERE revoked_at IS NULL AND (user_id = $2 OR school_id = $3)"
        )
        .bind(now)
        .bind(user)
        .bind(school)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        })?;
        let inserted = on_tx!(&mut tx, |conn| {
            sqlx::query(
            "INSERT INTO calendar_feeds (token_hash, user_id, school_id, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(token_hash(&token))
        .bind(user)
        .bind(school)
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
        });
        match inserted {
            // Someone made a link for the same calendar at the same moment.
            Err(e)
                if matches!(
                    Constraint::of(&e),
                    Some(Constraint::FeedLiveUser | Constraint::FeedLiveSchool)
                ) =>
            {
                return Err(Error::conflict(
                    "calendar",
                    "a new link was made at the same moment; try again",
                ));
            }
            other => other?,
        };
        tx.commit().await?;
        Ok(token)
    }

    /// Revokes a person's or a school's feed, if there is one.
    pub async fn revoke_feed(&self, owner: FeedOwner) -> Result<()> {
        let (user, school) = owner.columns();
        on_pool!(self, |pool| {
            sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $1 WHERE revoked_at IS NULL AND (user_id = $2 OR school_id = $3)"
        )
        .bind(Utc::now())
        .bind(user)
        .bind(school)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Whose live feed a token opens, if any.
    pub async fn feed_owner(&self, token: &str) -> Result<Option<FeedOwner>> {
        let row: Option<(Option<Uuid>, Option<Uuid>)> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT user_id, school_id FROM calendar_feeds WHERE token_hash = $1 AND revoked_at IS NULL"
        )
        .bind(token_hash(token))
        .fetch_optional(pool)
        .await
        })?;
        Ok(match row {
            Some((Some(u), _)) => Some(FeedOwner::User(u)),
            Some((None, Some(s))) => Some(FeedOwner::School(s)),
            _ => None,
        })
    }
}

/// How a user reads their own sessions.
fn reader_for(actor_role: Role, kind: Option<StudentKind>) -> Reader {
    match (actor_role, kind) {
        (Role::Student, Some(StudentKind::Mentee)) => Reader::Mentee,
        (Role::Student, _) => Reader::Mentor,
        _ => Reader::Staff,
    }
}

async fn views(store: &Store, sessions: Vec<Session>) -> Result<Vec<SessionView>> {
    let mut out = Vec::with_capacity(sessions.len());
    let mut cache = NameCache::default();
    for session in sessions {
        let names = cache.names(store, &session).await?;
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

/// Where a new feed can be subscribed to.
#[derive(Debug, Serialize)]
pub struct FeedLinks {
    /// For calendar apps (`webcal://…`).
    pub webcal: String,
    /// The same over http(s).
    pub url: String,
}

/// The address people reach the server at: the configured public URL, or
/// what the request came in on.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.settings.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The subscription links for a feed token.
pub fn feed_links(base: &str, token: &str) -> FeedLinks {
    let url = format!("{base}/calendar/{token}.ics");
    let webcal = url
        .replacen("https://", "webcal://", 1)
        .replacen("http://", "webcal://", 1);
    FeedLinks { webcal, url }
}

async fn api_my_feed(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<FeedLinks>), ApiError> {
    authorize(&actor, Action::OwnCalendar)?;
    let token = state.store.new_feed(FeedOwner::User(actor.user.id)).await?;
    Ok((
        StatusCode::CREATED,
        Json(feed_links(&base_url(&state, &headers), &token)),
    ))
}

async fn api_revoke_my_feed(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<StatusCode, ApiError> {
    authorize(&actor, Action::OwnCalendar)?;
    state
        .store
        .revoke_feed(FeedOwner::User(actor.user.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn api_revoke_school_feed(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    authorize(&actor, Action::ManageSchoolFeed { school })?;
    state.store.revoke_feed(FeedOwner::School(school)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn api_school_feed(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<FeedLinks>), ApiError> {
    authorize(&actor, Action::ManageSchoolFeed { school })?;
    let token = state.store.new_feed(FeedOwner::School(school)).await?;
    Ok((
        StatusCode::CREATED,
        Json(feed_links(&base_url(&state, &headers), &token)),
    ))
}

/// A feed by its private token: sessions from four weeks ago to four
/// months ahead, cancelled ones included so calendars drop them. An
/// unknown or revoked token is a plain 404 that says nothing more.
async fn calendar_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let owner = state
        .store
        .feed_owner(token)
        .await?
        .ok_or(Error::NotFound("calendar"))?;
    let now = Utc::now();
    let (from, to) = (now - Duration::days(28), now + Duration::days(120));
    let (name, sessions, reader) = match owner {
        FeedOwner::User(user) => {
            let user = state.store.user(user).await?;
            let reader = reader_for(user.role, user.kind);
            // A member of staff's own calendar holds their school's sessions.
            let sessions = match (user.role, user.school_id) {
                (Role::Student, _) | (_, None) => {
                    state.store.sessions_of_student(user.id, from, to).await?
                }
                (_, Some(school)) => state.store.sessions_at_school(school, from, to).await?,
            };
            (format!("Mentoring — {}", user.given_name), sessions, reader)
        }
        FeedOwner::School(school) => {
            let school = state.store.school(school).await?;
            let sessions = state.store.sessions_at_school(school.id, from, to).await?;
            (
                format!("Mentoring — {}", school.name),
                sessions,
                Reader::Staff,
            )
        }
    };
    let mut names = Vec::with_capacity(sessions.len());
    let mut cache = NameCache::default();
    for session in &sessions {
        names.push(cache.names(&state.store, session).await?);
    }
    let entries: Vec<Entry<'_>> = sessions
        .iter()
        .zip(&names)
        .map(|(session, names)| Entry {
            session,
            names,
            reader,
        })
        .collect();
    let body = feed(&name, &entries, &base_url(&state, &headers), now);
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}
