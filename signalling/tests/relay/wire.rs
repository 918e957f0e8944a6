//! The websocket wire itself, by hand: fragments, trickled bytes, pings,
//! frames the RFC forbids, and requests that are not an upgrade.

use std::time::Duration;

use mentorbridge_signalling::hub::Config;
use mentorbridge_signalling::token::CallRole;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{claims, masked, raw_socket, server_frame, start};

#[tokio::test]
async fn fragmented_trickled_and_pinged_frames_are_read_and_bad_ones_closed_with_the_rfcs_code() {
    use tokio::io::AsyncWriteExt;
    let server = start(Config::default()).await;
    let session = Uuid::new_v4();

    // A hello in two fragments, the second trickled a few bytes at a time
    // (so frames arrive across many reads), answered with a welcome.
    let mut tcp = raw_socket(server.addr).await;
    let hello = json!({"type": "hello", "token": server.token(&claims(session, Uuid::new_v4(), CallRole::Mentor))}).to_string();
    let (first, second) = hello.as_bytes().split_at(20);
    tcp.write_all(&masked(0x1, false, first)).await.unwrap();
    for chunk in masked(0x0, true, second).chunks(7) {
        tcp.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (opcode, welcome) = server_frame(&mut tcp).await;
    assert_eq!(opcode, 0x1);
    let welcome: Value = serde_json::from_slice(&welcome).unwrap();
    assert_eq!(welcome["type"], "welcome");

    // A ping is answered with a pong carrying the same bytes.
    tcp.write_all(&masked(0x9, true, b"are you there"))
        .await
        .unwrap();
    assert_eq!(
        server_frame(&mut tcp).await,
        (0xA, b"are you there".to_vec())
    );

    // An unmasked frame breaks the protocol: close 1002.
    tcp.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
    let (opcode, close) = server_frame(&mut tcp).await;
    assert_eq!(opcode, 0x8);
    assert_eq!(&close[..2], &1002u16.to_be_bytes());

    // Text that is not UTF-8: close 1007.
    let mut tcp = raw_socket(server.addr).await;
    tcp.write_all(&masked(0x1, true, &[0xff, 0xfe]))
        .await
        .unwrap();
    let (opcode, close) = server_frame(&mut tcp).await;
    assert_eq!(opcode, 0x8);
    assert_eq!(&close[..2], &1007u16.to_be_bytes());

    // A continuation with nothing to continue: 1002 again.
    let mut tcp = raw_socket(server.addr).await;
    tcp.write_all(&masked(0x0, true, b"x")).await.unwrap();
    assert_eq!(&server_frame(&mut tcp).await.1[..2], &1002u16.to_be_bytes());
}

#[tokio::test]
async fn a_request_that_is_not_a_websocket_upgrade_is_told_what_is_missing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(Config::default()).await;
    let ask = |request: &'static str| async move {
        let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    };
    let plain = ask("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 400"), "{plain}");
    assert!(
        plain.contains("Connection must include `upgrade`"),
        "{plain}"
    );
    let old = ask("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n").await;
    assert!(old.starts_with("HTTP/1.1 426"), "{old}");
    assert!(
        old.to_lowercase().contains("sec-websocket-version: 13"),
        "{old}"
    );
    let keyless = ask("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Version: 13\r\n\r\n").await;
    assert!(
        keyless.contains("Sec-WebSocket-Key is missing"),
        "{keyless}"
    );
}
