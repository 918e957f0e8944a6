//! Messaging's JSON API, and the steps its pages share: opening a thread
//! as the policy allows ([`open_thread`]), sending a message through
//! moderation ([`send`]), and raising a concern from a thread.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Entry, Message, NewMessage, Status, WHO_CAN_READ};
use crate::auth::Actor;
use crate::auth::policy::{ThreadAccess, thread_access};
use crate::error::{ApiError, Error, Result};
use crate::extract::ApiJson;
use crate::matching::Pair;
use crate::safeguarding::moderate::Action;
use crate::safeguarding::{ConcernInput, HELD_NOTE, ReadKind};
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/threads", api_threads)
        .get("/api/threads/{match_id}", api_thread)
        .post("/api/threads/{match_id}/messages", api_send)
        .post("/api/threads/{match_id}/concerns", api_concern)
}

/// A thread opened by someone the policy lets in.
pub struct OpenThread {
    pub pair: Pair,
    pub access: ThreadAccess,
    /// The mentee's and the mentor's schools.
    pub schools: [Option<Uuid>; 2],
}

/// Opens thread `id` for `actor`, or `Forbidden`. A safeguarding lead's
/// opening is recorded.
pub async fn open_thread(state: &AppState, actor: &Actor, id: Uuid) -> Result<OpenThread> {
    let pair = state.store.pair(id).await?;
    let schools = [
        state.store.user(pair.mentee_id).await?.school_id,
        state.store.user(pair.mentor_id).await?.school_id,
    ];
    let access = thread_access(
        actor.user.id,
        actor.role(),
        actor.school_id(),
        &pair,
        schools,
    )
    .ok_or_else(|| {
        tracing::info!(user = %actor.user.id, thread = %id, "denied a thread");
        Error::Forbidden
    })?;
    if access == ThreadAccess::Oversee {
        state
            .store
            .record_read(
                actor.user.id,
                actor.school_id(),
                ReadKind::Thread,
                &id.to_string(),
            )
            .await?;
    }
    Ok(OpenThread {
        pair,
        access,
        schools,
    })
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
    let thread = open_thread(state, actor, id).await?;
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
    state.moderator.allow(actor.user.id, std::time::Instant::now()).map_err(|e| match e {
        Error::RateLimited { retry_after_secs } => Error::invalid(
            "text",
            format!("You're sending messages very fast. Wait {retry_after_secs} seconds, then try again."),
        ),
        other => other,
    })?;
    let now = Utc::now();
    let decision = state
        .moderator
        .decide(&state.store, text, from, to, now)
        .await?
        .map_err(|why| Error::invalid("text", why.to_string()))?;
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

/// A thread as one of its students sees it.
#[derive(Debug, Serialize)]
pub struct ThreadView {
    pub match_id: Uuid,
    /// Whether new messages can be sent.
    pub open: bool,
    pub who_can_read: &'static str,
    pub entries: Vec<Entry>,
    /// Everything, for a safeguarding lead (held and blocked too).
    pub record: Option<Vec<Message>>,
}

/// The thread for `actor`, marked read up to its newest message.
pub async fn thread_view(state: &AppState, actor: &Actor, id: Uuid) -> Result<ThreadView> {
    let thread = open_thread(state, actor, id).await?;
    let messages = state.store.thread_messages(id).await?;
    let now = Utc::now();
    if thread.access == ThreadAccess::Oversee {
        return Ok(ThreadView {
            match_id: id,
            open: thread.pair.open,
            who_can_read: WHO_CAN_READ,
            entries: Vec::new(),
            record: Some(messages),
        });
    }
    let entries: Vec<Entry> = messages
        .iter()
        .filter_map(|m| Entry::for_reader(m, actor.user.id, now))
        .collect();
    if let Some(last) = entries.iter().filter(|e| !e.mine).map(|e| e.id).max() {
        state.store.mark_read(id, actor.user.id, last).await?;
    }
    Ok(ThreadView {
        match_id: id,
        open: thread.pair.open,
        who_can_read: WHO_CAN_READ,
        entries,
        record: None,
    })
}

/// One of a student's threads, for their list and home page.
#[derive(Debug, Serialize)]
pub struct ThreadLine {
    pub match_id: Uuid,
    /// The other student's first name and school.
    pub with: String,
    pub open: bool,
    pub unread: i64,
}

/// `actor`'s threads (students only; staff have none of their own).
pub async fn threads_of(state: &AppState, actor: &Actor) -> Result<Vec<ThreadLine>> {
    let now = Utc::now();
    let mut lines = Vec::new();
    for pair in state.store.pairs_of(actor.user.id).await? {
        let other = state.store.user(pair.other(actor.user.id)).await?;
        let school = match other.school_id {
            Some(s) => state.store.school(s).await?.name,
            None => String::new(),
        };
        lines.push(ThreadLine {
            match_id: pair.id,
            with: format!("{} ({school})", other.given_name),
            open: pair.open,
            unread: state.store.unread_in(pair.id, actor.user.id, now).await?,
        });
    }
    Ok(lines)
}

/// Raises a concern from a thread (a student of the pair).
pub async fn concern_from_thread(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &ConcernInput,
) -> Result<crate::safeguarding::Concern> {
    let thread = open_thread(state, actor, id).await?;
    if thread.access == ThreadAccess::Oversee {
        return Err(Error::Forbidden);
    }
    let text = input.checked_text()?;
    state
        .store
        .raise_concern(actor.user.id, id, input.session_id, &text)
        .await
}

async fn api_threads(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<ThreadLine>>, ApiError> {
    if actor.role() != crate::people::accounts::Role::Student {
        return Err(Error::Forbidden.into());
    }
    Ok(Json(threads_of(&state, &actor).await?))
}

async fn api_thread(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<ThreadView>, ApiError> {
    Ok(Json(thread_view(&state, &actor, id).await?))
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
