//! The websocket wire itself, by hand: fragments, trickled bytes, pings,
//! frames the RFC forbids, and requests that are not an upgrade.

use std::time::Duration;

use mentorbridge_signalling::hub::Config;
use mentorbridge_signalling::token::CallRole;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{claims, masked, raw_socket, server_frame, start, upgrade_status};

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

/// What the server answers a client's close frame carrying `body`: the
/// code of its own close frame (`None` for a close without a body).
async fn close_answer(addr: std::net::SocketAddr, body: &[u8]) -> Option<u16> {
    use tokio::io::AsyncWriteExt;
    let mut tcp = raw_socket(addr).await;
    tcp.write_all(&masked(0x8, true, body)).await.unwrap();
    let (opcode, payload) = server_frame(&mut tcp).await;
    assert_eq!(opcode, 0x8, "a close frame answers a close frame");
    match payload[..] {
        [] => None,
        [a, b, ..] => Some(u16::from_be_bytes([a, b])),
        [_] => panic!("the server's own close has a 1-byte body"),
    }
}

#[tokio::test]
async fn a_close_is_echoed_only_with_a_valid_code_and_reason_and_anything_else_is_a_protocol_error()
{
    let server = start(Config::default()).await;
    // RFC 6455 section 7.4 and IANA's registry: codes that may be sent.
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
        4000, 4999,
    ] {
        let answer = close_answer(server.addr, &code.to_be_bytes()).await;
        assert_eq!(answer, Some(code), "valid code {code} is echoed");
    }
    // Never sent on the wire (1005, 1006, 1015), unassigned, or out of range.
    for code in [
        0u16, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let answer = close_answer(server.addr, &code.to_be_bytes()).await;
        assert_eq!(answer, Some(1002), "invalid code {code}");
    }
    assert_eq!(
        close_answer(server.addr, &[0x03]).await,
        Some(1002),
        "a 1-byte body"
    );
    let mut bad_reason = 1000u16.to_be_bytes().to_vec();
    bad_reason.extend_from_slice(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited");
    assert_eq!(
        close_answer(server.addr, &bad_reason).await,
        Some(1007),
        "a reason that is not UTF-8"
    );
    let mut good_reason = 1000u16.to_be_bytes().to_vec();
    good_reason.extend_from_slice("κόσμε".as_bytes());
    assert_eq!(close_answer(server.addr, &good_reason).await, Some(1000));
    let empty = close_answer(server.addr, &[]).await;
    assert!(matches!(empty, None | Some(1000)), "{empty:?}");
}

#[tokio::test]
async fn a_64_bit_length_with_its_top_bit_set_is_a_protocol_error_not_a_size_one() {
    use tokio::io::AsyncWriteExt;
    let server = start(Config::default()).await;
    let mut tcp = raw_socket(server.addr).await;
    let mut frame = vec![0x81, 0x80 | 127];
    frame.extend_from_slice(&(1u64 << 63 | 5).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    tcp.write_all(&frame).await.unwrap();
    let (opcode, close) = server_frame(&mut tcp).await;
    assert_eq!(opcode, 0x8);
    assert_eq!(&close[..2], &1002u16.to_be_bytes());
}

#[tokio::test]
async fn nothing_follows_the_servers_close_frame() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A queue of 16: the member's own chat echoes fill it while it does
    // not read, so the hub decides to cut it off (slow consumer) in the
    // same read as the client's close arrives.
    let server = start(Config {
        queue: 16,
        backlog: 4,
        ..Config::default()
    })
    .await;
    let mut tcp = raw_socket(server.addr).await;
    let hello = json!({"type": "hello", "token": server.token(&claims(Uuid::new_v4(), Uuid::new_v4(), CallRole::Mentor))});
    tcp.write_all(&masked(0x1, true, hello.to_string().as_bytes()))
        .await
        .unwrap();
    assert_eq!(server_frame(&mut tcp).await.0, 0x1, "welcome");
    let mut burst = Vec::new();
    for i in 0..30 {
        let chat = json!({"type": "chat", "text": format!("line {i}")});
        burst.extend(masked(0x1, true, chat.to_string().as_bytes()));
    }
    burst.extend(masked(0x8, true, &1000u16.to_be_bytes()));
    tcp.write_all(&burst).await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    // Walk the server's frames: the first close must be the last frame.
    let mut at = 0;
    let mut opcodes = Vec::new();
    while at < rest.len() {
        let len = match rest[at + 1] & 0x7f {
            126 => (usize::from(rest[at + 2]) << 8 | usize::from(rest[at + 3])) + 2,
            127 => panic!("no frame here is that long"),
            n => usize::from(n),
        };
        opcodes.push(rest[at] & 0x0f);
        at += 2 + len;
    }
    let first_close = opcodes
        .iter()
        .position(|o| *o == 0x8)
        .expect("a close frame");
    assert_eq!(
        first_close,
        opcodes.len() - 1,
        "frames after the server's close: {opcodes:?}"
    );
}

#[tokio::test]
async fn a_browser_from_another_origin_is_refused_and_clients_without_an_origin_are_not() {
    let server = start(Config {
        allowed_origins: vec!["https://mentorbridge.example".into()],
        ..Config::default()
    })
    .await;
    let ours = upgrade_status(server.addr, "Origin: https://mentorbridge.example\r\n").await;
    assert!(ours.starts_with("HTTP/1.1 101"), "{ours}");
    let evil = upgrade_status(server.addr, "Origin: https://evil.example\r\n").await;
    assert!(evil.starts_with("HTTP/1.1 403"), "{evil}");
    // A look-alike is not the origin: no prefix or suffix matching.
    let near = upgrade_status(
        server.addr,
        "Origin: https://mentorbridge.example.evil.example\r\n",
    )
    .await;
    assert!(near.starts_with("HTTP/1.1 403"), "{near}");
    let opaque = upgrade_status(server.addr, "Origin: null\r\n").await;
    assert!(opaque.starts_with("HTTP/1.1 403"), "{opaque}");
    // Not a browser (the load generator, a native client): no Origin.
    let native = upgrade_status(server.addr, "").await;
    assert!(native.starts_with("HTTP/1.1 101"), "{native}");

    // With no origins configured, any is allowed.
    let open = start(Config::default()).await;
    let any = upgrade_status(open.addr, "Origin: https://anywhere.example\r\n").await;
    assert!(any.starts_with("HTTP/1.1 101"), "{any}");
}
