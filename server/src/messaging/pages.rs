//! The thread pages: a student's threads, and one thread with its box to
//! write in and its "I'm worried about something" button.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::Entry;
use super::http::{concern_from_thread, send};
use super::threads::{ThreadLine, ThreadView, thread_view, threads_of};
use crate::auth::Actor;
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::safeguarding::ConcernInput;
use crate::state::{AppState, Routes};
use crate::web::{Nav, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/messages", threads_page)
        .get("/messages/{match_id}", thread_page)
        .post("/messages/{match_id}", send_submit)
        .post("/messages/{match_id}/worried", worried_submit)
}

#[derive(askama::Template)]
#[template(path = "threads.html")]
struct ThreadsPage {
    nav: Nav,
    threads: Vec<ThreadLine>,
}

async fn threads_page(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Html<String>, PageError> {
    if actor.role() != crate::people::accounts::Role::Student {
        return Err(Error::Forbidden.into());
    }
    let threads = threads_of(&state.store, &actor).await?;
    Ok(Html(render(&ThreadsPage {
        nav: Nav::for_actor(&actor),
        threads,
    })))
}

/// A message as the page shows it.
struct Line {
    entry: Entry,
    who: String,
    when: String,
}

#[derive(askama::Template)]
#[template(path = "thread.html")]
struct ThreadPage {
    nav: Nav,
    match_id: Uuid,
    with: String,
    open: bool,
    who_can_read: &'static str,
    lines: Vec<Line>,
    /// What was typed, kept when it could not be sent.
    typed: String,
    notice: Option<String>,
    error: Option<String>,
    worried: bool,
}

/// The page for a thread as `view` shows it to `actor`.
fn page_of(
    actor: &Actor,
    view: ThreadView,
    typed: String,
    notice: Option<String>,
    error: Option<String>,
) -> ThreadPage {
    let (other_name, school) = view.with.unwrap_or_default();
    let lines = view
        .entries
        .into_iter()
        .map(|entry| Line {
            who: if entry.mine {
                "You".to_owned()
            } else {
                other_name.clone()
            },
            when: entry.at.format("%a %-d %b, %H:%M").to_string(),
            entry,
        })
        .collect();
    ThreadPage {
        nav: Nav::for_actor(actor),
        match_id: view.match_id,
        with: format!("{other_name} ({school})"),
        open: view.open,
        who_can_read: view.who_can_read,
        lines,
        typed,
        notice,
        error,
        worried: false,
    }
}

/// The thread page, read afresh.
async fn show(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    typed: String,
    notice: Option<String>,
    error: Option<String>,
) -> Result<ThreadPage> {
    let view = thread_view(&state.store, actor, id).await?;
    Ok(page_of(actor, view, typed, notice, error))
}

async fn thread_page(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let view = thread_view(&state.store, &actor, id).await?;
    if view.record.is_some() {
        // A safeguarding lead reads the full record on their own page.
        return Ok(Redirect::to(&format!("/safeguarding/threads/{id}")).into_response());
    }
    let page = page_of(&actor, view, String::new(), None, None);
    Ok(Html(render(&page)).into_response())
}

#[derive(Deserialize)]
struct SendForm {
    #[serde(default)]
    text: String,
}

async fn send_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<SendForm>,
) -> Result<Response, PageError> {
    match send(&state, &actor, id, &form.text).await {
        Ok(sent) if sent.blocked.is_none() && sent.notice.is_none() => {
            Ok(Redirect::to(&format!("/messages/{id}#latest")).into_response())
        }
        Ok(sent) => {
            // Blocked: what was typed stays in the box to change.
            let typed = if sent.blocked.is_some() {
                form.text.clone()
            } else {
                String::new()
            };
            let page = show(&state, &actor, id, typed, sent.notice, sent.blocked).await?;
            Ok(Html(render(&page)).into_response())
        }
        Err(err @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let status = err.status();
            let message = match &err {
                Error::Invalid { message, .. } | Error::Conflict { message, .. } => message.clone(),
                _ => err.to_string(),
            };
            let page = show(&state, &actor, id, form.text.clone(), None, Some(message)).await?;
            Ok((status, Html(render(&page))).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct WorriedForm {
    #[serde(default)]
    text: String,
}

async fn worried_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<WorriedForm>,
) -> Result<Response, PageError> {
    let input = ConcernInput { text: form.text };
    concern_from_thread(&state, &actor, id, &input).await?;
    let mut page = show(
        &state,
        &actor,
        id,
        String::new(),
        Some("Thank you for telling us. A safeguarding lead at your school will look at this and talk to you.".to_owned()),
        None,
    )
    .await?;
    page.worried = true;
    Ok(Html(render(&page)).into_response())
}
