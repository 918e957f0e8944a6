//! Limits: bad and oversized messages, floods, clients that never read,
//! silence, and the end of the booked window.

use std::time::Duration;

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use mentorbridge_signalling::hub::{Config, RoomEvent};
use mentorbridge_signalling::protocol::LeaveReason;
use mentorbridge_signalling::token::CallRole;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::support::{Client, claims, sdp, start};

#[tokio::test]
async fn unknown_messages_and_oversized_sdp_get_an_error_and_the_call_goes_on() {
    let server = start(Config::default()).await;
    let room = Uuid::new_v4();
    let (mut a, _) = server.join(room, Uuid::new_v4(), CallRole::Mentor).await;
    let (mut b, _) = server.join(room, Uuid::new_v4(), CallRole::Mentee).await;
    a.expect("peer_joined").await;
    a.send(json!({"type": "shout", "text": "hi"})).await;
    assert_eq!(a.error_code().await, "bad_message");
    a.send(json!({"type": "offer", "sdp": sdp(70 * 1024)}))
        .await;
    assert_eq!(a.error_code().await, "too_large");
    b.quiet().await;
    a.send(json!({"type": "offer", "sdp": sdp(2000)})).await;
    b.expect("offer").await;
}

#[tokio::test]
async fn a_flood_is_rate_limited_then_cut_off_and_the_room_carries_on() {
    let server = start(Config {
        rate_per_second: 5,
        burst: 10,
        ..Config::default()
    })
    .await;
    let room = Uuid::new_v4();
    let (mut flood, _) = server.join(room, Uuid::new_v4(), CallRole::Mentor).await;
    let (mut calm, _) = server.join(room, Uuid::new_v4(), CallRole::Mentee).await;
    flood.expect("peer_joined").await;
    // Read while flooding: when the server hangs up on a client that is
    // still sending, the connection is reset and anything unread is lost.
    let (mut sink, mut stream) = flood.ws.split();
    let reader = tokio::spawn(async move {
        let mut codes = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "error" {
                        codes.push(v["code"].as_str().unwrap().to_owned());
                    }
                }
                Ok(Some(Ok(_))) => {}
                // Closed or reset by the server: cut off.
                Ok(None | Some(Err(_))) => return (codes, true),
                Err(_) => return (codes, false),
            }
        }
    });
    for _ in 0..200 {
        let ping = Message::Text(json!({"type": "ping"}).to_string().into());
        if sink.send(ping).await.is_err() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let (codes, cut_off) = reader.await.unwrap();
    assert!(cut_off, "the flooding client is disconnected");
    assert!(codes.iter().all(|c| c == "rate_limited"), "{codes:?}");
    assert!(
        codes.len() >= 10,
        "rate-limited, then disconnected: {codes:?}"
    );
    calm.send(json!({"type": "ping"})).await;
    calm.expect("pong").await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_cut_off_alone() {
    let server = start(Config {
        rate_per_second: 10_000,
        burst: 10_000,
        queue: 16,
        ..Config::default()
    })
    .await;
    let room = Uuid::new_v4();
    let (mut talker, _) = server.join(room, Uuid::new_v4(), CallRole::Mentor).await;
    // The deaf client joins and then never reads again.
    let (_deaf, _) = server.join(room, Uuid::new_v4(), CallRole::Mentee).await;
    talker.expect("peer_joined").await;
    // About 45 KB on the wire once JSON escapes the line ends.
    let big = sdp(30 * 1024);
    let mut cut = false;
    for _ in 0..2000 {
        talker.send(json!({"type": "offer", "sdp": big})).await;
        if server.hub.stats().dropped == 1 {
            cut = true;
            break;
        }
    }
    assert!(cut, "the deaf client is cut off once its queue fills");
    // The talker's own connection is untouched.
    talker.send(json!({"type": "ping"})).await;
    talker.expect("pong").await;
    assert_eq!(server.hub.stats().connected, 1);
}

#[tokio::test]
async fn silence_past_the_idle_time_and_the_end_of_the_window_close_the_connection() {
    let server = start(Config {
        idle_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let (mut quiet, _) = server
        .join(Uuid::new_v4(), Uuid::new_v4(), CallRole::Mentor)
        .await;
    assert_eq!(quiet.error_code().await, "idle_timeout");

    let mut server = start(Config::default()).await;
    let room = Uuid::new_v4();
    let mut c = claims(room, Uuid::new_v4(), CallRole::Mentee);
    c.closes_at = Utc::now() + chrono::Duration::milliseconds(300);
    let mut late = Client::connect(server.addr).await;
    late.send(json!({"type": "hello", "token": server.token(&c)}))
        .await;
    late.expect("welcome").await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    server.hub.sweep(Utc::now());
    assert_eq!(late.error_code().await, "outside_window");
    let closed = server.drain_events().into_iter().any(|e| {
        matches!(
            e,
            RoomEvent::Left {
                reason: LeaveReason::WindowClosed,
                ..
            }
        )
    });
    assert!(closed);
}

#[tokio::test]
async fn pings_count_against_the_rate_limit_and_a_ping_flood_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(Config {
        rate_per_second: 5,
        burst: 10,
        ..Config::default()
    })
    .await;
    let mut tcp = crate::support::raw_socket(server.addr).await;
    let pings = crate::support::masked(0x9, true, b"").repeat(1000);
    // Written from another task: the server may stop reading before
    // all of it is in.
    let (mut rd, mut wr) = tcp.split();
    let write = async {
        let _ = wr.write_all(&pings).await;
    };
    let read = async {
        let mut all = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), rd.read_to_end(&mut all)).await;
        all
    };
    let ((), answered) = tokio::join!(write, read);
    // Pongs are two bytes each; at most the burst's worth came back
    // before the cut, and the connection ended (read_to_end returned).
    let pongs = answered.windows(2).filter(|w| w == &[0x8A, 0x00]).count();
    assert!(pongs <= 10, "{pongs} pongs answered 1000 pings");
    assert!(
        answered.windows(2).any(|w| w[0] == 0x88),
        "the flooding client is closed"
    );
}

#[tokio::test]
async fn a_client_that_pings_but_never_says_hello_is_closed_at_the_hello_deadline() {
    let server = start(Config {
        hello_timeout: Duration::from_millis(1500),
        ..Config::default()
    })
    .await;
    let started = tokio::time::Instant::now();
    let mut c = Client::connect(server.addr).await;
    let mut every = tokio::time::interval(Duration::from_millis(500));
    let code = loop {
        tokio::select! {
            _ = every.tick() => {
                c.ws.send(Message::Ping(b"still here".to_vec().into())).await.unwrap();
            }
            got = c.ws.next() => match got {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    break v["code"].as_str().unwrap().to_owned();
                }
                Some(Ok(_)) => {}
                other => panic!("closed without an error: {other:?}"),
            },
            () = tokio::time::sleep_until(started + Duration::from_secs(4)) => {
                panic!("still open after 4 s of pings without hello");
            }
        }
    };
    assert_eq!(code, "hello_first");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_millis(2500),
        "closed after {took:?}, the deadline being 1.5 s after the upgrade"
    );
}

#[tokio::test]
async fn sockets_that_have_not_said_hello_are_capped_per_address_and_in_all() {
    use crate::support::upgrade_from;
    use tokio::io::AsyncWriteExt;
    let server = start(Config {
        max_pending: 3,
        max_pending_per_address: 2,
        ..Config::default()
    })
    .await;
    let addr = server.addr;
    let (s, mut a1) = upgrade_from(addr, [127, 0, 0, 1]).await;
    assert!(s.starts_with("HTTP/1.1 101"), "{s}");
    let (s, a2) = upgrade_from(addr, [127, 0, 0, 1]).await;
    assert!(s.starts_with("HTTP/1.1 101"), "{s}");
    let (s, _) = upgrade_from(addr, [127, 0, 0, 1]).await;
    assert!(
        s.starts_with("HTTP/1.1 503"),
        "a third from one address: {s}"
    );
    let (s, _b1) = upgrade_from(addr, [127, 0, 0, 2]).await;
    assert!(s.starts_with("HTTP/1.1 101"), "another address: {s}");
    let (s, _) = upgrade_from(addr, [127, 0, 0, 3]).await;
    assert!(s.starts_with("HTTP/1.1 503"), "a fourth in all: {s}");

    // Signed in, a connection no longer counts.
    let hello = json!({"type": "hello", "token": server.token(&claims(Uuid::new_v4(), Uuid::new_v4(), CallRole::Mentor))});
    a1.write_all(&crate::support::masked(
        0x1,
        true,
        hello.to_string().as_bytes(),
    ))
    .await
    .unwrap();
    let (_, welcome) = crate::support::server_frame(&mut a1).await;
    assert!(String::from_utf8_lossy(&welcome).contains("welcome"));
    let (s, _b2) = upgrade_from(addr, [127, 0, 0, 3]).await;
    assert!(s.starts_with("HTTP/1.1 101"), "a place freed by hello: {s}");

    // Nor does one that has gone.
    drop(a2);
    let mut freed = false;
    for _ in 0..50 {
        let (s, _c) = upgrade_from(addr, [127, 0, 0, 4]).await;
        if s.starts_with("HTTP/1.1 101") {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed, "a place freed by a socket closing");
}

#[tokio::test]
async fn fragments_over_the_rate_are_not_dropped_from_the_middle_of_their_message() {
    use tokio::io::AsyncWriteExt;
    let server = start(Config {
        rate_per_second: 5,
        burst: 10,
        ..Config::default()
    })
    .await;
    let mut tcp = crate::support::raw_socket(server.addr).await;
    let hello = json!({"type": "hello", "token": server.token(&claims(Uuid::new_v4(), Uuid::new_v4(), CallRole::Mentor))});
    tcp.write_all(&crate::support::masked(
        0x1,
        true,
        hello.to_string().as_bytes(),
    ))
    .await
    .unwrap();
    assert_eq!(
        crate::support::server_frame(&mut tcp).await.0,
        0x1,
        "welcome"
    );
    // Twelve fragments at once, two past the burst of ten; then, once the
    // allowance has refilled, the last: the message must be whole.
    let chat = json!({"type": "chat", "text": "twelve pieces and a last one"}).to_string();
    let bytes = chat.as_bytes();
    let (head, last) = bytes.split_at(bytes.len() - 3);
    let mut wire = Vec::new();
    for i in 0..12 {
        let piece = &head[i * head.len() / 12..(i + 1) * head.len() / 12];
        wire.extend(crate::support::masked(
            if i == 0 { 0x1 } else { 0x0 },
            false,
            piece,
        ));
    }
    tcp.write_all(&wire).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    tcp.write_all(&crate::support::masked(0x0, true, last))
        .await
        .unwrap();
    let (opcode, echoed) = crate::support::server_frame(&mut tcp).await;
    assert_eq!(opcode, 0x1, "not closed: {echoed:?}");
    let echoed: Value = serde_json::from_slice(&echoed).unwrap();
    assert_eq!(echoed["text"], "twelve pieces and a last one", "{echoed}");
}

#[tokio::test]
async fn a_member_that_never_reads_is_pushed_back_rather_than_queued_for() {
    use tokio::io::AsyncWriteExt;
    let mut server = start(Config {
        rate_per_second: 1_000_000,
        burst: 1_000_000,
        max_chat_chars: 1000,
        ..Config::default()
    })
    .await;
    // The server's attendance recorder, reading as it goes.
    let (_, none) = tokio::sync::mpsc::channel(1);
    let mut events = std::mem::replace(&mut server.events, none);
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let mut tcp = crate::support::raw_socket(server.addr).await;
    let hello = json!({"type": "hello", "token": server.token(&claims(Uuid::new_v4(), Uuid::new_v4(), CallRole::Mentor))});
    tcp.write_all(&crate::support::masked(
        0x1,
        true,
        hello.to_string().as_bytes(),
    ))
    .await
    .unwrap();
    assert_eq!(
        crate::support::server_frame(&mut tcp).await.0,
        0x1,
        "welcome"
    );
    // Each chat comes back to its sender (about 1 KB); the client never
    // reads them. Once its socket is full the server stops reading from
    // it, so the client's own writes stop going through.
    let chat = json!({"type": "chat", "text": "x".repeat(1000)}).to_string();
    let burst = crate::support::masked(0x1, true, chat.as_bytes()).repeat(100);
    let mut sent = 0usize;
    let pushed_back = loop {
        match tokio::time::timeout(Duration::from_secs(1), tcp.write_all(&burst)).await {
            Ok(Ok(())) => sent += burst.len(),
            Ok(Err(e)) => panic!("cut off after {sent} bytes: {e}"),
            Err(_) => break true,
        }
        if sent > 200 << 20 {
            break false;
        }
    };
    assert!(
        pushed_back,
        "the server read {sent} bytes from a client that reads nothing"
    );
    // Pushed back, not cut off as a slow consumer: nothing piled up.
    assert_eq!(server.hub.stats().connected, 1);
    assert_eq!(server.hub.stats().dropped, 0);
}
