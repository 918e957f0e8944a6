//! Joining calls through the server: who gets a join token, the websocket
//! at /ws, and the attendance the signalling leaves behind.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mentorbridge_tests::{TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(app: &TestApp) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr))
        .await
        .unwrap();
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next message of `kind` (skipping pongs), within 5 s.
async fn expect(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let got = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} within 5 s"));
        match got {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "pong" && kind != "pong" {
                    continue;
                }
                assert_eq!(v["type"], kind, "{v}");
                return v;
            }
            Some(Ok(Message::Close(_))) | None => panic!("closed while waiting for {kind}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("{e}"),
        }
    }
}

/// Joins as `username`: a token from the API, then hello on the socket.
async fn join(app: &TestApp, username: &str, session: uuid::Uuid) -> (Ws, Value) {
    let client = app.signed_in(username).await;
    let info = client
        .post_json(&format!("/api/sessions/{session}/join"), &json!({}))
        .await;
    assert_eq!(info.status, StatusCode::OK, "{username}: {}", info.text);
    let info = info.json();
    let mut ws = socket(app).await;
    send(&mut ws, json!({"type": "hello", "token": info["token"]})).await;
    let welcome = expect(&mut ws, "welcome").await;
    (ws, welcome)
}

async fn attendance(app: &TestApp, session: uuid::Uuid) -> Value {
    app.signed_in("coord.a")
        .await
        .get(&format!("/api/sessions/{session}/attendance"))
        .await
        .json()
}

fn person(record: &Value, user: uuid::Uuid) -> &Value {
    record["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == user.to_string())
        .unwrap_or_else(|| panic!("{user} in {record}"))
}

/// Waits until the attendance record satisfies `done` (events are stored
/// a moment after they happen).
async fn attendance_until(
    app: &TestApp,
    session: uuid::Uuid,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..100 {
        let record = attendance(app, session).await;
        if done(&record) {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "attendance never settled: {}",
        attendance(app, session).await
    );
}

async fn only_the_booked_and_their_supervisors_get_a_join_token(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let now = app.session_now(&world).await;
    for (who, role) in [
        ("mentee.b", "mentee"),
        ("mentor.a", "mentor"),
        ("teacher.a", "supervisor"),
        ("coord.b", "supervisor"),
        ("dsl.a", "supervisor"),
    ] {
        let reply = app
            .signed_in(who)
            .await
            .post_json(&format!("/api/sessions/{}/join", now.id), &json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{who}: {}", reply.text);
        let info = reply.json();
        assert_eq!(info["role"], role, "{who}");
        assert_eq!(info["ws_path"], "/ws");
        // First names and schools, no family names.
        let names = info["names"].to_string();
        assert!(
            !names.contains("mentee.b-family") && !names.contains("mentor.a-family"),
            "{names}"
        );
    }
    // Staff who are not supervising it, and the other school's people, do not.
    for who in ["coord.a", "coord.c"] {
        let reply = app
            .signed_in(who)
            .await
            .post_json(&format!("/api/sessions/{}/join", now.id), &json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{who}");
    }
    // A session next week is not open yet; a cancelled one never is.
    let later = app
        .store
        .sessions_of_student(
            world.mentee_b.id,
            now.ends_at,
            now.ends_at + chrono::Duration::days(60),
        )
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.status.is_live())
        .unwrap();
    let mentee = app.signed_in("mentee.b").await;
    let early = mentee
        .post_json(&format!("/api/sessions/{}/join", later.id), &json!({}))
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(
        early.text.contains("the call is open from"),
        "{}",
        early.text
    );
    app.store.cancel_session(&now, "Fire drill").await.unwrap();
    let off = mentee
        .post_json(&format!("/api/sessions/{}/join", now.id), &json!({}))
        .await;
    assert_eq!(off.status, StatusCode::CONFLICT);
    // And the socket itself lets nobody in without a good token.
    let mut ws = socket(&app).await;
    send(&mut ws, json!({"type": "hello", "token": "forged.token"})).await;
    assert_eq!(expect(&mut ws, "error").await["code"], "bad_token");
}

async fn a_supervised_call_is_recorded_and_the_supervisor_ends_it(app: TestApp) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    let (mut mentee, welcome) = join(&app, "mentee.b", session.id).await;
    assert_eq!(
        welcome["needs_supervisor"], true,
        "the default policy waits for a supervisor"
    );
    let (mut mentor, _) = join(&app, "mentor.a", session.id).await;
    expect(&mut mentee, "peer_joined").await;
    // Until a supervisor is in, the students' offers go nowhere.
    send(&mut mentor, json!({"type": "offer", "sdp": "v=0"})).await;
    assert_eq!(
        expect(&mut mentor, "error").await["code"],
        "waiting_for_supervisor"
    );
    let (mut teacher, tw) = join(&app, "teacher.a", session.id).await;
    assert_eq!(tw["role"], "supervisor");
    expect(&mut mentee, "peer_joined").await;
    expect(&mut mentor, "peer_joined").await;
    send(
        &mut mentor,
        json!({"type": "offer", "sdp": "v=0", "to": world.mentee_b.id}),
    )
    .await;
    assert_eq!(
        expect(&mut mentee, "offer").await["from"],
        world.mentor_a.id.to_string()
    );
    for ws in [&mut mentee, &mut mentor] {
        send(ws, json!({"type": "state", "pc_state": "connected"})).await;
    }
    let live = attendance_until(&app, session.id, |r| {
        person(r, world.mentee_b.id)["connected"] == true
            && person(r, world.mentor_a.id)["connected"] == true
    })
    .await;
    let supervisor = person(&live, world.teacher_a.id);
    assert_eq!(supervisor["role"], "supervisor");
    assert_eq!(supervisor["in_call"], true);
    assert_eq!(person(&live, world.mentee_b.id)["late"], false);

    // The supervisor ends the call for everyone.
    send(&mut teacher, json!({"type": "end"})).await;
    for ws in [&mut mentee, &mut mentor] {
        assert_eq!(
            expect(ws, "ended").await["by"],
            world.teacher_a.id.to_string()
        );
    }
    // Both leaves are recorded, in whichever order their sockets close.
    let after = attendance_until(&app, session.id, |r| {
        person(r, world.mentee_b.id)["in_call"] == false
            && person(r, world.mentor_a.id)["in_call"] == false
    })
    .await;
    for user in [world.mentee_b.id, world.mentor_a.id] {
        let p = person(&after, user);
        assert_eq!(p["present"], true);
        assert!(
            p["joined_at"].is_string() && p["left_at"].is_string(),
            "{p}"
        );
        assert_eq!(p["no_show"], false);
    }

    corrections_are_kept_and_nobody_rejoins(&app, &world, session.id).await;
}

/// After the call: a teacher's correction is kept beside what the signalling
/// saw, and an ended call lets nobody back in.
async fn corrections_are_kept_and_nobody_rejoins(
    app: &TestApp,
    world: &mentorbridge_tests::World,
    session: uuid::Uuid,
) {
    // A teacher's correction is kept beside what the signalling saw.
    let coord_b = app.signed_in("coord.b").await;
    let corrected = coord_b
        .post_json(
            &format!("/api/sessions/{session}/attendance"),
            &json!({"user_id": world.mentor_a.id, "present": false, "reason": "Left after two minutes"}),
        )
        .await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.text);
    let record = corrected.json();
    let mentor_record = person(&record, world.mentor_a.id);
    assert_eq!(mentor_record["present"], false);
    assert!(
        mentor_record["joined_at"].is_string(),
        "the signalling's record stays"
    );
    assert_eq!(
        mentor_record["correction"]["reason"],
        "Left after two minutes"
    );
    let no_reason = coord_b
        .post_json(
            &format!("/api/sessions/{session}/attendance"),
            &json!({"user_id": world.mentor_a.id, "present": true, "reason": " "}),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Nobody rejoins an ended call.
    let again = app
        .signed_in("mentee.b")
        .await
        .post_json(&format!("/api/sessions/{session}/join"), &json!({}))
        .await
        .json();
    let mut ws = socket(app).await;
    send(&mut ws, json!({"type": "hello", "token": again["token"]})).await;
    assert_eq!(expect(&mut ws, "error").await["code"], "call_ended");
}

/// Two sessions of the pair's match, booked ten and nine days before its
/// next slot, so both rooms have closed.
async fn two_past_sessions(
    app: &TestApp,
    world: &mentorbridge_tests::World,
) -> Vec<mentorbridge::booking::Session> {
    let record = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap()
        .remove(0);
    let today = chrono::Utc::now().date_naive();
    let mut slot = mentorbridge::calendar::store::partnership_slots(
        &app.store,
        &world.partnership,
        today,
        today + chrono::Duration::days(14),
    )
    .await
    .unwrap()
    .alignment
    .slots
    .remove(0);
    let mut past = Vec::new();
    for days in [3, 2] {
        let start = slot.start_utc - chrono::Duration::days(7 + days);
        let length = slot.end_utc - slot.start_utc;
        slot.start_utc = start;
        slot.end_utc = start + length;
        past.push(app.store.book_session(&record, &slot).await.unwrap());
    }
    past
}

/// When a room has closed, the session is settled from its attendance:
/// completed when both students came, missed when one did not; a teacher's
/// correction settles it again.
async fn finished_sessions_are_settled_from_attendance(app: TestApp) {
    use mentorbridge::booking::SessionStatus;
    use mentorbridge_signalling::hub::RoomEvent;
    use mentorbridge_signalling::token::CallRole;
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let past = two_past_sessions(&app, &world).await;
    // Both came to the first; only the mentor to the second.
    for (session, users) in [
        (
            &past[0],
            vec![
                (world.mentee_b.id, CallRole::Mentee),
                (world.mentor_a.id, CallRole::Mentor),
            ],
        ),
        (&past[1], vec![(world.mentor_a.id, CallRole::Mentor)]),
    ] {
        for (user, role) in users {
            app.store
                .record_room_event(&RoomEvent::Joined {
                    session: session.id,
                    user,
                    role,
                    at: session.starts_at,
                })
                .await
                .unwrap();
        }
    }
    let settled = app.store.settle_sessions(chrono::Utc::now()).await.unwrap();
    assert_eq!(settled, 2);
    assert_eq!(
        app.store.session(past[0].id).await.unwrap().status,
        SessionStatus::Completed
    );
    let missed = app.store.session(past[1].id).await.unwrap();
    assert_eq!(missed.status, SessionStatus::Missed);
    let record = attendance(&app, missed.id).await;
    assert_eq!(person(&record, world.mentee_b.id)["no_show"], true);
    // The mentee was there on the other iPad: corrected, and settled again.
    let reply = app
        .signed_in("teacher.a")
        .await
        .post_json(
            &format!("/api/sessions/{}/attendance", missed.id),
            &json!({"user_id": world.mentee_b.id, "present": true, "minutes": 18, "reason": "Joined on the spare iPad"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        app.store.session(missed.id).await.unwrap().status,
        SessionStatus::Completed
    );
    // Sessions still to come are left alone.
    assert_eq!(
        app.store.settle_sessions(chrono::Utc::now()).await.unwrap(),
        0
    );
}

on_both_backends!(
    finished_sessions_are_settled_from_attendance,
    only_the_booked_and_their_supervisors_get_a_join_token,
    a_supervised_call_is_recorded_and_the_supervisor_ends_it,
);
