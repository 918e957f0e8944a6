//! Dropped sockets: a resume within the time, a fresh place when one was
//! missed, what a ping lets the server forget, and a drop that never comes
//! back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use mentorbridge_signalling::hub::{Config, RoomEvent};
use mentorbridge_signalling::protocol::LeaveReason;
use mentorbridge_signalling::token::CallRole;
use serde_json::json;
use uuid::Uuid;

use crate::support::{Away, mentee_away, start};

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
