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
    let cookie = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("mb_session="))
        .expect("a session cookie");
    assert!(cookie.starts_with("mb_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !reply.text.contains("argon2") && !reply.text.contains("password_hash"),
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

/// Guessing at a username slows down tries from other browsers, with an
/// honest wait; the owner's own laptop, where they signed in before, still
/// gets in with the right password.
async fn guessing_slows_a_username_down_but_not_its_owners_own_device(app: TestApp) {
    app.world().await;
    let mut laptop = app.client();
    assert_eq!(
        laptop.sign_in("teacher.a", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        laptop.delete("/api/session").await.status,
        StatusCode::NO_CONTENT
    );
    let mut guesser = app.client();
    for i in 0..6 {
        assert_eq!(
            guesser
                .sign_in("teacher.a", "guess-guess-guess")
                .await
                .status,
            StatusCode::UNAUTHORIZED,
            "guess {i}"
        );
    }
    let slowed = guesser.sign_in("teacher.a", PASSWORD).await;
    assert_eq!(
        slowed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        slowed.text
    );
    let wait: u64 = slowed.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=15).contains(&wait),
        "waits {wait} s, not to a window's end"
    );
    assert_eq!(
        laptop.sign_in("teacher.a", PASSWORD).await.status,
        StatusCode::OK,
        "the owner's own device gets in"
    );
    // Another account is unaffected.
    assert_eq!(
        guesser.sign_in("coord.a", PASSWORD).await.status,
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
    client.load_sign_in_form().await;
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

async fn parallel_guesses_are_limited_like_sequential_ones(app: TestApp) {
    app.world().await;
    let client = std::sync::Arc::new(app.client());
    let guesses = (0..20).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .post_json(
                    "/api/session",
                    &json!({"username": "teacher.a", "password": format!("guess-number-{i}")}),
                )
                .await
                .status
        })
    });
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    // Five free failures and the sixth try are checked, and at most the
    // three others being checked beside it (sign-in checks run four at a
    // time); the rest are told to wait.
    assert!((6..=9).contains(&checked), "{statuses:?}");
    assert_eq!(checked + refused, 20, "{statuses:?}");
}

async fn signing_in_again_ends_the_previous_session(app: TestApp) {
    app.world().await;
    let mut client = app.signed_in("coord.a").await;
    let first = client.csrf.clone();
    assert_eq!(
        client.sign_in("coord.a", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_ne!(client.csrf, first);
    assert_eq!(client.get("/api/me").await.status, StatusCode::OK);
}

async fn signing_out_of_a_lapsed_session_still_clears_the_cookie(app: TestApp) {
    app.world().await;
    let mut client = app.client();
    client.load_sign_in_form().await;
    client
        .post_form("/login", &[("username", "dsl.a"), ("password", PASSWORD)])
        .await;
    // The session ends elsewhere (say a password reset), then the page's
    // Sign out button is pressed with the old token.
    let page = client.get("/home").await;
    let marker = "name=\"csrf\" value=\"";
    let start = page.text.find(marker).unwrap() + marker.len();
    let token = page.text[start..start + page.text[start..].find('"').unwrap()].to_owned();
    let user = app
        .store
        .user_for_sign_in("dsl.a")
        .await
        .unwrap()
        .unwrap()
        .0;
    sqlx_delete_sessions(&app, user.id).await;
    let out = client.post_form("/logout", &[("csrf", &token)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.text);
    assert_eq!(out.location(), Some("/login"));
    let cookie = out.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("mb_session=") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );
}

async fn sqlx_delete_sessions(app: &TestApp, user: uuid::Uuid) {
    use mentorbridge::store::Store;
    match &app.store {
        Store::Sqlite(pool) => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user)
            .execute(pool)
            .await
            .map(|_| ()),
        Store::Postgres(pool) => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user)
            .execute(pool)
            .await
            .map(|_| ()),
    }
    .unwrap();
}

on_both_backends!(
    parallel_guesses_are_limited_like_sequential_ones,
    signing_in_again_ends_the_previous_session,
    signing_out_of_a_lapsed_session_still_clears_the_cookie,
    signing_in_returns_the_account_and_a_secure_cookie,
    a_wrong_password_is_refused_without_saying_which_part_was_wrong,
    guessing_slows_a_username_down_but_not_its_owners_own_device,
    signing_out_ends_the_session,
    a_state_change_without_the_csrf_token_is_refused,
    the_sign_in_form_works_and_rejects_a_foreign_form,
);

#[tokio::test]
async fn behind_https_the_session_cookie_is_marked_secure() {
    let app = mentorbridge_tests::spawn_app_with(mentorbridge_tests::Backend::Sqlite, |s| {
        s.public_url = Some("https://mentoring.example.sch.uk".into());
    })
    .await
    .unwrap();
    app.world().await;
    let reply = app.client().sign_in("coord.a", PASSWORD).await;
    let cookie = reply.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}
