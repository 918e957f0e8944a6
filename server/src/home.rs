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
    /// For a coordinator: what waits for them, each with its page. `None`
    /// for everyone else; empty when nothing does.
    todo: Option<Vec<Todo>>,
}

/// One thing a coordinator has to do, as a line of their home page's list.
pub struct Todo {
    /// What to do, in words ("Countersign 2 referrals").
    pub text: String,
    /// Where it is done.
    pub href: String,
    /// A stable id for the line, for tests and links.
    pub key: String,
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
        todo: None,
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
    if actor.role() == Role::Coordinator
        && let Some(school) = actor.school_id()
    {
        page.todo = Some(
            coordinator_todo(&state, &actor, school, &page.partnerships, page.reviews_due).await?,
        );
    }
    Ok(Html(render(&page)))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What waits for a coordinator, in the order the scheme runs: the
/// school's iPads, each partnership's periods, referrals to countersign,
/// mentors to clear, proposals to approve, reviews due.
async fn coordinator_todo(
    state: &AppState,
    actor: &Actor,
    school: uuid::Uuid,
    partnerships: &[PartnershipLine],
    reviews_due: Option<usize>,
) -> Result<Vec<Todo>> {
    let store = &state.store;
    let mut todo = Vec::new();
    if store.school_capacity(school).await?.is_empty() {
        todo.push(Todo {
            text: "Say how many iPads and which supervisors your school has for mentoring".into(),
            href: "/school/calendar#capacity".into(),
            key: "capacity".into(),
        });
    }
    // The lines the page lists already name each partner.
    for p in partnerships.iter().filter(|p| p.accepted) {
        let partner = &p.partner;
        let share = store
            .slot_policy(p.id)
            .await?
            .and_then(|policy| policy.schools.get(&school).cloned())
            .unwrap_or_default();
        if share.kinds.is_empty() && share.codes.is_empty() {
            todo.push(Todo {
                text: format!("Choose your periods for the partnership with {partner}"),
                href: format!("/partnerships/{}/slots#share", p.id),
                key: format!("periods-{}", p.id),
            });
        }
        if let Some(proposal) = store.latest_proposal(p.id).await?
            && proposal.status == crate::matching::ProposalStatus::Open
            && !proposal.approved_by_school(school)
            && !proposal.body.matches.is_empty()
        {
            todo.push(Todo {
                text: format!(
                    "Approve {} proposed with {partner}",
                    plural(proposal.body.matches.len(), "pair", "pairs")
                ),
                href: format!("/partnerships/{}/matching", p.id),
                key: format!("approve-{}", p.id),
            });
        }
    }
    let waiting = store
        .referrals_at(school)
        .await?
        .iter()
        .filter(|r| r.status == crate::people::referrals::ReferralStatus::Submitted)
        .filter(|r| r.referred_by != actor.user.id)
        .count();
    if waiting > 0 {
        todo.push(Todo {
            text: format!("Countersign {}", plural(waiting, "referral", "referrals")),
            href: "/school/referrals".into(),
            key: "countersign".into(),
        });
    }
    let to_clear = store
        .mentor_profiles(school)
        .await?
        .iter()
        .filter(|m| m.cleared_by.is_none() && m.training_course.is_some())
        .count();
    if to_clear > 0 {
        todo.push(Todo {
            text: format!(
                "Clear {} for mentoring (trained, not yet cleared)",
                plural(to_clear, "mentor", "mentors")
            ),
            href: "/school/mentors".into(),
            key: "clear".into(),
        });
    }
    if let Some(n) = reviews_due.filter(|n| *n > 0) {
        todo.push(Todo {
            text: format!(
                "Hold {} that {} due",
                plural(n, "review", "reviews"),
                if n == 1 { "is" } else { "are" }
            ),
            href: "/records".into(),
            key: "reviews".into(),
        });
    }
    Ok(todo)
}
