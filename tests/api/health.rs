use mentorbridge_tests::{TestApp, on_both_backends};
use reqwest::StatusCode;

async fn liveness_and_readiness_answer_ok(app: TestApp) {
    let client = app.client();
    assert_eq!(client.get("/healthz").await.status, StatusCode::OK);
    let ready = client.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.text, "ready");
}

async fn readiness_fails_when_the_database_is_gone(app: TestApp) {
    app.store.close().await;
    assert_eq!(
        app.client().get("/readyz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

/// With every connection taken (a database gone or overloaded), readiness
/// says so within a second, not after the pool's wait for a connection.
async fn readiness_answers_within_a_second_when_no_connection_comes(app: TestApp) {
    let (mut lite, mut pg) = (Vec::new(), Vec::new());
    match &app.store {
        mentorbridge::store::Store::Sqlite(pool) => {
            while let Ok(Ok(c)) =
                tokio::time::timeout(std::time::Duration::from_millis(300), pool.acquire()).await
            {
                lite.push(c);
            }
        }
        mentorbridge::store::Store::Postgres(pool) => {
            while let Ok(Ok(c)) =
                tokio::time::timeout(std::time::Duration::from_millis(300), pool.acquire()).await
            {
                pg.push(c);
            }
        }
    }
    assert!(lite.len() + pg.len() > 0);
    let started = std::time::Instant::now();
    let ready = app.client().get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1500),
        "answered after {:?}",
        started.elapsed()
    );
    drop((lite, pg));
}

async fn every_response_carries_a_request_id_and_protective_headers(app: TestApp) {
    let reply = app.client().get("/login").await;
    assert!(reply.headers.contains_key("x-request-id"));
    assert_eq!(reply.headers["x-frame-options"], "DENY");
    assert!(
        reply.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
}

on_both_backends!(
    liveness_and_readiness_answer_ok,
    readiness_fails_when_the_database_is_gone,
    readiness_answers_within_a_second_when_no_connection_comes,
    every_response_carries_a_request_id_and_protective_headers,
);
