//! Invites over HTTP: the calendar subscription links (made, revoked, and
//! the `.ics` feeds they open) and a school's emailed invites.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::feeds::{FeedLinks, FeedOwner, feed_links, reader_for, window};
use super::outbox::{OutboxMessage, TryKind};
use super::{Entry, Reader, feed};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::booking::Session;
use crate::error::{ApiError, Error, Result};
use crate::people::accounts::Role;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
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
    #[serde(flatten)]
    pub message: OutboxMessage,
    /// Every try at sending it: when, what came of it, what the server said.
    pub tries: Vec<InviteTry>,
}

#[derive(Debug, Serialize)]
pub struct InviteTry {
    pub at: DateTime<Utc>,
    pub outcome: TryKind,
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

async fn created_feed(
    state: &AppState,
    owner: FeedOwner,
) -> Result<(StatusCode, Json<FeedLinks>), ApiError> {
    let token = state.store.new_feed(owner).await?;
    Ok((
        StatusCode::CREATED,
        Json(feed_links(&state.settings.base_url(), &token)),
    ))
}

async fn api_my_feed(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<(StatusCode, Json<FeedLinks>), ApiError> {
    authorize(&actor, Action::OwnCalendar)?;
    created_feed(&state, FeedOwner::User(actor.user.id)).await
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
) -> Result<(StatusCode, Json<FeedLinks>), ApiError> {
    authorize(&actor, Action::ManageSchoolFeed { school })?;
    created_feed(&state, FeedOwner::School(school)).await
}

/// A feed's title, its sessions and how they read.
async fn feed_contents(
    state: &AppState,
    owner: FeedOwner,
    now: DateTime<Utc>,
) -> Result<(String, Vec<Session>, Reader)> {
    let (from, to) = window(now);
    Ok(match owner {
        FeedOwner::User(user) => {
            let user = state.store.user(user).await?;
            let reader = reader_for(user.role, user.kind);
            // A member of staff's own calendar holds the sessions they
            // supervise; the whole school's is the school feed.
            let sessions = match (user.role, user.school_id) {
                (Role::Student, _) | (_, None) => {
                    state.store.sessions_of_student(user.id, from, to).await?
                }
                (_, Some(school)) => {
                    let mut sessions = state.store.sessions_at_school(school, from, to).await?;
                    sessions.retain(|s| s.supervisors.contains(&user.id));
                    sessions
                }
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
    })
}

/// A feed by its private token: the sessions of [`window`], cancelled ones
/// included so calendars drop them. An unknown or revoked token is a plain
/// 404 that says nothing more.
async fn calendar_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let owner = state
        .store
        .feed_owner(token)
        .await?
        .ok_or(Error::NotFound("calendar"))?;
    let now = Utc::now();
    let (name, sessions, reader) = feed_contents(&state, owner, now).await?;
    let names = state.store.session_names(&sessions).await?;
    let entries: Vec<Entry<'_>> = sessions
        .iter()
        .zip(&names)
        .map(|(session, names)| Entry {
            session,
            names,
            reader,
        })
        .collect();
    // Stamped with the latest change, not the time of asking, so the same
    // sessions give the same bytes and a calendar's conditional request
    // can be answered 304.
    let changed = sessions
        .iter()
        .map(|s| s.updated_at)
        .max()
        .unwrap_or(chrono::DateTime::UNIX_EPOCH);
    let body = feed(&name, &entries, &state.settings.base_url(), changed);
    let etag = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(body.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    };
    let last_modified = changed.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let unchanged = match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(tags) => tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| changed.timestamp() <= since.timestamp()),
    };
    let cache = [
        (header::ETAG, etag),
        (header::LAST_MODIFIED, last_modified),
        (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
    ];
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        cache,
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response())
}
