//! The authorization matrix: every route, as every kind of caller.
//!
//! Each route in `mentorbridge::app::route_table()` must have a row here that
//! lists who may use it. Those callers must succeed (2xx, or a redirect that
//! is not to sign-in); everyone else must be turned away (401, 403, or a
//! redirect to sign-in). A route added without a row fails
//! `every_route_is_in_the_matrix`.

use std::collections::BTreeSet;

use mentorbridge::app::route_table;
use mentorbridge::calendar::store::{ClosureInput, add_closure};
use mentorbridge_tests::{Client, PASSWORD, Reply, TestApp, World, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

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
}

use Who::*;

const EVERYONE: &[Who] = &[
    Anonymous, Admin, CoordA, TeacherA, DslA, MentorA, CoordB, MenteeB, CoordC,
];
const SIGNED_IN: &[Who] = &[
    Admin, CoordA, TeacherA, DslA, MentorA, CoordB, MenteeB, CoordC,
];
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
const BELLS_CSV: &str = "week,day,period,start,end,kind\n*,Mon,REG,08:40,09:00,registration\n";
/// The same policy as `TestApp::matching_policy`, so that either
/// coordinator may send it (neither changes the other school's share).
const POLICY_TOML: &str = "session_minutes = 20\n[schools.school-a]\nkinds = [\"registration\"]\ndevices = 2\nsupervisors = [\"teacher.a\"]\n[schools.school-b]\nkinds = [\"registration\"]\ndevices = 2\nsupervisors = [\"coord.b\"]\n";

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
    /// A new mentee at school A, for `{fresh_mentee}` in the body.
    Mentee,
    /// A new draft referral at school A, for `{referral_id}`.
    Referral,
    /// A new match proposal with a pair in it, for `{proposal_id}`.
    MatchProposal,
    /// A booked session not yet cancelled, for `{session_id}`.
    Session,
}

fn fresh_for(row: &Row) -> Option<Fresh> {
    match (row.method, row.path) {
        ("POST", "/api/partnerships" | "/partnerships") => Some(Fresh::School),
        ("POST", p) if p.ends_with("/accept") => Some(Fresh::Proposal),
        (_, p) if p.contains("{entry_id}") => Some(Fresh::Closure),
        ("POST", "/api/schools/{school_id}/referrals" | "/school/referrals") => Some(Fresh::Mentee),
        ("POST", "/school/referrals/{referral_id}/status") => Some(Fresh::Referral),
        ("POST", "/api/referrals/{referral_id}/status") => Some(Fresh::Referral),
        ("POST", p) if p.contains("/approve") => Some(Fresh::MatchProposal),
        ("POST", p) if p.ends_with("/cancel") || p.ends_with("/move") => Some(Fresh::Session),
        _ => None,
    }
}

fn referral_body(mentee: &str) -> Value {
    json!({"mentee_id": mentee, "reasons": "Low confidence in class", "focus": ["Maths"], "planned_weeks": 6})
}

fn none(_: usize) -> Body {
    Body::None
}

fn matrix() -> Vec<Row> {
    vec![
        Row {
            method: "GET",
            path: "/healthz",
            allowed: EVERYONE,
            body: none,
        },
        Row {
            method: "GET",
            path: "/readyz",
            allowed: EVERYONE,
            body: none,
        },
        Row {
            method: "GET",
            path: "/static/{file}",
            allowed: EVERYONE,
            body: none,
        },
        Row {
            method: "GET",
            path: "/login",
            allowed: EVERYONE,
            body: none,
        },
        Row {
            method: "POST",
            path: "/login",
            allowed: EVERYONE,
            body: |_| {
                Body::Form(vec![
                    ("username", "coord.a".into()),
                    ("password", PASSWORD.into()),
                ])
            },
        },
        Row {
            method: "POST",
            path: "/api/session",
            allowed: EVERYONE,
            body: |_| Body::Json(json!({"username": "coord.a", "password": PASSWORD})),
        },
        // Anonymous visitors are sent to sign in from these.
        Row {
            method: "GET",
            path: "/",
            allowed: SIGNED_IN,
            body: none,
        },
        Row {
            method: "POST",
            path: "/logout",
            allowed: SIGNED_IN,
            body: |_| Body::Form(vec![]),
        },
        Row {
            method: "DELETE",
            path: "/api/session",
            allowed: SIGNED_IN,
            body: none,
        },
        Row {
            method: "GET",
            path: "/api/me",
            allowed: SIGNED_IN,
            body: none,
        },
        Row {
            method: "GET",
            path: "/home",
            allowed: SIGNED_IN,
            body: none,
        },
        // Schools.
        Row {
            method: "GET",
            path: "/api/schools",
            allowed: &[Admin, CoordA, CoordB, CoordC],
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/schools",
            allowed: &[Admin],
            body: |n| {
                Body::Json(
                    json!({"slug": format!("new-{n}"), "name": "New", "time_zone": "Europe/London"}),
                )
            },
        },
        Row {
            method: "GET",
            path: "/admin/schools",
            allowed: &[Admin],
            body: none,
        },
        Row {
            method: "POST",
            path: "/admin/schools",
            allowed: &[Admin],
            body: |n| {
                Body::Form(vec![
                    ("slug", format!("form-{n}")),
                    ("name", "Form".into()),
                    ("time_zone", "Europe/London".into()),
                ])
            },
        },
        // Staff and students of school A, by id.
        Row {
            method: "GET",
            path: "/api/schools/{school_id}/staff",
            allowed: &[Admin, CoordA, TeacherA, DslA],
            body: none,
        },
        // The administrator may add only a school's first coordinator, and
        // school A has one.
        Row {
            method: "POST",
            path: "/api/schools/{school_id}/staff",
            allowed: &[CoordA],
            body: |n| {
                Body::Json(
                    json!({"username": format!("staff-{n}"), "password": "cobalt-fern-ladder", "given_name": "S", "family_name": "T", "role": "teacher"}),
                )
            },
        },
        Row {
            method: "GET",
            path: "/api/schools/{school_id}/students",
            allowed: STAFF_OF_A,
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/schools/{school_id}/students",
            allowed: &[CoordA],
            body: |n| {
                Body::Json(
                    json!({"username": format!("kid-{n}"), "password": "cobalt-fern-ladder", "given_name": "K", "family_name": "D", "year_group": 8, "kind": "mentee"}),
                )
            },
        },
        Row {
            method: "POST",
            path: "/api/students/{user_id}/password",
            allowed: STAFF_OF_A,
            body: |_| Body::Json(json!({"password": PASSWORD})),
        },
        // The signed-in person's own school.
        Row {
            method: "GET",
            path: "/school/staff",
            allowed: ANY_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/school/staff",
            allowed: ANY_COORDINATOR,
            body: |n| {
                Body::Form(vec![
                    ("username", format!("fstaff-{n}")),
                    ("password", "cobalt-fern-ladder".into()),
                    ("given_name", "S".into()),
                    ("family_name", "T".into()),
                    ("role", "teacher".into()),
                ])
            },
        },
        Row {
            method: "GET",
            path: "/school/students",
            allowed: ANY_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/school/students",
            allowed: ANY_COORDINATOR,
            body: |n| {
                Body::Form(vec![
                    ("username", format!("fkid-{n}")),
                    ("password", "cobalt-fern-ladder".into()),
                    ("given_name", "K".into()),
                    ("family_name", "D".into()),
                    ("year_group", "8".into()),
                    ("kind", "mentee".into()),
                ])
            },
        },
        Row {
            method: "POST",
            path: "/school/students/{user_id}/password",
            allowed: STAFF_OF_A,
            body: |_| Body::Form(vec![("password", PASSWORD.into())]),
        },
        // Partnerships: A–B, proposed by A and accepted.
        Row {
            method: "GET",
            path: "/api/partnerships",
            allowed: ANY_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/partnerships",
            allowed: ANY_COORDINATOR,
            body: |n| Body::Json(json!({"partner_school": format!("fresh-{n}")})),
        },
        Row {
            method: "POST",
            path: "/api/partnerships/{partnership_id}/accept",
            allowed: &[CoordB],
            body: |_| Body::Json(json!({})),
        },
        Row {
            method: "GET",
            path: "/api/partnerships/{partnership_id}/students",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        Row {
            method: "GET",
            path: "/partnerships",
            allowed: ANY_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/partnerships",
            allowed: ANY_COORDINATOR,
            body: |n| Body::Form(vec![("partner_school", format!("fresh-{n}"))]),
        },
        Row {
            method: "POST",
            path: "/partnerships/{partnership_id}/accept",
            allowed: &[CoordB],
            body: |_| Body::Form(vec![]),
        },
        Row {
            method: "GET",
            path: "/partnerships/{partnership_id}",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        // Calendars: a school's own staff see it; its coordinators change it.
        Row {
            method: "GET",
            path: "/api/schools/{school_id}/calendar",
            allowed: STAFF_OF_A,
            body: none,
        },
        Row {
            method: "PUT",
            path: "/api/schools/{school_id}/calendar/terms",
            allowed: &[CoordA],
            body: |_| Body::Raw("text/csv", TERMS_CSV),
        },
        Row {
            method: "PUT",
            path: "/api/schools/{school_id}/calendar/bells",
            allowed: &[CoordA],
            body: |_| Body::Raw("text/csv", BELLS_CSV),
        },
        Row {
            method: "GET",
            path: "/school/calendar",
            allowed: ANY_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/school/calendar/terms",
            allowed: ANY_COORDINATOR,
            body: |_| Body::File("terms.csv", TERMS_CSV),
        },
        Row {
            method: "POST",
            path: "/school/calendar/bells",
            allowed: ANY_COORDINATOR,
            body: |_| Body::File("bells.csv", BELLS_CSV),
        },
        Row {
            method: "PUT",
            path: "/api/schools/{school_id}/calendar/cycle",
            allowed: &[CoordA],
            body: |_| Body::Json(json!({"holidays_advance": false, "weeks": {"2026-09-14": "A"}})),
        },
        Row {
            method: "POST",
            path: "/school/calendar/cycle",
            allowed: ANY_COORDINATOR,
            body: |_| {
                Body::Form(vec![
                    ("anchor", "2026-09-07".into()),
                    ("weeks", "2026-09-14 A".into()),
                ])
            },
        },
        Row {
            method: "POST",
            path: "/api/schools/{school_id}/calendar/closures",
            allowed: &[CoordA],
            body: |n| Body::Json(json!({"start": "2026-10-05", "label": format!("Closure {n}")})),
        },
        Row {
            method: "DELETE",
            path: "/api/schools/{school_id}/calendar/entries/{entry_id}",
            allowed: &[CoordA],
            body: none,
        },
        Row {
            method: "POST",
            path: "/school/calendar/closures",
            allowed: ANY_COORDINATOR,
            body: |n| {
                Body::Form(vec![
                    ("start", "2026-10-05".into()),
                    ("label", format!("Closure {n}")),
                ])
            },
        },
        // The entry belongs to school A: only A's coordinator may remove it.
        Row {
            method: "POST",
            path: "/school/calendar/entries/{entry_id}/delete",
            allowed: &[CoordA],
            body: |_| Body::Form(vec![]),
        },
        // Rosters: a school's coordinators import its students.
        Row {
            method: "PUT",
            path: "/api/schools/{school_id}/roster",
            allowed: &[CoordA],
            body: |_| Body::Raw("text/csv", ROSTER_CSV),
        },
        Row {
            method: "POST",
            path: "/school/students/roster",
            allowed: ANY_COORDINATOR,
            body: |_| Body::Files("files", "roster.csv", ROSTER_CSV),
        },
        // Referrals: only the mentee's school sees or writes them; the
        // partner sees first names and focus through the partnership.
        Row {
            method: "GET",
            path: "/api/schools/{school_id}/referrals",
            allowed: STAFF_OF_A,
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/schools/{school_id}/referrals",
            allowed: STAFF_OF_A,
            body: |_| Body::Json(referral_body("{fresh_mentee}")),
        },
        Row {
            method: "GET",
            path: "/api/referrals/{referral_id}",
            allowed: STAFF_OF_A,
            body: none,
        },
        Row {
            method: "PUT",
            path: "/api/referrals/{referral_id}",
            allowed: STAFF_OF_A,
            body: |_| Body::Json(referral_body("{mentee_id}")),
        },
        Row {
            method: "POST",
            path: "/api/referrals/{referral_id}/status",
            allowed: STAFF_OF_A,
            body: |_| Body::Json(json!({"to": "submitted"})),
        },
        Row {
            method: "GET",
            path: "/api/partnerships/{partnership_id}/referrals",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        // Mentor readiness: the mentor's school's staff; clearance by a
        // coordinator or safeguarding lead; the partner sees ready mentors.
        Row {
            method: "GET",
            path: "/api/schools/{school_id}/mentors",
            allowed: STAFF_OF_A,
            body: none,
        },
        Row {
            method: "PUT",
            path: "/api/mentors/{user_id}/profile",
            allowed: &[CoordA, TeacherA],
            body: |_| {
                Body::Json(
                    json!({"offers": [{"subject": "Maths", "level": "gcse"}], "capacity": 2}),
                )
            },
        },
        Row {
            method: "POST",
            path: "/api/mentors/{user_id}/training",
            allowed: &[CoordA, TeacherA],
            body: |_| {
                Body::Json(json!({"course": "Peer mentoring (Level 1)", "date": "2026-10-01"}))
            },
        },
        Row {
            method: "POST",
            path: "/api/mentors/{user_id}/clearance",
            allowed: &[CoordA, DslA],
            body: |_| Body::Json(json!({})),
        },
        Row {
            method: "GET",
            path: "/api/partnerships/{partnership_id}/mentors",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        Row {
            method: "GET",
            path: "/school/referrals",
            allowed: ANY_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/school/referrals",
            allowed: ANY_STAFF,
            body: |_| {
                Body::Form(vec![
                    ("mentee_id", "{fresh_mentee}".into()),
                    ("focus", "Maths".into()),
                    ("reasons", "Low confidence".into()),
                    ("planned_weeks", "6".into()),
                    ("concerns", "confidence".into()),
                ])
            },
        },
        Row {
            method: "POST",
            path: "/school/referrals/{referral_id}/status",
            allowed: STAFF_OF_A,
            body: |_| Body::Form(vec![("to", "submitted".into())]),
        },
        Row {
            method: "GET",
            path: "/school/mentors",
            allowed: ANY_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/school/mentors/{user_id}/profile",
            allowed: &[CoordA, TeacherA],
            body: |_| {
                Body::Form(vec![
                    ("offers", "Maths (GCSE)".into()),
                    ("capacity", "2".into()),
                    ("free_periods", "A Mon TUT".into()),
                ])
            },
        },
        Row {
            method: "POST",
            path: "/school/mentors/{user_id}/training",
            allowed: &[CoordA, TeacherA],
            body: |_| {
                Body::Form(vec![
                    ("course", "Peer mentoring".into()),
                    ("date", "2026-10-01".into()),
                ])
            },
        },
        Row {
            method: "POST",
            path: "/school/mentors/{user_id}/clearance",
            allowed: &[CoordA, DslA],
            body: |_| Body::Form(vec![]),
        },
        // Matching: staff of the partnership see proposals and matches;
        // its coordinators run, steer and approve.
        Row {
            method: "GET",
            path: "/api/partnerships/{partnership_id}/proposal",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/partnerships/{partnership_id}/proposal",
            allowed: &[CoordA, CoordB],
            body: |_| Body::Json(json!({})),
        },
        Row {
            method: "POST",
            path: "/api/partnerships/{partnership_id}/proposal/{proposal_id}/approve",
            allowed: &[CoordA, CoordB],
            body: |_| Body::Json(json!({})),
        },
        Row {
            method: "GET",
            path: "/api/partnerships/{partnership_id}/match-rules",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        Row {
            method: "PUT",
            path: "/api/partnerships/{partnership_id}/match-rules",
            allowed: &[CoordA, CoordB],
            body: |_| {
                Body::Json(
                    json!({"mentee_id": "{mentee_b}", "mentor_id": "{mentor_a}", "kind": "none"}),
                )
            },
        },
        Row {
            method: "GET",
            path: "/api/partnerships/{partnership_id}/matches",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        Row {
            method: "GET",
            path: "/partnerships/{partnership_id}/matching",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/partnerships/{partnership_id}/matching/run",
            allowed: &[CoordA, CoordB],
            body: |_| Body::Form(vec![]),
        },
        Row {
            method: "POST",
            path: "/partnerships/{partnership_id}/matching/approve",
            allowed: &[CoordA, CoordB],
            body: |_| Body::Form(vec![("proposal_id", "{proposal_id}".into())]),
        },
        Row {
            method: "POST",
            path: "/partnerships/{partnership_id}/matching/rules",
            allowed: &[CoordA, CoordB],
            body: |_| {
                Body::Form(vec![
                    ("mentee_id", "{mentee_b}".into()),
                    ("mentor_id", "{mentor_a}".into()),
                    ("kind", "none".into()),
                ])
            },
        },
        // Sessions and calendars: everyone with a school sees their own;
        // staff see their school's; the partnership's coordinators and
        // teachers cancel; a feed opens for whoever holds its link.
        Row {
            method: "GET",
            path: "/api/me/sessions",
            allowed: WITH_A_SCHOOL,
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/me/calendar-feed",
            allowed: WITH_A_SCHOOL,
            body: |_| Body::Json(json!({})),
        },
        Row {
            method: "DELETE",
            path: "/api/me/calendar-feed",
            allowed: WITH_A_SCHOOL,
            body: none,
        },
        Row {
            method: "GET",
            path: "/api/schools/{school_id}/sessions",
            allowed: STAFF_OF_A,
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/schools/{school_id}/calendar-feed",
            allowed: &[CoordA],
            body: |_| Body::Json(json!({})),
        },
        Row {
            method: "DELETE",
            path: "/api/schools/{school_id}/calendar-feed",
            allowed: &[CoordA],
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/sessions/{session_id}/join",
            allowed: &[TeacherA, DslA, MentorA, CoordB, MenteeB],
            body: |_| Body::Json(json!({})),
        },
        Row {
            method: "GET",
            path: "/api/sessions/{session_id}/attendance",
            allowed: &[CoordA, TeacherA, DslA, CoordB],
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/sessions/{session_id}/attendance",
            allowed: &[CoordA, TeacherA, CoordB],
            body: |_| {
                Body::Json(
                    json!({"user_id": "{mentee_b}", "present": true, "reason": "Joined on another iPad"}),
                )
            },
        },
        Row {
            method: "GET",
            path: "/sessions/{session_id}/call",
            allowed: &[TeacherA, DslA, MentorA, CoordB, MenteeB],
            body: none,
        },
        Row {
            method: "GET",
            path: "/sessions/today",
            allowed: &[CoordA, TeacherA, DslA, CoordB, CoordC],
            body: none,
        },
        Row {
            method: "POST",
            path: "/sessions/{session_id}/attendance",
            allowed: &[CoordA, TeacherA, CoordB],
            body: |_| {
                Body::Form(vec![
                    ("user_id", "{mentee_b}".into()),
                    ("present", "yes".into()),
                    ("reason", "Joined on another iPad".into()),
                ])
            },
        },
        Row {
            method: "GET",
            path: "/precall",
            allowed: WITH_A_SCHOOL,
            body: none,
        },
        Row {
            method: "GET",
            path: "/api/me/ice-servers",
            allowed: WITH_A_SCHOOL,
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/precall",
            allowed: WITH_A_SCHOOL,
            body: |_| Body::Json(json!({"sdp": mentorbridge_tests::DATA_CHANNEL_OFFER})),
        },
        // The signalling socket opens for everyone: its authority is the join
        // token in the first message, not the cookie (the calls tests cover
        // the tokens, and `upgrade` checks that a hello without one is
        // refused whoever sends it). A plain GET is a 400 for everyone:
        // `a_plain_get_of_the_websocket_is_the_same_400_for_every_caller`.
        Row {
            method: "GET",
            path: "/ws",
            allowed: EVERYONE,
            body: |_| Body::Upgrade,
        },
        Row {
            method: "PUT",
            path: "/api/me/email",
            allowed: &[CoordA, TeacherA, DslA, CoordB, CoordC],
            body: |_| Body::Json(json!({"email": "me@school.example"})),
        },
        Row {
            method: "GET",
            path: "/api/schools/{school_id}/invites",
            allowed: &[CoordA],
            body: none,
        },
        Row {
            method: "POST",
            path: "/api/sessions/{session_id}/cancel",
            allowed: &[CoordA, TeacherA, CoordB],
            body: |_| Body::Json(json!({"reason": "Mock exams"})),
        },
        Row {
            method: "POST",
            path: "/api/sessions/{session_id}/move",
            allowed: &[CoordA, TeacherA, CoordB],
            body: |_| Body::Json(json!({"starts_at": "{free_slot}", "reason": "Sports day"})),
        },
        Row {
            method: "GET",
            path: "/sessions",
            allowed: WITH_A_SCHOOL,
            body: none,
        },
        Row {
            method: "POST",
            path: "/sessions/feed",
            allowed: WITH_A_SCHOOL,
            body: |_| Body::Form(vec![]),
        },
        Row {
            method: "POST",
            path: "/sessions/school-feed",
            allowed: &[CoordA, CoordB, CoordC],
            body: |_| Body::Form(vec![]),
        },
        Row {
            method: "POST",
            path: "/sessions/email",
            allowed: &[CoordA, TeacherA, DslA, CoordB, CoordC],
            body: |_| Body::Form(vec![("email", "me@school.example".into())]),
        },
        Row {
            method: "POST",
            path: "/sessions/{session_id}/cancel",
            allowed: &[CoordA, TeacherA, CoordB],
            body: |_| Body::Form(vec![("reason", "Mock exams".into())]),
        },
        Row {
            method: "POST",
            path: "/sessions/{session_id}/move",
            allowed: &[CoordA, TeacherA, CoordB],
            body: |_| Body::Form(vec![("starts_at", "{free_slot}".into())]),
        },
        Row {
            method: "GET",
            path: "/calendar/{file}",
            allowed: EVERYONE,
            body: none,
        },
        // Slots: staff of the partnership see them; its coordinators set the policy.
        Row {
            method: "GET",
            path: "/api/partnerships/{partnership_id}/policy",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        Row {
            method: "PUT",
            path: "/api/partnerships/{partnership_id}/policy",
            allowed: &[CoordA, CoordB],
            body: |_| {
                Body::Json(json!({"session_minutes": 20, "schools": {
                        "school-a": {"kinds": ["registration"], "devices": 2, "supervisors": ["teacher.a"]},
                        "school-b": {"kinds": ["registration"], "devices": 2, "supervisors": ["coord.b"]}}}))
            },
        },
        Row {
            method: "GET",
            path: "/api/partnerships/{partnership_id}/slots",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        Row {
            method: "GET",
            path: "/partnerships/{partnership_id}/slots",
            allowed: PARTNERSHIP_STAFF,
            body: none,
        },
        Row {
            method: "POST",
            path: "/partnerships/{partnership_id}/policy",
            allowed: &[CoordA, CoordB],
            body: |_| Body::Form(vec![("policy", POLICY_TOML.into())]),
        },
    ]
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

fn user_of(world: &World, who: Who) -> Option<&mentorbridge::people::accounts::User> {
    Some(match who {
        Anonymous => return None,
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
    let Some(user) = user_of(world, who) else {
        // Anonymous callers hold a sign-in form token, so that a refusal
        // below is the policy speaking, not the CSRF guard.
        let mut client = app.client();
        client.load_sign_in_form().await;
        return client;
    };
    // A fresh session per request: some rows (sign-out, password resets)
    // end sessions.
    let session = app.store.create_session(user.id).await.unwrap();
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

/// Opens the websocket at `path` as `who` (with a session cookie of theirs,
/// if they have one) and says hello without a join token, which must be
/// refused: the upgrade is what the cookie gets, and all it gets.
async fn upgrade(app: &TestApp, world: &World, who: Who, path: &str) -> Reply {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::{Error, Message};
    let mut request = format!("ws://{}{path}", app.addr)
        .into_client_request()
        .unwrap();
    if let Some(user) = user_of(world, who) {
        let session = app.store.create_session(user.id).await.unwrap();
        let cookie = format!("mb_session={}", session.token);
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    let (mut ws, response) = match tokio_tungstenite::connect_async(request).await {
        Ok(opened) => opened,
        Err(Error::Http(response)) => {
            let (parts, body) = response.into_parts();
            return Reply {
                status: parts.status,
                headers: parts.headers,
                text: String::from_utf8_lossy(&body.unwrap_or_default()).into_owned(),
            };
        }
        Err(e) => panic!("GET {path} as {who:?}: {e}"),
    };
    let hello = serde_json::json!({"type": "hello", "token": "no.token"});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    let refusal = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => break text.to_string(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no answer to hello on {path} as {who:?}: {other:?}"),
        }
    };
    let code = serde_json::from_str::<Value>(&refusal).unwrap()["code"].clone();
    assert_eq!(
        code, "bad_token",
        "hello without a token as {who:?}: {refusal}"
    );
    let _ = ws.close(None).await;
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        text: refusal,
    }
}

async fn every_route_allows_exactly_the_callers_the_policy_names(app: TestApp) {
    let world = app.world().await;
    // The partnership has a slot policy, so that reading it can succeed.
    let policy = mentorbridge::calendar::store::PolicyInput {
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
        let terms = mentorbridge::calendar::import::parse_term_csv("terms.csv", TERMS_CSV).unwrap();
        app.store
            .replace_calendar_entries(school.id, &terms)
            .await
            .unwrap();
    }
    let mut failures = Vec::new();
    let mut n = 0;
    // A mentee at school A with a draft referral, for the rows that read or edit one.
    let setup_mentee = app.add_student(&world.a, "mentee.a", "mentee", 8).await.id;
    let setup_referral = new_referral(&app, &world, setup_mentee).await;
    // A partnership with an approved match and its sessions booked, a
    // second mentee waiting to be matched, and a proposal to read.
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let teacher_b = app
        .store
        .user_for_sign_in("teacher.b")
        .await
        .unwrap()
        .unwrap()
        .0;
    let waiting = app.add_student(&world.b, "mentee2.b", "mentee", 8).await;
    app.approved_referral(&world, &teacher_b, waiting.id, "Maths")
        .await;
    app.store
        .run_matching(&world.partnership, None)
        .await
        .unwrap();
    // A session whose call is open now, for the call and attendance rows.
    let now_session = app.session_now(&world).await.id;
    // teacher.b's calendar feed: teacher.b is no caller, so no row
    // regenerates it.
    let feed_file = format!(
        "{}.ics",
        app.store
            .new_feed(mentorbridge::booking::http::FeedOwner::User(teacher_b.id))
            .await
            .unwrap()
    );
    for row in matrix() {
        for &who in EVERYONE {
            n += 1;
            let mut fresh_mentee = String::new();
            let mut proposal_id = String::new();
            let mut free_slot = String::new();
            let mut path = concrete_path(row.path, &world);
            match fresh_for(&row) {
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
                    path = row
                        .path
                        .replace("{partnership_id}", &proposal.id.to_string());
                }
                Some(Fresh::Closure) => {
                    let label = format!("Fresh closure {n}");
                    let input = ClosureInput {
                        start: "2026-10-06".parse().unwrap(),
                        end: None,
                        label: label.clone(),
                    };
                    add_closure(&app.store, world.a.id, &input).await.unwrap();
                    let entries = app.store.calendar_entries(world.a.id).await.unwrap();
                    let id = entries.iter().find(|e| e.label == label).unwrap().id;
                    path = path.replace("{entry_id}", &id.to_string());
                }
                Some(Fresh::Mentee) => {
                    // At the caller's own school: the page acts on one's own school.
                    let school = match who {
                        CoordB | MenteeB => &world.b,
                        CoordC => &world.c,
                        _ => &world.a,
                    };
                    fresh_mentee = app
                        .add_student(school, &format!("fresh.mentee{n}"), "mentee", 8)
                        .await
                        .id
                        .to_string();
                }
                Some(Fresh::Referral) => {
                    let mentee = app
                        .add_student(&world.a, &format!("fresh.mentee{n}"), "mentee", 8)
                        .await;
                    let id = new_referral(&app, &world, mentee.id).await;
                    path = path.replace("{referral_id}", &id.to_string());
                }
                Some(Fresh::MatchProposal) => {
                    // The slot and mentor rows may have changed the policy
                    // and mentor.a's free periods since.
                    app.matching_policy(&world).await;
                    app.ready_mentor(&world, &world.mentor_a, "Maths").await;
                    let proposal = app
                        .store
                        .run_matching(&world.partnership, None)
                        .await
                        .unwrap();
                    assert_eq!(proposal.body.matches.len(), 1);
                    proposal_id = proposal.id.to_string();
                    path = path.replace("{proposal_id}", &proposal_id);
                }
                Some(Fresh::Session) => {
                    let live = app
                        .store
                        .sessions_of_student(
                            world.mentee_b.id,
                            chrono::Utc::now(),
                            chrono::Utc::now() + chrono::Duration::days(400),
                        )
                        .await
                        .unwrap()
                        .into_iter()
                        .find(|s| s.status.is_live())
                        .expect("a live session to cancel");
                    path = path.replace("{session_id}", &live.id.to_string());
                    // A slot mentee.b is not booked in, to move it to.
                    let booked: Vec<_> = app
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
                        .map(|s| s.starts_at)
                        .collect();
                    let today = chrono::Utc::now().date_naive();
                    free_slot = mentorbridge::calendar::store::partnership_slots(
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
                }
                None => {}
            }
            if row.path.starts_with("/calendar/") {
                path = row.path.replace("{file}", &feed_file);
            }
            // Rows that cancel or move took a fresh session above; the call
            // and attendance rows use the one whose room is open now.
            path = path.replace("{session_id}", &now_session.to_string());
            path = path.replace("{referral_id}", &setup_referral.to_string());
            let client = client_for(&app, &world, who).await;
            let mut body = (row.body)(n);
            let fill = |v: &str| {
                v.replace("{fresh_mentee}", &fresh_mentee)
                    .replace("{mentee_id}", &setup_mentee.to_string())
                    .replace("{mentee_b}", &world.mentee_b.id.to_string())
                    .replace("{mentor_a}", &world.mentor_a.id.to_string())
                    .replace("{proposal_id}", &proposal_id)
                    .replace("{free_slot}", &free_slot)
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
            let reply = match (body, row.method) {
                (Body::Upgrade, "GET") => upgrade(&app, &world, who, &path).await,
                (Body::None, "GET") => client.get(&path).await,
                (Body::None, "DELETE") => client.delete(&path).await,
                (Body::Json(body), "POST") => client.post_json(&path, &body).await,
                (Body::Raw(content_type, text), "PUT") => {
                    client.put_raw(&path, content_type, text).await
                }
                (Body::Json(body), "PUT") => client.put_json(&path, &body).await,
                (Body::File(name, text), "POST") => client.post_file(&path, name, text, &[]).await,
                (Body::Files(field, name, text), "POST") => {
                    client.post_files(&path, field, &[(name, text)], &[]).await
                }
                (Body::Form(fields), "POST") => {
                    let fields: Vec<(&str, &str)> =
                        fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    client.post_form(&path, &fields).await
                }
                (_, method) => panic!("no way to send {method} {}", row.path),
            };
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

/// Without an upgrade, `/ws` answers every caller alike: a 400 saying what
/// a websocket upgrade needs, signed in or not (no cookie opens anything).
async fn a_plain_get_of_the_websocket_is_the_same_400_for_every_caller(app: TestApp) {
    let world = app.world().await;
    for &who in EVERYONE {
        let reply = client_for(&app, &world, who).await.get("/ws").await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{who:?}: {}",
            reply.text
        );
        assert!(
            reply.text.starts_with("expected a websocket upgrade"),
            "{who:?}: {}",
            reply.text
        );
    }
}

on_both_backends!(
    every_route_allows_exactly_the_callers_the_policy_names,
    a_plain_get_of_the_websocket_is_the_same_400_for_every_caller,
);
