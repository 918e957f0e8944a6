//! Messaging's JSON API, and the steps its pages share: opening a thread
//! as the policy allows ([`open_thread`]), sending a message through
//! moderation ([`send`]), and raising a concern from a thread.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::threads::{OpenThread, ThreadLine, ThreadView, open_thread, thread_view, threads_of};
use super::{Entry, NewMessage, Status};
use crate::auth::Actor;
use crate::auth::policy::ThreadAccess;
use crate::error::{ApiError, Error, Result};
use crate::extract::ApiJson;
use crate::safeguarding::moderate::Action;
use crate::safeguarding::{ConcernInput, HELD_NOTE};
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/threads", api_threads)
        .get("/api/threads/{match_id}", api_thread)
        .post("/api/threads/{match_id}/messages", api_send)
        .post("/api/threads/{match_id}/concerns", api_concern)
}

/// What became of a message, for its sender.
#[derive(Debug, Serialize)]
pub struct Sent {
    pub entry: Entry,
    /// What the sender is told, if anything more than "sent".
    pub notice: Option<String>,
    /// Blocked: why, in a 12-year-old's words.
    pub blocked: Option<String>,
}

/// Sends `text` to the thread as `actor`: moderated, kept whatever the
/// verdict, delivered only if it passes and inside the recipient school's
/// hours.
pub async fn send(state: &AppState, actor: &Actor, id: Uuid, text: &str) -> Result<Sent> {
    let thread = open_thread(&state.store, actor, id).await?;
    match thread.access {
        ThreadAccess::Write => {}
        ThreadAccess::Read => {
            return Err(Error::conflict(
                "text",
                "this mentoring has ended, so no new messages can be sent; the messages are kept",
            ));
        }
        ThreadAccess::Oversee => return Err(Error::Forbidden),
    }
    let (Some(from), Some(to)) = (actor.school_id(), recipient_school(&thread, actor.user.id))
    else {
        return Err(Error::Forbidden);
    };
    let now = Utc::now();
    let decision = state
        .moderator
        .decide(&state.store, text, from, to, now)
        .await?
        .map_err(|why| Error::invalid("text", why.to_string()))?;
    // Counted once it could be sent: a refused empty message costs nothing.
    state
        .moderator
        .allow(actor.user.id, std::time::Instant::now())
        .map_err(|e| match e {
            Error::RateLimited { retry_after_secs } => Error::invalid(
                "text",
                format!(
                    "You're sending messages very fast. Wait {retry_after_secs} seconds, then try again."
                ),
            ),
            other => other,
        })?;
    let (status, notice, blocked) = match decision.verdict.action {
        Action::Deliver => {
            let later = decision.visible_from > now;
            let notice = later.then(|| {
                format!(
                    "It's outside messaging hours, so your message will be delivered when they open ({}).",
                    decision.visible_from.format("%a %-d %b %H:%M UTC")
                )
            });
            (Status::Delivered, notice, None)
        }
        Action::Hold => (Status::Held, Some(HELD_NOTE.to_owned()), None),
        Action::Block => (
            Status::Blocked,
            None,
            decision
                .verdict
                .category
                .map(|c| c.told_to_sender().to_owned()),
        ),
    };
    let findings = serde_json::to_string(&decision.checked.findings)
        .map_err(|e| Error::internal_from("message findings", e))?;
    let message = state
        .store
        .post_message(&NewMessage {
            match_id: id,
            sender_id: actor.user.id,
            session_id: None,
            text: &decision.checked.text,
            status,
            category: decision.verdict.category.map(|c| c.as_str()),
            findings,
            sent_at: now,
            visible_at: (status == Status::Delivered).then_some(decision.visible_from),
        })
        .await?;
    if status == Status::Held {
        crate::safeguarding::alert(&state.store, from).await?;
    }
    let entry = Entry::for_reader(&message, actor.user.id, now)
        .ok_or_else(|| Error::internal("a sender sees their own message"))?;
    Ok(Sent {
        entry,
        notice,
        blocked,
    })
}

/// The school of the other student in the thread.
fn recipient_school(thread: &OpenThread, sender: Uuid) -> Option<Uuid> {
    if sender == thread.pair.mentee_id {
        thread.schools[1]
    } else {
        thread.schools[0]
    }
}

/// Raises a concern from a thread (a student of the pair).
pub async fn concern_from_thread(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &ConcernInput,
) -> Result<crate::safeguarding::Concern> {
    let thread = open_thread(&state.store, actor, id).await?;
    if thread.access == ThreadAccess::Oversee {
        return Err(Error::Forbidden);
    }
    crate::safeguarding::raise_concern(&state.store, actor.user.id, &thread.pair, None, input).await
}

async fn api_threads(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<ThreadLine>>, ApiError> {
    if actor.role() != crate::people::accounts::Role::Student {
        return Err(Error::Forbidden.into());
    }
    Ok(Json(threads_of(&state.store, &actor).await?))
}

async fn api_thread(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<ThreadView>, ApiError> {
    Ok(Json(thread_view(&state.store, &actor, id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendInput {
    text: String,
}

async fn api_send(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<SendInput>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let sent = send(&state, &actor, id, &input.text).await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

async fn api_concern(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<ConcernInput>,
) -> Result<(StatusCode, Json<crate::safeguarding::Concern>), ApiError> {
    let concern = concern_from_thread(&state, &actor, id, &input).await?;
    Ok((StatusCode::CREATED, Json(concern)))
}
