//! Invites over HTTP: the calendar subscription links (made, revoked, and
//! the `.ics` feeds they open) and a school's emailed invites.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::feeds::{FeedLink, FeedLinks, FeedOwner, feed_links, reader_for, window};
use super::outbox::{OutboxMessage, TryKind};
use super::series::{Instance, Transp, View};
use super::{Reader, feed};
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
        .get("/api/me/calendar-feeds", api_my_feeds)
        .delete("/api/me/calendar-feeds/{feed_id}", api_revoke_my_feed_link)
        .get("/api/schools/{school_id}/calendar-feeds", api_school_feeds)
        .delete(
            "/api/schools/{school_id}/calendar-feeds/{feed_id}",
            api_revoke_school_feed_link,
        )
        .post("/api/schools/{school_id}/calendar-feed", api_school_feed)
        .delete(
            "/api/schools/{school_id}/calendar-feed",
            api_revoke_school_feed,
        )
        .get("/api/schools/{school_id}/invites", api_school_invites)
        .put("/api/me/invite-digest", api_set_digest)
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

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DigestInput {
    daily: bool,
}

/// Starts or stops the signed-in coordinator's daily digest of changes.
async fn api_set_digest(
    State(state): State<AppState>,
    actor: Actor,
    crate::extract::ApiJson(input): crate::extract::ApiJson<DigestInput>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&actor, Action::OwnInviteDigest)?;
    state.store.set_digest(actor.user.id, input.daily).await?;
    Ok(Json(serde_json::json!({ "daily": input.daily })))
}

/// A new link's name, from a JSON body (`{"name": "Phone"}`); an empty
/// body or no name gives the default.
fn feed_name(body: &[u8]) -> Result<String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct FeedInput {
        #[serde(default)]
        name: String,
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    serde_json::from_slice::<FeedInput>(body)
        .map(|f| f.name)
        .map_err(|e| {
            Error::invalid(
                "name",
                format!("send {{\"name\": \"Phone\"}} or nothing: {e}"),
            )
        })
}

async fn created_feed(
    state: &AppState,
    owner: FeedOwner,
    body: &[u8],
) -> Result<(StatusCode, Json<FeedLinks>), ApiError> {
    let name = feed_name(body)?;
    let (id, token, label) = state.store.new_feed(owner, &name).await?;
    Ok((
        StatusCode::CREATED,
        Json(feed_links(&state.settings.base_url(), id, &label, &token)),
    ))
}

async fn api_my_feed(
    State(state): State<AppState>,
    actor: Actor,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<FeedLinks>), ApiError> {
    authorize(&actor, Action::OwnCalendar)?;
    created_feed(&state, FeedOwner::User(actor.user.id), &body).await
}

/// The signed-in person's live calendar links.
async fn api_my_feeds(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<FeedLink>>, ApiError> {
    authorize(&actor, Action::OwnCalendar)?;
    Ok(Json(
        state
            .store
            .feed_links_of(FeedOwner::User(actor.user.id))
            .await?,
    ))
}

async fn api_revoke_my_feed_link(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    authorize(&actor, Action::OwnCalendar)?;
    state
        .store
        .revoke_feed_link(FeedOwner::User(actor.user.id), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes every one of the signed-in person's links.
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

async fn api_school_feeds(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
) -> Result<Json<Vec<FeedLink>>, ApiError> {
    authorize(&actor, Action::ManageSchoolFeed { school })?;
    Ok(Json(
        state.store.feed_links_of(FeedOwner::School(school)).await?,
    ))
}

async fn api_revoke_school_feed_link(
    State(state): State<AppState>,
    actor: Actor,
    Path((school, id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    authorize(&actor, Action::ManageSchoolFeed { school })?;
    state
        .store
        .revoke_feed_link(FeedOwner::School(school), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn api_school_feed(
    State(state): State<AppState>,
    actor: Actor,
    Path(school): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<FeedLinks>), ApiError> {
    authorize(&actor, Action::ManageSchoolFeed { school })?;
    created_feed(&state, FeedOwner::School(school), &body).await
}

/// What a feed holds: its title, zone, sessions, and how they read.
struct Contents {
    name: String,
    tz: chrono_tz::Tz,
    sessions: Vec<Session>,
    reader: Reader,
    transp: Transp,
}

/// A feed's title, its sessions and how they read.
async fn feed_contents(state: &AppState, owner: FeedOwner, now: DateTime<Utc>) -> Result<Contents> {
    let (from, to) = window(now);
    let zone = |tz: &str| tz.parse().unwrap_or(chrono_tz::UTC);
    Ok(match owner {
        FeedOwner::User(user) => {
            let user = state.store.user(user).await?;
            let reader = reader_for(user.role, user.kind);
            let tz = match user.school_id {
                Some(school) => zone(&state.store.school(school).await?.time_zone),
                None => chrono_tz::UTC,
            };
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
            Contents {
                name: format!("Mentoring — {}", user.given_name),
                tz,
                sessions,
                reader,
                transp: Transp::Opaque,
            }
        }
        FeedOwner::School(school) => {
            let school = state.store.school(school).await?;
            let sessions = state.store.sessions_at_school(school.id, from, to).await?;
            Contents {
                name: format!("Mentoring — {}", school.name),
                tz: zone(&school.time_zone),
                sessions,
                reader: Reader::Staff,
                // Coordinators follow the school's sessions; they are not
                // in them, so their free time stays free.
                transp: Transp::Transparent,
            }
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
    let contents = feed_contents(&state, owner, now).await?;
    let sessions = &contents.sessions;
    let names = state.store.session_names(sessions).await?;
    // One event per series, with the same UID and SEQUENCE its invites
    // carry.
    let mut series: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut order: Vec<usize> = (0..sessions.len()).collect();
    order.sort_by_key(|&i| {
        (
            &sessions[i].series_uid,
            sessions[i].recurrence_at,
            sessions[i].id,
        )
    });
    for i in order {
        match series.last_mut() {
            Some((uid, members)) if *uid == sessions[i].series_uid => members.push(i),
            _ => series.push((&sessions[i].series_uid, vec![i])),
        }
    }
    let uids: Vec<String> = series.iter().map(|(u, _)| (*u).to_owned()).collect();
    let sequences = state.store.series_sequences(&uids).await?;
    let mut views: Vec<View<'_>> = series
        .iter()
        .map(|(uid, members)| View {
            uid,
            sequence: sequences.get(*uid).copied().unwrap_or(0),
            names: &names[members[0]],
            reader: contents.reader,
            tz: contents.tz,
            instances: members
                .iter()
                .map(|&i| Instance::from(&sessions[i]))
                .collect(),
            transp: contents.transp,
        })
        .collect();
    views.sort_by_key(|v| v.instances.first().map(|i| i.recurrence));
    // Stamped with the latest change, not the time of asking, so the same
    // sessions give the same bytes and a calendar's conditional request
    // can be answered 304.
    let changed = sessions
        .iter()
        .map(|s| s.updated_at)
        .max()
        .unwrap_or(chrono::DateTime::UNIX_EPOCH);
    let body = feed(
        &contents.name,
        contents.tz,
        &views,
        &state.settings.base_url(),
        changed,
    );
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
