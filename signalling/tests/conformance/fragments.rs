//! Fragmentation and UTF-8 (Autobahn 5.x and 6.x): messages in fragments,
//! control frames between them, continuations with nothing to continue,
//! a new message inside one, and text that is or is not UTF-8, whole or
//! split across fragments.

use mentorbridge_signalling::hub::Config;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::support::{masked, raw_socket, server_frame, start};
use crate::{closes_with, hello, member, next_json};

/// `text` as a text message cut at the byte offsets `cuts`.
fn fragmented(text: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut from = 0;
    for (i, &to) in cuts.iter().chain([text.len()].iter()).enumerate() {
        let opcode = if i == 0 { 0x1 } else { 0x0 };
        out.extend(masked(opcode, to == text.len(), &text[from..to]));
        from = to;
    }
    out
}

#[tokio::test]
async fn a_message_in_fragments_is_read_whole_with_pings_between_them() {
    let server = start(Config::default()).await;
    let text = hello(&server, 400);
    let bytes = text.as_bytes();
    // One-byte fragments, empty ones, and a ping between each pair.
    let mut tcp = raw_socket(server.addr).await;
    let mut wire = masked(0x1, false, &bytes[..1]);
    wire.extend(masked(0x0, false, b""));
    for chunk in bytes[1..].chunks(37) {
        wire.extend(masked(0x9, true, b"between"));
        wire.extend(masked(0x0, false, chunk));
    }
    wire.extend(masked(0x0, true, b""));
    tcp.write_all(&wire).await.unwrap();
    let mut pongs = 0;
    loop {
        let (opcode, payload) = server_frame(&mut tcp).await;
        if opcode == 0xA {
            assert_eq!(payload, b"between");
            pongs += 1;
            continue;
        }
        assert_eq!(opcode, 0x1);
        let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(v["type"], "welcome");
        break;
    }
    // At most one pong waits at a time (RFC 6455 section 5.5.3), so a
    // burst of pings may be answered by fewer pongs, but at least one.
    assert!(pongs >= 1);
}

#[tokio::test]
async fn a_continuation_with_nothing_to_continue_is_a_protocol_error() {
    let server = start(Config::default()).await;
    for fin in [true, false] {
        let frame = masked(0x0, fin, b"orphan");
        assert_eq!(closes_with(&server, true, &frame).await, Some(1002));
    }
}

#[tokio::test]
async fn a_new_message_inside_a_fragmented_one_is_a_protocol_error() {
    let server = start(Config::default()).await;
    for opcode in [0x1u8, 0x2] {
        let mut wire = masked(0x1, false, b"{\"type\":");
        wire.extend(masked(opcode, true, b"\"ping\"}"));
        assert_eq!(closes_with(&server, true, &wire).await, Some(1002));
    }
}

#[tokio::test]
async fn text_that_is_not_utf8_is_closed_with_1007_whole_or_in_fragments() {
    let server = start(Config::default()).await;
    let cases: [&[u8]; 5] = [
        b"\xff",
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
        b"\xc0\xaf",               // overlong '/'
        b"\xf4\x90\x80\x80",       // past U+10FFFF
        b"{\"type\":\"chat\"\xe2", // truncated
    ];
    for bad in cases {
        assert_eq!(
            closes_with(&server, true, &masked(0x1, true, bad)).await,
            Some(1007),
            "{bad:?}"
        );
        for cut in 1..bad.len() {
            let wire = fragmented(bad, &[cut]);
            assert_eq!(
                closes_with(&server, true, &wire).await,
                Some(1007),
                "{bad:?} cut at {cut}"
            );
        }
    }
}

#[tokio::test]
async fn multibyte_characters_split_across_fragments_are_accepted() {
    let server = start(Config::default()).await;
    let mut tcp = member(&server).await;
    // Two-, three- and four-byte characters, cut inside each.
    let said = "café — 你好 🦀";
    let text = json!({"type": "chat", "text": said}).to_string();
    let bytes = text.as_bytes();
    let start = text.find('é').unwrap();
    let cuts: Vec<usize> = [
        start + 1,
        text.find('你').unwrap() + 2,
        text.find('🦀').unwrap() + 3,
    ]
    .into_iter()
    .collect();
    tcp.write_all(&fragmented(bytes, &cuts)).await.unwrap();
    let echoed = next_json(&mut tcp).await;
    assert_eq!(echoed["type"], "chat");
    assert_eq!(echoed["text"], said);
    // Cut at every byte, too.
    let every: Vec<usize> = (1..bytes.len()).collect();
    tcp.write_all(&fragmented(bytes, &every)).await.unwrap();
    assert_eq!(next_json(&mut tcp).await["text"], said);
}
