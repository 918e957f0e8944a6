//! `/ws` as every kind of caller: the socket opens for everyone, and a
//! cookie gets nothing more than that; the join token decides.

use super::*;

/// Opens the websocket at `path` as `who` (with a session cookie of theirs,
/// if they have one) and says hello without a join token, which must be
/// refused: the upgrade is what the cookie gets, and all it gets.
pub(super) async fn upgrade(app: &TestApp, world: &World, who: Who, path: &str) -> Reply {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::{Error, Message};
    let mut request = format!("ws://{}{path}", app.addr)
        .into_client_request()
        .unwrap();
    if let Some(user) = user_of(world, who) {
        let session = app
            .store
            .create_session(user.id, chrono::Duration::hours(1))
            .await
            .unwrap();
        let cookie = format!("mb_session={}", session.token);
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    let (mut ws, response) = match tokio_tungstenite::connect_async(request).await {
        Ok(opened) => opened,
        Err(Error::Http(response)) => {
            let (parts, body) = response.into_parts();
            return Reply {
                status: parts.status,
                headers: parts.headers,
                text: String::from_utf8_lossy(&body.unwrap_or_default()).into_owned(),
            };
        }
        Err(e) => panic!("GET {path} as {who:?}: {e}"),
    };
    let hello = serde_json::json!({"type": "hello", "token": "no.token"});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    let refusal = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => break text.to_string(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no answer to hello on {path} as {who:?}: {other:?}"),
        }
    };
    let code = serde_json::from_str::<Value>(&refusal).unwrap()["code"].clone();
    assert_eq!(
        code, "bad_token",
        "hello without a token as {who:?}: {refusal}"
    );
    let _ = ws.close(None).await;
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        text: refusal,
    }
}

/// Without an upgrade, `/ws` answers every caller alike: a 400 saying what
/// a websocket upgrade needs, signed in or not (no cookie opens anything).
async fn a_plain_get_of_the_websocket_is_the_same_400_for_every_caller(app: TestApp) {
    let world = app.world().await;
    super::add_scheme_lead(&app).await;
    for &who in EVERYONE {
        let reply = client_for(&app, &world, who).await.get("/ws").await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{who:?}: {}",
            reply.text
        );
        assert!(
            reply.text.starts_with("expected a websocket upgrade"),
            "{who:?}: {}",
            reply.text
        );
    }
}

on_both_backends!(a_plain_get_of_the_websocket_is_the_same_400_for_every_caller);
