//! Shutting down: everyone told 1001 Going Away, new upgrades refused,
//! and the room events of the leaving handed over to the end.

use std::time::Duration;

use futures_util::StreamExt;
use mentorbridge_signalling::hub::{Config, RoomEvent};
use mentorbridge_signalling::protocol::LeaveReason;
use mentorbridge_signalling::token::CallRole;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::support::{Client, start, upgrade_status};

/// The code of the close frame the server sends `c` next.
async fn close_code(c: &mut Client) -> u16 {
    loop {
        let got = tokio::time::timeout(Duration::from_secs(5), c.ws.next())
            .await
            .expect("a close within 5 s");
        match got {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(Message::Close(None))) => panic!("a close without a code"),
            Some(Ok(_)) => continue,
            other => panic!("closed without a close frame: {other:?}"),
        }
    }
}

#[tokio::test]
async fn shutdown_tells_everyone_going_away_refuses_new_upgrades_and_hands_over_every_leave() {
    let mut server = start(Config::default()).await;
    let room = Uuid::new_v4();
    let (mentor, mentee) = (Uuid::new_v4(), Uuid::new_v4());
    let (mut a, _) = server.join(room, mentor, CallRole::Mentor).await;
    let (mut b, _) = server.join(room, mentee, CallRole::Mentee).await;
    a.expect("peer_joined").await;
    // One that has not said hello yet is told too.
    let mut anonymous = Client::connect(server.addr).await;
    server.drain_events();

    let hub = server.hub.clone();
    let shutdown = tokio::spawn(async move { hub.shutdown(Duration::from_secs(5)).await });
    for c in [&mut a, &mut b, &mut anonymous] {
        assert_eq!(close_code(c).await, 1001, "Going Away");
        // The client's answer to the close completes the handshake.
        assert!(c.ws.next().await.is_none());
    }
    tokio::time::timeout(Duration::from_secs(5), shutdown)
        .await
        .expect("shutdown resolves once the connections have closed")
        .unwrap();
    let refused = upgrade_status(server.addr, "").await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");

    // Both members' leaves, and then the end of the stream: the hub has
    // let go of its sender.
    let mut left = Vec::new();
    while let Some(event) = server.next_event().await {
        match event {
            RoomEvent::Left { user, reason, .. } => left.push((user, reason)),
            other => panic!("unexpected {other:?}"),
        }
    }
    left.sort_by_key(|(user, _)| *user);
    let mut expected = vec![
        (mentor, LeaveReason::ServerShutdown),
        (mentee, LeaveReason::ServerShutdown),
    ];
    expected.sort_by_key(|(user, _)| *user);
    assert_eq!(left, expected);
}
