//! The sessions page: "my sessions" for students, the school's sessions for
//! staff (by day, partnership and supervisor), with moving and cancelling for the
//! partnership's coordinators and teachers, and a calendar subscription.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::http::{FeedOwner, NameCache, base_url, feed_links, session_to_change};
use super::{Session, SessionStatus};
use crate::auth::Actor;
use crate::auth::policy::{Action, authorize};
use crate::calendar::store::partnership_slots;
use crate::error::{Error, PageError, Result};
use crate::extract::PageForm;
use crate::people::accounts::Role;
use crate::state::{AppState, Routes};
use crate::web::{Nav, after_form, notice_text, render};

/// The session page routes.
pub fn page_routes(routes: Routes) -> Routes {
    routes
        .get("/sessions", sessions_page)
        .post("/sessions/feed", feed_submit)
        .post("/sessions/school-feed", school_feed_submit)
        .post("/sessions/email", email_submit)
        .post("/sessions/{session_id}/cancel", cancel_submit)
        .post("/sessions/{session_id}/move", move_submit)
}

/// A slot a session could move to.
pub struct MoveOption {
    /// Its start (the form's value).
    pub starts_at: String,
    /// In the viewer's local time.
    pub label: String,
}

/// A session as a row on the page.
pub struct Row {
    /// The session.
    pub session: Session,
    /// The day at the viewer's school.
    pub date: NaiveDate,
    /// "Tue 1 Dec".
    pub day: String,
    /// "08:40–09:00" at the viewer's school.
    pub time: String,
    /// Who, in first names and schools.
    pub who: String,
    /// Whether the viewer may move or cancel it.
    pub can_change: bool,
    /// Where it could move to.
    pub moves: Vec<MoveOption>,
    /// Who supervises it at the viewer's school (staff only).
    pub supervisor: Option<String>,
    /// Today, and the viewer is in it (booked or supervising): a Join link.
    pub can_join: bool,
}

impl Row {
    /// The status in words.
    pub fn status_word(&self) -> &'static str {
        match self.session.status {
            SessionStatus::Scheduled => "booked",
            SessionStatus::Moved => "moved",
            SessionStatus::Cancelled => "cancelled",
            SessionStatus::Completed => "done",
            SessionStatus::Missed => "missed",
        }
    }

    /// Whether it still takes place.
    pub fn is_live(&self) -> bool {
        self.session.status.is_live()
    }
}

/// How a school's emailed invites stand, for its coordinators.
pub struct InviteSummary {
    /// Accepted by the mail server.
    pub sent: usize,
    /// Waiting for a first try or a retry.
    pub pending: usize,
    /// Refused, or given up.
    pub failed: usize,
    /// The failed ones: who, about which session, and what the server said.
    pub problems: Vec<(String, String, String)>,
}

/// A partnership to filter by.
pub struct PartnerChoice {
    /// The partnership.
    pub id: Uuid,
    /// The other school's name.
    pub name: String,
}

#[derive(askama::Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    nav: Nav,
    staff: bool,
    rows: Vec<Row>,
    partners: Vec<PartnerChoice>,
    supervisors: Vec<PartnerChoice>,
    day: String,
    partnership: String,
    supervisor: String,
    feed: Option<(String, String)>,
    school_feed: Option<(String, String)>,
    can_school_feed: bool,
    /// The viewer's invite address (staff).
    email: Option<String>,
    invites: Option<InviteSummary>,
    mail_configured: bool,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// The page's filters.
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

fn local_of(session: &Session, slug: &str) -> Option<(NaiveDate, String)> {
    let end = session.local.get(slug)?;
    Some((
        end.date,
        format!("{}–{}", end.start.format("%H:%M"), end.end.format("%H:%M")),
    ))
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
    let own = state.store.school(school).await?;
    let staff = actor.role() != Role::Student;
    let day = filter.day.trim().parse::<NaiveDate>().ok();
    let (from, to): (DateTime<Utc>, DateTime<Utc>) = match day {
        Some(d) => {
            let start = d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            (start - Duration::hours(14), start + Duration::hours(38))
        }
        None => (
            Utc::now() - Duration::hours(2),
            Utc::now() + Duration::days(28),
        ),
    };
    let mut sessions = if staff {
        authorize(actor, Action::ViewSessions { school })?;
        state.store.sessions_at_school(school, from, to).await?
    } else {
        state
            .store
            .sessions_of_student(actor.user.id, from, to)
            .await?
    };
    let wanted: Option<Uuid> = filter.partnership.trim().parse().ok();
    if let Some(p) = wanted {
        sessions.retain(|s| s.partnership_id == p);
    }
    if let Some(d) = day {
        sessions.retain(|s| local_of(s, &own.slug).is_some_and(|(date, _)| date == d));
    }
    // The school's own staff who supervise any of these sessions: the
    // choices of the supervisor filter, and the names on each row.
    let own_staff = if staff {
        state
            .store
            .users_at_school(
                school,
                &[Role::Coordinator, Role::Teacher, Role::SafeguardingLead],
            )
            .await?
    } else {
        Vec::new()
    };
    let supervisors: Vec<PartnerChoice> = own_staff
        .iter()
        .filter(|u| sessions.iter().any(|s| s.supervisors.contains(&u.id)))
        .map(|u| PartnerChoice {
            id: u.id,
            name: u.full_name(),
        })
        .collect();
    if let Ok(who) = filter.supervisor.trim().parse::<Uuid>() {
        sessions.retain(|s| s.supervisors.contains(&who));
    }

    // The partner schools: the staff's partnership filter, and their slugs
    // for the move menus (a student's page has neither).
    let mut partners = Vec::new();
    let mut partners_slugs = vec![(school, own.slug.clone())];
    let partnerships = if staff {
        state.store.partnerships_of(school).await?
    } else {
        Vec::new()
    };
    for p in partnerships {
        let partner = state.store.school(p.partner_of(school)).await?;
        partners_slugs.push((partner.id, partner.slug));
        partners.push(PartnerChoice {
            id: p.id,
            name: partner.name,
        });
    }
    // Each partnership's next four weeks of slots, for the move menus.
    let mut slots_of: BTreeMap<Uuid, Vec<crate::calendar::align::Slot>> = BTreeMap::new();
    let today = own.today()?;
    if staff {
        let ids: std::collections::BTreeSet<Uuid> =
            sessions.iter().map(|s| s.partnership_id).collect();
        for id in ids {
            let partnership = state.store.partnership(id).await?;
            let found = partnership_slots(
                &state.store,
                &partnership,
                today,
                today + Duration::days(27),
            )
            .await
            .map(|p| p.alignment.slots)
            .unwrap_or_default();
            slots_of.insert(id, found);
        }
    }
    let mut cache = NameCache::default();
    let mut rows = Vec::with_capacity(sessions.len());
    for session in sessions {
        let partnership = state.store.partnership(session.partnership_id).await?;
        let can_change = staff
            && session.status.is_live()
            && authorize(
                actor,
                Action::ManageSession {
                    partnership: &partnership,
                },
            )
            .is_ok();
        let mut moves = Vec::new();
        if can_change {
            // Only slots both students can make, by the optimiser's rules.
            let mentor = state.store.user(session.mentor_id).await?;
            let mentee = state.store.user(session.mentee_id).await?;
            let free = state.store.mentor_profile(mentor.id).await?.free_periods;
            let slug_of = |id: Option<Uuid>| {
                partners_slugs
                    .iter()
                    .find(|(school, _)| Some(*school) == id)
                    .map(|(_, slug)| slug.as_str())
            };
            for slot in slots_of.get(&partnership.id).into_iter().flatten() {
                if slot.start_utc <= Utc::now()
                    || slot.start_utc == session.starts_at
                    || super::slot_fits(
                        &free,
                        slug_of(mentor.school_id),
                        slug_of(mentee.school_id),
                        slot,
                    )
                    .is_some()
                {
                    continue;
                }
                if let Some(end) = slot.schools.get(&own.slug) {
                    moves.push(MoveOption {
                        starts_at: slot.start_utc.to_rfc3339(),
                        label: format!(
                            "{} {} ({})",
                            end.date.format("%a %-d %b"),
                            end.start.format("%H:%M"),
                            end.period
                        ),
                    });
                }
            }
        }
        let names = cache.names(&state.store, &session).await?;
        let (date, time) = local_of(&session, &own.slug).unwrap_or_else(|| {
            (
                session.starts_at.date_naive(),
                format!("{} UTC", session.starts_at.format("%H:%M")),
            )
        });
        let who = match (actor.role(), actor.user.id) {
            (Role::Student, id) if id == session.mentee_id => {
                format!("with {} ({})", names.mentor, names.mentor_school)
            }
            (Role::Student, _) => format!("with {} ({})", names.mentee, names.mentee_school),
            _ => format!(
                "{} ({}) with {} ({})",
                names.mentee, names.mentee_school, names.mentor, names.mentor_school
            ),
        };
        let supervisor = own_staff
            .iter()
            .find(|u| session.supervisors.contains(&u.id))
            .map(|u| u.full_name());
        let can_join = session.status.is_live()
            && date == today
            && crate::attendance::call_role(&state.store, &actor.user, &session)
                .await
                .is_ok();
        rows.push(Row {
            can_join,
            supervisor,
            date,
            day: day_label(date),
            time,
            who,
            can_change,
            moves,
            session,
        });
    }
    Ok(SessionsPage {
        nav: Nav::for_actor(actor),
        staff,
        rows,
        partners,
        supervisors,
        day: filter.day.trim().to_owned(),
        partnership: filter.partnership.trim().to_owned(),
        supervisor: filter.supervisor.trim().to_owned(),
        feed,
        school_feed: None,
        can_school_feed: authorize(actor, Action::ManageSchoolFeed { school }).is_ok(),
        email: actor.user.email.clone(),
        invites: invite_summary(state, actor, school).await?,
        mail_configured: state.settings.mail.is_some(),
        notice,
        error,
    })
}

/// The school's invites over the last weeks, for a coordinator.
async fn invite_summary(
    state: &AppState,
    actor: &Actor,
    school: Uuid,
) -> Result<Option<InviteSummary>> {
    use crate::invites::outbox::MailStatus;
    if authorize(actor, Action::ViewInvites { school }).is_err() {
        return Ok(None);
    }
    let mail = state.store.school_mail(school, 500).await?;
    let count = |status: MailStatus| mail.iter().filter(|m| m.status == status).count();
    let problems = mail
        .iter()
        .filter(|m| m.status == MailStatus::Failed)
        .take(20)
        .map(|m| {
            let when = m
                .snapshot
                .session
                .local
                .get(&m.snapshot.school_slug)
                .map(|e| format!("{} {}", e.date.format("%a %-d %b"), e.start.format("%H:%M")))
                .unwrap_or_default();
            (
                m.recipient_email.clone(),
                when,
                m.last_error.clone().unwrap_or_default(),
            )
        })
        .collect();
    Ok(Some(InviteSummary {
        sent: count(MailStatus::Sent),
        pending: count(MailStatus::Pending),
        failed: count(MailStatus::Failed),
        problems,
    }))
}

async fn school_feed_submit(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
) -> Result<Html<String>, PageError> {
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    authorize(&actor, Action::ManageSchoolFeed { school })?;
    let token = state.store.new_feed(FeedOwner::School(school)).await?;
    let links = feed_links(&base_url(&state, &headers), &token);
    let mut page = show(
        &state,
        &actor,
        &Filter::default(),
        None,
        Some("The school's calendar link is ready. Any earlier school link no longer works."),
        None,
    )
    .await?;
    page.school_feed = Some((links.webcal, links.url));
    Ok(Html(render(&page)))
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
    let filter = Filter::default();
    after_form(result, "/sessions?notice=email", |error| {
        show(&state, &actor, &filter, None, None, Some(error))
    })
    .await
}

/// A student's coming sessions (today's first), as the Sessions page
/// shows them, but "Today" and "Tomorrow" where they are: the home page
/// lists the next few with a Join button.
pub async fn students_next(state: &AppState, actor: &Actor, count: usize) -> Result<Vec<Row>> {
    let page = show(state, actor, &Filter::default(), None, None, None).await?;
    let school = actor.school_id().ok_or(Error::Forbidden)?;
    let today = state.store.school(school).await?.today()?;
    let mut rows: Vec<Row> = page
        .rows
        .into_iter()
        .filter(|row| row.is_live() && row.session.ends_at > Utc::now())
        .take(count)
        .collect();
    for row in &mut rows {
        if row.date == today {
            row.day = "Today".into();
        } else if row.date == today + Duration::days(1) {
            row.day = "Tomorrow".into();
        }
    }
    Ok(rows)
}

/// A day as rows show it: "Tue 1 Dec".
fn day_label(date: NaiveDate) -> String {
    date.format("%a %-d %b").to_string()
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
    headers: HeaderMap,
) -> Result<Html<String>, PageError> {
    authorize(&actor, Action::OwnCalendar)?;
    let token = state.store.new_feed(FeedOwner::User(actor.user.id)).await?;
    let links = feed_links(&base_url(&state, &headers), &token);
    // The link is shown once, on this page; only its hash is kept.
    Ok(Html(render(
        &show(
            &state,
            &actor,
            &Filter::default(),
            Some((links.webcal, links.url)),
            Some("Your calendar link is ready. Any earlier link no longer works."),
            None,
        )
        .await?,
    )))
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
    let filter = Filter::default();
    after_form(result, "/sessions?notice=session_cancelled", |error| {
        show(&state, &actor, &filter, None, None, Some(error))
    })
    .await
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
    let filter = Filter::default();
    after_form(result, "/sessions?notice=session_moved", |error| {
        show(&state, &actor, &filter, None, None, Some(error))
    })
    .await
}
