//! Control frames (Autobahn 2.x and 7.x): pings answered with their
//! payload, pongs ignored, oversized or fragmented control frames refused,
//! and the closing handshake with its codes (RFC 6455 section 7.4).

use futures_util::{SinkExt, StreamExt};
use mentorbridge_signalling::hub::Config;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{Client, masked, raw_socket, server_frame, start};
use crate::{close_code, closes_with, ends, member};

#[tokio::test]
async fn a_ping_is_answered_with_a_pong_carrying_its_payload_before_and_after_hello() {
    let server = start(Config::default()).await;
    for payload in [&b""[..], b"x", &[0xfe; 125][..]] {
        let mut tcp = raw_socket(server.addr).await;
        tcp.write_all(&masked(0x9, true, payload)).await.unwrap();
        assert_eq!(server_frame(&mut tcp).await, (0xA, payload.to_vec()));
        let mut tcp = member(&server).await;
        tcp.write_all(&masked(0x9, true, payload)).await.unwrap();
        assert_eq!(server_frame(&mut tcp).await, (0xA, payload.to_vec()));
    }
    // tungstenite's ping, too.
    let mut c = Client::connect(server.addr).await;
    c.ws.send(Message::Ping(b"tungstenite".to_vec().into()))
        .await
        .unwrap();
    match c.ws.next().await {
        Some(Ok(Message::Pong(p))) => assert_eq!(&p[..], b"tungstenite"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unasked_pong_is_ignored() {
    let server = start(Config::default()).await;
    let mut tcp = member(&server).await;
    tcp.write_all(&masked(0xA, true, b"unasked")).await.unwrap();
    tcp.write_all(&masked(0x9, true, b"then")).await.unwrap();
    assert_eq!(server_frame(&mut tcp).await, (0xA, b"then".to_vec()));
}

#[tokio::test]
async fn control_frames_over_125_bytes_or_fragmented_are_a_protocol_error() {
    let server = start(Config::default()).await;
    for opcode in [0x8u8, 0x9, 0xA] {
        let long = masked(opcode, true, &[b'a'; 126]);
        assert_eq!(
            closes_with(&server, true, &long).await,
            Some(1002),
            "{opcode:#x} long"
        );
        let split = masked(opcode, false, b"ab");
        assert_eq!(
            closes_with(&server, true, &split).await,
            Some(1002),
            "{opcode:#x} fragmented"
        );
    }
}

#[tokio::test]
async fn a_close_with_a_valid_code_is_echoed_and_the_connection_ends() {
    let server = start(Config::default()).await;
    for code in [1000u16, 1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999] {
        let mut c = Client::connect(server.addr).await;
        c.ws.close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: "bye".into(),
        }))
        .await
        .unwrap();
        match c.ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), code),
            other => panic!("code {code}: {other:?}"),
        }
        assert!(c.ws.next().await.is_none(), "then the end");
    }
    // By hand: an empty close is answered, and nothing comes after.
    let mut tcp = member(&server).await;
    tcp.write_all(&masked(0x8, true, b"")).await.unwrap();
    assert!(matches!(close_code(&mut tcp).await, None | Some(1000)));
    ends(&mut tcp).await;
}

#[tokio::test]
async fn a_close_with_a_code_no_one_may_send_or_a_bad_body_is_a_protocol_error() {
    let server = start(Config::default()).await;
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let frame = masked(0x8, true, &code.to_be_bytes());
        assert_eq!(
            closes_with(&server, true, &frame).await,
            Some(1002),
            "code {code}"
        );
    }
    assert_eq!(
        closes_with(&server, true, &masked(0x8, true, &[3])).await,
        Some(1002)
    );
    let mut bad = 1000u16.to_be_bytes().to_vec();
    bad.extend_from_slice(&[0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xed, 0xa0, 0x80]);
    assert_eq!(
        closes_with(&server, true, &masked(0x8, true, &bad)).await,
        Some(1007)
    );
}

#[tokio::test]
async fn after_its_close_the_server_reads_no_more_messages() {
    let server = start(Config::default()).await;
    let mut tcp = member(&server).await;
    let mut after = masked(0x8, true, &1000u16.to_be_bytes());
    after.extend(masked(0x9, true, b"too late"));
    after.extend(masked(0x1, true, br#"{"type":"ping"}"#));
    tcp.write_all(&after).await.unwrap();
    let (opcode, _) = server_frame(&mut tcp).await;
    assert_eq!(opcode, 0x8, "the close, and no pong or message after it");
    ends(&mut tcp).await;
}
