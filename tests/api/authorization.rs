//! The authorization matrix: every route, as every kind of caller.
//!
//! Each route in `mentorbridge::app::route_table()` must have a row here that
//! lists who may use it. Those callers must succeed (2xx, or a redirect that
//! is not to sign-in); everyone else must be turned away (401, 403, or a
//! redirect to sign-in). A route added without a row fails
//! `every_route_is_in_the_matrix`.

use std::collections::BTreeSet;

use mentorbridge::app::route_table;
use mentorbridge::calendar::ClosureInput;
use mentorbridge::calendar::store::add_closure;
use mentorbridge_tests::{Client, PASSWORD, Reply, TestApp, World, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod booking;
mod certificates;
mod messaging;
mod people;
mod record;
mod reports;
mod websocket;

use websocket::upgrade;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Admin,
    CoordA,
    TeacherA,
    DslA,
    MentorA,
    CoordB,
    MenteeB,
    CoordC,
    /// The scheme lead of a group that schools A, B and C are invited to
    /// and A has agreed to join: a row that does not name them proves they
    /// cannot reach it, pupil-level routes above all.
    SchemeLead,
}

use Who::*;

const EVERYONE: &[Who] = &[
    Anonymous, Admin, CoordA, TeacherA, DslA, MentorA, CoordB, MenteeB, CoordC, SchemeLead,
];
const SIGNED_IN: &[Who] = &[
    Admin, CoordA, TeacherA, DslA, MentorA, CoordB, MenteeB, CoordC, SchemeLead,
];

/// The scheme lead's username (made in [`set_up`]).
const SCHEME_LEAD: &str = "lead.group";
/// Staff of any school acting on their own school.
const ANY_STAFF: &[Who] = &[CoordA, TeacherA, DslA, CoordB, CoordC];
const ANY_COORDINATOR: &[Who] = &[CoordA, CoordB, CoordC];
/// Staff of school A acting on school A.
const STAFF_OF_A: &[Who] = &[CoordA, TeacherA, DslA];
/// Everyone who belongs to a school.
const WITH_A_SCHOOL: &[Who] = &[CoordA, TeacherA, DslA, MentorA, CoordB, MenteeB, CoordC];
/// Staff of the partnership A–B.
const PARTNERSHIP_STAFF: &[Who] = &[CoordA, TeacherA, DslA, CoordB];

enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
    /// A file sent as the request body.
    Raw(&'static str, &'static str),
    /// A file uploaded through a page's form.
    File(&'static str, &'static str),
    /// A file uploaded through a page's form, in a field of another name.
    Files(&'static str, &'static str, &'static str),
    /// A websocket upgrade, carrying the caller's cookie.
    Upgrade,
}

const ROSTER_CSV: &str = "student_ref,given_name,family_name,year_group,role,subjects,username\nR-1,Kit,Lane,8,mentee,Maths,\n";

/// Long enough that uploading it leaves the booked series whole for the
/// rows that later cancel and move its sessions.
const TERMS_CSV: &str = "start_date,end_date,kind,label\n2026-09-02,2030-07-19,term,Long term\n";
/// The bells the schools already have (registration every weekday), so
/// that uploading them cancels none of the booked series.
const BELLS_CSV: &str = "week,day,period,start,end,kind\n*,Mon,REG,08:40,09:00,registration\n*,Tue,REG,08:40,09:00,registration\n*,Wed,REG,08:40,09:00,registration\n*,Thu,REG,08:40,09:00,registration\n*,Fri,REG,08:40,09:00,registration\n";
/// The same policy as `TestApp::matching_policy`, so that either
/// coordinator may send it (neither changes the other school's share).
const POLICY_TOML: &str = "session_minutes = 20\n[schools.school-a]\nkinds = [\"registration\"]\n[schools.school-b]\nkinds = [\"registration\"]\n";

#[derive(Clone, Copy)]
struct Row {
    method: &'static str,
    path: &'static str,
    allowed: &'static [Who],
    /// A well-formed request body, so that an allowed caller succeeds.
    body: fn(n: usize) -> Body,
}

/// What some rows need made fresh for each request, so that an allowed
/// caller really succeeds rather than meeting a conflict left by the last one.
enum Fresh {
    /// A school `fresh-{n}` to propose a partnership to.
    School,
    /// A partnership proposed to school B by a new school, for `{partnership_id}`.
    Proposal,
    /// A closure at school A, for `{entry_id}`.
    Closure,
    /// A declaration of iPads from a date of its own, for `{from}`: at
    /// school A, or on a page at the caller's own school.
    Capacity,
    /// A new mentee at school A, for `{fresh_mentee}` in the body.
    Mentee,
    /// A year 7 pupil at the caller's own school, for sign-in cards: the
    /// cards row chooses year 7 and replaces passwords, so no one the other
    /// rows sign in as loses theirs.
    Year7Pupil,
    /// A new draft referral at school A, for `{referral_id}`.
    Referral,
    /// A new match proposal with a pair in it, for `{proposal_id}`.
    MatchProposal,
    /// A booked session not yet cancelled, for `{session_id}`.
    Session,
    /// A cancelled session whose slot is free, for `{session_id}`.
    CancelledSession,
    /// The pair's match with every session still to come cancelled, for
    /// the rows that book a pair again.
    Unbooked,
    /// A message from mentor.a held for review, for `{message_id}`.
    HeldMessage,
    /// A new concern about the pair, for `{concern_id}`.
    Concern,
    /// A word on the caller's school's list, for `{word}`.
    Word,
    /// A new pupil at school A, for `{user_id}`: an account to turn off or on.
    Account,
    /// A new calendar link of the caller (or, on a school's routes, of the
    /// school: A in an API path, the caller's own on a page), for
    /// `{feed_id}`.
    FeedLink,
    /// A new teacher at school A, for `{fresh_staff}` in the body; for
    /// `{user_id}` in the path, already named a deputy.
    Staff,
    /// A new target on mentee.b's plan, for `{target_id}`.
    Target,
    /// For the one caller allowed to end it, a new running programme to
    /// exit, for `{referral_id}`.
    Programme,
    /// The group with schools A, B and C invited again and A agreed, so
    /// that each coordinator may agree or leave and the group's report has
    /// A's figures, whatever the rows before did.
    Group,
}

fn fresh_for(row: &Row) -> Option<Fresh> {
    match (row.method, row.path) {
        ("POST", "/api/partnerships" | "/partnerships") => Some(Fresh::School),
        ("POST", p) if p.ends_with("/accept") => Some(Fresh::Proposal),
        (_, p) if p.contains("{entry_id}") => Some(Fresh::Closure),
        (_, p) if p.contains("{from}") => Some(Fresh::Capacity),
        ("POST", "/api/schools/{school_id}/referrals" | "/school/referrals") => Some(Fresh::Mentee),
        ("POST", "/school/students/cards") => Some(Fresh::Year7Pupil),
        ("POST", "/school/referrals/{referral_id}/status") => Some(Fresh::Referral),
        ("POST", "/api/referrals/{referral_id}/status") => Some(Fresh::Referral),
        ("POST", p) if p.contains("/approve") => Some(Fresh::MatchProposal),
        ("POST", p) if p.ends_with("/cancel") || p.ends_with("/move") => Some(Fresh::Session),
        ("POST", p) if p.ends_with("/restore") => Some(Fresh::CancelledSession),
        ("POST", p) if p.ends_with("/book-again") => Some(Fresh::Unbooked),
        (_, p) if p.contains("{message_id}") => Some(Fresh::HeldMessage),
        (_, p) if p.contains("{concern_id}") => Some(Fresh::Concern),
        (_, p) if p.contains("{word}") => Some(Fresh::Word),
        (_, p) if p.contains("{feed_id}") => Some(Fresh::FeedLink),
        (_, p) if p.contains("deputies") => Some(Fresh::Staff),
        (_, p) if p.ends_with("/disable") || p.ends_with("/enable") => Some(Fresh::Account),
        (_, p) if p.contains("{target_id}") => Some(Fresh::Target),
        ("POST", p) if p.ends_with("/{referral_id}/exit") => Some(Fresh::Programme),
        (_, p) if p.contains("{group_id}") => Some(Fresh::Group),
        _ => None,
    }
}

fn referral_body(mentee: &str) -> Value {
    json!({"mentee_id": mentee, "reasons": "Low confidence in class", "focus": ["Maths"], "planned_weeks": 6})
}

fn none(_: usize) -> Body {
    Body::None
}

/// Every row, in the order of the data flow.
fn matrix() -> Vec<Row> {
    [
        people::PEOPLE,
        booking::BOOKING,
        messaging::MESSAGING,
        record::RECORD,
        certificates::CERTIFICATES,
        reports::REPORTS,
    ]
    .concat()
}

#[test]
fn every_route_is_in_the_matrix() {
    let served: BTreeSet<(String, &str)> = route_table()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let covered: BTreeSet<(String, &str)> = matrix()
        .into_iter()
        .map(|r| (r.method.to_owned(), r.path))
        .collect();
    let missing: Vec<_> = served.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes with no row in the authorization matrix: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix rows for routes that no longer exist: {stale:?}"
    );
}

async fn new_referral(app: &TestApp, world: &World, mentee: uuid::Uuid) -> uuid::Uuid {
    let teacher = app.signed_in("teacher.a").await;
    let reply = teacher
        .post_json(
            &format!("/api/schools/{}/referrals", world.a.id),
            &referral_body(&mentee.to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()["id"].as_str().unwrap().parse().unwrap()
}

fn concrete_path(pattern: &str, world: &World) -> String {
    pattern
        .replace("{school_id}", &world.a.id.to_string())
        .replace("{user_id}", &world.mentor_a.id.to_string())
        .replace("{partnership_id}", &world.partnership.id.to_string())
        .replace("{file}", "app.css")
}

/// The caller's account; `None` for an anonymous caller and for the
/// scheme lead, who is not in the [`World`] (see [`client_for`]).
fn user_of(world: &World, who: Who) -> Option<&mentorbridge::people::accounts::User> {
    Some(match who {
        Anonymous | SchemeLead => return None,
        Admin => &world.admin,
        CoordA => &world.coord_a,
        TeacherA => &world.teacher_a,
        DslA => &world.dsl_a,
        MentorA => &world.mentor_a,
        CoordB => &world.coord_b,
        MenteeB => &world.mentee_b,
        CoordC => &world.coord_c,
    })
}

async fn client_for(app: &TestApp, world: &World, who: Who) -> Client {
    let lead = match who {
        SchemeLead => Some(
            app.store
                .user_for_sign_in(SCHEME_LEAD)
                .await
                .unwrap()
                .expect("the scheme lead made in set_up")
                .0,
        ),
        _ => None,
    };
    let Some(user) = user_of(world, who).or(lead.as_ref()) else {
        // Anonymous callers hold a sign-in form token, so that a refusal
        // below is the policy speaking, not the CSRF guard.
        let mut client = app.client();
        client.load_sign_in_form().await;
        return client;
    };
    // A fresh session per request: some rows (sign-out, password resets)
    // end sessions.
    let session = app
        .store
        .create_session(user.id, chrono::Duration::hours(1))
        .await
        .unwrap();
    let mut client = app.client();
    let url: reqwest::Url = app.base.parse().unwrap();
    let jar = reqwest::cookie::Jar::default();
    jar.add_cookie_str(&format!("mb_session={}", session.token), &url);
    client.http = reqwest::Client::builder()
        .cookie_provider(std::sync::Arc::new(jar))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    client.csrf = Some(session.csrf_token);
    client
}

fn denied(reply: &Reply) -> bool {
    matches!(
        reply.status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ) || (reply.status.is_redirection() && reply.location() == Some("/login"))
}

/// An allowed caller must get what they asked for, not an error of another
/// kind (for a websocket, the upgrade: 101 Switching Protocols).
fn succeeded(reply: &Reply) -> bool {
    reply.status.is_success()
        || reply.status == StatusCode::SWITCHING_PROTOCOLS
        || (reply.status.is_redirection() && reply.location() != Some("/login"))
}

/// What the rows share, made once before the matrix runs.
struct Setup {
    /// A mentee at school A with a draft referral, for the rows that read or edit one.
    mentee: uuid::Uuid,
    referral: uuid::Uuid,
    /// A session whose call is open now, for the call and attendance rows.
    session_now: uuid::Uuid,
    /// The pair's match: their thread.
    match_id: uuid::Uuid,
    /// teacher.b's calendar feed: teacher.b is no caller, so no row
    /// regenerates it.
    feed_file: String,
    /// mentee.b's programme with mentor.a, for the record's rows.
    programme: uuid::Uuid,
    /// A session of theirs held two days ago, for the note rows.
    held: uuid::Uuid,
    /// The code of a certificate issued to mentor.a, for `{code}`.
    certificate_code: String,
    /// The group of schools the scheme lead leads.
    group: uuid::Uuid,
}

async fn set_up(app: &TestApp, world: &World) -> Setup {
    // The partnership has a slot policy, so that reading it can succeed.
    let policy = mentorbridge::calendar::PolicyInput {
        session_minutes: 20,
        schools: [("school-a", ()), ("school-b", ())]
            .into_iter()
            .map(|(slug, ())| {
                let share = mentorbridge::calendar::align::SchoolSlotPolicy {
                    kinds: [mentorbridge::calendar::model::PeriodKind::Registration].into(),
                    ..Default::default()
                };
                (slug.to_owned(), share)
            })
            .collect(),
    };
    let parsed =
        mentorbridge::calendar::store::parse_policy(&app.store, &world.partnership, &policy, None)
            .await
            .unwrap();
    app.store
        .put_slot_policy(world.partnership.id, &parsed)
        .await
        .unwrap();
    // Every school has a term, so that closures can be added within it.
    for school in [&world.a, &world.b, &world.c] {
        let terms = mentorbridge::calendar::import::parse_term_csv(
            "terms.csv",
            TERMS_CSV,
            mentorbridge::calendar::import::DateOrder::DayFirst,
        )
        .unwrap();
        app.store
            .replace_calendar_entries(school.id, &terms)
            .await
            .unwrap();
    }
    let mentee = app.add_student(&world.a, "mentee.a", "mentee", 8).await.id;
    let referral = new_referral(app, world, mentee).await;
    // A partnership with an approved match and its sessions booked, a
    // second mentee waiting to be matched, and a proposal to read.
    let programme = app.ready_to_match(world).await;
    app.approve_as_both(world).await;
    let held = app.past_session(world, 2, true, true).await.id;
    let teacher_b = app
        .store
        .user_for_sign_in("teacher.b")
        .await
        .unwrap()
        .unwrap()
        .0;
    let waiting = app.add_student(&world.b, "mentee2.b", "mentee", 8).await;
    app.approved_referral(world, &teacher_b, waiting.id, "Maths")
        .await;
    app.store
        .run_matching(&world.partnership, None)
        .await
        .unwrap();
    let session_now = app.session_now(world).await.id;
    let feed_file = format!(
        "{}.ics",
        app.store
            .new_feed(
                mentorbridge::invites::feeds::FeedOwner::User(teacher_b.id),
                "Phone"
            )
            .await
            .unwrap()
            .1
    );
    let match_id = app.store.session(session_now).await.unwrap().match_id;
    // A session mentor.a delivered last week, so a certificate can be
    // issued (and one already has been, to download and check).
    app.past_sessions(world, &[(7, true)]).await;
    let certificate_code =
        mentorbridge::certificates::issue(&app.store, &world.mentor_a, &world.coord_a)
            .await
            .unwrap()
            .code
            .to_string();
    let group = add_scheme_lead(app).await;
    Setup {
        mentee,
        referral,
        session_now,
        match_id,
        feed_file,
        programme,
        held,
        certificate_code,
        group,
    }
}

/// A group of schools (none invited yet) and its scheme lead,
/// [`SCHEME_LEAD`]: the caller [`SchemeLead`] signs in as them.
async fn add_scheme_lead(app: &TestApp) -> uuid::Uuid {
    let group = app.store.create_group("Northshire").await.unwrap().id;
    let lead = mentorbridge::people::accounts::ParsedAccount::scheme_lead(
        SCHEME_LEAD,
        PASSWORD,
        "Lead",
        "Group",
        None,
    )
    .unwrap()
    .hash()
    .await
    .unwrap();
    app.store.create_scheme_lead(&lead, group).await.unwrap();
    group
}

/// One request's path and the values its body is filled with.
#[derive(Default)]
struct Prepared {
    path: String,
    fresh_mentee: String,
    fresh_staff: String,
    proposal_id: String,
    free_slot: String,
}

/// Makes what `row` needs fresh for request `n` (see [`Fresh`]), and the
/// concrete path.
async fn prepare(
    app: &TestApp,
    world: &World,
    setup: &Setup,
    row: &Row,
    who: Who,
    n: usize,
) -> Prepared {
    let mut out = Prepared {
        path: concrete_path(row.path, world),
        ..Prepared::default()
    };
    match fresh_for(row) {
        Some(Fresh::School) => {
            app.add_school(&format!("fresh-{n}"), "Fresh School").await;
        }
        Some(Fresh::Proposal) => {
            let school = app.add_school(&format!("fresh-{n}"), "Fresh School").await;
            let proposal = app
                .store
                .propose_partnership(school.id, world.admin.id, world.b.id)
                .await
                .unwrap();
            out.path = row
                .path
                .replace("{partnership_id}", &proposal.id.to_string());
        }
        Some(Fresh::Closure) => {
            let id = fresh_closure(app, world, n).await;
            out.path = out.path.replace("{entry_id}", &id.to_string());
        }
        Some(Fresh::Capacity) => {
            let from = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()
                + chrono::Days::new(u64::try_from(n).unwrap());
            let input = mentorbridge::calendar::capacity::CapacityInput {
                from: Some(from),
                capacity: mentorbridge::calendar::capacity::SchoolCapacity {
                    devices: 2,
                    ..Default::default()
                },
            };
            // A page acts on the caller's own school; the API on school A.
            let school = match who {
                CoordB if row.path.starts_with("/school/") => world.b.id,
                CoordC if row.path.starts_with("/school/") => world.c.id,
                _ => world.a.id,
            };
            mentorbridge::calendar::store::declare_capacity(&app.store, school, &input)
                .await
                .unwrap();
            out.path = out.path.replace("{from}", &from.to_string());
        }
        Some(Fresh::FeedLink) => {
            use mentorbridge::invites::feeds::FeedOwner;
            let own_school = match who {
                CoordB | MenteeB => world.b.id,
                CoordC => world.c.id,
                _ => world.a.id,
            };
            let owner = if row.path.starts_with("/api/schools/") {
                FeedOwner::School(world.a.id)
            } else if row.path.contains("school-feeds") {
                FeedOwner::School(own_school)
            } else {
                match user_of(world, who) {
                    Some(user) => FeedOwner::User(user.id),
                    None => FeedOwner::School(world.a.id),
                }
            };
            // Earlier rows' links go first: an owner may have only ten.
            app.store.revoke_feed(owner).await.unwrap();
            let (id, _, _) = app
                .store
                .new_feed(owner, &format!("Link {n}"))
                .await
                .unwrap();
            out.path = out.path.replace("{feed_id}", &id.to_string());
        }
        Some(Fresh::Account) => {
            let pupil = app
                .add_student(&world.a, &format!("fresh.pupil{n}"), "mentee", 8)
                .await;
            out.path = row.path.replace("{user_id}", &pupil.id.to_string());
        }
        Some(Fresh::Year7Pupil) => {
            let school = match who {
                CoordB | MenteeB => &world.b,
                CoordC => &world.c,
                _ => &world.a,
            };
            app.add_student(school, &format!("fresh.year7.{n}"), "mentee", 7)
                .await;
        }
        Some(Fresh::Mentee) => {
            // At the caller's own school: the page acts on one's own school.
            let school = match who {
                CoordB | MenteeB => &world.b,
                CoordC => &world.c,
                _ => &world.a,
            };
            out.fresh_mentee = app
                .add_student(school, &format!("fresh.mentee{n}"), "mentee", 8)
                .await
                .id
                .to_string();
        }
        Some(Fresh::Referral) => {
            let mentee = app
                .add_student(&world.a, &format!("fresh.mentee{n}"), "mentee", 8)
                .await;
            let id = new_referral(app, world, mentee.id).await;
            out.path = out.path.replace("{referral_id}", &id.to_string());
        }
        Some(Fresh::MatchProposal) => {
            out.proposal_id = fresh_match_proposal(app, world).await.to_string();
            out.path = out.path.replace("{proposal_id}", &out.proposal_id);
        }
        Some(Fresh::Session) => {
            let (session, free_slot) = live_session_and_free_slot(app, world).await;
            out.path = out.path.replace("{session_id}", &session.to_string());
            out.free_slot = free_slot;
        }
        Some(Fresh::CancelledSession) => {
            let id = cancelled_session(app, world).await;
            out.path = out.path.replace("{session_id}", &id.to_string());
        }
        Some(Fresh::Unbooked) => nothing_booked_ahead(app, world).await,
        Some(Fresh::HeldMessage) => {
            let held = app
                .store
                .post_message(&mentorbridge::messaging::NewMessage {
                    match_id: setup.match_id,
                    sender_id: world.mentor_a.id,
                    session_id: None,
                    text: "my number is 07700 900123",
                    status: mentorbridge::messaging::Status::Held,
                    category: Some("contact"),
                    findings: r#"[{"category":"contact","start":13,"end":25}]"#.into(),
                    sent_at: chrono::Utc::now(),
                    visible_at: None,
                })
                .await
                .unwrap();
            out.path = out.path.replace("{message_id}", &held.id.to_string());
        }
        Some(Fresh::Concern) => {
            let concern = app
                .store
                .raise_concern(world.mentee_b.id, setup.match_id, None, "worried")
                .await
                .unwrap();
            out.path = out.path.replace("{concern_id}", &concern.id.to_string());
        }
        Some(Fresh::Word) => {
            let school = user_of(world, who)
                .and_then(|u| u.school_id)
                .unwrap_or(world.a.id);
            let word = format!("fresh{n}");
            app.store
                .add_school_word(school, &word, None)
                .await
                .unwrap();
            out.path = out.path.replace("{word}", &word);
        }
        Some(Fresh::Group) => {
            for school in [&world.a, &world.b, &world.c] {
                app.store
                    .invite_school(setup.group, school.id)
                    .await
                    .unwrap();
            }
            app.store
                .agree_to_group(setup.group, world.a.id, world.coord_a.id)
                .await
                .unwrap();
        }
        Some(Fresh::Staff) => {
            let staff = app
                .add_staff(&world.a, &format!("fresh.staff{n}"), "teacher")
                .await;
            if row.path.contains("{user_id}") {
                app.store
                    .name_deputy(world.a.id, staff.id, world.dsl_a.id)
                    .await
                    .unwrap();
                out.path = row.path.replace("{user_id}", &staff.id.to_string());
            }
            out.fresh_staff = staff.id.to_string();
        }
        Some(Fresh::Target) => {
            let id = record::fresh_target(app, world, setup.programme).await;
            out.path = out.path.replace("{target_id}", &id.to_string());
        }
        Some(Fresh::Programme) if who == CoordB => {
            let id = record::fresh_programme(app, world, n).await;
            out.path = out.path.replace("{referral_id}", &id.to_string());
        }
        Some(Fresh::Programme) | None => {}
    }
    if record::on_programme(row.path) {
        out.path = out
            .path
            .replace("{referral_id}", &setup.programme.to_string());
    }
    if row.path.ends_with("/note") {
        out.path = out.path.replace("{session_id}", &setup.held.to_string());
    }
    if row.path.starts_with("/calendar/") {
        out.path = row.path.replace("{file}", &setup.feed_file);
    }
    // Rows that cancel or move took a fresh session above; the call
    // and attendance rows use the one whose room is open now.
    out.path = out
        .path
        .replace("{session_id}", &setup.session_now.to_string())
        .replace("{match_id}", &setup.match_id.to_string())
        .replace("{referral_id}", &setup.referral.to_string())
        .replace("{code}", &setup.certificate_code)
        .replace("{group_id}", &setup.group.to_string());
    out
}

/// A closure at school A, for request `n`.
async fn fresh_closure(app: &TestApp, world: &World, n: usize) -> uuid::Uuid {
    let label = format!("Fresh closure {n}");
    let input = ClosureInput {
        start: "2026-10-06".parse().unwrap(),
        end: None,
        label: label.clone(),
    };
    add_closure(&app.store, world.a.id, &input).await.unwrap();
    let entries = app.store.calendar_entries(world.a.id).await.unwrap();
    entries.iter().find(|e| e.label == label).unwrap().id
}

/// A new match proposal with one pair in it.
async fn fresh_match_proposal(app: &TestApp, world: &World) -> uuid::Uuid {
    // The slot and mentor rows may have changed the policy
    // and mentor.a's free periods since.
    app.matching_policy(world).await;
    app.ready_mentor(world, &world.mentor_a, "Maths").await;
    let proposal = app
        .store
        .run_matching(&world.partnership, None)
        .await
        .unwrap();
    assert_eq!(proposal.body.matches.len(), 1);
    proposal.id
}

/// A live session of mentee.b's to cancel or move, and a slot they are not
/// booked in, to move it to.
async fn live_session_and_free_slot(app: &TestApp, world: &World) -> (uuid::Uuid, String) {
    let live: Vec<_> = app
        .store
        .sessions_of_student(
            world.mentee_b.id,
            chrono::Utc::now(),
            chrono::Utc::now() + chrono::Duration::days(400),
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.status.is_live())
        .collect();
    let session = live.first().expect("a live session to cancel").id;
    let booked: Vec<_> = live.iter().map(|s| s.starts_at).collect();
    let today = chrono::Utc::now().date_naive();
    let free_slot = mentorbridge::calendar::store::partnership_slots(
        &app.store,
        &world.partnership,
        today,
        today + chrono::Duration::days(60),
    )
    .await
    .unwrap()
    .alignment
    .slots
    .into_iter()
    .find(|s| s.start_utc > chrono::Utc::now() && !booked.contains(&s.start_utc))
    .expect("a free slot")
    .start_utc
    .to_rfc3339();
    (session, free_slot)
}

/// What the restore rows cancel, so that they find it again.
const TO_RESTORE: &str = "Cancelled for a restore row";

/// A session of mentee.b's that is cancelled and whose slot is free: one
/// an earlier refused caller left cancelled, or a live one cancelled now.
async fn cancelled_session(app: &TestApp, world: &World) -> uuid::Uuid {
    let ahead = app
        .store
        .sessions_of_student(
            world.mentee_b.id,
            chrono::Utc::now() + chrono::Duration::hours(1),
            chrono::Utc::now() + chrono::Duration::days(400),
        )
        .await
        .unwrap();
    if let Some(left) = ahead
        .iter()
        .find(|s| s.reason.as_deref() == Some(TO_RESTORE) && !s.status.is_live())
    {
        return left.id;
    }
    let live = ahead
        .iter()
        .find(|s| s.status.is_live())
        .expect("a live session to cancel and restore");
    app.store.cancel_session(live, TO_RESTORE).await.unwrap();
    live.id
}

/// Cancels every live session still to come of mentee.b's, so that the
/// pair has nothing booked and may be booked again.
async fn nothing_booked_ahead(app: &TestApp, world: &World) {
    let ahead = app
        .store
        .sessions_of_student(
            world.mentee_b.id,
            chrono::Utc::now(),
            chrono::Utc::now() + chrono::Duration::days(400),
        )
        .await
        .unwrap();
    for s in ahead.iter().filter(|s| s.status.is_live()) {
        app.store
            .cancel_session(s, "Cancelled for a book-again row")
            .await
            .unwrap();
    }
}

/// The row's body with its placeholders filled in.
fn filled_body(row: &Row, n: usize, prepared: &Prepared, setup: &Setup, world: &World) -> Body {
    let mut body = (row.body)(n);
    let fill = |v: &str| {
        v.replace("{fresh_mentee}", &prepared.fresh_mentee)
            .replace("{fresh_staff}", &prepared.fresh_staff)
            .replace("{mentee_id}", &setup.mentee.to_string())
            .replace("{mentee_b}", &world.mentee_b.id.to_string())
            .replace("{mentor_a}", &world.mentor_a.id.to_string())
            .replace("{proposal_id}", &prepared.proposal_id)
            .replace("{free_slot}", &prepared.free_slot)
            .replace("{partnership_id}", &world.partnership.id.to_string())
    };
    if let Body::Json(Value::Object(map)) = &mut body {
        for v in map.values_mut() {
            if let Value::String(text) = v {
                *text = fill(text);
            }
        }
    }
    if let Body::Form(fields) = &mut body {
        for (_, v) in fields.iter_mut() {
            *v = fill(v);
        }
    }
    body
}

async fn send(app: &TestApp, world: &World, who: Who, row: &Row, path: &str, body: Body) -> Reply {
    let client = client_for(app, world, who).await;
    match (body, row.method) {
        (Body::Upgrade, "GET") => upgrade(app, world, who, path).await,
        (Body::None, "GET") => client.get(path).await,
        (Body::None, "DELETE") => client.delete(path).await,
        (Body::Json(body), "POST") => client.post_json(path, &body).await,
        (Body::Raw(content_type, text), "PUT") => client.put_raw(path, content_type, text).await,
        (Body::Json(body), "PUT") => client.put_json(path, &body).await,
        (Body::File(name, text), "POST") => client.post_file(path, name, text, &[]).await,
        (Body::Files(field, name, text), "POST") => {
            client.post_files(path, field, &[(name, text)], &[]).await
        }
        (Body::Form(fields), "POST") => {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client.post_form(path, &fields).await
        }
        (_, method) => panic!("no way to send {method} {}", row.path),
    }
}

async fn every_route_allows_exactly_the_callers_the_policy_names(app: TestApp) {
    let world = app.world().await;
    let setup = set_up(&app, &world).await;
    let mut failures = Vec::new();
    let mut n = 0;
    for row in matrix() {
        for &who in EVERYONE {
            n += 1;
            let prepared = prepare(&app, &world, &setup, &row, who, n).await;
            let body = filled_body(&row, n, &prepared, &setup, &world);
            let reply = send(&app, &world, who, &row, &prepared.path, body).await;
            assert!(
                !reply.status.is_server_error(),
                "{} {} as {who:?}: {} {}",
                row.method,
                row.path,
                reply.status,
                reply.text
            );
            let expected = row.allowed.contains(&who);
            let as_expected = if expected {
                succeeded(&reply)
            } else {
                denied(&reply)
            };
            if !as_expected {
                failures.push(format!(
                    "{} {} as {who:?}: expected {}, got {} {}",
                    row.method,
                    row.path,
                    if expected { "success" } else { "refusal" },
                    reply.status,
                    reply.location().unwrap_or("")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix mismatches:\n{}",
        failures.join("\n")
    );
}

on_both_backends!(every_route_allows_exactly_the_callers_the_policy_names);
