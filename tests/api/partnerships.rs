use std::collections::BTreeSet;

use mentorbridge_tests::{TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

async fn a_partnership_is_proposed_by_one_school_and_accepted_by_the_other(app: TestApp) {
    app.world().await;
    let proposer = app.signed_in("coord.a").await;
    let reply = proposer
        .post_json("/api/partnerships", &json!({"partner_school": "school-c"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json()["status"], "proposed");
    let id = reply.json()["id"].as_str().unwrap().to_owned();

    // Nothing of C's students is visible to A before C accepts.
    let early = proposer
        .get(&format!("/api/partnerships/{id}/students"))
        .await;
    assert_eq!(early.status, StatusCode::FORBIDDEN);
    // The proposer cannot accept its own proposal.
    let own = proposer
        .post_json(&format!("/api/partnerships/{id}/accept"), &json!({}))
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);

    let acceptor = app.signed_in("coord.c").await;
    let listed = acceptor.get("/api/partnerships").await.json();
    assert_eq!(listed[0]["partner"]["slug"], "school-a");
    assert_eq!(listed[0]["proposed_by_us"], false);
    let accepted = acceptor
        .post_json(&format!("/api/partnerships/{id}/accept"), &json!({}))
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert_eq!(accepted.json()["status"], "accepted");
    let twice = acceptor
        .post_json(&format!("/api/partnerships/{id}/accept"), &json!({}))
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
}

async fn a_school_cannot_partner_itself_or_the_same_school_twice(app: TestApp) {
    app.world().await;
    let coord_a = app.signed_in("coord.a").await;
    let itself = coord_a
        .post_json("/api/partnerships", &json!({"partner_school": "school-a"}))
        .await;
    assert_eq!(itself.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(itself.error_field().as_deref(), Some("partner_school"));
    let unknown = coord_a
        .post_json("/api/partnerships", &json!({"partner_school": "atlantis"}))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A and B are already partners, whichever side asks again.
    let again = coord_a
        .post_json("/api/partnerships", &json!({"partner_school": "school-b"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let coord_b = app.signed_in("coord.b").await;
    let reverse = coord_b
        .post_json("/api/partnerships", &json!({"partner_school": "school-a"}))
        .await;
    assert_eq!(reverse.status, StatusCode::CONFLICT);
    assert_eq!(reverse.error_field().as_deref(), Some("partner_school"));
}

async fn partner_staff_see_only_first_name_year_and_subjects(app: TestApp) {
    let world = app.world().await;
    app.ready_mentor(&world, &world.mentor_a, "Maths").await;
    let coord_b = app.signed_in("coord.b").await;
    let reply = coord_b
        .get(&format!(
            "/api/partnerships/{}/students",
            world.partnership.id
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let students = reply.json();
    let mentor = &students.as_array().unwrap()[0];
    assert_eq!(mentor["given_name"], "mentor.a-given");
    let keys: BTreeSet<&str> = mentor
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["id", "given_name", "year_group", "kind", "subjects"])
    );
    assert!(!reply.text.contains("mentor.a-family"));
    assert!(!reply.text.contains("\"mentor.a\""));
    // A school outside the partnership sees nothing.
    let coord_c = app.signed_in("coord.c").await;
    let outsider = coord_c
        .get(&format!(
            "/api/partnerships/{}/students",
            world.partnership.id
        ))
        .await;
    assert_eq!(outsider.status, StatusCode::FORBIDDEN);
}

async fn the_partnership_pages_propose_and_accept(app: TestApp) {
    let world = app.world().await;
    let coord_a = app.signed_in("coord.a").await;
    let page = coord_a.get("/partnerships").await;
    assert!(page.text.contains("School B"));
    let proposed = coord_a
        .post_form("/partnerships", &[("partner_school", "school-c")])
        .await;
    assert_eq!(proposed.status, StatusCode::SEE_OTHER, "{}", proposed.text);
    let coord_c = app.signed_in("coord.c").await;
    let page = coord_c.get("/partnerships").await;
    assert!(page.text.contains("proposed to you"), "{}", page.text);
    let id = app.store.partnerships_of(world.c.id).await.unwrap()[0].id;
    let accepted = coord_c
        .post_form(&format!("/partnerships/{id}/accept"), &[])
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    app.ready_mentor(&world, &world.mentor_a, "Maths").await;
    let students = coord_c.get(&format!("/partnerships/{id}")).await;
    assert!(students.text.contains("mentor.a-given"));
    assert!(!students.text.contains("mentor.a-family"));
}

async fn only_the_invited_schools_coordinator_is_offered_accept_on_the_page(app: TestApp) {
    let world = app.world().await;
    app.add_staff(&world.c, "teacher.c", "teacher").await;
    let reply = app
        .signed_in("coord.a")
        .await
        .post_json("/api/partnerships", &json!({"partner_school": "school-c"}))
        .await;
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let accept_form = format!("action=\"/partnerships/{id}/accept\"");
    for (who, offered) in [
        ("coord.c", true),
        ("teacher.c", false),
        ("coord.a", false),
        ("teacher.a", false),
    ] {
        let page = app.signed_in(who).await.get("/partnerships").await;
        assert_eq!(page.status, StatusCode::OK, "{who}");
        assert_eq!(
            page.text.contains(&accept_form),
            offered,
            "{who} {} offered Accept",
            if offered {
                "should be"
            } else {
                "should not be"
            }
        );
    }
}

on_both_backends!(
    only_the_invited_schools_coordinator_is_offered_accept_on_the_page,
    a_partnership_is_proposed_by_one_school_and_accepted_by_the_other,
    a_school_cannot_partner_itself_or_the_same_school_twice,
    partner_staff_see_only_first_name_year_and_subjects,
    the_partnership_pages_propose_and_accept,
);
