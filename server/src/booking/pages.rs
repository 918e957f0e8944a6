//! The sessions page: "my sessions" for students, the school's sessions for
//! staff (by day, partnership and supervisor), with moving and cancelling for the
//! partnership's coordinators and teachers, and a calendar subscription.
//! Its coordinators also undo cancellations here: restoring a cancelled
//! session, and booking again the pairs left with nothing booked.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::http::{partnership_to_restore, session_to_change, session_to_restore};
use super::listing::{Choice, PageFilter, Row};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::invites::feeds::{FeedLink, FeedOwner, feed_links};
use crate::invites::outbox::InviteSummary;
use crate::people::accounts::Role;
use crate::people::partnerships::Partnership;
use crate::state::{AppState, Routes};
use crate::web::{Nav, after_form, notice_text, render};

pub fn page_routes(routes: Routes) -> Routes {
    routes
        .get("/sessions", sessions_page)
        .post("/sessions/feed", feed_submit)
        .post("/sessions/school-feed", school_feed_submit)
        .post("/sessions/feeds/{feed_id}/revoke", feed_revoke_submit)
        .post(
            "/sessions/school-feeds/{feed_id}/revoke",
            school_feed_revoke_submit,
        )
        .post("/sessions/email", email_submit)
        .post("/sessions/digest", digest_submit)
        .post("/sessions/{session_id}/cancel", cancel_submit)
        .post("/sessions/{session_id}/move", move_submit)
        .post("/sessions/{session_id}/restore", restore_submit)
        .post("/sessions/book-again", book_again_submit)
}

/// A partnership's pairs left with nothing booked ahead, for "Book again".
pub struct UnbookedGroup {
    pub partnership_id: Uuid,
    /// The other school's name.
    pub partner: String,
    pub pairs: Vec<crate::booking::store::Unbooked>,
}

#[derive(askama::Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    nav: Nav,
    staff: bool,
    rows: Vec<Row>,
    partners: Vec<Choice>,
    supervisors: Vec<Choice>,
    day: String,
    partnership: String,
    supervisor: String,
    feed: Option<(String, String)>,
    school_feed: Option<(String, String)>,
    can_school_feed: bool,
    /// The viewer's live calendar links, and their school's.
    my_links: Vec<FeedLink>,
    school_links: Vec<FeedLink>,
    /// A new link's name as typed, kept when it was refused.
    feed_name: String,
    school_feed_name: String,
    /// The name of the link just made (shown once).
    made_name: String,
    /// The viewer's invite address (staff).
    email: Option<String>,
    /// Whether the viewer gets the daily digest (coordinators only).
    digest: Option<bool>,
    invites: Option<InviteSummary>,
    mail_configured: bool,
    /// Pairs the viewer may book again, by partnership.
    unbooked: Vec<UnbookedGroup>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Filter {
    #[serde(default)]
    day: String,
    #[serde(default)]
    partnership: String,
    #[serde(default)]
    supervisor: String,
    #[serde(default)]
    notice: Option<String>,
}

/// The page's filters as the query string gives them; an unreadable value
/// filters nothing.
fn page_filter(filter: &Filter) -> PageFilter {
    PageFilter {
        day: filter.day.trim().parse().ok(),
        partnership: filter.partnership.trim().parse().ok(),
        supervisor: filter.supervisor.trim().parse().ok(),
    }
}

async fn show(
    state: &AppState,
    actor: &Actor,
    filter: &Filter,
    feed: Option<(String, String)>,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<SessionsPage> {
    authorize(actor, Action::OwnCalendar)?;
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    let staff = actor.role() != Role::Student;
    if staff {
        authorize(actor, Action::ViewSessions { school })?;
    }
    let may_change = |partnership: &Partnership| {
        staff && authorize(actor, Action::ManageSession { partnership }).is_ok()
    };
    let mut listing = state
        .store
        .sessions_page(&actor.user, &page_filter(filter), may_change)
        .await?;
    // A call a teacher has ended is over: nothing to join.
    for row in &mut listing.rows {
        if row.can_join && state.hub.has_ended(row.session.id) {
            row.can_join = false;
            row.call_ended = true;
        }
    }
    // The partnerships whose cancellations the viewer may undo.
    let mut restorable = Vec::new();
    if staff {
        for p in state.store.partnerships_of(school).await? {
            if authorize(actor, Action::RestoreSessions { partnership: &p }).is_ok() {
                restorable.push(p);
            }
        }
    }
    let now = Utc::now();
    for row in &mut listing.rows {
        row.can_restore = row.session.status == super::SessionStatus::Cancelled
            && row.session.starts_at > now
            && restorable
                .iter()
                .any(|p| p.id == row.session.partnership_id);
    }
    let mut unbooked = Vec::new();
    for p in &restorable {
        let pairs = state.store.unbooked_pairs(p.id).await?;
        if !pairs.is_empty() {
            unbooked.push(UnbookedGroup {
                partnership_id: p.id,
                partner: state.store.school(p.partner_of(school)).await?.name,
                pairs,
            });
        }
    }
    let invites = if authorize(actor, Action::ViewInvites { school }).is_ok() {
        Some(state.store.invite_summary(school).await?)
    } else {
        None
    };
    Ok(SessionsPage {
        nav: Nav::for_actor(actor),
        staff,
        rows: listing.rows,
        partners: listing.partners,
        supervisors: listing.supervisors,
        day: filter.day.trim().to_owned(),
        partnership: filter.partnership.trim().to_owned(),
        supervisor: filter.supervisor.trim().to_owned(),
        feed,
        school_feed: None,
        can_school_feed: authorize(actor, Action::ManageSchoolFeed { school }).is_ok(),
        my_links: state
            .store
            .feed_links_of(FeedOwner::User(actor.user.id))
            .await?,
        school_links: if authorize(actor, Action::ManageSchoolFeed { school }).is_ok() {
            state.store.feed_links_of(FeedOwner::School(school)).await?
        } else {
            Vec::new()
        },
        feed_name: String::new(),
        school_feed_name: String::new(),
        made_name: String::new(),
        email: actor.user.email.clone(),
        digest: match authorize(actor, Action::OwnInviteDigest) {
            Ok(()) => Some(state.store.wants_digest(actor.user.id).await?),
            Err(_) => None,
        },
        invites,
        mail_configured: state.settings.mail.is_some(),
        unbooked,
        notice,
        error,
    })
}

#[derive(Default, Deserialize)]
struct FeedForm {
    #[serde(default)]
    name: String,
}

/// Makes a named calendar link for the viewer (or their school) and shows
/// it once; a refusal (a name already used) keeps the name typed.
async fn make_feed(
    state: &AppState,
    actor: &Actor,
    owner: FeedOwner,
    name: &str,
) -> Result<Html<String>, PageError> {
    let school_link = matches!(owner, FeedOwner::School(_));
    match state.store.new_feed(owner, name).await {
        Ok((id, token, label)) => {
            let links = feed_links(&state.settings.base_url(), id, &label, &token);
            let mut page = show(
                state,
                actor,
                &Filter::default(),
                None,
                Some("The calendar link is ready. Your other links keep working."),
                None,
            )
            .await?;
            // The link is shown once, on this page; only its hash is kept.
            page.made_name = links.name.clone();
            if school_link {
                page.school_feed = Some((links.webcal, links.url));
            } else {
                page.feed = Some((links.webcal, links.url));
            }
            Ok(Html(render(&page)))
        }
        Err(e @ (Error::Conflict { .. } | Error::Invalid { .. })) => {
            let mut page = show(
                state,
                actor,
                &Filter::default(),
                None,
                None,
                Some(e.public_message()),
            )
            .await?;
            if school_link {
                page.school_feed_name = name.to_owned();
            } else {
                page.feed_name = name.to_owned();
            }
            Ok(Html(render(&page)))
        }
        Err(e) => Err(e.into()),
    }
}

async fn school_feed_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<FeedForm>,
) -> Result<Html<String>, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::ManageSchoolFeed { school })?;
    make_feed(&state, &actor, FeedOwner::School(school), &form.name).await
}

async fn feed_revoke_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let result = async {
        authorize(&actor, Action::OwnCalendar)?;
        state
            .store
            .revoke_feed_link(FeedOwner::User(actor.user.id), id)
            .await
    }
    .await;
    back_to_sessions(&state, &actor, result, "revoked").await
}

async fn school_feed_revoke_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let result = async {
        let school = actor.school_id().ok_or(Error::Forbidden)?;
        authorize(&actor, Action::ManageSchoolFeed { school })?;
        state
            .store
            .revoke_feed_link(FeedOwner::School(school), id)
            .await
    }
    .await;
    back_to_sessions(&state, &actor, result, "revoked").await
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn email_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<EmailForm>,
) -> Result<Response, PageError> {
    let result = async {
        authorize(&actor, Action::OwnInviteAddress)?;
        let email = crate::people::accounts::parse_email(&form.email)?;
        state.store.set_email(actor.user.id, email.as_deref()).await
    }
    .await;
    back_to_sessions(&state, &actor, result, "email").await
}

#[derive(Deserialize)]
struct DigestForm {
    #[serde(default)]
    daily: Option<String>,
}

async fn digest_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<DigestForm>,
) -> Result<Response, PageError> {
    let result = async {
        authorize(&actor, Action::OwnInviteDigest)?;
        state
            .store
            .set_digest(actor.user.id, form.daily.is_some())
            .await
    }
    .await;
    back_to_sessions(&state, &actor, result, "digest").await
}

/// After a form on the Sessions page: back to the page with `notice` when
/// it went through, or the page again with the refusal said on it.
async fn back_to_sessions<T>(
    state: &AppState,
    actor: &Actor,
    result: Result<T>,
    notice: &str,
) -> Result<Response, PageError> {
    let filter = Filter::default();
    after_form(result, &format!("/sessions?notice={notice}"), |error| {
        show(state, actor, &filter, None, None, Some(error))
    })
    .await
}

async fn sessions_page(
    State(state): State<AppState>,
    actor: Actor,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, PageError> {
    let notice = notice_text(filter.notice.as_deref());
    Ok(Html(render(
        &show(&state, &actor, &filter, None, notice, None).await?,
    )))
}

async fn feed_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<FeedForm>,
) -> Result<Html<String>, PageError> {
    authorize(&actor, Action::OwnCalendar)?;
    make_feed(&state, &actor, FeedOwner::User(actor.user.id), &form.name).await
}

#[derive(Deserialize)]
struct CancelForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    rest_of_series: Option<String>,
}

async fn cancel_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<CancelForm>,
) -> Result<Response, PageError> {
    let session = session_to_change(&state, &actor, id).await?;
    let result = if form.rest_of_series.is_some() {
        state
            .store
            .cancel_series(&session, &form.reason)
            .await
            .map(|_| ())
    } else {
        state
            .store
            .cancel_session(&session, &form.reason)
            .await
            .map(|_| ())
    };
    back_to_sessions(&state, &actor, result, "session_cancelled").await
}

#[derive(Deserialize)]
struct MoveForm {
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    rest_of_series: Option<String>,
}

async fn move_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    PageForm(form): PageForm<MoveForm>,
) -> Result<Response, PageError> {
    let session = session_to_change(&state, &actor, id).await?;
    let result = async {
        let to: DateTime<Utc> = form
            .starts_at
            .trim()
            .parse()
            .map_err(|_| Error::invalid("starts_at", "choose a slot to move it to"))?;
        if form.rest_of_series.is_some() {
            state
                .store
                .move_series(&session, to, &form.reason)
                .await
                .map(|_| ())
        } else {
            state
                .store
                .move_session(&session, to, &form.reason)
                .await
                .map(|_| ())
        }
    }
    .await;
    back_to_sessions(&state, &actor, result, "session_moved").await
}

async fn restore_submit(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let session = session_to_restore(&state, &actor, id).await?;
    let result = state.store.restore_session(&session).await;
    back_to_sessions(&state, &actor, result, "session_restored").await
}

#[derive(Deserialize)]
struct BookAgainForm {
    #[serde(default)]
    partnership_id: String,
    /// One pair's match; every pair left with nothing booked when empty.
    #[serde(default)]
    match_id: String,
}

async fn book_again_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<BookAgainForm>,
) -> Result<Response, PageError> {
    let id: Uuid = form
        .partnership_id
        .trim()
        .parse()
        .map_err(|_| Error::invalid("partnership_id", "choose a partnership"))?;
    let partnership = partnership_to_restore(&state, &actor, id).await?;
    let result = async {
        match form.match_id.trim() {
            "" => Ok(state
                .store
                .book_again_all(&partnership)
                .await?
                .into_iter()
                .map(|(_, report)| report)
                .collect::<Vec<_>>()),
            raw => {
                let match_id: Uuid = raw
                    .parse()
                    .map_err(|_| Error::invalid("match_id", "choose a pair"))?;
                let record = state
                    .store
                    .approved_match_of(partnership.id, match_id)
                    .await?;
                Ok(vec![state.store.book_again(&record).await?])
            }
        }
    }
    .await;
    let filter = Filter::default();
    // What could not be booked is worth saying on the page, not lost in a
    // redirect.
    if let Ok(reports) = &result {
        let skipped: Vec<&str> = reports
            .iter()
            .flat_map(|r| r.skipped.iter().map(String::as_str))
            .collect();
        if !skipped.is_empty() {
            let booked: usize = reports.iter().map(|r| r.booked.len()).sum();
            let error = format!(
                "{booked} session{} booked; not booked: {}",
                if booked == 1 { "" } else { "s" },
                skipped.join("; ")
            );
            let page = show(&state, &actor, &filter, None, None, Some(error)).await?;
            return Ok(Html(render(&page)).into_response());
        }
    }
    after_form(result, "/sessions?notice=booked_again", |error| {
        show(&state, &actor, &filter, None, None, Some(error))
    })
    .await
}
