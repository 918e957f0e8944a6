//! Framing (Autobahn 1.x, 3.x, 4.x, 9.x in part): the three length
//! encodings, masking, reserved bits, reserved opcodes, and the size limit.

use futures_util::{SinkExt, StreamExt};
use mentorbridge_signalling::hub::Config;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Client, masked, raw_socket, start};
use crate::{closes_with, ends, hello, next_json};

/// Room for a `hello` with a 64-bit length (over 65,535 bytes).
fn roomy() -> Config {
    Config {
        max_message_bytes: 128 * 1024,
        ..Config::default()
    }
}

#[tokio::test]
async fn payloads_with_7_16_and_64_bit_lengths_are_read_whole() {
    let server = start(roomy()).await;
    // 125 (7-bit), 126 and 65,535 (16-bit), 65,536 and 100,000 (64-bit).
    for len in [125, 126, 65_535, 65_536, 100_000] {
        // By hand, every boundary exactly.
        let mut tcp = raw_socket(server.addr).await;
        tcp.write_all(&masked(0x1, true, hello(&server, len).as_bytes()))
            .await
            .unwrap();
        assert_eq!(next_json(&mut tcp).await["type"], "welcome", "len {len}");
        // And as tungstenite frames it.
        let mut c = Client::connect(server.addr).await;
        c.ws.send(Message::Text(hello(&server, len).into()))
            .await
            .unwrap();
        assert_eq!(c.expect("welcome").await["type"], "welcome", "len {len}");
    }
}

#[tokio::test]
async fn a_frame_trickled_one_byte_at_a_time_is_read_whole() {
    let server = start(Config::default()).await;
    let mut tcp = raw_socket(server.addr).await;
    for byte in masked(0x1, true, hello(&server, 300).as_bytes()) {
        tcp.write_all(&[byte]).await.unwrap();
    }
    assert_eq!(next_json(&mut tcp).await["type"], "welcome");
}

#[tokio::test]
async fn an_unmasked_client_frame_is_a_protocol_error() {
    let server = start(Config::default()).await;
    let unmasked = [0x81, 0x02, b'h', b'i'];
    assert_eq!(closes_with(&server, false, &unmasked).await, Some(1002));
    assert_eq!(closes_with(&server, true, &unmasked).await, Some(1002));
}

#[tokio::test]
async fn reserved_bits_are_a_protocol_error_whatever_the_frame() {
    let server = start(Config::default()).await;
    for rsv in [0x40u8, 0x20, 0x10, 0x70] {
        for opcode in [0x1u8, 0x2, 0x9, 0xA] {
            let mut frame = masked(opcode, true, b"hi");
            frame[0] |= rsv;
            let code = closes_with(&server, true, &frame).await;
            assert_eq!(code, Some(1002), "rsv {rsv:#x} opcode {opcode:#x}");
        }
    }
}

#[tokio::test]
async fn reserved_opcodes_are_a_protocol_error() {
    let server = start(Config::default()).await;
    for opcode in [0x3u8, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        for payload in [&b""[..], b"reserved"] {
            let frame = masked(opcode, true, payload);
            let code = closes_with(&server, true, &frame).await;
            assert_eq!(code, Some(1002), "opcode {opcode:#x}");
        }
    }
}

#[tokio::test]
async fn a_frame_or_message_past_the_size_limit_is_closed_with_1009() {
    // The transport takes 4 x max_message_bytes; this makes it 4 KiB.
    let server = start(Config {
        max_message_bytes: 1024,
        ..Config::default()
    })
    .await;
    let big = vec![b' '; 5000];
    assert_eq!(
        closes_with(&server, true, &masked(0x1, true, &big)).await,
        Some(1009)
    );
    // Known from the header alone: a length claiming 1 GiB, no payload.
    let mut header_only = vec![0x81, 0x80 | 127];
    header_only.extend_from_slice(&(1u64 << 30).to_be_bytes());
    header_only.extend_from_slice(&[1, 2, 3, 4]);
    assert_eq!(closes_with(&server, true, &header_only).await, Some(1009));
    // In fragments, each small, the whole too large.
    let mut fragments = masked(0x1, false, &big[..3000]);
    fragments.extend(masked(0x0, true, &big[..3000]));
    assert_eq!(closes_with(&server, true, &fragments).await, Some(1009));
    // A 64-bit length with its top bit set is malformed, not large.
    let mut top_bit = vec![0x81, 0x80 | 127];
    top_bit.extend_from_slice(&(1u64 << 63).to_be_bytes());
    top_bit.extend_from_slice(&[1, 2, 3, 4]);
    assert_eq!(closes_with(&server, true, &top_bit).await, Some(1002));
}

#[tokio::test]
async fn after_a_protocol_error_the_server_closes_the_connection_too() {
    let server = start(Config::default()).await;
    let mut tcp = raw_socket(server.addr).await;
    tcp.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
    assert_eq!(crate::close_code(&mut tcp).await, Some(1002));
    ends(&mut tcp).await;
    // tungstenite, reading the same close, reports it as the server's.
    let mut c = Client::connect(server.addr).await;
    c.ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    loop {
        match c.ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(
                    u16::from(frame.code),
                    4000,
                    "binary before hello: hello_first"
                );
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    }
}
