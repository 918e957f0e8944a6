//! Python's `websockets` package (a separate process, a separate
//! implementation) against the server: the handshake with its extension
//! offer declined, a hello, pings, a message it fragments itself, one too
//! large with a 64-bit length, and the closing handshake.
//!
//! Skipped (with a line starting `SKIPPED: `) when the package is not
//! installed, unless `MENTORBRIDGE_TEST_REQUIRE_ALL=1` (as `.ci/run` sets,
//! after installing it), which makes its absence a failure.

use mentorbridge_signalling::hub::Config;
use serde_json::Value;

use crate::hello;
use crate::support::start;

/// What the client does, printing one JSON line of what it saw.
const SCRIPT: &str = r#"
import json, sys
from websockets.sync.client import connect

url, hello = sys.argv[1], sys.argv[2]
seen = {}
with connect(url, open_timeout=5, close_timeout=5, max_size=2**20) as ws:
    seen["extensions"] = [type(e).__name__ for e in ws.protocol.extensions]
    ws.send(hello)
    welcome = json.loads(ws.recv(timeout=5))
    seen["welcome"] = welcome["type"]
    seen["pong"] = ws.ping(b"from python").wait(5)
    # An iterable is sent as one message in fragments, one per item.
    ws.send(["{\"type\": \"chat\", ", "\"text\": \"caf\u00e9 ", "\U0001F980\"}"])
    chat = json.loads(ws.recv(timeout=5))
    seen["chat"] = chat["text"]
    ws.send(json.dumps({"type": "chat", "text": "x" * 70000}))
    seen["too_large"] = json.loads(ws.recv(timeout=5))["code"]
    ws.close(code=1000, reason="done")
    seen["close_rcvd"] = ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None
print(json.dumps(seen))
"#;

/// Whether `python3` can import `websockets`; if not, skips the test (or
/// fails it, when everything must run).
fn python_websockets() -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", "import websockets.sync.client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let why = "python3 with the `websockets` package is not available (pip install websockets)";
        if std::env::var("MENTORBRIDGE_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1") {
            panic!("{why}, and MENTORBRIDGE_TEST_REQUIRE_ALL=1 forbids skipping");
        }
        eprintln!("SKIPPED: {why}");
    }
    found
}

#[tokio::test]
async fn pythons_websockets_client_talks_to_the_server_from_handshake_to_close() {
    if !python_websockets() {
        return;
    }
    let server = start(Config::default()).await;
    let url = format!("ws://{}/ws", server.addr);
    let out = tokio::process::Command::new("python3")
        .args(["-c", SCRIPT, &url, &hello(&server, 0)])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), out)
        .await
        .expect("the Python client finishes within 30 s")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python failed: {stderr}");
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    // It offered permessage-deflate; the server agreed to no extension.
    assert_eq!(seen["extensions"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["welcome"], "welcome");
    assert_eq!(seen["pong"], true, "the ping was answered: {seen}");
    assert_eq!(seen["chat"], "café 🦀", "reassembled from its fragments");
    assert_eq!(
        seen["too_large"], "too_large",
        "a 64-bit length read, then refused"
    );
    assert_eq!(seen["close_rcvd"], 1000, "the close echoed");
}
