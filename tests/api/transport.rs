//! The server's own transport, from outside: slow and silent clients, the
//! connection caps that keep room for the signed-in, the signalling
//! socket's origin check, and a stop that loses no attendance.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mentorbridge_tests::{Backend, TestApp, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn hello(app: &TestApp, username: &str, session: uuid::Uuid) -> Ws {
    hello_as(&app.signed_in(username).await, app, username, session).await
}

async fn hello_as(
    client: &mentorbridge_tests::Client,
    app: &TestApp,
    username: &str,
    session: uuid::Uuid,
) -> Ws {
    let info = client
        .post_json(&format!("/api/sessions/{session}/join"), &json!({}))
        .await;
    assert_eq!(info.status, StatusCode::OK, "{username}: {}", info.text);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr))
        .await
        .unwrap();
    let hello = json!({"type": "hello", "token": info.json()["token"]});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    loop {
        let Some(Ok(Message::Text(t))) = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a welcome within 5 s")
        else {
            panic!("{username}: the socket closed before its welcome");
        };
        let v: Value = serde_json::from_str(&t).unwrap();
        if v["type"] == "welcome" {
            return ws;
        }
    }
}

/// A thousand sockets trickling a request a byte at a time are closed at
/// the header timeout, and meanwhile a pair signs in and joins its call.
async fn trickling_sockets_are_closed_while_a_pair_still_joins(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.net_limits.header_timeout = Duration::from_secs(2);
    })
    .await
    else {
        return;
    };
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    // Signed in before: a flood leaves room for the signed-in, and the
    // signalling socket answers to its join token.
    let mentee = app.signed_in("mentee.b").await;
    let mentor = app.signed_in("mentor.a").await;
    let mut trickling = Vec::new();
    for _ in 0..1000 {
        let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        s.write_all(b"GET /login HTTP/1.1\r\nHo").await.unwrap();
        trickling.push(s);
    }
    let started = std::time::Instant::now();
    let _mentee = hello_as(&mentee, &app, "mentee.b", session.id).await;
    let _mentor = hello_as(&mentor, &app, "mentor.a", session.id).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the pair joined in {:?}",
        started.elapsed()
    );
    // One byte a half second keeps none of them alive past the timeout.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        for s in &mut trickling {
            let _ = s.write_all(b"s").await;
        }
    }
    let mut open = 0;
    for s in &mut trickling {
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {}
            // An answer (408) before the close is fine; silence is not.
            Ok(Ok(_)) => {}
            Err(_) => open += 1,
        }
    }
    assert_eq!(
        open, 0,
        "{open} of 1,000 trickling sockets were still open after 3 s"
    );
}

/// With the anonymous connections full, a new connection is served only
/// to someone signed in: a flood cannot shut out the school.
async fn a_full_server_keeps_room_for_the_signed_in(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.net_limits.max_anonymous = 20;
        s.net_limits.max_anonymous_per_address = 20;
        s.net_limits.max_connections = 200;
    })
    .await
    else {
        return;
    };
    app.world().await;
    // No connection is kept between requests: each one is new.
    let teacher = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let signed_in = teacher
        .post(format!("{}/api/session", app.base))
        .json(&json!({"username": "coord.a", "password": mentorbridge_tests::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let mut idle = Vec::new();
    for _ in 0..25 {
        idle.push(tokio::net::TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let anonymous = app.client().get("/login").await;
    assert_eq!(
        anonymous.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        anonymous.text
    );
    assert!(anonymous.headers.contains_key("retry-after"));
    let me = teacher
        .get(format!("{}/api/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK, "the signed-in get in");
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.client().get("/login").await.status,
        StatusCode::OK,
        "room again"
    );
}

/// A page on another site cannot open the signalling socket with a
/// visitor's browser; the pages' own origin and clients without one can.
async fn the_signalling_socket_opens_only_for_its_own_pages(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let url = format!("ws://{}/ws", app.addr);
    let mut foreign = url.as_str().into_client_request().unwrap();
    foreign
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(foreign).await.is_err(),
        "a foreign page is refused"
    );
    let mut own = url.as_str().into_client_request().unwrap();
    own.headers_mut()
        .insert("origin", app.base.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(own).await.is_ok());
    assert!(tokio_tungstenite::connect_async(url.as_str()).await.is_ok());
}

/// On a stop (SIGTERM), the call's members are told the server is going
/// (1001) and their leaving is stored before the server exits.
async fn a_stop_tells_the_call_and_loses_no_attendance(backend: Backend) {
    let Some(mut app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    let mut members = Vec::new();
    for who in ["mentee.b", "mentor.a"] {
        let mut ws = hello(&app, who, session.id).await;
        members.push(tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Close(frame) = m {
                    return frame.map(|f| u16::from(f.code));
                }
            }
            None
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.stop().await;
    for member in members {
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(5), member)
                .await
                .unwrap()
                .unwrap(),
            Some(1001),
            "Going Away"
        );
    }
    let events = app.store.attendance_events(session.id).await.unwrap();
    for user in [world.mentee_b.id, world.mentor_a.id] {
        assert!(
            events
                .iter()
                .any(|e| e.user_id == user && e.kind.as_str() == "left"),
            "{user} left, stored before the server stopped: {events:?}"
        );
    }
}

mentorbridge_tests::on_both_databases!(
    a_full_server_keeps_room_for_the_signed_in,
    a_stop_tells_the_call_and_loses_no_attendance,
    the_signalling_socket_opens_only_for_its_own_pages,
    trickling_sockets_are_closed_while_a_pair_still_joins,
);
