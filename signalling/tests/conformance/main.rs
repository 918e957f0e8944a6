//! Conformance of the server's own websocket framing (`frame.rs`, `ws/`)
//! to RFC 6455, case by case as Autobahn's fuzzing client checks it:
//! framing and lengths, masking, reserved bits and opcodes, pings and
//! pongs, fragmentation, UTF-8, closing, the handshake, and the size
//! limit. Driven by clients independent of the server's code:
//! tokio-tungstenite for what is well formed, bytes written by hand for
//! what is not, and Python's `websockets` package in a process of its own.
//!
//! The server is a signalling server, not an echo server, so a case shows
//! a frame was read right by what comes back: a `welcome` for a `hello`,
//! a member's own chat echoed, a pong, or the close code.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[allow(dead_code)]
#[path = "../relay/support.rs"]
mod support;

mod control;
mod fragments;
mod framing;
mod handshake;
mod python;

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use mentorbridge_signalling::token::CallRole;
use support::{Server, claims, masked, raw_socket, server_frame};

/// A `hello` for a fresh room, padded with JSON whitespace to `len` bytes.
fn hello(server: &Server, len: usize) -> String {
    let token = server.token(&claims(Uuid::new_v4(), Uuid::new_v4(), CallRole::Mentor));
    let mut text = json!({"type": "hello", "token": token}).to_string();
    if text.len() < len {
        text.push_str(&" ".repeat(len - text.len()));
    }
    text
}

/// The next server text frame, as JSON (5 s at most).
async fn next_json(tcp: &mut TcpStream) -> Value {
    loop {
        let (opcode, payload) = server_frame(tcp).await;
        match opcode {
            0x1 => return serde_json::from_slice(&payload).unwrap(),
            0x8 => panic!("closed: {payload:?}"),
            _ => continue,
        }
    }
}

/// A raw socket whose `hello` has been welcomed.
async fn member(server: &Server) -> TcpStream {
    let mut tcp = raw_socket(server.addr).await;
    tcp.write_all(&masked(0x1, true, hello(server, 0).as_bytes()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut tcp).await["type"], "welcome");
    tcp
}

/// Skips the server's text frames to its close frame; its code (`None`
/// for a close without a body). Panics if the socket ends without one.
async fn close_code(tcp: &mut TcpStream) -> Option<u16> {
    loop {
        let (opcode, payload) = server_frame(tcp).await;
        if opcode == 0x8 {
            return match payload[..] {
                [] => None,
                [a, b, ..] => Some(u16::from_be_bytes([a, b])),
                [_] => panic!("a 1-byte close body from the server"),
            };
        }
    }
}

/// Sends `bytes` on a fresh raw socket (before `hello`, or after it with
/// `as_member`) and returns the code the server closes with.
async fn closes_with(server: &Server, as_member: bool, bytes: &[u8]) -> Option<u16> {
    let mut tcp = if as_member {
        member(server).await
    } else {
        raw_socket(server.addr).await
    };
    tcp.write_all(bytes).await.unwrap();
    close_code(&mut tcp).await
}

/// After its close, the server ends the TCP connection (within 5 s).
async fn ends(tcp: &mut TcpStream) {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest));
    assert!(read.await.is_ok(), "the server ends the connection");
}
