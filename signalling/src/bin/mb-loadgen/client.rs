//! The load generator's own websocket client, and what it says in each
//! target's protocol: joining, relayed messages, and pairs of clients in
//! one room.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::Utc;
use mentorbridge_signalling::frame;
use mentorbridge_signalling::token::{CallRole, JoinClaims, TokenKey};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::{BENCH_SECRET, Target};

/// A masked client text frame carrying `payload`.
pub(crate) fn client_frame(payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    frame::client_frame(true, frame::Opcode::Text, payload, mask)
}

pub(crate) fn fresh_mask() -> [u8; 4] {
    let id = Uuid::new_v4();
    let b = id.as_bytes();
    [b[0], b[1], b[2], b[3]]
}

/// The read half of a client: frames from the server, unmasked.
pub(crate) struct Reader {
    rd: OwnedReadHalf,
    buf: Vec<u8>,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Reader {
    /// The next data frame's payload (pings and the like are skipped), or
    /// `None` once the server has closed.
    pub(crate) async fn next(&mut self) -> Option<&[u8]> {
        loop {
            let have = &self.buf[self.start..self.end];
            if let Some((opcode, from, to)) = frame_at(have) {
                let (from, to) = (self.start + from, self.start + to);
                self.start = to;
                match opcode {
                    0x8 => return None,
                    0x1 | 0x2 => return Some(&self.buf[from..to]),
                    _ => continue,
                }
            }
            // Make room: move what is left to the front, grow if a frame
            // is larger than the buffer.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            match self.rd.read(&mut self.buf[self.end..]).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.end += n,
            }
        }
    }
}

/// A whole server frame at the front of `buf`: opcode and payload range.
pub(crate) fn frame_at(buf: &[u8]) -> Option<(u8, usize, usize)> {
    let [b0, b1, rest @ ..] = buf else {
        return None;
    };
    let (len, head) = match b1 & 0x7F {
        126 => (
            usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])),
            4,
        ),
        127 => {
            let mut be = [0u8; 8];
            be.copy_from_slice(rest.get(..8)?);
            (usize::try_from(u64::from_be_bytes(be)).ok()?, 10)
        }
        n => (usize::from(n), 2),
    };
    (buf.len() >= head + len).then_some((b0 & 0x0F, head, head + len))
}

/// One connected client: its two halves and its id.
pub(crate) struct Client {
    pub(crate) wr: OwnedWriteHalf,
    pub(crate) rd: Reader,
    pub(crate) id: String,
}

pub(crate) fn token(session: Uuid, user: Uuid, role: CallRole) -> String {
    let now = Utc::now();
    TokenKey::new(BENCH_SECRET).sign(&JoinClaims {
        session,
        user,
        role,
        school: Uuid::nil(),
        opens_at: now - chrono::Duration::minutes(1),
        closes_at: now + chrono::Duration::hours(2),
        expires_at: now + chrono::Duration::minutes(10),
        nonce: Uuid::new_v4(),
        needs_supervisor: false,
    })
}

/// Opens a websocket to `url` (`ws://host:port/path?query`).
pub(crate) async fn open(url: &str) -> (OwnedWriteHalf, Reader) {
    let rest = url
        .strip_prefix("ws://")
        .unwrap_or_else(|| panic!("{url}: only ws:// URLs"));
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let tcp = TcpStream::connect(host)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    tcp.set_nodelay(true).unwrap();
    let (rd, mut wr) = tcp.into_split();
    let key = base64::engine::general_purpose::STANDARD.encode(Uuid::new_v4().as_bytes());
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    wr.write_all(request.as_bytes()).await.unwrap();
    let mut reader = Reader {
        rd,
        buf: vec![0; 64 * 1024],
        start: 0,
        end: 0,
    };
    // The response head; anything after it is the first frames.
    loop {
        let n = reader.rd.read(&mut reader.buf[reader.end..]).await.unwrap();
        assert!(n > 0, "{url}: closed during the handshake");
        reader.end += n;
        let have = &reader.buf[..reader.end];
        if let Some(at) = have.windows(4).position(|w| w == b"\r\n\r\n") {
            assert!(
                have.starts_with(b"HTTP/1.1 101"),
                "{url}: {}",
                String::from_utf8_lossy(&have[..at])
            );
            reader.start = at + 4;
            return (wr, reader);
        }
    }
}

/// Connects and completes the server's handshake (welcome, or PeerJS OPEN).
pub(crate) async fn connect(
    target: Target,
    url: &str,
    session: Uuid,
    user: Uuid,
    role: CallRole,
) -> Client {
    let id = user.simple().to_string();
    let url = match target {
        Target::Mentorbridge => url.to_owned(),
        Target::PeerJs => format!("{url}?key=peerjs&id={id}&token=t{id}"),
    };
    let (mut wr, mut rd) = open(&url).await;
    if target == Target::Mentorbridge {
        let hello = json!({"type": "hello", "token": token(session, user, role)}).to_string();
        wr.write_all(&client_frame(hello.as_bytes(), fresh_mask()))
            .await
            .unwrap();
    }
    let wanted = match target {
        Target::Mentorbridge => "welcome",
        Target::PeerJs => "OPEN",
    };
    loop {
        let Some(text) = rd.next().await else {
            panic!("{url}: closed before {wanted}");
        };
        let v: Value = serde_json::from_slice(text).unwrap_or_default();
        if v["type"] == wanted {
            break;
        }
    }
    Client { wr, rd, id }
}

/// A message to `to` carrying `body` (an SDP-sized text), in the target's
/// protocol.
pub(crate) fn relay_message(target: Target, to_id: &str, to_user: Uuid, body: &str) -> String {
    match target {
        Target::Mentorbridge => json!({"type": "offer", "sdp": body, "to": to_user}).to_string(),
        Target::PeerJs => json!({"type": "OFFER", "dst": to_id, "payload": {"sdp": {"type": "offer", "sdp": body}, "type": "media", "connectionId": "mc_bench"}}).to_string(),
    }
}

/// Whether a frame is a relayed message, by its head alone: parsing every
/// SDP-sized message as JSON would make the load generator, not the
/// server, the bottleneck.
pub(crate) fn is_relayed(target: Target, text: &[u8]) -> bool {
    let head = &text[..text.len().min(96)];
    let needle: &[u8] = match target {
        Target::Mentorbridge => br#""type":"offer""#,
        Target::PeerJs => br#""type":"OFFER""#,
    };
    head.windows(needle.len()).any(|w| w == needle)
}

/// The `sdp` text inside a relayed message, if it is one.
pub(crate) fn relayed_body(target: Target, v: &Value) -> Option<&str> {
    match target {
        Target::Mentorbridge => (v["type"] == "offer").then(|| v["sdp"].as_str()).flatten(),
        Target::PeerJs => (v["type"] == "OFFER")
            .then(|| v["payload"]["sdp"]["sdp"].as_str())
            .flatten(),
    }
}

pub(crate) struct Pair {
    pub(crate) a: Client,
    pub(crate) b: Client,
    pub(crate) b_user: Uuid,
}

pub(crate) async fn open_pairs(target: Target, url: &str, rooms: usize) -> (Vec<Pair>, Duration) {
    let limit = Arc::new(Semaphore::new(200));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(rooms);
    for _ in 0..rooms {
        let (url, limit) = (url.to_owned(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let session = Uuid::new_v4();
            let (a_user, b_user) = (Uuid::new_v4(), Uuid::new_v4());
            let a = {
                let _p = limit.acquire().await.unwrap();
                connect(target, &url, session, a_user, CallRole::Mentor).await
            };
            let b = {
                let _p = limit.acquire().await.unwrap();
                connect(target, &url, session, b_user, CallRole::Mentee).await
            };
            Pair { a, b, b_user }
        }));
    }
    let mut pairs = Vec::with_capacity(rooms);
    for t in tasks {
        pairs.push(t.await.unwrap());
    }
    (pairs, started.elapsed())
}
