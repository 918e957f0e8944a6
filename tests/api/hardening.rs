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

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name(mentorbridge_tests::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name(mentorbridge_tests::Backend::Postgres).await
            })*
        }
    };
}

both!(
    a_class_of_200_signs_in_at_once_from_one_address,
    relay_credentials_are_few_and_short_lived,
    the_precall_check_is_one_at_a_time_and_ignores_loopback,
);
