use mentorbridge_tests::{PASSWORD, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn school(slug: &str, tz: &str) -> Value {
    json!({"slug": slug, "name": "Meadow Bank School", "time_zone": tz, "country": "GB", "region": "GB-WLS"})
}

async fn an_admin_adds_a_school_with_its_first_coordinator_who_can_then_sign_in(app: TestApp) {
    app.world().await;
    let admin = app.signed_in("admin").await;
    let mut body = school("meadow-bank", "Europe/London");
    body["coordinator"] = json!({"username": "m.jones", "password": "sunrise-maple-window", "given_name": "Megan", "family_name": "Jones"});
    let reply = admin.post_json("/api/schools", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json()["time_zone"], "Europe/London");
    assert_eq!(reply.json()["region"], "GB-WLS");
    let mut coordinator = app.client();
    let signed = coordinator.sign_in("m.jones", "sunrise-maple-window").await;
    assert_eq!(signed.status, StatusCode::OK);
    assert_eq!(signed.json()["user"]["school_id"], reply.json()["id"]);
}

async fn an_unknown_time_zone_is_refused_naming_the_field_and_nothing_is_written(app: TestApp) {
    app.world().await;
    let admin = app.signed_in("admin").await;
    let before = admin
        .get("/api/schools")
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    let reply = admin
        .post_json("/api/schools", &school("meadow-bank", "Europe/Londres"))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_field().as_deref(), Some("time_zone"));
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Europe/Londres")
    );
    let windows = admin
        .post_json("/api/schools", &school("meadow-bank", "GMT Standard Time"))
        .await;
    assert_eq!(windows.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(windows.text.contains("Europe/London"), "{}", windows.text);
    assert_eq!(
        admin
            .get("/api/schools")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        before
    );
}

async fn a_duplicate_slug_is_a_conflict(app: TestApp) {
    app.world().await;
    let admin = app.signed_in("admin").await;
    let reply = admin
        .post_json("/api/schools", &school("school-a", "Europe/London"))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error_field().as_deref(), Some("slug"));
}

async fn a_school_whose_coordinator_cannot_be_created_is_not_created_either(app: TestApp) {
    app.world().await;
    let admin = app.signed_in("admin").await;
    let mut body = school("meadow-bank", "Europe/London");
    body["coordinator"] = json!({"username": "coord.a", "password": PASSWORD, "given_name": "Dup", "family_name": "Licate"});
    let reply = admin.post_json("/api/schools", &body).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert_eq!(reply.error_field().as_deref(), Some("coordinator.username"));
    let slugs: Vec<String> = admin
        .get("/api/schools")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !slugs.contains(&"meadow-bank".to_owned()),
        "half-written school: {slugs:?}"
    );
}

async fn malformed_json_is_a_bad_request_naming_what_is_missing(app: TestApp) {
    app.world().await;
    let admin = app.signed_in("admin").await;
    let missing = admin
        .post_raw_json(
            "/api/schools",
            r#"{"name": "No slug", "time_zone": "Europe/London"}"#,
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("slug"),
        "{}",
        missing.text
    );
    let broken = admin.post_raw_json("/api/schools", r#"{"slug": "x""#).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.json()["error"]["code"], "malformed");
}

on_both_backends!(
    an_admin_adds_a_school_with_its_first_coordinator_who_can_then_sign_in,
    an_unknown_time_zone_is_refused_naming_the_field_and_nothing_is_written,
    a_duplicate_slug_is_a_conflict,
    a_school_whose_coordinator_cannot_be_created_is_not_created_either,
    malformed_json_is_a_bad_request_naming_what_is_missing,
);
