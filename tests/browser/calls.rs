//! Video calls on two and three iPads, and the pre-call check.

use super::support::*;

#[tokio::test]
async fn two_ipads_hold_a_call_that_survives_a_dropped_socket_and_an_ice_restart() {
    let _one_call_at_a_time = CALLS.lock().await;
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    app.ready_to_match(&world).await;
    // These two schools let their students start without a supervisor.
    app.calls_without_supervisor(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    let profiles = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mentee = call_browser_as(&driver, &chromium, profiles[0].path(), &app, "mentee.b").await;
    let mentor = call_browser_as(&driver, &chromium, profiles[1].path(), &app, "mentor.a").await;
    for browser in [&mentee, &mentor] {
        // Today's session on the Sessions page leads to the call.
        click(browser, Locator::LinkText("Sessions")).await;
        click(browser, Locator::LinkText("Join the call")).await;
        wait_for_text(browser, "h1", "Mentoring").await;
        click(browser, Locator::Id("join")).await;
    }
    for (browser, who) in [(&mentee, "mentee"), (&mentor, "mentor")] {
        wait_until(
            browser,
            &format!("the {who} sees and decodes the other's video"),
            DECODING,
            30,
        )
        .await;
    }
    save_screenshot(&mentee, "call-mentee").await;

    // The mentee's socket is cut (as when school Wi-Fi drops): the page
    // says it is reconnecting, resumes its place, and the call goes on.
    eval(
        &mentee,
        "window.__mentorbridge.socket.close(); return true;",
    )
    .await;
    wait_until(
        &mentee,
        "the page resumes its place",
        "const s = window.__mentorbridge; return s.socket.readyState === 1 && document.getElementById('banner').hidden;",
        20,
    )
    .await;
    // Signalling works again: chat goes both ways through the server.
    fill(
        &mentee.find(Locator::Id("chat-form")).await.unwrap(),
        "#chat-text",
        "Can you hear me?",
    )
    .await;
    mentee
        .find(Locator::Css("#chat-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&mentor, "#chat-log", "Can you hear me?").await;
    eval(&mentee, "window.__lastTime = undefined; return true;").await;
    wait_until(&mentee, "video still decoding after the drop", DECODING, 20).await;

    // An ICE restart (what the page does when the media connection fails)
    // is negotiated through the server: the mentee takes the mentor's new
    // ICE credentials, the connection comes back, and video carries on.
    let before = eval(&mentee, &format!("{REMOTE_UFRAG_FN} return ufrag();")).await;
    assert!(before.is_string(), "{before}");
    eval(
        &mentor,
        "[...window.__mentorbridge.peers.values()][0].pc.restartIce(); return true;",
    )
    .await;
    wait_until(
        &mentee,
        "the mentor's restarted ICE reaches the mentee",
        &format!("{REMOTE_UFRAG_FN} return ufrag() !== {before} && [...window.__mentorbridge.peers.values()][0].pc.connectionState === 'connected';"),
        20,
    )
    .await;
    eval(&mentee, "window.__lastTime = undefined; return true;").await;
    wait_until(
        &mentee,
        "video still decoding after the ICE restart",
        DECODING,
        20,
    )
    .await;

    // One continuous presence: joined once, resumed, never left.
    let events = app.store.attendance_events(session.id).await.unwrap();
    let mine: Vec<&str> = events
        .iter()
        .filter(|e| e.user_id == world.mentee_b.id)
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        mine.iter().filter(|k| **k == "joined").count(),
        1,
        "{mine:?}"
    );
    assert!(mine.contains(&"resumed"), "{mine:?}");
    assert!(!mine.contains(&"left"), "{mine:?}");
    let record = app.store.attendance(&session).await.unwrap();
    for person in &record {
        assert!(person.present && person.in_call, "{person:?}");
        assert!(person.connected, "media connected: {person:?}");
    }
    let _ = mentee.close().await;
    let _ = mentor.close().await;
}

#[tokio::test]
async fn the_pre_call_check_finds_the_camera_microphone_and_a_connection_to_mentorbridge() {
    let _one_call_at_a_time = CALLS.lock().await;
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.world().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = call_browser_as(&driver, &chromium, profile.path(), &app, "mentee.b").await;
    browser
        .goto(&format!("{}/precall", app.base))
        .await
        .unwrap();
    click(&browser, Locator::Id("start")).await;
    wait_until(
        &browser,
        "the check finishes",
        "return document.getElementById('verdict').dataset.ok !== '';",
        30,
    )
    .await;
    save_screenshot(&browser, "precall-mentee").await;
    let verdict = text_of(&browser, "#verdict").await;
    let checks = text_of(&browser, ".checks").await;
    assert_eq!(verdict, "✓ This iPad is ready for mentoring.", "{checks}");
    assert!(checks.contains("Camera: ✓ passed: working"), "{checks}");
    assert!(
        checks.contains("Microphone: ✓ passed: hearing sound"),
        "{checks}"
    );
    // A real connection to the server's own WebRTC peer, with a measured
    // round trip and no loss on loopback.
    let network = eval(
        &browser,
        "const d = document.getElementById('check-network').dataset; return [d.ok, d.path, Number(d.rttMs), Number(d.loss)];",
    )
    .await;
    assert_eq!(network[0], "true", "{checks}");
    assert_eq!(network[1], "direct");
    assert!(network[2].as_f64().unwrap() < 200.0, "{network}");
    assert_eq!(network[3], 0, "{network}");

    // A refused camera is said with the iPad's steps, and a browser that
    // cannot make calls is told so, without blaming the network.
    browser
        .goto(&format!("{}/precall", app.base))
        .await
        .unwrap();
    browser
        .execute(
            "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError')); return true;",
            vec![],
        )
        .await
        .unwrap();
    click(&browser, Locator::Id("start")).await;
    let camera = wait_for_text(&browser, "#check-camera", "not working").await;
    assert!(
        camera.contains("Settings, then Safari, then Camera"),
        "{camera}"
    );
    assert!(!camera.contains("Permission denied"), "{camera}");
    browser
        .goto(&format!("{}/precall", app.base))
        .await
        .unwrap();
    browser
        .execute("delete window.RTCPeerConnection; return true;", vec![])
        .await
        .unwrap();
    click(&browser, Locator::Id("start")).await;
    let net = wait_for_text(&browser, "#check-network", "this browser cannot make calls").await;
    assert!(!net.contains("network"), "{net}");
    save_screenshot(&browser, "precall-no-webrtc").await;
    let _ = browser.close().await;
}

#[tokio::test]
async fn students_wait_for_their_supervisor_who_watches_both_and_ends_the_call() {
    let _one_call_at_a_time = CALLS.lock().await;
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    // The default policy: students wait for a supervisor.
    app.ready_to_match(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    let profiles = [
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    ];
    let mut pages = Vec::new();
    for (profile, who) in profiles.iter().zip(["mentee.b", "mentor.a", "teacher.a"]) {
        let browser = call_browser_as(&driver, &chromium, profile.path(), &app, who).await;
        browser
            .goto(&format!("{}/sessions/{}/call", app.base, session.id))
            .await
            .unwrap();
        pages.push(browser);
    }
    let (mentee, mentor, teacher) = (&pages[0], &pages[1], &pages[2]);
    for page in [mentee, mentor] {
        click(page, Locator::Id("join")).await;
    }
    // Both students see the waiting screen, and no call starts.
    for page in [mentee, mentor] {
        wait_until(
            page,
            "the waiting screen",
            "return !document.getElementById('waiting').hidden;",
            15,
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        eval(mentee, "return window.__mentorbridge.peers.size;").await,
        0,
        "no connection before a supervisor is there"
    );
    // Nor chat: the page says why, in the chat log.
    fill(
        &mentee.find(Locator::Id("chat-form")).await.unwrap(),
        "#chat-text",
        "hello?",
    )
    .await;
    mentee
        .find(Locator::Css("#chat-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(mentee, "#chat-log", "when a supervising teacher has joined").await;
    let log = text_of(mentor, "#chat-log").await;
    assert!(!log.contains("hello?"), "the mentor saw nothing: {log}");
    // The teacher joins, receiving only: both students' video reaches them.
    click(teacher, Locator::Id("join")).await;
    wait_until(
        teacher,
        "the teacher decodes both students' video",
        "const vs = [...document.querySelectorAll('#remotes video')]; return vs.length === 2 && vs.every(v => v.videoWidth > 0);",
        30,
    )
    .await;
    // Three pages sending and decoding video share two cores: on a busy
    // CI machine the students' own connection has taken over 30 s.
    for page in [mentee, mentor] {
        wait_until(page, "the students see each other", DECODING, 60).await;
    }
    let sends = eval(
        teacher,
        "return [...window.__mentorbridge.peers.values()].flatMap(p => p.pc.getSenders()).filter(s => s.track).length;",
    )
    .await;
    assert_eq!(
        sends, 0,
        "an observer sends nothing until they choose to speak"
    );
    // On an iPad the teacher watches both students side by side, each
    // across nearly half the page.
    let layout = eval(
        teacher,
        "const [a, b] = [...document.querySelectorAll('#remotes video')].map(v => v.getBoundingClientRect()); \
         return { sameRow: Math.abs(a.top - b.top) < 1, widths: [a.width, b.width], page: document.documentElement.clientWidth };",
    )
    .await;
    let page = layout["page"].as_f64().unwrap();
    assert!(
        layout["sameRow"] == true
            && layout["widths"]
                .as_array()
                .unwrap()
                .iter()
                .all(|w| w.as_f64().unwrap() > page * 0.4),
        "the students' videos: {layout}"
    );
    // The students see who watches them.
    let room = wait_for_text(mentee, "#in-room", "is watching").await;
    assert!(room.contains("supervising teacher"), "{room}");
    save_screenshot(mentee, "call-mentee-watched").await;
    save_screenshot(teacher, "call-supervisor").await;
    // The teacher chooses to speak: both students receive their voice,
    // and the teacher can mute again.
    click(teacher, Locator::Id("speak")).await;
    for page in [mentee, mentor] {
        wait_until(page, "the student hears the teacher", HEARS_SUPERVISOR, 30).await;
    }
    assert_eq!(
        eval(
            teacher,
            "return !document.getElementById('mute').hidden && document.getElementById('speak').hidden;"
        )
        .await,
        true,
        "after Speak the teacher has Mute instead"
    );
    // The teacher ends the call for everyone.
    teacher
        .execute("window.confirm = () => true; return true;", vec![])
        .await
        .unwrap();
    click(teacher, Locator::Id("end")).await;
    // Each student is told what happened and what comes next: not to join
    // again, but home, or signing out to hand the iPad back.
    for page in [mentee, mentor] {
        wait_for_text(page, "#after-what", "A teacher ended the call for everyone").await;
        let next = eval(
            page,
            "return [document.getElementById('rejoin').hidden, !!document.getElementById('after-home'), !!document.getElementById('after-sign-out')];",
        )
        .await;
        assert_eq!(next, serde_json::json!([true, true, true]), "{next}");
    }
    save_screenshot(mentee, "call-ended-mentee").await;
    // Home no longer offers to join the ended call.
    mentee.goto(&format!("{}/home", app.base)).await.unwrap();
    // (The pair's next session may be later today, before the school day
    // starts, and rightly offers to join: only this one's row is asked.)
    wait_for_text(
        mentee,
        &format!("#call-ended-{}", session.id),
        "The call has ended",
    )
    .await;
    let join = format!("#next-sessions a[href='/sessions/{}/call']", session.id);
    assert!(
        mentee.find(Locator::Css(&join)).await.is_err(),
        "no Join the call for the ended call"
    );
    let events = app.store.attendance_events(session.id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "ended" && e.user_id == world.teacher_a.id)
    );
    for page in pages {
        let _ = page.close().await;
    }
}

/// When the camera is refused or missing, or the browser cannot make
/// calls, the page says so in words a pupil can act on (the iPad's own
/// steps), never the browser's raw message; Leave asks once, and then
/// offers to join again while the room is open.
#[tokio::test]
async fn a_refused_camera_is_said_plainly_and_leave_offers_to_join_again() {
    let _one_call_at_a_time = CALLS.lock().await;
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.calls_without_supervisor(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    let profile = tempfile::tempdir().unwrap();
    let page = call_browser_as(&driver, &chromium, profile.path(), &app, "mentee.b").await;
    let call = format!("{}/sessions/{}/call", app.base, session.id);
    for (name, raw, said) in [
        (
            "NotAllowedError",
            "Permission denied",
            "Settings, then Safari, then Camera",
        ),
        (
            "NotFoundError",
            "Requested device not found",
            "No camera or microphone was found",
        ),
        (
            "OverconstrainedError",
            "Invalid constraint",
            "No camera or microphone was found",
        ),
        (
            "NotReadableError",
            "Could not start video source",
            "Another app is using the camera",
        ),
    ] {
        page.goto(&call).await.unwrap();
        page.execute(
            &format!(
                "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('{raw}', '{name}')); return true;"
            ),
            vec![],
        )
        .await
        .unwrap();
        click(&page, Locator::Id("join")).await;
        let status = wait_for_text(&page, "#status", said).await;
        assert!(!status.contains(raw), "the browser's own words: {status}");
        if name == "NotAllowedError" {
            save_screenshot(&page, "call-camera-refused").await;
        }
    }
    page.goto(&call).await.unwrap();
    page.execute("delete window.RTCPeerConnection; return true;", vec![])
        .await
        .unwrap();
    click(&page, Locator::Id("join")).await;
    wait_for_text(&page, "#no-video", "cannot make video calls").await;

    // A real join; Leave asks once, then offers to join again.
    page.goto(&call).await.unwrap();
    click(&page, Locator::Id("join")).await;
    wait_until(
        &page,
        "joined",
        "return !document.getElementById('leave').hidden;",
        15,
    )
    .await;
    click(&page, Locator::Id("leave")).await;
    let asked = text_of(&page, "#leave").await;
    assert!(asked.contains("Tap again"), "{asked}");
    assert!(
        eval(&page, "return document.getElementById('after').hidden;").await == true,
        "one tap does not leave"
    );
    click(&page, Locator::Id("leave")).await;
    wait_for_text(&page, "#after-what", "You left the call").await;
    save_screenshot(&page, "call-left-mentee").await;
    click(&page, Locator::Id("rejoin")).await;
    wait_until(&page, "joined again", "return !document.getElementById('leave').hidden && document.getElementById('after').hidden;", 15).await;
    let warnings = eval(&page, "return window.__mentorbridge.warnings;").await;
    let _ = page.close().await;
    let events = app.store.attendance_events(session.id).await.unwrap();
    let joins = events
        .iter()
        .filter(|e| e.user_id == world.mentee_b.id && e.kind.as_str() == "joined")
        .count();
    assert_eq!(
        joins, 2,
        "joined, left, joined again: {events:?} ({warnings})"
    );
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `username` in `session`'s call over a websocket of the test's own (as an
/// iPad's page would be), past its welcome.
async fn in_the_call(app: &TestApp, username: &str, session: uuid::Uuid) -> Socket {
    use futures_util::{SinkExt, StreamExt};
    let token = app
        .signed_in(username)
        .await
        .post_json(
            &format!("/api/sessions/{session}/join"),
            &serde_json::json!({}),
        )
        .await
        .json()["token"]
        .clone();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr))
        .await
        .unwrap();
    let hello = serde_json::json!({"type": "hello", "token": token});
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        hello.to_string().into(),
    ))
    .await
    .unwrap();
    let _welcome = ws.next().await;
    ws
}

/// Today's calls updates in place: a teacher's half-typed correction stays
/// while the register shows who came in and when, and a call a supervisor
/// ended shows as ended, with nothing to open.
#[tokio::test]
async fn todays_calls_updates_in_place_and_keeps_what_is_typed() {
    use futures_util::SinkExt;
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.calls_without_supervisor(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;
    let browser = open_browser(&driver, &chromium).await;
    sign_in(&browser, &app, "teacher.a", mentorbridge_tests::PASSWORD).await;
    wait_for_text(&browser, "#home-heading", "Hello").await;
    browser
        .goto(&format!("{}/sessions/today", app.base))
        .await
        .unwrap();
    wait_for_text(&browser, "h1", "Today's calls").await;
    click(
        &browser,
        Locator::Css("[data-testid=today-session] details:last-of-type summary"),
    )
    .await;
    let form = browser
        .find(Locator::Css("[data-testid=today-session] form.grid"))
        .await
        .unwrap();
    fill(&form, "input[name=reason]", "Joined on the other iPad").await;

    // The mentee joins (a websocket client, as an iPad would).
    let _mentee = in_the_call(&app, "mentee.b", session.id).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    browser
        .execute("return window.__refreshToday();", vec![])
        .await
        .unwrap();
    let register = wait_for_text(&browser, ".register", "in the room").await;
    assert!(register.contains("joined "), "{register}");
    let typed = eval(
        &browser,
        "return document.querySelector('input[name=reason]').value;",
    )
    .await;
    assert_eq!(typed, "Joined on the other iPad", "what was typed stays");
    save_screenshot(&browser, "today-live").await;

    // A supervisor ends the call: it shows as ended, with nothing to open.
    let mut tws = in_the_call(&app, "teacher.a", session.id).await;
    let end = serde_json::json!({"type": "end"});
    tws.send(tokio_tungstenite::tungstenite::Message::Text(
        end.to_string().into(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    browser
        .goto(&format!("{}/sessions/today", app.base))
        .await
        .unwrap();
    let card = wait_for_text(&browser, "[data-testid=today-session]", "ended").await;
    assert!(!card.contains("Open the call"), "{card}");
    let _ = browser.close().await;
}
