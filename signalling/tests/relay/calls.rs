//! A call's signalling: offers, answers and candidates between the right
//! people, supervisors, and chat through the filter.

use mentorbridge_signalling::hub::{ChatVerdict, Config, RoomEvent};
use mentorbridge_signalling::protocol::LeaveReason;
use mentorbridge_signalling::token::CallRole;
use serde_json::json;
use uuid::Uuid;

use crate::support::{Client, claims, sdp, start};

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
    // Chat too, exactly like media: nothing reaches the other student.
    b.send(json!({"type": "chat", "text": "hello?"})).await;
    assert_eq!(b.error_code().await, "chat_waiting_for_supervisor");
    a.quiet().await;
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
    b.send(json!({"type": "chat", "text": "hello?"})).await;
    assert_eq!(a.expect("chat").await["text"], "hello?");
    assert_eq!(t.expect("chat").await["text"], "hello?");
    assert_eq!(b.expect("chat").await["text"], "hello?", "its own, echoed");
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
    b.send(json!({"type": "chat", "text": "can we meet up"}))
        .await;
    assert_eq!(b.error_code().await, "chat_held");
    a.quiet().await;
    let kept: Vec<(String, ChatVerdict)> = server
        .drain_events()
        .into_iter()
        .filter_map(|e| match e {
            RoomEvent::Chat { text, verdict, .. } if verdict != ChatVerdict::Deliver => {
                Some((text, verdict))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        kept.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["add me on Snapchat", "can we meet up"],
        "kept for the safeguarding lead"
    );
    assert!(matches!(kept[1].1, ChatVerdict::Hold(_)));
}

#[tokio::test]
async fn room_events_are_never_lost_however_slowly_the_server_reads_them() {
    use mentorbridge_signalling::hub::RoomEvent;
    use std::time::Duration;
    // Room for one event at a time, read every 20 ms.
    let mut server = crate::support::start_with_events(Config::default(), 1).await;
    let (_, none) = tokio::sync::mpsc::channel(1);
    let mut events = std::mem::replace(&mut server.events, none);
    let reader = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(e) = events.recv().await {
            all.push(e);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        all
    });
    let mut clients = Vec::new();
    let mut users = Vec::new();
    for _ in 0..10 {
        let user = Uuid::new_v4();
        let (c, _) = server.join(Uuid::new_v4(), user, CallRole::Mentor).await;
        clients.push(c);
        users.push(user);
    }
    // Half leave, and report their media first; the rest are still in
    // when the server shuts down.
    for c in &mut clients[..5] {
        c.send(json!({"type": "state", "pc_state": "connected"}))
            .await;
        c.send(json!({"type": "leave"})).await;
    }
    for c in &mut clients[..5] {
        assert!(c.next().await.is_none(), "closed after leaving");
    }
    server.hub.shutdown(Duration::from_secs(10)).await;
    let all = tokio::time::timeout(Duration::from_secs(20), reader)
        .await
        .expect("every event read, then the end")
        .unwrap();
    let count = |f: &dyn Fn(&RoomEvent) -> bool| all.iter().filter(|e| f(e)).count();
    assert_eq!(
        count(&|e| matches!(e, RoomEvent::Joined { .. })),
        10,
        "{all:?}"
    );
    assert_eq!(
        count(&|e| matches!(e, RoomEvent::Media { .. })),
        5,
        "{all:?}"
    );
    assert_eq!(
        count(&|e| matches!(
            e,
            RoomEvent::Left {
                reason: LeaveReason::Left,
                ..
            }
        )),
        5,
        "{all:?}"
    );
    assert_eq!(
        count(&|e| matches!(
            e,
            RoomEvent::Left {
                reason: LeaveReason::ServerShutdown,
                ..
            }
        )),
        5,
        "{all:?}"
    );
    // Each person's events in the order they happened.
    for user in &users[..5] {
        let mine: Vec<&str> = all
            .iter()
            .filter_map(|e| match e {
                RoomEvent::Joined { user: u, .. } if u == user => Some("joined"),
                RoomEvent::Media { user: u, .. } if u == user => Some("media"),
                RoomEvent::Left { user: u, .. } if u == user => Some("left"),
                _ => None,
            })
            .collect();
        assert_eq!(mine, ["joined", "media", "left"]);
    }
}

#[tokio::test]
async fn a_connection_whose_messages_would_make_events_waits_while_the_server_is_behind() {
    use mentorbridge_signalling::hub::RoomEvent;
    let mut server = crate::support::start_with_events(Config::default(), 1).await;
    let (mut a, _) = server
        .join(Uuid::new_v4(), Uuid::new_v4(), CallRole::Mentor)
        .await;
    // `joined` fills the channel; the first `state` waits in the hub; the
    // second waits in the connection, which reads nothing more, so the
    // ping behind it goes unanswered for now.
    a.send(json!({"type": "state", "pc_state": "connecting"}))
        .await;
    a.send(json!({"type": "state", "pc_state": "connected"}))
        .await;
    a.send(json!({"type": "ping"})).await;
    a.quiet().await;
    let mut kinds = Vec::new();
    for _ in 0..3 {
        kinds.push(match server.event().await {
            RoomEvent::Joined { .. } => "joined".to_owned(),
            RoomEvent::Media { state, .. } => state,
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(kinds, ["joined", "connecting", "connected"]);
    a.expect("pong").await;
}
