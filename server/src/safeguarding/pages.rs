//! The safeguarding lead's pages: held messages to decide, concerns to
//! handle, and one thread's full record, printable for a child-protection
//! file.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::http::{
    HeldView, concerns, held_queue, move_concern, overseen_school, parts_of, review,
};
use super::moderate::Finding;
use super::{Concern, ConcernMove, ConcernState, Decide, ReviewInput};
use crate::auth::Actor;
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::state::{AppState, Routes};
use crate::web::{Nav, after_form, render};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/safeguarding", queue_page)
        .post("/safeguarding/held/{message_id}", review_submit)
        .post("/safeguarding/concerns/{concern_id}", concern_submit)
        .get("/safeguarding/threads/{match_id}", record_page)
        .get("/safeguarding/search", search_page)
        .get("/safeguarding/reads", reads_page)
        .post("/safeguarding/deputies", deputy_submit)
        .post("/sessions/{session_id}/concerns", register_concern_submit)
        .get("/school/message-rules", rules_page)
        .post("/school/message-rules", rules_submit)
        .post("/school/message-rules/words", word_submit)
}

/// A concern as the page lists it.
struct ConcernLine {
    concern: Concern,
    reporter: String,
    when: String,
}

#[derive(askama::Template)]
#[template(path = "safeguarding.html")]
struct QueuePage {
    nav: Nav,
    held: Vec<HeldView>,
    concerns: Vec<ConcernLine>,
    error: Option<String>,
    /// For the lead: the deputies, and who could be named.
    deputies: Option<Vec<(Uuid, String)>>,
    candidates: Vec<(Uuid, String)>,
}

async fn show(state: &AppState, actor: &Actor, error: Option<String>) -> Result<QueuePage> {
    let held = held_queue(state, actor).await?;
    let mut lines = Vec::new();
    for concern in concerns(state, actor).await? {
        let reporter = state.store.user(concern.reporter_id).await?;
        lines.push(ConcernLine {
            reporter: format!("{} ({})", reporter.full_name(), reporter.role.label()),
            when: concern
                .created_at
                .format("%a %-d %b %Y, %H:%M UTC")
                .to_string(),
            concern,
        });
    }
    let (mut deputies, mut candidates) = (None, Vec::new());
    if let Some(school) = actor.school_id()
        && crate::auth::policy::allowed(
            actor.role(),
            Some(school),
            crate::auth::policy::Action::NameDeputies { school },
        )
    {
        let named = state.store.deputies(school).await?;
        let staff = state
            .store
            .users_at_school(
                school,
                &[
                    crate::people::accounts::Role::Teacher,
                    crate::people::accounts::Role::Coordinator,
                ],
            )
            .await?;
        deputies = Some(
            staff
                .iter()
                .filter(|u| named.contains(&u.id))
                .map(|u| (u.id, format!("{} ({})", u.full_name(), u.role.label())))
                .collect(),
        );
        candidates = staff
            .iter()
            .filter(|u| !named.contains(&u.id))
            .map(|u| (u.id, format!("{} ({})", u.full_name(), u.role.label())))
            .collect();
    }
    Ok(QueuePage {
        nav: Nav::for_actor(actor),
        held,
        concerns: lines,
        error,
        deputies,
        candidates,
    })
}

async fn queue_page(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Html<String>, PageError> {
    Ok(Html(render(&show(&state, &actor, None).await?)))
}

#[derive(Deserialize)]
struct ReviewForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

async fn review_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    PageForm(form): PageForm<ReviewForm>,
) -> Result<Response, PageError> {
    let result = async {
        let decision = match form.decision.as_str() {
            "release" => Decide::Release,
            "redact" => Decide::Redact,
            "reject" => Decide::Reject,
            _ => {
                return Err(Error::invalid(
                    "decision",
                    "choose release, redact or reject",
                ));
            }
        };
        review(
            &state,
            &actor,
            id,
            &ReviewInput {
                decision,
                note: form.note.clone(),
            },
        )
        .await
    }
    .await;
    after_form(result, "/safeguarding", |e| show(&state, &actor, Some(e))).await
}

#[derive(Deserialize)]
struct ConcernForm {
    #[serde(default)]
    state: String,
    #[serde(default)]
    outcome: String,
}

async fn concern_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<ConcernForm>,
) -> Result<Response, PageError> {
    let result = async {
        let to = match form.state.as_str() {
            "acknowledged" => ConcernState::Acknowledged,
            "closed" => ConcernState::Closed,
            _ => return Err(Error::invalid("state", "acknowledge or close the concern")),
        };
        move_concern(
            &state,
            &actor,
            id,
            &ConcernMove {
                state: to,
                outcome: form.outcome.clone(),
            },
        )
        .await
    }
    .await;
    after_form(result, "/safeguarding", |e| show(&state, &actor, Some(e))).await
}

/// One message in the full record.
struct RecordLine {
    who: String,
    when: String,
    status: String,
    category: Option<String>,
    parts: Vec<(String, bool)>,
    shown: Option<String>,
    in_call: bool,
    /// The safeguarding lead's decision, if it was held.
    decision: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "safeguarding_thread.html")]
struct RecordPage {
    nav: Nav,
    title: String,
    lines: Vec<RecordLine>,
    printed_at: String,
}

async fn record_page(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Html<String>, PageError> {
    overseen_school(&state, &actor).await?;
    let pair = state.store.pair(id).await?;
    // Opening is recorded by the thread's own rule, which also checks the
    // pair is one of this school's.
    let view = crate::messaging::threads::thread_view(&state.store, &actor, id).await?;
    let mentee = state.store.user(pair.mentee_id).await?;
    let mentor = state.store.user(pair.mentor_id).await?;
    let record = view.record.unwrap_or_default();
    let ids: Vec<i64> = record.iter().map(|m| m.id).collect();
    let reviews = state.store.reviews_of(&ids).await?;
    let mut lines = Vec::new();
    for m in record {
        let decision = match reviews.iter().find(|r| r.message_id == m.id) {
            Some(r) => {
                let by = state.store.user(r.by_user).await?.full_name();
                let note = if r.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", r.note)
                };
                Some(format!(
                    "{} by {by}, {}{note}",
                    r.decision,
                    r.at.format("%-d %b %Y %H:%M UTC")
                ))
            }
            None => None,
        };
        let findings: Vec<Finding> = serde_json::from_str(&m.findings).unwrap_or_default();
        let who = if m.sender_id == mentee.id {
            mentee.full_name()
        } else {
            mentor.full_name()
        };
        lines.push(RecordLine {
            who,
            when: m.sent_at.format("%a %-d %b %Y, %H:%M UTC").to_string(),
            status: m.status.to_string(),
            category: m.category.clone(),
            parts: parts_of(&m.text, &findings),
            shown: m.shown.clone().filter(|s| *s != m.text),
            in_call: m.session_id.is_some(),
            decision,
        });
    }
    Ok(Html(render(&RecordPage {
        nav: Nav::for_actor(&actor),
        title: format!(
            "{} (mentee) and {} (mentor)",
            mentee.full_name(),
            mentor.full_name()
        ),
        lines,
        printed_at: chrono::Utc::now()
            .format("%-d %B %Y, %H:%M UTC")
            .to_string(),
    })))
}

/// One category's row on the rules page.
struct CategoryRow {
    name: &'static str,
    label: &'static str,
    action: &'static str,
}

#[derive(askama::Template)]
#[template(path = "message_rules.html")]
struct RulesPage {
    nav: Nav,
    school: String,
    words: Vec<String>,
    categories: Vec<CategoryRow>,
    hours_from: String,
    hours_until: String,
    typed_word: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn show_rules(
    state: &AppState,
    actor: &Actor,
    typed_word: String,
    notice: Option<String>,
    error: Option<String>,
) -> Result<RulesPage> {
    let school = super::http::ruled_school(actor)?;
    let rules = state.store.school_rules(school).await?;
    Ok(RulesPage {
        nav: Nav::for_actor(actor),
        school: state.store.school(school).await?.name,
        words: state.store.school_words(school).await?,
        categories: super::moderate::Category::ALL
            .into_iter()
            .map(|c| CategoryRow {
                name: c.as_str(),
                label: c.label(),
                action: rules.policy.action(c).as_str(),
            })
            .collect(),
        hours_from: rules
            .hours
            .map(|h| h.0.format("%H:%M").to_string())
            .unwrap_or_default(),
        hours_until: rules
            .hours
            .map(|h| h.1.format("%H:%M").to_string())
            .unwrap_or_default(),
        typed_word,
        notice,
        error,
    })
}

async fn rules_page(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Html<String>, PageError> {
    Ok(Html(render(
        &show_rules(&state, &actor, String::new(), None, None).await?,
    )))
}

async fn rules_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let result = async {
        let school = super::http::ruled_school(&actor)?;
        let mut policy = super::moderate::Policy::default();
        for c in super::moderate::Category::ALL {
            let chosen = form.get(c.as_str()).map(String::as_str).unwrap_or_default();
            let action = chosen.parse().map_err(|_| {
                Error::invalid("policy", format!("choose what happens for {}", c.label()))
            })?;
            policy.set(c, action);
        }
        let hour = |k: &str| {
            form.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let input = super::store::RulesInput {
            policy,
            hours_from: hour("hours_from"),
            hours_until: hour("hours_until"),
        };
        state
            .store
            .set_school_rules(school, &input, actor.user.id)
            .await?;
        state.moderator.forget(school);
        Ok(())
    }
    .await;
    after_form(result, "/school/message-rules", |e| {
        show_rules(&state, &actor, String::new(), None, Some(e))
    })
    .await
}

#[derive(Deserialize)]
struct WordForm {
    #[serde(default)]
    word: String,
    /// `add` or `remove`.
    #[serde(default)]
    action: String,
}

async fn word_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<WordForm>,
) -> Result<Response, PageError> {
    let result = async {
        let school = super::http::ruled_school(&actor)?;
        if form.action == "remove" {
            if !state.store.remove_school_word(school, &form.word).await? {
                return Err(Error::invalid("word", "that word is not on the list"));
            }
        } else {
            state
                .store
                .add_school_word(school, &form.word, Some(actor.user.id))
                .await?;
        }
        state.moderator.forget(school);
        Ok(())
    }
    .await;
    after_form(result, "/school/message-rules", |e| {
        show_rules(&state, &actor, form.word.clone(), None, Some(e))
    })
    .await
}

/// A found message, as the search lists it.
struct Found {
    match_id: Uuid,
    who: String,
    when: String,
    status: String,
    category: Option<String>,
    parts: Vec<(String, bool)>,
}

#[derive(askama::Template)]
#[template(path = "safeguarding_search.html")]
struct SearchPage {
    nav: Nav,
    /// Each pupil: id, name, chosen.
    pupils: Vec<(Uuid, String, bool)>,
    query: super::http::SearchQuery,
    categories: Vec<(&'static str, &'static str)>,
    found: Vec<Found>,
}

async fn search_page(
    State(state): State<AppState>,
    actor: Actor,
    axum::extract::Query(query): axum::extract::Query<super::http::SearchQuery>,
) -> Result<Html<String>, PageError> {
    let school = overseen_school(&state, &actor).await?;
    let mut pupils = Vec::new();
    for pair in super::pairs_at(&state.store, school).await? {
        for id in [pair.mentee_id, pair.mentor_id] {
            if !pupils.iter().any(|(p, _)| *p == id) {
                let user = state.store.user(id).await?;
                pupils.push((id, user.full_name()));
            }
        }
    }
    pupils.sort_by(|a, b| a.1.cmp(&b.1));
    let mut found = Vec::new();
    for m in super::http::search(&state, &actor, &query).await? {
        let findings: Vec<Finding> = serde_json::from_str(&m.findings).unwrap_or_default();
        found.push(Found {
            match_id: m.match_id,
            who: pupils
                .iter()
                .find(|(p, _)| *p == m.sender_id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            when: m.sent_at.format("%a %-d %b %Y, %H:%M UTC").to_string(),
            status: m.status.to_string(),
            category: m.category.clone(),
            parts: parts_of(&m.text, &findings),
        });
    }
    Ok(Html(render(&SearchPage {
        nav: Nav::for_actor(&actor),
        pupils: pupils
            .into_iter()
            .map(|(id, name)| (id, name, query.pupil == Some(id)))
            .collect(),
        query,
        categories: super::moderate::Category::ALL
            .into_iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        found,
    })))
}

#[derive(Deserialize)]
struct DeputyForm {
    #[serde(default)]
    user_id: String,
    /// `add` or `remove`.
    #[serde(default)]
    action: String,
}

async fn deputy_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<DeputyForm>,
) -> Result<Response, PageError> {
    let result = async {
        let user: Uuid = form
            .user_id
            .parse()
            .map_err(|_| Error::invalid("user_id", "choose a member of staff"))?;
        if form.action == "remove" {
            let school = actor.school_id().ok_or(Error::Forbidden)?;
            crate::auth::policy::authorize(
                &actor,
                crate::auth::policy::Action::NameDeputies { school },
            )?;
            state.store.remove_deputy(school, user).await?;
            Ok(())
        } else {
            super::http::name_deputy(&state, &actor, user).await
        }
    }
    .await;
    after_form(result, "/safeguarding#deputies", |e| {
        show(&state, &actor, Some(e))
    })
    .await
}

#[derive(Deserialize)]
struct RegisterConcernForm {
    #[serde(default)]
    text: String,
}

/// A supervisor's concern from *Today's calls* (the register); back to the
/// register, which says it was sent.
async fn register_concern_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(session): Path<Uuid>,
    PageForm(form): PageForm<RegisterConcernForm>,
) -> Result<Response, PageError> {
    let input = super::ConcernInput { text: form.text };
    super::http::concern_from_call(&state, &actor, session, &input).await?;
    Ok(axum::response::Redirect::to("/sessions/today?concern=sent").into_response())
}

/// One line of the record of staff reads.
struct ReadLine {
    who: String,
    what: &'static str,
    link: Option<String>,
    when: String,
}

#[derive(askama::Template)]
#[template(path = "safeguarding_reads.html")]
struct ReadsPage {
    nav: Nav,
    reads: Vec<ReadLine>,
}

/// Who of the school's staff opened which thread, held message or
/// concern, and when (the newest 500).
async fn reads_page(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Html<String>, PageError> {
    let school = overseen_school(&state, &actor).await?;
    let mut names: std::collections::HashMap<Uuid, String> = std::collections::HashMap::new();
    let mut reads = Vec::new();
    for r in state.store.staff_reads(school).await? {
        if let std::collections::hash_map::Entry::Vacant(place) = names.entry(r.user_id) {
            let user = state.store.user(r.user_id).await?;
            place.insert(format!("{} ({})", user.full_name(), user.role.label()));
        }
        let (what, link) = match r.kind.as_str() {
            "thread" => (
                "a conversation",
                Some(format!("/safeguarding/threads/{}", r.target)),
            ),
            "message" => ("a held message", None),
            _ => ("a concern", None),
        };
        reads.push(ReadLine {
            who: names.get(&r.user_id).cloned().unwrap_or_default(),
            what,
            link,
            when: r.at.format("%a %-d %b %Y, %H:%M UTC").to_string(),
        });
    }
    Ok(Html(render(&ReadsPage {
        nav: Nav::for_actor(&actor),
        reads,
    })))
}
