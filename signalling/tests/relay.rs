//! The signalling server over real websockets on loopback: relay, limits,
//! resume, supervisors, and every kind of bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use mentorbridge_signalling::hub::{ChatFilter, Config, Hub, RoomEvent, Seat, StaticIce};
use mentorbridge_signalling::protocol::LeaveReason;
use mentorbridge_signalling::token::{CallRole, JoinClaims, TokenKey};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const SECRET: &[u8] = b"test-secret-for-the-signalling-hub";

struct BlockWord;

impl ChatFilter for BlockWord {
    fn check(&self, _seat: &Seat, text: &str) -> Result<(), String> {
        if text.to_lowercase().contains("snapchat") {
            Err("contact details or apps are not shared in mentoring".into())
        } else {
            Ok(())
        }
    }
}

struct Server {
    addr: SocketAddr,
    hub: Hub,
    events: mpsc::UnboundedReceiver<RoomEvent>,
    signer: TokenKey,
}

async fn start(config: Config) -> Server {
    let (tx, events) = mpsc::unbounded_channel();
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
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        addr,
        hub,
        events,
        signer: TokenKey::new(SECRET),
    }
}

fn claims(session: Uuid, user: Uuid, role: CallRole) -> JoinClaims {
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

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Client {
    ws: Ws,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .unwrap();
        Client { ws }
    }

    async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    /// The next message (5 s at most), or `None` once the server closed.
    async fn next(&mut self) -> Option<Value> {
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
    async fn expect(&mut self, kind: &str) -> Value {
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
    async fn quiet(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(300), self.ws.next()).await;
        assert!(got.is_err(), "expected silence, got {got:?}");
    }

    async fn error_code(&mut self) -> String {
        let msg = self.expect("error").await;
        msg["code"].as_str().unwrap().to_owned()
    }
}

impl Server {
    fn token(&self, c: &JoinClaims) -> String {
        self.signer.sign(c)
    }

    /// A client in `session` as `role`, past its welcome.
    async fn join(&self, session: Uuid, user: Uuid, role: CallRole) -> (Client, Value) {
        let mut client = Client::connect(self.addr).await;
        client
            .send(json!({"type": "hello", "token": self.token(&claims(session, user, role))}))
            .await;
        let welcome = client.expect("welcome").await;
        (client, welcome)
    }

    /// A mentee coming back on a new socket, asking to resume after
    /// `last_seq`; hello sent.
    async fn come_back(&self, room: Uuid, mentee: Uuid, sid: &str, last_seq: u64) -> Client {
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
    async fn until_dropped(&self, n: usize) {
        for _ in 0..50 {
            if self.hub.stats().dropped == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(self.hub.stats().dropped, n);
    }

    async fn event(&mut self) -> RoomEvent {
        tokio::time::timeout(Duration::from_secs(5), self.events.recv())
            .await
            .expect("an event within 5 s")
            .unwrap()
    }

    fn drain_events(&mut self) -> Vec<RoomEvent> {
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        out
    }
}

/// A mentor and a mentee in a call, and the mentee's socket gone.
struct Away {
    room: Uuid,
    /// The mentor's connection.
    mentor: Client,
    mentor_id: Uuid,
    mentee: Uuid,
    /// The mentee's place, for a resume.
    sid: String,
}

/// A pair joins; the mentee's Wi-Fi drops (the socket is gone, no leave
/// sent) and the hub notices. Events so far are drained.
async fn mentee_away(server: &mut Server) -> Away {
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

fn sdp(size: usize) -> String {
    format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n{}",
        "a=x\r\n".repeat(size / 5)
    )
}

#[tokio::test]
async fn offers_answers_and_candidates_reach_only_the_other_people_in_the_room() {
    let mut server = start(Config::default()).await;
    let (room, other_room) = (Uuid::new_v4(), Uuid::new_v4());
    let (mentor, mentee) = (Uuid::new_v4(), Uuid::new_v4());
    let (mut a, welcome_a) = server.join(room, mentor, CallRole::Mentor).await;
    assert_eq!(welcome_a["role"], "mentor");
    assert_eq!(welcome_a["peers"], json!([]));
    assert_eq!(welcome_a["seq"], 1);
    let (mut b, welcome_b) = server.join(room, mentee, CallRole::Mentee).await;
    assert_eq!(
        welcome_b["peers"],
        json!([{"user": mentor, "role": "mentor"}])
    );
    let joined = a.expect("peer_joined").await;
    assert_eq!(joined["peer"]["user"], mentee.to_string());
    let (mut x, _) = server
        .join(other_room, Uuid::new_v4(), CallRole::Mentor)
        .await;

    a.send(json!({"type": "offer", "sdp": sdp(3000)})).await;
    let offer = b.expect("offer").await;
    assert_eq!(offer["from"], mentor.to_string());
    assert_eq!(offer["sdp"].as_str().unwrap().len(), sdp(3000).len());
    b.send(json!({"type": "answer", "sdp": "v=0", "to": mentor}))
        .await;
    assert_eq!(a.expect("answer").await["from"], mentee.to_string());
    b.send(json!({"type": "candidate", "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}}))
        .await;
    let cand = a.expect("candidate").await;
    assert_eq!(cand["candidate"]["sdpMid"], "0");
    // Sequence numbers rise by one per message on each connection.
    assert_eq!(cand["seq"], 4, "welcome, peer_joined, answer, candidate");
    x.quiet().await;

    b.send(json!({"type": "state", "pc_state": "connected"}))
        .await;
    b.send(json!({"type": "ping"})).await;
    b.expect("pong").await;
    let events = server.drain_events();
    assert!(events.iter().any(
        |e| matches!(e, RoomEvent::Joined { user, role: CallRole::Mentee, .. } if *user == mentee)
    ));
    assert!(events.iter().any(|e| matches!(e, RoomEvent::Media { user, state, .. } if *user == mentee && state == "connected")));

    b.send(json!({"type": "leave"})).await;
    let left = a.expect("peer_left").await;
    assert_eq!(left["reason"], "left");
    let ev = server.event().await;
    assert!(
        matches!(
            ev,
            RoomEvent::Left {
                reason: LeaveReason::Left,
                ..
            }
        ),
        "{ev:?}"
    );
}

#[tokio::test]
async fn forged_expired_reused_and_early_tokens_are_refused_by_code() {
    let server = start(Config::default()).await;
    let session = Uuid::new_v4();
    let refuse = |token: String| {
        let addr = server.addr;
        async move {
            let mut c = Client::connect(addr).await;
            c.send(json!({"type": "hello", "token": token})).await;
            let code = c.error_code().await;
            assert!(c.next().await.is_none(), "closed after the error");
            code
        }
    };
    let forged = TokenKey::new(b"someone else's key").sign(&claims(
        session,
        Uuid::new_v4(),
        CallRole::Mentor,
    ));
    assert_eq!(refuse(forged).await, "bad_token");
    let mut expired = claims(session, Uuid::new_v4(), CallRole::Mentor);
    expired.expires_at = Utc::now() - chrono::Duration::seconds(1);
    assert_eq!(refuse(server.token(&expired)).await, "token_expired");
    let mut early = claims(session, Uuid::new_v4(), CallRole::Mentor);
    early.opens_at = Utc::now() + chrono::Duration::minutes(10);
    assert_eq!(refuse(server.token(&early)).await, "outside_window");
    let once = server.token(&claims(session, Uuid::new_v4(), CallRole::Mentee));
    let mut first = Client::connect(server.addr).await;
    first.send(json!({"type": "hello", "token": once})).await;
    first.expect("welcome").await;
    assert_eq!(refuse(once).await, "token_reused");
    assert_eq!(refuse("garbage".into()).await, "bad_token");

    // Anything but hello first is refused.
    let mut c = Client::connect(server.addr).await;
    c.send(json!({"type": "offer", "sdp": "v=0"})).await;
    assert_eq!(c.error_code().await, "hello_first");
}

#[tokio::test]
async fn unknown_messages_and_oversized_sdp_get_an_error_and_the_call_goes_on() {
    let server = start(Config::default()).await;
    let room = Uuid::new_v4();
    let (mut a, _) = server.join(room, Uuid::new_v4(), CallRole::Mentor).await;
    let (mut b, _) = server.join(room, Uuid::new_v4(), CallRole::Mentee).await;
    a.expect("peer_joined").await;
    a.send(json!({"type": "shout", "text": "hi"})).await;
    assert_eq!(a.error_code().await, "bad_message");
    a.send(json!({"type": "offer", "sdp": sdp(70 * 1024)}))
        .await;
    assert_eq!(a.error_code().await, "too_large");
    b.quiet().await;
    a.send(json!({"type": "offer", "sdp": sdp(2000)})).await;
    b.expect("offer").await;
}

#[tokio::test]
async fn a_flood_is_rate_limited_then_cut_off_and_the_room_carries_on() {
    let server = start(Config {
        rate_per_second: 5,
        burst: 10,
        ..Config::default()
    })
    .await;
    let room = Uuid::new_v4();
    let (mut flood, _) = server.join(room, Uuid::new_v4(), CallRole::Mentor).await;
    let (mut calm, _) = server.join(room, Uuid::new_v4(), CallRole::Mentee).await;
    flood.expect("peer_joined").await;
    // Read while flooding: when the server hangs up on a client that is
    // still sending, the connection is reset and anything unread is lost.
    let (mut sink, mut stream) = flood.ws.split();
    let reader = tokio::spawn(async move {
        let mut codes = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "error" {
                        codes.push(v["code"].as_str().unwrap().to_owned());
                    }
                }
                Ok(Some(Ok(_))) => {}
                // Closed or reset by the server: cut off.
                Ok(None | Some(Err(_))) => return (codes, true),
                Err(_) => return (codes, false),
            }
        }
    });
    for _ in 0..200 {
        let ping = Message::Text(json!({"type": "ping"}).to_string().into());
        if sink.send(ping).await.is_err() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let (codes, cut_off) = reader.await.unwrap();
    assert!(cut_off, "the flooding client is disconnected");
    assert!(codes.iter().all(|c| c == "rate_limited"), "{codes:?}");
    assert!(
        codes.len() >= 10,
        "rate-limited, then disconnected: {codes:?}"
    );
    calm.send(json!({"type": "ping"})).await;
    calm.expect("pong").await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_cut_off_alone() {
    let server = start(Config {
        rate_per_second: 10_000,
        burst: 10_000,
        queue: 16,
        ..Config::default()
    })
    .await;
    let room = Uuid::new_v4();
    let (mut talker, _) = server.join(room, Uuid::new_v4(), CallRole::Mentor).await;
    // The deaf client joins and then never reads again.
    let (_deaf, _) = server.join(room, Uuid::new_v4(), CallRole::Mentee).await;
    talker.expect("peer_joined").await;
    // About 45 KB on the wire once JSON escapes the line ends.
    let big = sdp(30 * 1024);
    let mut cut = false;
    for _ in 0..2000 {
        talker.send(json!({"type": "offer", "sdp": big})).await;
        if server.hub.stats().dropped == 1 {
            cut = true;
            break;
        }
    }
    assert!(cut, "the deaf client is cut off once its queue fills");
    // The talker's own connection is untouched.
    talker.send(json!({"type": "ping"})).await;
    talker.expect("pong").await;
    assert_eq!(server.hub.stats().connected, 1);
}

#[tokio::test]
async fn a_dropped_socket_resumes_without_leaving_and_gets_what_it_missed() {
    let mut server = start(Config::default()).await;
    let Away {
        mentor: mut a,
        mentee,
        sid,
        room,
        ..
    } = mentee_away(&mut server).await;
    // Meanwhile the mentor restarts ICE.
    a.send(json!({"type": "offer", "sdp": "v=0 restart"})).await;
    let mut back = server.come_back(room, mentee, &sid, 1).await;
    let missed = back.expect("offer").await;
    assert_eq!(missed["sdp"], "v=0 restart");
    assert_eq!(missed["seq"], 2);
    let again = back.expect("welcome").await;
    assert_eq!(again["resumed"], true);
    assert_eq!(again["sid"], sid.as_str());
    a.quiet().await;
    let events = server.drain_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RoomEvent::Resumed { user, .. } if *user == mentee))
    );
    assert!(
        !events.iter().any(|e| matches!(e, RoomEvent::Left { .. })),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_member_who_missed_someone_joining_starts_afresh_without_leaving() {
    let mut server = start(Config::default()).await;
    let Away {
        mentor: mut a,
        mentor_id: mentor,
        mentee,
        sid,
        room,
    } = mentee_away(&mut server).await;
    // While the mentee is away, the teacher joins: the mentee never hears.
    let teacher = Uuid::new_v4();
    let (mut t, _) = server.join(room, teacher, CallRole::Supervisor).await;
    a.expect("peer_joined").await;
    let mut back = server.come_back(room, mentee, &sid, 1).await;
    // Not a resume: a fresh place, with the room as it is now, and the
    // others told to negotiate with the mentee afresh.
    let again = back.expect("welcome").await;
    assert_eq!(again["resumed"], false, "{again}");
    assert_ne!(again["sid"], sid.as_str());
    let peers: Vec<&str> = again["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user"].as_str().unwrap())
        .collect();
    assert!(peers.contains(&teacher.to_string().as_str()), "{again}");
    assert!(peers.contains(&mentor.to_string().as_str()), "{again}");
    assert_eq!(
        a.expect("peer_joined").await["peer"]["user"],
        mentee.to_string()
    );
    assert_eq!(
        t.expect("peer_joined").await["peer"]["user"],
        mentee.to_string()
    );
    // Presence never broke: the mentee neither left nor joined again.
    let events = server.drain_events();
    assert!(
        !events.iter().any(|e| matches!(
            e,
            RoomEvent::Left { user, .. } | RoomEvent::Joined { user, .. } if *user == mentee
        )),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_ping_says_what_the_client_has_read_and_the_server_keeps_no_more_of_it() {
    let server = start(Config::default()).await;
    let room = Uuid::new_v4();
    let (mentor, mentee) = (Uuid::new_v4(), Uuid::new_v4());
    let (mut a, _) = server.join(room, mentor, CallRole::Mentor).await;
    let (mut b, welcome) = server.join(room, mentee, CallRole::Mentee).await;
    let sid = welcome["sid"].as_str().unwrap().to_owned();
    a.expect("peer_joined").await;
    a.send(json!({"type": "offer", "sdp": "v=0 first"})).await;
    let offer = b.expect("offer").await;
    let read = offer["seq"].as_u64().unwrap();
    b.send(json!({"type": "ping", "last_seq": read})).await;
    b.expect("pong").await;
    drop(b);
    server.until_dropped(1).await;
    // Back from where it said it had read: resumed, nothing replayed.
    let mut back = server.come_back(room, mentee, &sid, read).await;
    let again = back.expect("welcome").await;
    assert_eq!(again["resumed"], true, "{again}");
    drop(back);
    server.until_dropped(1).await;
    // From before that, the offer is gone: a fresh place instead.
    let mut back = server.come_back(room, mentee, &sid, read - 1).await;
    let fresh = back.expect("welcome").await;
    assert_eq!(fresh["resumed"], false, "{fresh}");
    assert_eq!(
        a.expect("peer_joined").await["peer"]["user"],
        mentee.to_string()
    );
}

#[tokio::test]
async fn a_drop_that_never_resumes_is_a_leave_at_the_moment_it_dropped() {
    let mut server = start(Config {
        resume_ttl: Duration::from_millis(200),
        ..Config::default()
    })
    .await;
    let room = Uuid::new_v4();
    let mentee = Uuid::new_v4();
    let (mut a, _) = server.join(room, Uuid::new_v4(), CallRole::Mentor).await;
    let (b, _) = server.join(room, mentee, CallRole::Mentee).await;
    a.expect("peer_joined").await;
    let before: DateTime<Utc> = Utc::now();
    drop(b);
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.hub.sweep(Utc::now());
    let left = a.expect("peer_left").await;
    assert_eq!(left["reason"], "timed_out");
    let at = server
        .drain_events()
        .into_iter()
        .find_map(|e| match e {
            RoomEvent::Left {
                user,
                reason: LeaveReason::TimedOut,
                at,
                ..
            } if user == mentee => Some(at),
            _ => None,
        })
        .expect("a timed-out leave");
    assert!(
        at >= before && at < before + chrono::Duration::milliseconds(300),
        "{at} vs {before}"
    );
}

#[tokio::test]
async fn students_wait_for_a_supervisor_who_can_end_the_call() {
    let mut server = start(Config::default()).await;
    let room = Uuid::new_v4();
    let join = |user: Uuid, role: CallRole| {
        let mut c = claims(room, user, role);
        c.needs_supervisor = true;
        server.token(&c)
    };
    let (mentor, mentee, teacher) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let mut a = Client::connect(server.addr).await;
    a.send(json!({"type": "hello", "token": join(mentor, CallRole::Mentor)}))
        .await;
    assert_eq!(a.expect("welcome").await["needs_supervisor"], true);
    let mut b = Client::connect(server.addr).await;
    b.send(json!({"type": "hello", "token": join(mentee, CallRole::Mentee)}))
        .await;
    b.expect("welcome").await;
    a.expect("peer_joined").await;
    a.send(json!({"type": "offer", "sdp": "v=0"})).await;
    assert_eq!(a.error_code().await, "waiting_for_supervisor");
    b.quiet().await;

    let mut t = Client::connect(server.addr).await;
    t.send(json!({"type": "hello", "token": join(teacher, CallRole::Supervisor)}))
        .await;
    let welcome = t.expect("welcome").await;
    assert_eq!(welcome["peers"].as_array().unwrap().len(), 2);
    a.expect("peer_joined").await;
    b.expect("peer_joined").await;
    a.send(json!({"type": "offer", "sdp": "v=0", "to": mentee}))
        .await;
    b.expect("offer").await;
    t.quiet().await;

    // Only the supervisor ends the call.
    b.send(json!({"type": "end"})).await;
    assert_eq!(b.error_code().await, "not_allowed");
    t.send(json!({"type": "end"})).await;
    for c in [&mut a, &mut b] {
        assert_eq!(c.expect("ended").await["by"], teacher.to_string());
        assert_eq!(c.error_code().await, "call_ended");
        assert!(c.next().await.is_none());
    }
    let mut late = Client::connect(server.addr).await;
    late.send(json!({"type": "hello", "token": join(mentee, CallRole::Mentee)}))
        .await;
    assert_eq!(late.error_code().await, "call_ended");
    let events = server.drain_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RoomEvent::Ended { by, .. } if *by == teacher))
    );
}

#[tokio::test]
async fn chat_passes_the_filter_or_is_kept_back_and_logged() {
    let mut server = start(Config::default()).await;
    let room = Uuid::new_v4();
    let (mut a, _) = server.join(room, Uuid::new_v4(), CallRole::Mentor).await;
    let (mut b, _) = server.join(room, Uuid::new_v4(), CallRole::Mentee).await;
    a.expect("peer_joined").await;
    b.send(json!({"type": "chat", "text": "Can we do fractions next week?"}))
        .await;
    assert_eq!(
        a.expect("chat").await["text"],
        "Can we do fractions next week?"
    );
    assert_eq!(
        b.expect("chat").await["text"],
        "Can we do fractions next week?"
    );
    b.send(json!({"type": "chat", "text": "add me on Snapchat"}))
        .await;
    assert_eq!(b.error_code().await, "chat_blocked");
    a.quiet().await;
    let blocked = server.drain_events().into_iter().find_map(|e| match e {
        RoomEvent::Chat {
            text,
            blocked: Some(why),
            ..
        } => Some((text, why)),
        _ => None,
    });
    assert_eq!(
        blocked.unwrap().0,
        "add me on Snapchat",
        "kept for the safeguarding lead"
    );
}

#[tokio::test]
async fn silence_past_the_idle_time_and_the_end_of_the_window_close_the_connection() {
    let server = start(Config {
        idle_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let (mut quiet, _) = server
        .join(Uuid::new_v4(), Uuid::new_v4(), CallRole::Mentor)
        .await;
    assert_eq!(quiet.error_code().await, "idle_timeout");

    let mut server = start(Config::default()).await;
    let room = Uuid::new_v4();
    let mut c = claims(room, Uuid::new_v4(), CallRole::Mentee);
    c.closes_at = Utc::now() + chrono::Duration::milliseconds(300);
    let mut late = Client::connect(server.addr).await;
    late.send(json!({"type": "hello", "token": server.token(&c)}))
        .await;
    late.expect("welcome").await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    server.hub.sweep(Utc::now());
    assert_eq!(late.error_code().await, "outside_window");
    let closed = server.drain_events().into_iter().any(|e| {
        matches!(
            e,
            RoomEvent::Left {
                reason: LeaveReason::WindowClosed,
                ..
            }
        )
    });
    assert!(closed);
}

/// Opens `/ws` by hand, for frames no websocket library would send.
async fn raw_socket(addr: SocketAddr) -> tokio::net::TcpStream {
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

/// A masked client frame.
fn masked(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    use mentorbridge_signalling::frame::{Opcode, client_frame};
    let opcode = match opcode {
        0x0 => Opcode::Continuation,
        0x1 => Opcode::Text,
        0x9 => Opcode::Ping,
        other => panic!("no test sends opcode {other}"),
    };
    client_frame(fin, opcode, payload, [0x9e, 0x11, 0x5a, 0xc3])
}

/// The next server frame: opcode and payload.
async fn server_frame(tcp: &mut tokio::net::TcpStream) -> (u8, Vec<u8>) {
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
            127 => panic!("no frame here is that long"),
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
