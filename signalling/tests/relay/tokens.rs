//! Join tokens: refused by code when forged, expired, reused or early.

use chrono::Utc;
use mentorbridge_signalling::hub::Config;
use mentorbridge_signalling::token::{CallRole, TokenKey};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Client, claims, start};

#[tokio::test]
async fn forged_expired_reused_and_early_tokens_are_refused_by_code() {
    let server = start(Config::default()).await;
    let session = Uuid::new_v4();
    let refuse = |token: String| {
        let addr = server.addr;
        async move {
            let mut c = Client::connect(addr).await;
            c.send(json!({"type": "hello", "token": token})).await;
            let code = c.error_code().await;
            assert!(c.next().await.is_none(), "closed after the error");
            code
        }
    };
    let forged = TokenKey::new(b"someone else's key").sign(&claims(
        session,
        Uuid::new_v4(),
        CallRole::Mentor,
    ));
    assert_eq!(refuse(forged).await, "bad_token");
    let mut expired = claims(session, Uuid::new_v4(), CallRole::Mentor);
    expired.expires_at = Utc::now() - chrono::Duration::seconds(1);
    assert_eq!(refuse(server.token(&expired)).await, "token_expired");
    let mut early = claims(session, Uuid::new_v4(), CallRole::Mentor);
    early.opens_at = Utc::now() + chrono::Duration::minutes(10);
    assert_eq!(refuse(server.token(&early)).await, "outside_window");
    let once = server.token(&claims(session, Uuid::new_v4(), CallRole::Mentee));
    let mut first = Client::connect(server.addr).await;
    first.send(json!({"type": "hello", "token": once})).await;
    first.expect("welcome").await;
    assert_eq!(refuse(once).await, "token_reused");
    assert_eq!(refuse("garbage".into()).await, "bad_token");

    // Anything but hello first is refused.
    let mut c = Client::connect(server.addr).await;
    c.send(json!({"type": "offer", "sdp": "v=0"})).await;
    assert_eq!(c.error_code().await, "hello_first");
}
