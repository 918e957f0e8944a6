//! The matrix's rows for the mentoring record: mentee.b's programme with
//! mentor.a, which belongs to school B and is shared in part with school A.

use super::*;

/// Who reaches the programme at all: its school (coord.b), the partner
/// school's staff, the mentor and the mentee.
const PROGRAMME: &[Who] = &[CoordA, TeacherA, DslA, MentorA, CoordB, MenteeB];
/// Who works on the plan: the pair and the mentee's school.
const PLAN: &[Who] = &[MentorA, CoordB, MenteeB];

fn in_days(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

fn target_json(_: usize) -> Body {
    Body::Json(
        json!({"what": "Read every night", "measure": "Reading log signed", "by_date": in_days(30)}),
    )
}

fn target_form(_: usize) -> Body {
    Body::Form(vec![
        ("what", "Read every night".to_owned()),
        ("measure", "Reading log signed".to_owned()),
        ("by_date", in_days(30)),
    ])
}

fn scores(score: i64) -> Value {
    let keys = [
        "attendance",
        "punctuality",
        "happiness",
        "calm",
        "presentation",
        "friendships",
        "learning",
        "homework",
        "cooperation",
        "behaviour",
    ];
    Value::Object(
        keys.iter()
            .map(|k| ((*k).to_owned(), json!(score)))
            .collect(),
    )
}

pub(super) const RECORD: &[Row] = &[
    Row {
        method: "GET",
        path: "/api/me/record",
        allowed: &[MentorA, MenteeB],
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/referrals/{referral_id}/record",
        allowed: PROGRAMME,
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/schools/{school_id}/record-identifiers",
        allowed: STAFF_OF_A,
        body: none,
    },
    Row {
        method: "PUT",
        path: "/api/schools/{school_id}/record-identifiers",
        allowed: &[CoordA],
        body: |_| Body::Json(json!([{"label": "Reading", "question": "How often do I read?"}])),
    },
    Row {
        method: "POST",
        path: "/api/referrals/{referral_id}/assessments",
        allowed: &[MenteeB],
        body: |_| Body::Json(json!({"stage": "baseline", "scores": scores(5)})),
    },
    Row {
        method: "POST",
        path: "/api/referrals/{referral_id}/targets",
        allowed: PLAN,
        body: target_json,
    },
    Row {
        method: "POST",
        path: "/api/targets/{target_id}/agree",
        allowed: &[MentorA, MenteeB],
        body: |_| Body::Json(json!({})),
    },
    Row {
        method: "POST",
        path: "/api/targets/{target_id}/progress",
        allowed: PLAN,
        body: |_| Body::Json(json!({"note": "Read four nights out of five"})),
    },
    Row {
        method: "POST",
        path: "/api/targets/{target_id}/outcome",
        allowed: PLAN,
        body: |_| Body::Json(json!({"outcome": "met"})),
    },
    // The session's mentor writes its account; its supervisors observe.
    Row {
        method: "PUT",
        path: "/api/sessions/{session_id}/note",
        allowed: &[MentorA, TeacherA, CoordB],
        body: |_| Body::Json(json!({"body": "Reading together", "next_step": "A new book"})),
    },
    Row {
        method: "POST",
        path: "/api/referrals/{referral_id}/reviews",
        allowed: &[CoordB],
        body: |_| Body::Json(json!({"decision": "continue", "note": "Going well"})),
    },
    Row {
        method: "POST",
        path: "/api/referrals/{referral_id}/exit",
        allowed: &[CoordB],
        body: |_| Body::Json(json!({"reason": "targets_met"})),
    },
    Row {
        method: "POST",
        path: "/api/referrals/{referral_id}/feedback",
        allowed: PLAN,
        body: |_| Body::Json(json!({"rating": 4, "went_well": "Someone to talk to"})),
    },
    // Pages.
    Row {
        method: "GET",
        path: "/record",
        allowed: &[MentorA, MenteeB],
        body: none,
    },
    Row {
        method: "GET",
        path: "/records",
        allowed: ANY_STAFF,
        body: none,
    },
    Row {
        method: "GET",
        path: "/records/{referral_id}",
        allowed: PROGRAMME,
        body: none,
    },
    Row {
        method: "GET",
        path: "/records/{referral_id}/check-in",
        allowed: &[MenteeB],
        body: none,
    },
    Row {
        method: "POST",
        path: "/records/{referral_id}/check-in",
        allowed: &[MenteeB],
        body: |_| {
            let mut fields = vec![("stage", "midway".to_owned())];
            for key in [
                "score.attendance",
                "score.punctuality",
                "score.happiness",
                "score.calm",
                "score.presentation",
                "score.friendships",
                "score.learning",
                "score.homework",
                "score.cooperation",
                "score.behaviour",
            ] {
                fields.push((key, "6".to_owned()));
            }
            Body::Form(fields)
        },
    },
    Row {
        method: "POST",
        path: "/records/{referral_id}/staff-view",
        allowed: &[CoordB],
        body: |_| {
            Body::Form(vec![
                ("stage", "baseline".to_owned()),
                ("score.attendance", "6".to_owned()),
            ])
        },
    },
    Row {
        method: "POST",
        path: "/records/{referral_id}/targets",
        allowed: PLAN,
        body: target_form,
    },
    Row {
        method: "POST",
        path: "/records/targets/{target_id}/agree",
        allowed: &[MentorA, MenteeB],
        body: |_| Body::Form(vec![]),
    },
    Row {
        method: "POST",
        path: "/records/targets/{target_id}/progress",
        allowed: PLAN,
        body: |_| Body::Form(vec![("note", "Read every night this week".to_owned())]),
    },
    Row {
        method: "POST",
        path: "/records/targets/{target_id}/outcome",
        allowed: PLAN,
        body: |_| Body::Form(vec![("outcome", "partly_met".to_owned())]),
    },
    Row {
        method: "POST",
        path: "/records/sessions/{session_id}/note",
        allowed: &[MentorA, TeacherA, CoordB],
        body: |_| Body::Form(vec![("body", "Reading together".to_owned())]),
    },
    Row {
        method: "POST",
        path: "/records/{referral_id}/review",
        allowed: &[CoordB],
        body: |_| {
            Body::Form(vec![
                ("decision", "monitor".to_owned()),
                ("note", "Watch attendance".to_owned()),
            ])
        },
    },
    Row {
        method: "POST",
        path: "/records/{referral_id}/exit",
        allowed: &[CoordB],
        body: |_| Body::Form(vec![("reason", "withdrawn".to_owned())]),
    },
    Row {
        method: "POST",
        path: "/records/{referral_id}/feedback",
        allowed: PLAN,
        body: |_| {
            Body::Form(vec![
                ("stage", "term".to_owned()),
                ("rating", "4".to_owned()),
                ("went_well", "A good term".to_owned()),
            ])
        },
    },
];

/// Whether a row acts on the programme (so `{referral_id}` is mentee.b's,
/// not the draft referral the people rows use).
pub(super) fn on_programme(path: &str) -> bool {
    (path.starts_with("/api/referrals/{referral_id}/")
        && !path.ends_with("/status")
        && !path.ends_with("/changes"))
        || path.starts_with("/records/{referral_id}")
}

/// A new running programme: a new mentee at school B referred, approved,
/// matched with a new mentor and booked, for an exit that really ends one.
pub(super) async fn fresh_programme(app: &TestApp, world: &World, n: usize) -> uuid::Uuid {
    let mentor = app
        .add_student(&world.a, &format!("fresh.mentor{n}"), "mentor", 12)
        .await;
    app.ready_mentor(world, &mentor, "Maths").await;
    let teacher_b = app
        .store
        .user_for_sign_in("teacher.b")
        .await
        .unwrap()
        .unwrap()
        .0;
    let mentee = app
        .add_student(&world.b, &format!("fresh.menteeb{n}"), "mentee", 8)
        .await;
    let referral = app
        .approved_referral(world, &teacher_b, mentee.id, "Maths")
        .await;
    app.matching_policy(world).await;
    app.approve_as_both(world).await;
    let status = app.store.referral(referral).await.unwrap().status;
    assert_eq!(status.as_str(), "matched", "the fresh programme is matched");
    referral
}

/// A new target on mentee.b's plan, set by coord.b (so both of the pair
/// still have to agree it).
pub(super) async fn fresh_target(
    app: &TestApp,
    world: &World,
    programme: uuid::Uuid,
) -> uuid::Uuid {
    let target = mentorbridge::record::CheckedTarget {
        what: "Hand in homework".into(),
        measure: "Planner signed".into(),
        by_date: chrono::Utc::now().date_naive() + chrono::Duration::days(20),
        review_date: None,
    };
    app.store
        .add_target(
            programme,
            world.coord_b.id,
            mentorbridge::record::store::Side::Staff,
            &target,
        )
        .await
        .unwrap()
        .id
}
