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
    assert_eq!(verdict, "This iPad is ready for mentoring.", "{checks}");
    assert!(checks.contains("Camera: working"), "{checks}");
    assert!(checks.contains("Microphone: hearing sound"), "{checks}");
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
    for page in [mentee, mentor] {
        wait_for_text(page, "#status", "A teacher ended the call.").await;
    }
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
