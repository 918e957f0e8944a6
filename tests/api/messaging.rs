//! A pair's thread through the server: moderation before delivery, what
//! each person sees, the safeguarding lead's decisions and concerns, the
//! record of staff reads, and the bad input a thread refuses. In a call,
//! chat waits for a supervisor and lands in the same thread.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mentorbridge_tests::{TestApp, World, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn paired(app: &TestApp) -> (World, uuid::Uuid) {
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    (world, session.match_id)
}

fn texts(thread: &Value) -> Vec<String> {
    thread["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_pair_writes_and_the_other_never_sees_what_moderation_stopped(app: TestApp) {
    let (world, thread) = paired(&app).await;
    let mentee = app.signed_in("mentee.b").await;
    let mentor = app.signed_in("mentor.a").await;
    let path = format!("/api/threads/{thread}/messages");
    let sent = mentee
        .post_json(
            &path,
            &json!({"text": "Hi! Can we do fractions on Monday?"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
    assert_eq!(sent.json()["entry"]["state"], "sent");
    // Held: the sender is told; the mentor sees nothing.
    let held = mentee
        .post_json(&path, &json!({"text": "text me on 07700 900123"}))
        .await;
    assert_eq!(held.status, StatusCode::CREATED);
    assert_eq!(held.json()["entry"]["state"], "waiting");
    assert!(
        held.json()["notice"]
            .as_str()
            .unwrap()
            .contains("waiting for a teacher")
    );
    // Blocked: told kindly why; kept; never shown.
    let blocked = mentee
        .post_json(&path, &json!({"text": "this is sh1t"}))
        .await;
    assert_eq!(blocked.json()["entry"]["state"], "not_sent");
    assert!(
        blocked.json()["blocked"]
            .as_str()
            .unwrap()
            .contains("isn't allowed")
    );

    let seen = mentor.get(&format!("/api/threads/{thread}")).await.json();
    assert_eq!(texts(&seen), ["Hi! Can we do fractions on Monday?"]);
    assert_eq!(
        seen["who_can_read"],
        "Your teachers and safeguarding leads at both schools can read these messages."
    );
    let own = mentee.get(&format!("/api/threads/{thread}")).await.json();
    assert_eq!(
        own["entries"].as_array().unwrap().len(),
        3,
        "the sender sees all three"
    );
    let list = mentor.get("/api/threads").await.json();
    assert_eq!(list[0]["unread"], 0, "read by opening the thread");

    // The DSL of the sender's school is mentee.b's: school B has none in
    // this world, so the DSL of school A sees the held message but does not
    // decide it; a decision of the mentor's message is theirs.
    let dsl = app.signed_in("dsl.a").await;
    let queue = dsl.get("/api/safeguarding/held").await.json();
    assert_eq!(queue.as_array().unwrap().len(), 1);
    assert_eq!(queue[0]["decides"], false);
    let id = queue[0]["message"]["id"].as_i64().unwrap();
    let refused = dsl
        .post_json(
            &format!("/api/safeguarding/held/{id}"),
            &json!({"decision": "release"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let from_mentor = mentor
        .post_json(&path, &json!({"text": "my email is sam.jones@gmail.com"}))
        .await;
    let mine = from_mentor.json()["entry"]["id"].as_i64().unwrap();
    let no_note = dsl
        .post_json(
            &format!("/api/safeguarding/held/{mine}"),
            &json!({"decision": "reject"}),
        )
        .await;
    assert_eq!(
        no_note.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rejection needs a note"
    );
    let redacted = dsl
        .post_json(
            &format!("/api/safeguarding/held/{mine}"),
            &json!({"decision": "redact"}),
        )
        .await;
    assert_eq!(redacted.status, StatusCode::OK, "{}", redacted.text);
    assert_eq!(
        redacted.json()["reviews"][0]["by_user"],
        world.dsl_a.id.to_string()
    );
    let again = dsl
        .post_json(
            &format!("/api/safeguarding/held/{mine}"),
            &json!({"decision": "release"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "decided once");
    let now_seen = texts(&mentee.get(&format!("/api/threads/{thread}")).await.json());
    let shown = now_seen
        .iter()
        .find(|t| t.starts_with("my email is"))
        .unwrap();
    assert!(!shown.contains("gmail"), "redacted: {shown}");
    assert!(shown.contains('█'));

    // The DSL's full record has everything, and opening it is recorded.
    let record = dsl.get(&format!("/api/threads/{thread}")).await.json();
    assert_eq!(record["record"].as_array().unwrap().len(), 4);
    let reads = dsl.get("/api/safeguarding/reads").await.json();
    let kinds: Vec<&str> = reads
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"thread") && kinds.contains(&"message"),
        "{kinds:?}"
    );
    // Nobody else reads the thread: not coordinators, not teachers.
    for who in ["coord.a", "teacher.a", "coord.b"] {
        let denied = app
            .signed_in(who)
            .await
            .get(&format!("/api/threads/{thread}"))
            .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN, "{who}");
    }
    let search = dsl
        .get("/api/safeguarding/messages?category=swearing")
        .await
        .json();
    assert_eq!(search.as_array().unwrap().len(), 1);
}

async fn bad_messages_get_clear_errors_and_lose_nothing(app: TestApp) {
    let (world, thread) = paired(&app).await;
    let mentee = app.signed_in("mentee.b").await;
    let path = format!("/api/threads/{thread}/messages");
    for (text, says) in [
        ("   ", "write a message"),
        (&"a".repeat(2001) as &str, "at most 2000"),
        ("hi\u{7}", "control character"),
        ("abc\u{202E}fed", "direction"),
    ] {
        let reply = mentee.post_json(&path, &json!({"text": text})).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{text:?}");
        assert!(reply.text.contains(says), "{text:?}: {}", reply.text);
    }
    // Not in the thread: 403.
    app.add_student(&world.a, "other.a", "mentor", 12).await;
    let other = app.signed_in("other.a").await;
    assert_eq!(
        other.post_json(&path, &json!({"text": "hi"})).await.status,
        StatusCode::FORBIDDEN
    );
    // A flood is slowed with a clear message, and what was sent stays.
    let mut limited = None;
    for i in 0..20 {
        let reply = mentee
            .post_json(&path, &json!({"text": format!("message {i}")}))
            .await;
        if reply.status != StatusCode::CREATED {
            limited = Some(reply);
            break;
        }
    }
    let limited = limited.expect("a flood is limited");
    assert!(limited.text.contains("very fast"), "{}", limited.text);
    let own = mentee.get(&format!("/api/threads/{thread}")).await.json();
    assert_eq!(
        own["entries"].as_array().unwrap().len(),
        mentorbridge::safeguarding::PER_MINUTE
    );
}

async fn school_words_and_rules_decide_and_a_concern_reaches_the_lead(app: TestApp) {
    let (_world, thread) = paired(&app).await;
    let coord = app.signed_in("coord.a").await;
    for (word, status) in [("", 422), (&"x".repeat(200) as &str, 422), ("skeng", 201)] {
        let reply = coord
            .post_json("/api/safeguarding/words", &json!({"word": word}))
            .await;
        assert_eq!(reply.status.as_u16(), status, "{word:?}: {}", reply.text);
    }
    // School A's word stops a message from school B's pupil to A's.
    let mentee = app.signed_in("mentee.b").await;
    let path = format!("/api/threads/{thread}/messages");
    let reply = mentee
        .post_json(&path, &json!({"text": "he has a sk3ng"}))
        .await;
    assert_eq!(reply.json()["entry"]["state"], "not_sent", "{}", reply.text);
    // Contact details delivered at school A's say-so only if both schools
    // agree: the stricter rule holds.
    let relaxed = json!({"policy": {"swearing": "block", "school_words": "block", "contact": "deliver", "meeting": "hold", "secrecy": "hold"}});
    assert_eq!(
        coord
            .put_json("/api/safeguarding/rules", &relaxed)
            .await
            .status,
        StatusCode::OK
    );
    let reply = mentee
        .post_json(&path, &json!({"text": "add me on snapchat"}))
        .await;
    assert_eq!(
        reply.json()["entry"]["state"],
        "waiting",
        "school B still holds contact details"
    );
    let bad_hours =
        json!({"policy": relaxed["policy"], "hours_from": "18:00", "hours_until": "07:00"});
    let reply = coord.put_json("/api/safeguarding/rules", &bad_hours).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.text.contains("end after they start"));

    // A concern from the thread reaches the lead, and moves new →
    // acknowledged → closed with an outcome.
    let raised = mentee
        .post_json(
            &format!("/api/threads/{thread}/concerns"),
            &json!({"text": "I feel uneasy"}),
        )
        .await;
    assert_eq!(raised.status, StatusCode::CREATED);
    let dsl = app.signed_in("dsl.a").await;
    let concerns = dsl.get("/api/safeguarding/concerns").await.json();
    assert_eq!(concerns[0]["text"], "I feel uneasy");
    let id = concerns[0]["id"].as_str().unwrap().to_owned();
    let close_bare = dsl
        .post_json(
            &format!("/api/safeguarding/concerns/{id}"),
            &json!({"state": "closed"}),
        )
        .await;
    assert_eq!(
        close_bare.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an outcome is needed"
    );
    let ack = dsl
        .post_json(
            &format!("/api/safeguarding/concerns/{id}"),
            &json!({"state": "acknowledged"}),
        )
        .await;
    assert_eq!(ack.json()["state"], "acknowledged");
    let closed = dsl
        .post_json(
            &format!("/api/safeguarding/concerns/{id}"),
            &json!({"state": "closed", "outcome": "Spoke to the pupil; no further action"}),
        )
        .await;
    assert_eq!(closed.json()["state"], "closed");
    assert_eq!(closed.json()["closed_by"], _world_dsl(&app).await);
}

async fn _world_dsl(app: &TestApp) -> String {
    app.store
        .user_for_sign_in("dsl.a")
        .await
        .unwrap()
        .unwrap()
        .0
        .id
        .to_string()
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn expect(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let got = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind}"));
        if let Some(Ok(Message::Text(t))) = got {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "pong" || (v["type"] == "peer_joined" && kind != "peer_joined") {
                continue;
            }
            assert_eq!(v["type"], kind, "{v}");
            return v;
        }
    }
}

async fn join(app: &TestApp, username: &str, session: uuid::Uuid) -> Ws {
    let info = app
        .signed_in(username)
        .await
        .post_json(&format!("/api/sessions/{session}/join"), &json!({}))
        .await
        .json();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr))
        .await
        .unwrap();
    ws.send(Message::Text(
        json!({"type": "hello", "token": info["token"]})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    expect(&mut ws, "welcome").await;
    ws
}

async fn say(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(
        json!({"type": "chat", "text": text}).to_string().into(),
    ))
    .await
    .unwrap();
}

async fn call_chat_waits_for_a_supervisor_is_moderated_and_joins_the_thread(app: TestApp) {
    let (_world, thread) = paired(&app).await;
    let session = app.session_now(&_world).await;
    let mut mentee = join(&app, "mentee.b", session.id).await;
    let mut mentor = join(&app, "mentor.a", session.id).await;
    say(&mut mentee, "hello?").await;
    assert_eq!(
        expect(&mut mentee, "error").await["code"],
        "chat_waiting_for_supervisor"
    );
    let mut teacher = join(&app, "teacher.a", session.id).await;
    say(&mut mentee, "Hi! ready for fractions").await;
    assert_eq!(
        expect(&mut mentor, "chat").await["text"],
        "Hi! ready for fractions"
    );
    assert_eq!(
        expect(&mut teacher, "chat").await["text"],
        "Hi! ready for fractions"
    );
    say(&mut mentee, "my number is 07700 900123").await;
    assert_eq!(
        expect(&mut mentee, "chat").await["text"],
        "Hi! ready for fractions",
        "its own echo"
    );
    assert_eq!(expect(&mut mentee, "error").await["code"], "chat_held");
    // The call's chat is the thread: the mentor sees the first line there
    // too, never the held one.
    let mentor_client = app.signed_in("mentor.a").await;
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen = texts(
            &mentor_client
                .get(&format!("/api/threads/{thread}"))
                .await
                .json(),
        );
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, ["Hi! ready for fractions"]);
    let dsl = app.signed_in("dsl.a").await;
    let mut record = Value::Null;
    for _ in 0..50 {
        record = dsl.get(&format!("/api/threads/{thread}")).await.json();
        if record["record"].as_array().is_some_and(|r| r.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let held = &record["record"][1];
    assert_eq!(held["status"], "held");
    assert_eq!(held["session_id"], session.id.to_string());
}

on_both_backends!(
    a_pair_writes_and_the_other_never_sees_what_moderation_stopped,
    bad_messages_get_clear_errors_and_lose_nothing,
    school_words_and_rules_decide_and_a_concern_reaches_the_lead,
    call_chat_waits_for_a_supervisor_is_moderated_and_joins_the_thread,
    deputies_read_as_the_lead_does_and_messages_wait_for_messaging_hours,
    a_thread_is_read_only_once_the_match_has_ended,
);

async fn deputies_read_as_the_lead_does_and_messages_wait_for_messaging_hours(app: TestApp) {
    let (world, thread) = paired(&app).await;
    let dsl = app.signed_in("dsl.a").await;
    let teacher = app.signed_in("teacher.a").await;
    assert_eq!(
        teacher.get("/api/safeguarding/held").await.status,
        StatusCode::FORBIDDEN
    );
    let student = dsl
        .post_json(
            "/api/safeguarding/deputies",
            &json!({"user_id": world.mentor_a.id}),
        )
        .await;
    assert_eq!(
        student.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a pupil cannot be a deputy"
    );
    let named = dsl
        .post_json(
            "/api/safeguarding/deputies",
            &json!({"user_id": world.teacher_a.id}),
        )
        .await;
    assert_eq!(named.status, StatusCode::CREATED, "{}", named.text);
    assert_eq!(
        teacher.get("/api/safeguarding/held").await.status,
        StatusCode::OK
    );
    assert_eq!(
        teacher.get(&format!("/api/threads/{thread}")).await.status,
        StatusCode::OK
    );
    let reads = dsl.get("/api/safeguarding/reads").await.json();
    assert!(
        reads
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["user_id"] == world.teacher_a.id.to_string() && r["kind"] == "thread"),
        "the deputy's reading is recorded: {reads}"
    );
    let removed = dsl
        .delete(&format!(
            "/api/safeguarding/deputies/{}",
            world.teacher_a.id
        ))
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(
        teacher.get(&format!("/api/threads/{thread}")).await.status,
        StatusCode::FORBIDDEN
    );

    // School A's hours are two hours from now: a message to its pupil
    // waits, the sender is told, and the mentor does not see it yet.
    let london = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London);
    let open = (london + chrono::Duration::hours(2))
        .format("%H:00")
        .to_string();
    let close = (london + chrono::Duration::hours(3))
        .format("%H:00")
        .to_string();
    if open < close {
        let coord = app.signed_in("coord.a").await;
        let rules = json!({"policy": {"swearing": "block", "school_words": "block", "contact": "hold", "meeting": "hold", "secrecy": "hold"}, "hours_from": open, "hours_until": close});
        assert_eq!(
            coord
                .put_json("/api/safeguarding/rules", &rules)
                .await
                .status,
            StatusCode::OK
        );
        let mentee = app.signed_in("mentee.b").await;
        let sent = mentee
            .post_json(
                &format!("/api/threads/{thread}/messages"),
                &json!({"text": "Good luck in your exam!"}),
            )
            .await
            .json();
        assert_eq!(sent["entry"]["state"], "scheduled", "{sent}");
        assert!(
            sent["notice"]
                .as_str()
                .unwrap()
                .contains("outside messaging hours")
        );
        let mentor = app.signed_in("mentor.a").await;
        assert!(texts(&mentor.get(&format!("/api/threads/{thread}")).await.json()).is_empty());
    }
}

/// A held message and a concern email the lead, through the outbox: once
/// in ten minutes, and never with a pupil's words in it.
async fn the_lead_is_emailed_that_something_waits_never_what_it_says(
    backend: mentorbridge_tests::Backend,
) {
    let smtp = mentorbridge_tests::SmtpServer::start();
    let Some(app) = mentorbridge_tests::spawn_app_with(backend, |s| {
        s.mail = Some(mentorbridge_tests::quick_mail(&smtp));
    })
    .await
    else {
        return;
    };
    let (_world, thread) = paired(&app).await;
    let dsl = app.signed_in("dsl.a").await;
    let reply = dsl
        .put_json("/api/me/email", &json!({"email": "dsl.a@school-a.example"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let mentor = app.signed_in("mentor.a").await;
    let path = format!("/api/threads/{thread}/messages");
    for text in [
        "text me on 07700 900123",
        "add me on snapchat",
        "meet me at the park",
    ] {
        let sent = mentor.post_json(&path, &json!({"text": text})).await.json();
        assert_eq!(sent["entry"]["state"], "waiting", "{sent}");
    }
    mentor
        .post_json(
            &format!("/api/threads/{thread}/concerns"),
            &json!({"text": "secret worry words"}),
        )
        .await;
    let to_lead = |m: &[mentorbridge_tests::Delivered]| {
        m.iter()
            .filter(|d| d.to.iter().any(|t| t == "dsl.a@school-a.example"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let inbox = smtp
        .wait_for("the lead's notice", |m| !to_lead(m).is_empty())
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let notices = to_lead(&smtp.inbox());
    assert_eq!(
        notices.len(),
        1,
        "one email for three held messages and a concern"
    );
    let body = String::from_utf8_lossy(&notices[0].data).to_string();
    for secret in ["07700", "snapchat", "park", "secret worry"] {
        assert!(!body.contains(secret), "no pupil's words by email: {body}");
    }
    assert!(body.contains("/safeguarding"), "{body}");
    drop(inbox);
}

mod emailed {
    #[tokio::test]
    async fn sqlite() {
        super::the_lead_is_emailed_that_something_waits_never_what_it_says(
            mentorbridge_tests::Backend::Sqlite,
        )
        .await
    }

    #[tokio::test]
    async fn postgres() {
        super::the_lead_is_emailed_that_something_waits_never_what_it_says(
            mentorbridge_tests::Backend::Postgres,
        )
        .await
    }
}

async fn a_thread_is_read_only_once_the_match_has_ended(app: TestApp) {
    let (world, thread) = paired(&app).await;
    let mentee = app.signed_in("mentee.b").await;
    let path = format!("/api/threads/{thread}/messages");
    let first = mentee
        .post_json(&path, &json!({"text": "Thanks for everything!"}))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let record = app
        .store
        .partnership_matches(world.partnership.id)
        .await
        .unwrap();
    let referral = record.iter().find(|m| m.id == thread).unwrap().referral_id;
    let closed = app
        .signed_in("coord.b")
        .await
        .post_json(
            &format!("/api/referrals/{referral}/status"),
            &json!({"to": "closed", "reason": "Moved school"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    let refused = mentee.post_json(&path, &json!({"text": "Hello?"})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text.contains("has ended"), "{}", refused.text);
    let view = mentee.get(&format!("/api/threads/{thread}")).await.json();
    assert_eq!(view["open"], false);
    assert_eq!(
        texts(&view),
        ["Thanks for everything!"],
        "nothing already sent is lost"
    );
    let page = mentee.get(&format!("/messages/{thread}")).await;
    assert!(
        page.text
            .contains("you can read these messages but not send new ones")
    );
}
