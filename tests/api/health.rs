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
    every_response_carries_a_request_id_and_protective_headers,
);
