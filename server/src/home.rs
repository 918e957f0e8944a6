//! Each role's home page: where a person lands after signing in.

use axum::extract::State;
use axum::response::Html;

use crate::auth::Actor;
use crate::auth::policy::{Action, allowed};
use crate::error::{PageError, Result};
use crate::people::accounts::{Role, StudentKind};
use crate::people::partnerships::PartnershipStatus;
use crate::state::{AppState, Routes};
use crate::web::{Nav, render};

pub fn routes(routes: Routes) -> Routes {
    routes.get("/home", home)
}

/// A partnership as a line on the home page.
pub struct PartnershipLine {
    pub id: uuid::Uuid,
    /// The other school's name.
    pub partner: String,
    /// Whether it is live.
    pub accepted: bool,
}

#[derive(askama::Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
    heading: String,
    school_name: Option<String>,
    mentors: usize,
    mentees: usize,
    staff: usize,
    /// Calls at the school today, for staff who may see them.
    calls_today: Option<usize>,
    schools: usize,
    partnerships: Vec<PartnershipLine>,
    student_kind: Option<&'static str>,
    year_group: Option<i32>,
    subjects: String,
    /// A student's next sessions, today's (with its Join button) first.
    next: Vec<crate::booking::listing::Row>,
    /// A student's unread messages, over all their threads.
    unread: Option<i64>,
    /// A mentor's newest volunteering certificate: its code and the date
    /// it was signed.
    certificate: Option<(String, String)>,
    /// For a safeguarding lead: held messages waiting, and new concerns.
    held: Option<usize>,
    new_concerns: Option<usize>,
    /// A student's record: where it is and what waits for them there.
    record: Option<crate::record::programme::StudentSummary>,
    /// For the mentee's school's staff: programmes with a review due.
    reviews_due: Option<usize>,
    /// Whether the school's report is theirs to read (a tile links it).
    reports: bool,
    /// For a coordinator: groups of schools waiting for their school's answer.
    group_invitations: usize,
    /// For a scheme lead: their group.
    group: Option<GroupLine>,
}

/// A scheme lead's group, as their home page shows it.
pub struct GroupLine {
    pub name: String,
    /// Member schools that agreed, by name.
    pub members: Vec<String>,
    /// Schools invited that have not answered yet.
    pub waiting: usize,
}

/// How many coming sessions a student's home page lists.
const NEXT_SESSIONS: usize = 3;

async fn home(State(state): State<AppState>, actor: Actor) -> Result<Html<String>, PageError> {
    let store = &state.store;
    let mut page = HomePage {
        nav: Nav::for_actor(&actor),
        heading: format!("Hello, {}", actor.user.given_name),
        school_name: None,
        mentors: 0,
        mentees: 0,
        staff: 0,
        calls_today: None,
        schools: 0,
        partnerships: Vec::new(),
        student_kind: actor.user.kind.map(StudentKind::as_str),
        year_group: actor.user.year_group,
        subjects: actor.user.subjects.join(", "),
        next: Vec::new(),
        unread: None,
        certificate: None,
        held: None,
        new_concerns: None,
        record: None,
        reviews_due: None,
        reports: false,
        group_invitations: 0,
        group: None,
    };
    if actor.role() == Role::SchemeLead
        && let Some(group) = actor.user.group_id
    {
        let view = crate::people::groups::view(store, &actor, group).await?;
        page.group = Some(GroupLine {
            name: view.group.name,
            members: view
                .schools
                .iter()
                .filter(|m| m.agreed_at.is_some())
                .map(|m| m.school.name.clone())
                .collect(),
            waiting: view
                .schools
                .iter()
                .filter(|m| m.agreed_at.is_none())
                .count(),
        });
    }
    if actor.role() == Role::Admin {
        page.schools = store.list_schools().await?.len();
    }
    if let Some(school_id) = actor.school_id() {
        page.school_name = Some(store.school(school_id).await?.name);
        // What the page shows is what the policy lets this person see;
        // `allowed` asks without logging a refusal for every student's visit.
        let may = |action| allowed(actor.role(), Some(school_id), action);
        if actor.role() == Role::Student {
            page.next = store.students_next(&actor.user, NEXT_SESSIONS).await?;
            // A call a teacher has ended is over: nothing to join.
            for row in &mut page.next {
                if state.hub.has_ended(row.session.id) {
                    row.can_join = false;
                    row.call_ended = true;
                }
            }
            let threads = crate::messaging::threads::threads_of(store, &actor).await?;
            page.unread = Some(threads.iter().map(|t| t.unread).sum());
            page.record = crate::record::programme::student_summary(store, &actor).await?;
            if actor.user.kind == Some(StudentKind::Mentor)
                && may(Action::ViewCertificates {
                    school: school_id,
                    own: true,
                })
            {
                page.certificate = store
                    .certificates_of(actor.user.id)
                    .await?
                    .into_iter()
                    .next()
                    .map(|c| {
                        let signed = crate::certificates::Printed::date_text(c.printed.signed_on);
                        (c.code.to_string(), signed)
                    });
            }
        }
        if may(Action::ViewStudents { school: school_id }) {
            let people = store.users_at_school(school_id, &Role::ALL).await?;
            page.mentors = people
                .iter()
                .filter(|u| u.kind == Some(StudentKind::Mentor))
                .count();
            page.mentees = people
                .iter()
                .filter(|u| u.kind == Some(StudentKind::Mentee))
                .count();
            page.staff = people.iter().filter(|u| u.role.is_school_staff()).count();
        }
        let deputy = crate::auth::policy::may_deputise(actor.role())
            && store.is_deputy(actor.user.id, school_id).await?;
        if deputy || may(Action::OverseeMessages { school: school_id }) {
            let pairs: Vec<uuid::Uuid> = crate::safeguarding::pairs_at(store, school_id)
                .await?
                .iter()
                .map(|p| p.id)
                .collect();
            page.held = Some(store.held_messages(&pairs).await?.len());
            page.new_concerns = Some(
                store
                    .concerns_about(&pairs)
                    .await?
                    .iter()
                    .filter(|c| c.state == crate::safeguarding::ConcernState::New.as_str())
                    .count(),
            );
        }
        if may(Action::ViewRecords { school: school_id }) {
            page.reviews_due = Some(crate::record::programme::reviews_due(store, school_id).await?);
        }
        page.reports = may(Action::ViewSchoolReport { school: school_id });
        if may(Action::JoinGroup { school: school_id }) {
            page.group_invitations = store
                .memberships_of_school(school_id)
                .await?
                .iter()
                .filter(|m| m.agreed_at.is_none())
                .count();
        }
        if may(Action::ViewTodaysCalls { school: school_id }) {
            page.calls_today = Some(store.todays_calls(school_id).await?.len());
        }
        if may(Action::ViewPartnerships { school: school_id }) {
            for p in store.partnerships_of(school_id).await? {
                page.partnerships.push(PartnershipLine {
                    id: p.id,
                    partner: store.school(p.partner_of(school_id)).await?.name,
                    accepted: p.status == PartnershipStatus::Accepted,
                });
            }
        }
    }
    Ok(Html(render(&page)))
}
