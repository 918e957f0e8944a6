use std::collections::BTreeSet;

use mentorbridge_tests::{TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

async fn a_mentor_is_ready_once_offering_trained_and_cleared_and_only_then_shown_to_the_partner(
    app: TestApp,
) {
    let world = app.world().await;
    let mentor = world.mentor_a.id;
    let teacher = app.signed_in("teacher.a").await;
    let partner = app.signed_in("coord.b").await;
    let shared = format!("/api/partnerships/{}/mentors", world.partnership.id);

    let list = teacher
        .get(&format!("/api/schools/{}/mentors", world.a.id))
        .await
        .json();
    assert_eq!(list[0]["ready"], false);
    assert_eq!(
        list[0]["missing"],
        json!(["subjects offered", "training", "safeguarding clearance"])
    );

    let profile = json!({
        "offers": [{"subject": "Maths", "level": "gcse"}, {"subject": "Physics", "level": "a_level"}],
        "capacity": 2,
        "free_periods": [{"week": "A", "day": "Mon", "period": "TUT"}, {"day": "Thu", "period": "TUT"}]
    });
    assert_eq!(
        teacher
            .put_json(&format!("/api/mentors/{mentor}/profile"), &profile)
            .await
            .status,
        StatusCode::OK
    );
    let trained = teacher
        .post_json(
            &format!("/api/mentors/{mentor}/training"),
            &json!({"course": "Peer mentoring (Level 1)", "date": "2026-10-01"}),
        )
        .await;
    assert_eq!(trained.json()["missing"], json!(["safeguarding clearance"]));
    assert_eq!(
        partner.get(&shared).await.json(),
        json!([]),
        "not ready, not shown"
    );

    // A teacher cannot clear; the safeguarding lead can.
    assert_eq!(
        teacher
            .post_json(&format!("/api/mentors/{mentor}/clearance"), &json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let dsl = app.signed_in("dsl.a").await;
    let cleared = dsl
        .post_json(&format!("/api/mentors/{mentor}/clearance"), &json!({}))
        .await;
    assert_eq!(cleared.json()["ready"], true);
    assert_eq!(cleared.json()["cleared_by"], json!(world.dsl_a.id));

    let seen = partner.get(&shared).await.json();
    let keys: BTreeSet<&str> = seen[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["id", "given_name", "year_group", "offers", "capacity"])
    );
    assert!(!partner.get(&shared).await.text.contains("mentor.a-family"));
}

async fn bad_readiness_input_names_its_field(app: TestApp) {
    let world = app.world().await;
    let teacher = app.signed_in("teacher.a").await;
    let mentor = world.mentor_a.id;
    let bad_capacity = teacher
        .put_json(
            &format!("/api/mentors/{mentor}/profile"),
            &json!({"offers": [], "capacity": 0}),
        )
        .await;
    assert_eq!(bad_capacity.error_field().as_deref(), Some("capacity"));
    let bad_level = teacher
        .put_json(
            &format!("/api/mentors/{mentor}/profile"),
            &json!({"offers": [{"subject": "Maths", "level": "degree"}], "capacity": 1}),
        )
        .await;
    assert_eq!(bad_level.status, StatusCode::BAD_REQUEST);
    let future = teacher
        .post_json(
            &format!("/api/mentors/{mentor}/training"),
            &json!({"course": "X", "date": "2099-01-01"}),
        )
        .await;
    assert_eq!(future.error_field().as_deref(), Some("date"));
    // A mentee is not a mentor.
    let coord_b = app.signed_in("coord.b").await;
    let not_mentor = coord_b
        .put_json(
            &format!("/api/mentors/{}/profile", world.mentee_b.id),
            &json!({"offers": [], "capacity": 1}),
        )
        .await;
    assert_eq!(not_mentor.status, StatusCode::NOT_FOUND);
}

async fn staff_ready_a_mentor_through_the_mentors_page(app: TestApp) {
    let world = app.world().await;
    let mentor = world.mentor_a.id;
    let teacher = app.signed_in("teacher.a").await;
    let bad = teacher
        .post_form(
            &format!("/school/mentors/{mentor}/profile"),
            &[("offers", "Maths"), ("capacity", "2"), ("free_periods", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("should look like"), "{}", bad.text);
    let saved = teacher
        .post_form(
            &format!("/school/mentors/{mentor}/profile"),
            &[
                ("offers", "Maths (GCSE); Physics (A level)"),
                ("capacity", "2"),
                ("free_periods", "A Mon TUT; B Thu TUT"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    teacher
        .post_form(
            &format!("/school/mentors/{mentor}/training"),
            &[
                ("course", "Peer mentoring (Level 1)"),
                ("date", "2026-10-01"),
            ],
        )
        .await;
    let page = teacher.get("/school/mentors").await;
    assert!(
        page.text.contains("Maths (GCSE); Physics (A level)")
            && page.text.contains("needs safeguarding clearance"),
        "{}",
        page.text
    );
    assert!(
        !page.text.contains("Clear for mentoring"),
        "teachers do not clear"
    );
    let dsl = app.signed_in("dsl.a").await;
    assert!(
        dsl.get("/school/mentors")
            .await
            .text
            .contains("Clear for mentoring")
    );
    dsl.post_form(&format!("/school/mentors/{mentor}/clearance"), &[])
        .await;
    assert!(app.store.mentor_profile(mentor).await.unwrap().ready);
}

/// Once the school has a bell schedule, a free period it does not have is
/// refused, naming the periods it has that day (before, "Monday mornings"
/// was kept and the mentor quietly never matched).
async fn free_periods_the_timetable_lacks_are_refused(app: TestApp) {
    let world = app.world().await;
    app.calendars_for_matching(&world).await;
    let teacher = app.signed_in("teacher.a").await;
    let path = format!("/api/mentors/{}/profile", world.mentor_a.id);
    let profile = |free: serde_json::Value| json!({"offers": [{"subject": "Maths", "level": "gcse"}], "capacity": 1, "free_periods": free});
    let wrong = teacher
        .put_json(
            &path,
            &profile(
                json!([{"day": "Mon", "period": "REG"}, {"day": "Mon", "period": "mornings"}]),
            ),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert_eq!(wrong.error_field().as_deref(), Some("free_periods"));
    assert!(
        wrong.text.contains("no period mornings") && wrong.text.contains("(it has REG)"),
        "{}",
        wrong.text
    );
    let week_b = teacher
        .put_json(
            &path,
            &profile(json!([{"week": "B", "day": "Tue", "period": "REG"}])),
        )
        .await;
    assert_eq!(week_b.error_field().as_deref(), Some("free_periods"));
    assert!(week_b.text.contains("one week"), "{}", week_b.text);
    let mentors = teacher
        .get(&format!("/api/schools/{}/mentors", world.a.id))
        .await
        .json();
    assert_eq!(
        mentors[0]["missing"][0], "subjects offered",
        "nothing stored"
    );
    let right = teacher
        .put_json(&path, &profile(json!([{"day": "Mon", "period": "reg"}])))
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
}

on_both_backends!(
    free_periods_the_timetable_lacks_are_refused,
    staff_ready_a_mentor_through_the_mentors_page,
    a_mentor_is_ready_once_offering_trained_and_cleared_and_only_then_shown_to_the_partner,
    bad_readiness_input_names_its_field,
);
