//! A signalling server on a loopback port with a word filter, and a
//! websocket client (tokio-tungstenite, independent of the server's own
//! framing) that reads the protocol's JSON.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use mentorbridge_signalling::hub::{
    ChatFilter, ChatVerdict, Config, Hub, RoomEvent, Seat, StaticIce,
};
use mentorbridge_signalling::token::{CallRole, JoinClaims, TokenKey};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const SECRET: &[u8] = b"test-secret-for-the-signalling-hub";

struct BlockWord;

impl ChatFilter for BlockWord {
    fn check(&self, _seat: &Seat, text: &str) -> ChatVerdict {
        let text = text.to_lowercase();
        if text.contains("snapchat") {
            ChatVerdict::Block("contact details or apps are not shared in mentoring".into())
        } else if text.contains("meet up") {
            ChatVerdict::Hold("waiting for a teacher to check".into())
        } else {
            ChatVerdict::Deliver
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub hub: Hub,
    pub events: mpsc::Receiver<RoomEvent>,
    signer: TokenKey,
}

pub async fn start(config: Config) -> Server {
    start_with_events(config, 1024).await
}

/// A server whose room events go through a channel of `capacity`.
pub async fn start_with_events(config: Config, capacity: usize) -> Server {
    let (tx, events) = mpsc::channel(capacity);
    let hub = Hub::new(
        TokenKey::new(SECRET),
        config,
        Box::new(StaticIce::default()),
        Box::new(BlockWord),
        tx,
    );
    let app = axum::Router::new()
        .route(
            "/ws",
            axum::routing::get(mentorbridge_signalling::ws::handler),
        )
        .with_state(hub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // With the client's address, as `mentorbridge serve` gives it.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        addr,
        hub,
        events,
        signer: TokenKey::new(SECRET),
    }
}

pub fn claims(session: Uuid, user: Uuid, role: CallRole) -> JoinClaims {
    let now = Utc::now();
    JoinClaims {
        session,
        user,
        role,
        school: Uuid::nil(),
        opens_at: now - chrono::Duration::minutes(5),
        closes_at: now + chrono::Duration::minutes(30),
        expires_at: now + chrono::Duration::minutes(2),
        nonce: Uuid::new_v4(),
        needs_supervisor: false,
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Client {
    pub ws: Ws,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .unwrap();
        Client { ws }
    }

    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    /// The next message (5 s at most), or `None` once the server closed.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let got = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                .await
                .expect("a message within 5 s");
            match got {
                Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next message of `kind`, skipping pongs.
    pub async fn expect(&mut self, kind: &str) -> Value {
        loop {
            let msg = self
                .next()
                .await
                .unwrap_or_else(|| panic!("closed while waiting for {kind}"));
            if msg["type"] == "pong" && kind != "pong" {
                continue;
            }
            assert_eq!(msg["type"], kind, "{msg}");
            return msg;
        }
    }

    /// Nothing arrives for a moment.
    pub async fn quiet(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(300), self.ws.next()).await;
        assert!(got.is_err(), "expected silence, got {got:?}");
    }

    pub async fn error_code(&mut self) -> String {
        let msg = self.expect("error").await;
        msg["code"].as_str().unwrap().to_owned()
    }
}

impl Server {
    pub fn token(&self, c: &JoinClaims) -> String {
        self.signer.sign(c)
    }

    /// A client in `session` as `role`, past its welcome.
    pub async fn join(&self, session: Uuid, user: Uuid, role: CallRole) -> (Client, Value) {
        let mut client = Client::connect(self.addr).await;
        client
            .send(json!({"type": "hello", "token": self.token(&claims(session, user, role))}))
            .await;
        let welcome = client.expect("welcome").await;
        (client, welcome)
    }

    /// A mentee coming back on a new socket, asking to resume after
    /// `last_seq`; hello sent.
    pub async fn come_back(&self, room: Uuid, mentee: Uuid, sid: &str, last_seq: u64) -> Client {
        let mut client = Client::connect(self.addr).await;
        client
            .send(json!({
                "type": "hello",
                "token": self.token(&claims(room, mentee, CallRole::Mentee)),
                "resume": {"sid": sid, "last_seq": last_seq},
            }))
            .await;
        client
    }

    /// Waits until the hub holds `n` dropped members (1 s at most).
    pub async fn until_dropped(&self, n: usize) {
        for _ in 0..50 {
            if self.hub.stats().dropped == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(self.hub.stats().dropped, n);
    }

    pub async fn event(&mut self) -> RoomEvent {
        tokio::time::timeout(Duration::from_secs(5), self.events.recv())
            .await
            .expect("an event within 5 s")
            .unwrap()
    }

    /// The next event, or `None` once the hub has let go of its sender
    /// and every event is read (5 s at most).
    pub async fn next_event(&mut self) -> Option<RoomEvent> {
        tokio::time::timeout(Duration::from_secs(5), self.events.recv())
            .await
            .expect("an event, or the end of them, within 5 s")
    }

    pub fn drain_events(&mut self) -> Vec<RoomEvent> {
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        out
    }
}

/// A mentor and a mentee in a call, and the mentee's socket gone.
pub struct Away {
    pub room: Uuid,
    /// The mentor's connection.
    pub mentor: Client,
    pub mentor_id: Uuid,
    pub mentee: Uuid,
    /// The mentee's place, for a resume.
    pub sid: String,
}

/// A pair joins; the mentee's Wi-Fi drops (the socket is gone, no leave
/// sent) and the hub notices. Events so far are drained.
pub async fn mentee_away(server: &mut Server) -> Away {
    let room = Uuid::new_v4();
    let (mentor_id, mentee) = (Uuid::new_v4(), Uuid::new_v4());
    let (mut mentor, _) = server.join(room, mentor_id, CallRole::Mentor).await;
    let (b, welcome) = server.join(room, mentee, CallRole::Mentee).await;
    mentor.expect("peer_joined").await;
    let sid = welcome["sid"].as_str().unwrap().to_owned();
    server.drain_events();
    drop(b);
    server.until_dropped(1).await;
    Away {
        room,
        mentor,
        mentor_id,
        mentee,
        sid,
    }
}

pub fn sdp(size: usize) -> String {
    format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n{}",
        "a=x\r\n".repeat(size / 5)
    )
}

/// Opens `/ws` by hand, for frames no websocket library would send.
pub async fn raw_socket(addr: SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    tcp
}

/// A masked client frame, built here byte by byte (not with the crate's
/// own framing, which is what is under test): any opcode, even reserved ones.
pub fn masked(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mask = [0x9e, 0x11, 0x5a, 0xc3];
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// The next server frame: opcode and payload.
pub async fn server_frame(tcp: &mut tokio::net::TcpStream) -> (u8, Vec<u8>) {
    use tokio::io::AsyncReadExt;
    let read = async {
        let mut head = [0u8; 2];
        tcp.read_exact(&mut head).await.unwrap();
        assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
        let len = match head[1] & 0x7f {
            126 => {
                let mut l = [0u8; 2];
                tcp.read_exact(&mut l).await.unwrap();
                usize::from(u16::from_be_bytes(l))
            }
            127 => {
                let mut l = [0u8; 8];
                tcp.read_exact(&mut l).await.unwrap();
                usize::try_from(u64::from_be_bytes(l)).unwrap()
            }
            n => usize::from(n),
        };
        let mut payload = vec![0u8; len];
        tcp.read_exact(&mut payload).await.unwrap();
        (head[0] & 0x0f, payload)
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .unwrap()
}

/// The status line of the server's answer to an upgrade with `headers`.
pub async fn upgrade_status(addr: SocketAddr, headers: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n") {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut byte));
        read.await.unwrap().unwrap();
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap().trim_end().to_owned()
}

/// Upgrades from `local` (any 127.0.0.0/8 address is this machine): the
/// status line, and the socket, kept open.
pub async fn upgrade_from(addr: SocketAddr, local: [u8; 4]) -> (String, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((local, 0))).unwrap();
    let mut tcp = socket.connect(addr).await.unwrap();
    tcp.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut byte));
        if read.await.unwrap().is_err() {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, tcp)
}
