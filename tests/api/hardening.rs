//! What a careful attacker and a busy school found (issue #15), each kept
//! from coming back: relay credentials, the pre-call check, names that
//! break email, sign-in under a morning rush, and the rest.

use std::time::Duration;

use chrono::Utc;
use mentorbridge_tests::{Backend, DATA_CHANNEL_OFFER, TestApp, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;

async fn with_turn(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.ice.stun = vec!["stun:turn.school.test:3478".into()];
        s.ice.turn = vec!["turn:turn.school.test:3478".into()];
        s.ice.turn_secret = Some(b"relay-secret".to_vec());
        s.ice.ttl = Duration::from_secs(300);
    })
    .await
}

/// A pupil with no call gets relay credentials only for a pre-call check:
/// a few in ten minutes, each lasting minutes, not an hour.
async fn relay_credentials_are_few_and_short_lived(backend: Backend) {
    let Some(app) = with_turn(backend).await else {
        return;
    };
    app.world().await;
    let pupil = app.signed_in("mentee.b").await;
    assert_eq!(
        pupil.get("/api/me/ice-servers").await.status,
        StatusCode::NOT_FOUND,
        "no credentials outside a check"
    );
    for i in 0..5 {
        let reply = pupil
            .post_json("/api/precall/ice-servers", &json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "check {i}: {}", reply.text);
        let servers = reply.json();
        let turn = servers
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["urls"][0].as_str().unwrap().starts_with("turn:"))
            .expect("a TURN server");
        let expires: i64 = turn["username"]
            .as_str()
            .unwrap()
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let left = expires - Utc::now().timestamp();
        assert!((60..=330).contains(&left), "lasts {left} s");
    }
    let refused = pupil
        .post_json("/api/precall/ice-servers", &json!({}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=120).contains(&wait), "an honest wait: {wait} s");
    // Someone else is not held up by it.
    let other = app.signed_in("mentor.a").await;
    assert_eq!(
        other
            .post_json("/api/precall/ice-servers", &json!({}))
            .await
            .status,
        StatusCode::OK
    );
}

/// One check per person at a time, and an offer cannot aim the server's
/// connectivity checks at a loopback port.
async fn the_precall_check_is_one_at_a_time_and_ignores_loopback(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    app.world().await;
    let target = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = target.local_addr().unwrap().port();
    let offer = DATA_CHANNEL_OFFER.replace("127.0.0.1 50000", &format!("127.0.0.1 {port}"));
    assert_ne!(offer, DATA_CHANNEL_OFFER);
    let pupil = app.signed_in("mentee.b").await;
    let first = pupil
        .post_json("/api/precall", &json!({ "sdp": offer }))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let second = pupil
        .post_json("/api/precall", &json!({ "sdp": offer }))
        .await;
    assert_eq!(
        second.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        second.text
    );
    assert!(second.text.contains("still running"), "{}", second.text);
    let other = app.signed_in("mentor.a").await;
    assert_eq!(
        other
            .post_json("/api/precall", &json!({ "sdp": DATA_CHANNEL_OFFER }))
            .await
            .status,
        StatusCode::OK,
        "another person's check runs"
    );
    let mut buf = [0u8; 1500];
    let heard = tokio::time::timeout(Duration::from_secs(4), target.recv_from(&mut buf)).await;
    assert!(
        heard.is_err(),
        "the server sent {:?} to a loopback port",
        heard.map(|r| r.map(|(n, _)| n))
    );
}

/// A class of 200 signs in at once from one school address (its iPads
/// share it), a few of them mistyping first: every one gets in.
async fn a_class_of_200_signs_in_at_once_from_one_address(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let world = app.world().await;
    let coord = app.signed_in("coord.a").await;
    let path = format!("/api/schools/{}/students", world.a.id);
    let adds = (0..200).map(|i| {
        let coord = coord.clone();
        let path = path.clone();
        async move {
            let body = json!({"username": format!("pupil{i:03}"), "password": "lemon-harbour-kite",
                "given_name": "Pupil", "family_name": format!("{i}"), "year_group": 8,
                "kind": "mentee", "subjects": []});
            let reply = coord.post_json(&path, &body).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        }
    });
    futures_util::future::join_all(adds).await;
    let sign_ins = (0..200).map(|i| {
        let mut ipad = app.client();
        async move {
            let username = format!("pupil{i:03}");
            if i % 40 == 7 {
                let typo = ipad.sign_in(&username, "lemon-harbor-kite").await;
                assert_eq!(typo.status, StatusCode::UNAUTHORIZED, "{}", typo.text);
            }
            ipad.sign_in(&username, "lemon-harbour-kite").await
        }
    });
    let replies = futures_util::future::join_all(sign_ins).await;
    let refused: Vec<String> = replies
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status != StatusCode::OK)
        .map(|(i, r)| format!("pupil{i:03}: {} {}", r.status, r.text))
        .collect();
    assert!(
        refused.is_empty(),
        "{} refused: {refused:#?}",
        refused.len()
    );
}

/// The partner school sees the students pairing is about (ready mentors,
/// countersigned mentees), its supervisors by name rather than by the
/// usernames they sign in with, and no referral priorities of the other
/// school in an approval's answer.
async fn the_partner_school_sees_only_what_pairing_needs(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let world = app.world().await;
    let pid = world.partnership.id;
    let coord_a = app.signed_in("coord.a").await;
    let coord_b = app.signed_in("coord.b").await;
    let students = |c: &mentorbridge_tests::Client| {
        let c = c.clone();
        async move {
            let reply = c.get(&format!("/api/partnerships/{pid}/students")).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            reply
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert!(
        !students(&coord_b)
            .await
            .contains(&world.mentor_a.id.to_string()),
        "a mentor not yet trained and cleared is not shown"
    );
    assert!(
        !students(&coord_a)
            .await
            .contains(&world.mentee_b.id.to_string()),
        "a mentee with no countersigned referral is not shown"
    );
    app.ready_to_match(&world).await;
    assert!(
        students(&coord_b)
            .await
            .contains(&world.mentor_a.id.to_string())
    );
    assert!(
        students(&coord_a)
            .await
            .contains(&world.mentee_b.id.to_string())
    );

    // Supervisors are named in the school's own capacity, which only its
    // own staff read; the partnership's policy names nobody.
    let capacity_path = format!("/api/schools/{}/capacity", world.a.id);
    let own = coord_a.get(&capacity_path).await.json();
    assert!(
        own.to_string().contains("\"teacher.a\""),
        "own supervisors by username: {own}"
    );
    let partner_reads = coord_b.get(&capacity_path).await;
    assert!(
        partner_reads.status == StatusCode::FORBIDDEN
            || partner_reads.status == StatusCode::NOT_FOUND,
        "{}",
        partner_reads.text
    );
    let policy_path = format!("/api/partnerships/{pid}/policy");
    let seen_by_b = coord_b.get(&policy_path).await;
    assert_eq!(seen_by_b.status, StatusCode::OK);
    for username in ["teacher.a", "coord.a", "dsl.a"] {
        assert!(
            !seen_by_b.text.contains(&format!("\"{username}\"")),
            "{username} shown to the partner: {}",
            seen_by_b.text
        );
    }
    let saved = coord_b.put_json(&policy_path, &seen_by_b.json()).await;
    assert_eq!(
        saved.status,
        StatusCode::OK,
        "the policy as shown saves back: {}",
        saved.text
    );

    let run = coord_a
        .post_json(&format!("/api/partnerships/{pid}/proposal"), &json!({}))
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text);
    let id = run.json()["id"].as_str().unwrap().to_owned();
    let approved = coord_a
        .post_json(
            &format!("/api/partnerships/{pid}/proposal/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let body = approved.json();
    let matches = body["matches"].as_array().expect("matches");
    assert!(!matches.is_empty(), "{body}");
    assert!(
        matches.iter().all(|m| m["priority"].is_null()),
        "school B's priorities reach school A: {body}"
    );
}

/// Coordinators acting at once (moves of many sessions into one slot,
/// cancelling one session twice, approving a proposal from both schools)
/// each get an answer: done (200) or a conflict that says why (409), on
/// SQLite as on PostgreSQL, never a 500 from a locked database.
async fn concurrent_changes_answer_done_or_a_conflict(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let world = app.world().await;
    app.ready_to_match(&world).await;
    let pid = world.partnership.id;
    let coord_a = app.signed_in("coord.a").await;
    let coord_b = app.signed_in("coord.b").await;
    let proposal = coord_a
        .post_json(&format!("/api/partnerships/{pid}/proposal"), &json!({}))
        .await
        .json();
    let approve = format!(
        "/api/partnerships/{pid}/proposal/{}/approve",
        proposal["id"].as_str().unwrap()
    );
    let approvals = [&coord_a, &coord_b, &coord_a, &coord_b].map(|c| {
        let (c, approve) = (c.clone(), approve.clone());
        async move { c.post_json(&approve, &json!({})).await }
    });
    let mut replies = futures_util::future::join_all(approvals).await;
    let to = (Utc::now() + chrono::Duration::days(400)).date_naive();
    let sessions = app
        .signed_in("mentee.b")
        .await
        .get(&format!("/api/me/sessions?to={to}"))
        .await
        .json();
    let sessions = sessions.as_array().unwrap().clone();
    assert!(sessions.len() >= 6, "a series was booked: {sessions:?}");
    let taken: Vec<String> = sessions
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap().to_owned())
        .collect();
    let slots = coord_a
        .get(&format!("/api/partnerships/{pid}/slots"))
        .await
        .json();
    let free = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start_utc"].as_str().unwrap().to_owned())
        .find(|start| {
            start.parse::<chrono::DateTime<Utc>>().unwrap() > Utc::now()
                && !taken.iter().any(|t| {
                    t.parse::<chrono::DateTime<Utc>>().unwrap()
                        == start.parse::<chrono::DateTime<Utc>>().unwrap()
                })
        })
        .expect("a free slot");
    let (cancelled, moving) = sessions.split_first().unwrap();
    let cancel = format!("/api/sessions/{}/cancel", cancelled["id"].as_str().unwrap());
    let mut changes = Vec::new();
    for s in moving {
        let (c, path, free) = (
            coord_b.clone(),
            format!("/api/sessions/{}/move", s["id"].as_str().unwrap()),
            free.clone(),
        );
        changes.push(tokio::spawn(async move {
            c.post_json(&path, &json!({"starts_at": free, "reason": "Assembly"}))
                .await
        }));
    }
    for c in [&coord_a, &coord_b, &coord_a] {
        let (c, path) = (c.clone(), cancel.clone());
        changes.push(tokio::spawn(async move {
            c.post_json(&path, &json!({"reason": "Trip"})).await
        }));
    }
    for change in changes {
        replies.push(change.await.unwrap());
    }
    let odd: Vec<String> = replies
        .iter()
        .filter(|r| r.status != StatusCode::OK && r.status != StatusCode::CONFLICT)
        .map(|r| format!("{} {}", r.status, r.text))
        .collect();
    assert!(
        odd.is_empty(),
        "{} answers were neither 200 nor 409: {odd:#?}",
        odd.len()
    );
    let moved = replies[4..4 + moving.len()]
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(
        moved, 1,
        "one session moves into the slot; the others are told it is taken"
    );
}

/// A calendar link is built from the server's own address, whatever `Host`
/// the request claims, even with no public URL set (`serve` requires one;
/// this is the embedded default).
async fn links_come_from_the_public_url_not_the_request(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.public_url = None;
        s.bind = "192.0.2.7:8443".parse().unwrap();
    })
    .await
    else {
        return;
    };
    app.world().await;
    let pupil = app.signed_in("mentee.b").await;
    let reply = pupil
        .http
        .post(format!("{}/api/me/calendar-feed", app.base))
        .header("host", "evil.example")
        .header("x-csrf-token", pupil.csrf.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::CREATED);
    let links: serde_json::Value = reply.json().await.unwrap();
    assert!(
        links["webcal"]
            .as_str()
            .unwrap()
            .starts_with("webcal://192.0.2.7:8443/"),
        "{links}"
    );
    assert!(!links.to_string().contains("evil"), "{links}");
}

/// On a shared iPad: a pupil's session cookie ends with the browser and
/// their session after a few idle minutes (staff keep theirs longer); no
/// signed-in page is kept in a cache; and over https browsers are told to
/// stay on https.
async fn a_shared_ipad_forgets_the_last_pupil(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.public_url = Some("https://mentoring.school.test".into());
        s.idle_limits.student = Duration::from_secs(3);
    })
    .await
    else {
        return;
    };
    app.world().await;
    let session_cookie = |r: &mentorbridge_tests::Reply| {
        r.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|c| c.to_str().ok())
            .find(|c| c.starts_with("mb_session="))
            .expect("a session cookie")
            .to_owned()
    };
    let mut pupil = app.client();
    let signed_in = pupil
        .sign_in("mentee.b", mentorbridge_tests::PASSWORD)
        .await;
    let cookie = session_cookie(&signed_in);
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "a pupil's cookie lasts while the browser is open: {cookie}"
    );
    let mut staff = app.client();
    let staff_cookie =
        session_cookie(&staff.sign_in("coord.a", mentorbridge_tests::PASSWORD).await);
    assert!(staff_cookie.contains("Max-Age"), "{staff_cookie}");

    let home = pupil.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(home.headers["cache-control"], "no-store");
    assert_eq!(
        pupil.get("/api/me").await.headers["cache-control"],
        "no-store"
    );
    assert!(
        home.headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age="),
    );
    // Requests keep a session alive; a few idle seconds (here) end it. The
    // gaps leave two seconds to spare, so a busy CI machine answering slowly
    // does not end the session early.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(pupil.get("/api/me").await.status, StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(4000)).await;
    assert_eq!(pupil.get("/api/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        staff.get("/api/me").await.status,
        StatusCode::OK,
        "staff idle longer"
    );
}

/// Over a school year: anyone changes their own password (a weak one is
/// refused in words a person understands); a coordinator turns an account
/// off (sign-in refused, sessions ended, records kept) and on again.
async fn accounts_over_a_school_year(backend: Backend) {
    use mentorbridge_tests::PASSWORD;
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let world = app.world().await;
    let pupil = app.signed_in("mentee.b").await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let wrong = pupil
        .post_json(
            "/api/me/password",
            &change("not-my-password", "otter-kettle-lantern"),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert_eq!(wrong.error_field().as_deref(), Some("current_password"));
    for weak in ["password1234", "qwertyuiop1"] {
        let refused = pupil
            .post_json("/api/me/password", &change(PASSWORD, weak))
            .await;
        assert_eq!(
            refused.error_field().as_deref(),
            Some("password"),
            "{weak}: {}",
            refused.text
        );
        assert!(refused.text.contains("easy to guess"), "{}", refused.text);
    }
    let changed = pupil
        .post_json(
            "/api/me/password",
            &change(PASSWORD, "otter-kettle-lantern"),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text);
    assert_eq!(
        pupil.get("/api/me").await.status,
        StatusCode::UNAUTHORIZED,
        "signed out everywhere"
    );
    let mut again = app.client();
    assert_eq!(
        again
            .sign_in("mentee.b", "otter-kettle-lantern")
            .await
            .status,
        StatusCode::OK
    );

    let mentor = app.signed_in("mentor.a").await;
    let coord_a = app.signed_in("coord.a").await;
    let id = world.mentor_a.id;
    let outsider = app.signed_in("coord.b").await;
    assert_eq!(
        outsider
            .post_json(&format!("/api/users/{id}/disable"), &json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let self_off = coord_a
        .post_json(
            &format!("/api/users/{}/disable", world.coord_a.id),
            &json!({}),
        )
        .await;
    assert_eq!(self_off.status, StatusCode::CONFLICT, "{}", self_off.text);
    let off = coord_a
        .post_json(&format!("/api/users/{id}/disable"), &json!({}))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert!(off.json()["disabled_at"].is_string());
    assert_eq!(
        mentor.get("/api/me").await.status,
        StatusCode::UNAUTHORIZED,
        "their session ended"
    );
    let refused = app.client().sign_in("mentor.a", PASSWORD).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(refused.text.contains("turned off"), "{}", refused.text);
    let wrong = app.client().sign_in("mentor.a", "not-my-password").await;
    assert_eq!(
        wrong.status,
        StatusCode::UNAUTHORIZED,
        "a guesser learns nothing new"
    );
    let students = coord_a
        .get(&format!("/api/schools/{}/students", world.a.id))
        .await;
    assert!(
        students.text.contains(&id.to_string()),
        "the record is kept"
    );
    let on = coord_a
        .post_json(&format!("/api/users/{id}/enable"), &json!({}))
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    assert_eq!(
        app.client().sign_in("mentor.a", PASSWORD).await.status,
        StatusCode::OK
    );
}

mentorbridge_tests::on_both_databases!(
    accounts_over_a_school_year,
    a_shared_ipad_forgets_the_last_pupil,
    links_come_from_the_public_url_not_the_request,
    concurrent_changes_answer_done_or_a_conflict,
    the_partner_school_sees_only_what_pairing_needs,
    a_class_of_200_signs_in_at_once_from_one_address,
    relay_credentials_are_few_and_short_lived,
    the_precall_check_is_one_at_a_time_and_ignores_loopback,
);
