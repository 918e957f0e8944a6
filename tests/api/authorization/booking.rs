//! The matrix's rows for what follows from people: matching, sessions and
//! their calendars, calls, and slots.

use super::*;

pub(super) const BOOKING: &[Row] = &[
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
        body: |_| Body::Json(json!({"name": "Laptop"})),
    },
    Row {
        method: "GET",
        path: "/api/me/calendar-feeds",
        allowed: WITH_A_SCHOOL,
        body: none,
    },
    Row {
        method: "DELETE",
        path: "/api/me/calendar-feeds/{feed_id}",
        allowed: WITH_A_SCHOOL,
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/schools/{school_id}/calendar-feeds",
        allowed: &[CoordA],
        body: none,
    },
    Row {
        method: "DELETE",
        path: "/api/schools/{school_id}/calendar-feeds/{feed_id}",
        allowed: &[CoordA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/sessions/feeds/{feed_id}/revoke",
        allowed: WITH_A_SCHOOL,
        body: |_| Body::Form(vec![]),
    },
    Row {
        method: "POST",
        path: "/sessions/school-feeds/{feed_id}/revoke",
        allowed: &[CoordA, CoordB, CoordC],
        body: |_| Body::Form(vec![]),
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
        body: |_| Body::Json(json!({"name": "Staffroom"})),
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
        method: "POST",
        path: "/api/precall/ice-servers",
        allowed: WITH_A_SCHOOL,
        body: |_| Body::Json(json!({})),
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
        method: "PUT",
        path: "/api/me/invite-digest",
        allowed: &[CoordA, CoordB, CoordC],
        body: |_| Body::Json(json!({"daily": true})),
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
        path: "/sessions/digest",
        allowed: &[CoordA, CoordB, CoordC],
        body: |_| Body::Form(vec![("daily", "yes".into())]),
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
                    "school-a": {"kinds": ["registration"]},
                    "school-b": {"kinds": ["registration"]}}}))
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
    Row {
        method: "POST",
        path: "/partnerships/{partnership_id}/policy/form",
        allowed: &[CoordA, CoordB],
        // Registration, as the matching policy has it.
        body: |_| {
            Body::Form(vec![
                ("session_minutes", "20".into()),
                ("period", "REG".into()),
                ("require_supervisor", "1".into()),
            ])
        },
    },
    // Undoing cancellations takes students, iPads and supervisors at both
    // schools: the partnership's coordinators only. Last, as booking a pair
    // again first cancels everything the pair has ahead.
    Row {
        method: "POST",
        path: "/api/sessions/{session_id}/restore",
        allowed: &[CoordA, CoordB],
        body: |_| Body::Json(json!({})),
    },
    Row {
        method: "POST",
        path: "/sessions/{session_id}/restore",
        allowed: &[CoordA, CoordB],
        body: |_| Body::Form(vec![]),
    },
    Row {
        method: "GET",
        path: "/api/partnerships/{partnership_id}/unbooked",
        allowed: &[CoordA, CoordB],
        body: none,
    },
    Row {
        method: "POST",
        path: "/api/partnerships/{partnership_id}/book-again",
        allowed: &[CoordA, CoordB],
        body: |_| Body::Json(json!({})),
    },
    Row {
        method: "POST",
        path: "/api/partnerships/{partnership_id}/matches/{match_id}/book-again",
        allowed: &[CoordA, CoordB],
        body: |_| Body::Json(json!({})),
    },
    Row {
        method: "POST",
        path: "/sessions/book-again",
        allowed: &[CoordA, CoordB],
        body: |_| Body::Form(vec![("partnership_id", "{partnership_id}".into())]),
    },
];
