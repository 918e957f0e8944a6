//! The opening handshake (RFC 6455 section 4.2): what is accepted, what is
//! refused and with which status, and what the server does not agree to
//! (extensions, subprotocols).

use mentorbridge_signalling::hub::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::start;

/// The server's whole answer (head and any body) to `request`, up to the
/// end of its head for a 101.
async fn answer(addr: std::net::SocketAddr, request: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if n == 0 || (text.starts_with("HTTP/1.1 101") && text.contains("\r\n\r\n")) {
            return text.into_owned();
        }
    }
}

fn upgrade(extra: &str) -> String {
    format!(
        "GET /ws HTTP/1.1\r\nHost: x\r\n{extra}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

#[tokio::test]
async fn an_upgrade_is_accepted_with_the_rfcs_accept_key_and_header_tokens_in_any_case() {
    let server = start(Config::default()).await;
    for headers in [
        "Upgrade: websocket\r\nConnection: Upgrade\r\n",
        "Upgrade: WebSocket\r\nConnection: keep-alive, upgrade\r\n",
    ] {
        let got = answer(server.addr, &upgrade(headers)).await;
        assert!(got.starts_with("HTTP/1.1 101"), "{got}");
        // Section 1.3's example.
        assert!(got.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{got}");
    }
}

#[tokio::test]
async fn extensions_and_subprotocols_offered_are_not_agreed_to() {
    let server = start(Config::default()).await;
    let got = answer(
        server.addr,
        &upgrade("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nSec-WebSocket-Protocol: chat, superchat\r\n"),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 101"), "{got}");
    let lower = got.to_lowercase();
    assert!(!lower.contains("sec-websocket-extensions"), "{got}");
    assert!(!lower.contains("sec-websocket-protocol"), "{got}");
}

#[tokio::test]
async fn a_request_that_is_not_a_valid_upgrade_is_refused_with_its_status() {
    let server = start(Config::default()).await;
    let cases = [
        ("Connection: Upgrade\r\n", "400"),
        ("Upgrade: websocket\r\n", "400"),
        ("Upgrade: h2c\r\nConnection: Upgrade\r\n", "400"),
    ];
    for (headers, status) in cases {
        let got = answer(
            server.addr,
            &upgrade(&format!("{headers}Connection: close\r\n")),
        )
        .await;
        assert!(
            got.starts_with(&format!("HTTP/1.1 {status}")),
            "{headers:?}: {got}"
        );
    }
    let old = answer(
        server.addr,
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    )
    .await;
    assert!(old.starts_with("HTTP/1.1 426"), "{old}");
    assert!(
        old.to_lowercase().contains("sec-websocket-version: 13"),
        "{old}"
    );
    let short_key = answer(
        server.addr,
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await;
    assert!(short_key.starts_with("HTTP/1.1 400"), "{short_key}");
    let post = answer(
        server.addr,
        "POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
}
