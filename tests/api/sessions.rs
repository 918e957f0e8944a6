use mentorbridge_tests::{PASSWORD, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

async fn signing_in_returns_the_account_and_a_secure_cookie(app: TestApp) {
    let world = app.world().await;
    let mut client = app.client();
    let reply = client.sign_in("Coord.A", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["user"]["id"], world.coord_a.id.to_string());
    assert_eq!(reply.json()["user"]["role"], "coordinator");
    let cookie = reply.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("mb_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !reply.text.contains("password"),
        "the hash must never be sent"
    );
    let me = client.get("/api/me").await;
    assert_eq!(me.json()["user"]["username"], "coord.a");
}

async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong(app: TestApp) {
    app.world().await;
    let mut client = app.client();
    let wrong = client.sign_in("coord.a", "not-the-password").await;
    let unknown = client.sign_in("nobody.here", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.json()["error"]["message"],
        unknown.json()["error"]["message"]
    );
}

async fn repeated_failures_lock_the_username_for_a_while(app: TestApp) {
    app.world().await;
    let mut client = app.client();
    for _ in 0..5 {
        assert_eq!(
            client
                .sign_in("teacher.a", "guess-guess-guess")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = client.sign_in("teacher.a", PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.text
    );
    let wait: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 900);
    // Another account is unaffected.
    assert_eq!(
        client.sign_in("coord.a", PASSWORD).await.status,
        StatusCode::OK
    );
}

async fn signing_out_ends_the_session(app: TestApp) {
    app.world().await;
    let client = app.signed_in("dsl.a").await;
    assert_eq!(client.get("/api/me").await.status, StatusCode::OK);
    assert_eq!(
        client.delete("/api/session").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(client.get("/api/me").await.status, StatusCode::UNAUTHORIZED);
}

async fn a_state_change_without_the_csrf_token_is_refused(app: TestApp) {
    let world = app.world().await;
    let mut client = app.signed_in("coord.a").await;
    client.csrf = Some("forged".into());
    let body = json!({"partner_school": world.c.slug});
    assert_eq!(
        client.post_json("/api/partnerships", &body).await.status,
        StatusCode::FORBIDDEN
    );
    client.csrf = None;
    assert_eq!(
        client.post_json("/api/partnerships", &body).await.status,
        StatusCode::FORBIDDEN
    );
    // A page form without its hidden token is refused too.
    let form = client
        .post_form("/partnerships", &[("partner_school", "school-c")])
        .await;
    assert_eq!(form.status, StatusCode::BAD_REQUEST);
    assert!(form.text.contains("expired"), "{}", form.text);
    assert!(
        app.store
            .partnerships_of(world.c.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_sign_in_form_works_and_rejects_a_foreign_form(app: TestApp) {
    app.world().await;
    let mut client = app.client();
    let forged = client
        .post_form(
            "/login",
            &[
                ("username", "coord.a"),
                ("password", PASSWORD),
                ("csrf", "x"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    client.load_sign_in_form().await;
    let ok = client
        .post_form("/login", &[("username", "coord.a"), ("password", PASSWORD)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    assert_eq!(ok.location(), Some("/home"));
    let home = client.get("/home").await;
    assert!(
        home.text.contains("Coordinator at School A"),
        "{}",
        home.text
    );
}

on_both_backends!(
    signing_in_returns_the_account_and_a_secure_cookie,
    a_wrong_password_is_refused_without_saying_which_part_was_wrong,
    repeated_failures_lock_the_username_for_a_while,
    signing_out_ends_the_session,
    a_state_change_without_the_csrf_token_is_refused,
    the_sign_in_form_works_and_rejects_a_foreign_form,
);
