//! Safeguarding's JSON API, and the steps its pages share: the review
//! queue and its decisions, concerns, the school's word list and rules,
//! searching pupils' messages, and the record of staff reads. Every route
//! is for the signed-in member of staff's own school.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::moderate::{Category, Finding, redact};
use super::pairs_at;
use super::store::RulesInput;
use super::{Concern, ConcernMove, Decide, ReadKind, Review, ReviewInput, StaffRead};
use crate::auth::Actor;
use crate::auth::policy::{Action, allowed, authorize, may_deputise};
use crate::error::{ApiError, Error, Result};
use crate::extract::ApiJson;
use crate::messaging::Message;
use crate::messaging::store::Search;
use crate::state::{AppState, Routes};

pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/api/safeguarding/held", api_held)
        .post("/api/safeguarding/held/{message_id}", api_review)
        .get("/api/safeguarding/concerns", api_concerns)
        .post("/api/safeguarding/concerns/{concern_id}", api_move_concern)
        .get("/api/safeguarding/messages", api_search)
        .get("/api/safeguarding/reads", api_reads)
        .get("/api/safeguarding/words", api_words)
        .post("/api/safeguarding/words", api_add_word)
        .delete("/api/safeguarding/words/{word}", api_remove_word)
        .get("/api/safeguarding/rules", api_rules)
        .put("/api/safeguarding/rules", api_set_rules)
        .post("/api/sessions/{session_id}/concerns", api_call_concern)
        .get("/api/safeguarding/deputies", api_deputies)
        .post("/api/safeguarding/deputies", api_name_deputy)
        .delete("/api/safeguarding/deputies/{user_id}", api_remove_deputy)
}

/// The actor's school, once the policy lets them oversee its messages: its
/// safeguarding lead, or a deputy the lead named.
pub async fn overseen_school(state: &AppState, actor: &Actor) -> Result<Uuid> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    if allowed(
        actor.role(),
        Some(school),
        Action::OverseeMessages { school },
    ) {
        return Ok(school);
    }
    if may_deputise(actor.role()) && state.store.is_deputy(actor.user.id, school).await? {
        return Ok(school);
    }
    authorize(actor, Action::OverseeMessages { school })?;
    Ok(school)
}

/// A held message as its reviewer sees it: the text in parts, each marked
/// found or not, so the matched words stand out.
#[derive(Debug, Serialize)]
pub struct HeldView {
    pub message: Message,
    pub category: Option<String>,
    pub category_label: Option<&'static str>,
    pub parts: Vec<(String, bool)>,
    /// The sender's first name and school.
    pub from: String,
    /// Whether this reviewer decides (the sender's school's lead), or
    /// only sees (the other school's).
    pub decides: bool,
}

/// `text` cut at the findings, each part marked found or not.
pub fn parts_of(text: &str, findings: &[Finding]) -> Vec<(String, bool)> {
    let mut parts: Vec<(String, bool)> = Vec::new();
    for (at, c) in text.char_indices() {
        let found = findings.iter().any(|f| f.range().contains(&at));
        match parts.last_mut() {
            Some((part, f)) if *f == found => part.push(c),
            _ => parts.push((c.to_string(), found)),
        }
    }
    parts
}

fn findings_of(message: &Message) -> Vec<Finding> {
    serde_json::from_str(&message.findings).unwrap_or_default()
}

/// The held messages about `school`'s pupils, oldest first. Opening the
/// queue records a read of each message shown.
pub async fn held_queue(state: &AppState, actor: &Actor) -> Result<Vec<HeldView>> {
    let school = overseen_school(state, actor).await?;
    let pairs: Vec<Uuid> = pairs_at(&state.store, school)
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    let mut views = Vec::new();
    for message in state.store.held_messages(&pairs).await? {
        let sender = state.store.user(message.sender_id).await?;
        let school_name = match sender.school_id {
            Some(s) => state.store.school(s).await?.name,
            None => String::new(),
        };
        state
            .store
            .record_read(
                actor.user.id,
                Some(school),
                ReadKind::Message,
                &message.id.to_string(),
            )
            .await?;
        let category = message.category.clone();
        views.push(HeldView {
            parts: parts_of(&message.text, &findings_of(&message)),
            category_label: category
                .as_deref()
                .and_then(|c| c.parse::<Category>().ok())
                .map(Category::label),
            category,
            from: format!("{} ({school_name})", sender.given_name),
            decides: sender.school_id == Some(school),
            message,
        });
    }
    Ok(views)
}

/// Decides held message `id`: only a safeguarding lead of the sender's
/// school decides; a rejection needs a note.
pub async fn review(state: &AppState, actor: &Actor, id: i64, input: &ReviewInput) -> Result<()> {
    let school = overseen_school(state, actor).await?;
    let message = state.store.message(id).await?;
    let sender = state.store.user(message.sender_id).await?;
    if sender.school_id != Some(school) {
        return Err(Error::Forbidden);
    }
    let note = input.note.trim();
    if note.chars().count() > 1000 {
        return Err(Error::invalid("note", "at most 1,000 characters"));
    }
    let shown = match input.decision {
        Decide::Release => Some(message.text.clone()),
        Decide::Redact => Some(redact(&message.text, &findings_of(&message))),
        Decide::Reject => {
            if note.is_empty() {
                return Err(Error::invalid(
                    "note",
                    "say why the message is not delivered",
                ));
            }
            None
        }
    };
    state
        .store
        .review_message(id, input.decision, shown.as_deref(), note, actor.user.id)
        .await
}

/// The concerns about `school`'s pupils, newest first.
pub async fn concerns(state: &AppState, actor: &Actor) -> Result<Vec<Concern>> {
    let school = overseen_school(state, actor).await?;
    let pairs: Vec<Uuid> = pairs_at(&state.store, school)
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    let found = state.store.concerns_about(&pairs).await?;
    for c in &found {
        state
            .store
            .record_read(
                actor.user.id,
                Some(school),
                ReadKind::Concern,
                &c.id.to_string(),
            )
            .await?;
    }
    Ok(found)
}

/// Moves a concern about one of `school`'s pupils on.
pub async fn move_concern(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    to: &ConcernMove,
) -> Result<Concern> {
    let school = overseen_school(state, actor).await?;
    let concern = state.store.concern(id).await?;
    let ours = pairs_at(&state.store, school)
        .await?
        .iter()
        .any(|p| p.id == concern.match_id);
    if !ours {
        return Err(Error::Forbidden);
    }
    state.store.move_concern(id, to, actor.user.id).await
}

async fn api_held(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<HeldView>>, ApiError> {
    Ok(Json(held_queue(&state, &actor).await?))
}

#[derive(Debug, Serialize)]
struct Decided {
    message: Message,
    reviews: Vec<Review>,
}

async fn api_review(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<Decided>, ApiError> {
    review(&state, &actor, id, &input).await?;
    Ok(Json(Decided {
        message: state.store.message(id).await?,
        reviews: state.store.reviews_of(&[id]).await?,
    }))
}

async fn api_concerns(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<Concern>>, ApiError> {
    Ok(Json(concerns(&state, &actor).await?))
}

async fn api_move_concern(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(to): ApiJson<ConcernMove>,
) -> Result<Json<Concern>, ApiError> {
    Ok(Json(move_concern(&state, &actor, id, &to).await?))
}

/// A search of pupils' messages. An empty field (the search form's
/// "Anyone") is no filter.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    /// A pupil's id.
    #[serde(default, deserialize_with = "empty_is_none")]
    pub pupil: Option<Uuid>,
    /// First day, `YYYY-MM-DD` (UTC).
    #[serde(default, deserialize_with = "empty_is_none")]
    pub from: Option<NaiveDate>,
    /// Last day, inclusive.
    #[serde(default, deserialize_with = "empty_is_none")]
    pub to: Option<NaiveDate>,
    #[serde(default, deserialize_with = "empty_is_none")]
    pub category: Option<Category>,
}

fn empty_is_none<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    use serde::de::Error as _;
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t.parse().map(Some).map_err(D::Error::custom),
    }
}

/// The messages of `actor`'s school's pupils that match `query`.
pub async fn search(state: &AppState, actor: &Actor, query: &SearchQuery) -> Result<Vec<Message>> {
    let school = overseen_school(state, actor).await?;
    let pairs: Vec<Uuid> = pairs_at(&state.store, school)
        .await?
        .iter()
        .filter(|p| query.pupil.is_none_or(|u| p.has(u)))
        .map(|p| p.id)
        .collect();
    let day =
        |d: NaiveDate| -> DateTime<Utc> { d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() };
    let search = Search {
        from: query.from.map(day),
        until: query.to.map(|d| day(d) + chrono::Duration::days(1)),
        category: query.category.map(|c| c.as_str().to_owned()),
        flagged_only: false,
    };
    for id in &pairs {
        state
            .store
            .record_read(
                actor.user.id,
                Some(school),
                ReadKind::Thread,
                &id.to_string(),
            )
            .await?;
    }
    state.store.search_messages(&pairs, &search).await
}

async fn api_search(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<Message>>, ApiError> {
    Ok(Json(search(&state, &actor, &query).await?))
}

async fn api_reads(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<StaffRead>>, ApiError> {
    let school = overseen_school(&state, &actor).await?;
    Ok(Json(state.store.staff_reads(school).await?))
}

/// The actor's school, once the policy lets them keep its list and rules.
pub fn ruled_school(actor: &Actor) -> Result<Uuid> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::ManageMessageRules { school })?;
    Ok(school)
}

async fn api_words(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<String>>, ApiError> {
    let school = ruled_school(&actor)?;
    Ok(Json(state.store.school_words(school).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WordInput {
    word: String,
}

async fn api_add_word(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<WordInput>,
) -> Result<(StatusCode, Json<Vec<String>>), ApiError> {
    let school = ruled_school(&actor)?;
    state
        .store
        .add_school_word(school, &input.word, Some(actor.user.id))
        .await?;
    state.moderator.forget(school);
    Ok((
        StatusCode::CREATED,
        Json(state.store.school_words(school).await?),
    ))
}

async fn api_remove_word(
    State(state): State<AppState>,
    actor: Actor,
    Path(word): Path<String>,
) -> Result<Json<Vec<String>>, ApiError> {
    let school = ruled_school(&actor)?;
    if !state.store.remove_school_word(school, &word).await? {
        return Err(Error::NotFound("word").into());
    }
    state.moderator.forget(school);
    Ok(Json(state.store.school_words(school).await?))
}

async fn api_rules(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<RulesInput>, ApiError> {
    let school = ruled_school(&actor)?;
    let rules = state.store.school_rules(school).await?;
    Ok(Json(RulesInput {
        policy: rules.policy,
        hours_from: rules.hours.map(|h| h.0.format("%H:%M").to_string()),
        hours_until: rules.hours.map(|h| h.1.format("%H:%M").to_string()),
    }))
}

async fn api_set_rules(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<RulesInput>,
) -> Result<Json<RulesInput>, ApiError> {
    let school = ruled_school(&actor)?;
    state
        .store
        .set_school_rules(school, &input, actor.user.id)
        .await?;
    state.moderator.forget(school);
    Ok(Json(input))
}

/// Raises a concern from a call: anyone the policy seats in it (the pair,
/// its supervisors, the schools' safeguarding leads).
pub async fn concern_from_call(
    state: &AppState,
    actor: &Actor,
    session: Uuid,
    input: &super::ConcernInput,
) -> Result<Concern> {
    let session = state.store.session(session).await?;
    crate::attendance::call_role(&state.store, &actor.user, &session).await?;
    let pair = state.store.pair(session.match_id).await?;
    super::raise_concern(&state.store, actor.user.id, &pair, Some(session.id), input).await
}

async fn api_call_concern(
    State(state): State<AppState>,
    actor: Actor,
    Path(session): Path<Uuid>,
    ApiJson(input): ApiJson<super::ConcernInput>,
) -> Result<(StatusCode, Json<Concern>), ApiError> {
    let concern = concern_from_call(&state, &actor, session, &input).await?;
    Ok((StatusCode::CREATED, Json(concern)))
}

/// Names `user` a deputy of the lead's school: a teacher or coordinator
/// there.
pub async fn name_deputy(state: &AppState, actor: &Actor, user: Uuid) -> Result<()> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(actor, Action::NameDeputies { school })?;
    let who = state.store.user(user).await?;
    if who.school_id != Some(school) || !may_deputise(who.role) {
        return Err(Error::invalid(
            "user_id",
            "a deputy is a teacher or coordinator of your own school",
        ));
    }
    state.store.name_deputy(school, user, actor.user.id).await?;
    Ok(())
}

async fn api_deputies(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Vec<Uuid>>, ApiError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::NameDeputies { school })?;
    Ok(Json(state.store.deputies(school).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeputyInput {
    user_id: Uuid,
}

async fn api_name_deputy(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<DeputyInput>,
) -> Result<(StatusCode, Json<Vec<Uuid>>), ApiError> {
    name_deputy(&state, &actor, input.user_id).await?;
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.deputies(school).await?),
    ))
}

async fn api_remove_deputy(
    State(state): State<AppState>,
    actor: Actor,
    Path(user): Path<Uuid>,
) -> Result<Json<Vec<Uuid>>, ApiError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::NameDeputies { school })?;
    if !state.store.remove_deputy(school, user).await? {
        return Err(Error::NotFound("deputy").into());
    }
    Ok(Json(state.store.deputies(school).await?))
}
