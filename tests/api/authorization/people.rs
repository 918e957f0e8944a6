//! The matrix's rows for signing in and for people: schools, staff and
//! students, partnerships, calendars, rosters, referrals and mentors.

use super::*;

pub(super) const PEOPLE: &[Row] = &[
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
    // A fresh pupil's account, turned off and on.
    Row {
        method: "POST",
        path: "/api/users/{user_id}/disable",
        allowed: &[CoordA],
        body: |_| Body::Json(json!({})),
    },
    Row {
        method: "POST",
        path: "/api/users/{user_id}/enable",
        allowed: &[CoordA],
        body: |_| Body::Json(json!({})),
    },
    Row {
        method: "POST",
        path: "/school/accounts/{user_id}/disable",
        allowed: &[CoordA],
        body: |_| Body::Form(vec![]),
    },
    Row {
        method: "POST",
        path: "/school/accounts/{user_id}/enable",
        allowed: &[CoordA],
        body: |_| Body::Form(vec![]),
    },
    // Everyone's own password, changed to itself.
    Row {
        method: "POST",
        path: "/api/me/password",
        allowed: SIGNED_IN,
        body: |_| Body::Json(json!({"current_password": PASSWORD, "new_password": PASSWORD})),
    },
    Row {
        method: "POST",
        path: "/account/password",
        allowed: SIGNED_IN,
        body: |_| {
            Body::Form(vec![
                ("current_password", PASSWORD.into()),
                ("new_password", PASSWORD.into()),
            ])
        },
    },
    Row {
        method: "GET",
        path: "/account",
        allowed: SIGNED_IN,
        body: none,
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
    // Sign-in cards: any staff, for students at their own school.
    Row {
        method: "POST",
        path: "/school/students/cards",
        allowed: ANY_STAFF,
        body: |_| {
            Body::Form(vec![
                ("year_group", "7".into()),
                ("kind", String::new()),
                ("replace_existing", "on".into()),
            ])
        },
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
    // A school's iPads and supervisors: its staff see them, its
    // coordinators declare them (for all its partnerships).
    Row {
        method: "GET",
        path: "/api/schools/{school_id}/capacity",
        allowed: STAFF_OF_A,
        body: none,
    },
    Row {
        method: "PUT",
        path: "/api/schools/{school_id}/capacity",
        allowed: &[CoordA],
        body: |_| Body::Json(json!({"devices": 2, "supervisors": ["teacher.a"]})),
    },
    Row {
        method: "DELETE",
        path: "/api/schools/{school_id}/capacity/{from}",
        allowed: &[CoordA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/school/calendar/capacity",
        allowed: ANY_COORDINATOR,
        // Far ahead, so the booking rows' iPads are as they were.
        body: |n| {
            Body::Form(vec![
                ("devices", "2".into()),
                ("from", format!("2031-01-{:02}", 1 + n % 28)),
            ])
        },
    },
    Row {
        method: "POST",
        path: "/school/calendar/capacity/{from}/delete",
        allowed: ANY_COORDINATOR,
        body: |_| Body::Form(vec![]),
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
        method: "PUT",
        path: "/api/schools/{school_id}/calendar/days",
        allowed: &[CoordA],
        body: |_| Body::Json(json!({"days": "Mon-Fri"})),
    },
    Row {
        method: "POST",
        path: "/school/calendar/days",
        allowed: ANY_COORDINATOR,
        body: |_| {
            Body::Form(
                ["Mon", "Tue", "Wed", "Thu", "Fri"]
                    .into_iter()
                    .map(|d| ("days", d.into()))
                    .collect(),
            )
        },
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
        method: "GET",
        path: "/api/referrals/{referral_id}/changes",
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
            Body::Json(json!({"offers": [{"subject": "Maths", "level": "gcse"}], "capacity": 2}))
        },
    },
    Row {
        method: "POST",
        path: "/api/mentors/{user_id}/training",
        allowed: &[CoordA, TeacherA],
        body: |_| Body::Json(json!({"course": "Peer mentoring (Level 1)", "date": "2026-10-01"})),
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
                ("free_periods", "Mon REG".into()),
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
];
