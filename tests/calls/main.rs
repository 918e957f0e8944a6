//! Real WebRTC peers (the `webrtc` crate) in a call brokered by
//! mentorbridge's signalling server: they connect, talk over a data
//! channel, and the attendance record shows both.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mentorbridge_tests::{Backend, TestApp, spawn_app};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::MediaEngine;
use webrtc::data_channel::RTCDataChannel;
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;
use webrtc::interceptor::registry::Registry;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

/// One side of the call: a peer connection whose signalling goes through
/// the server's websocket.
struct Side {
    pc: Arc<RTCPeerConnection>,
    out: mpsc::UnboundedSender<Value>,
    /// Data-channel messages received.
    heard: mpsc::UnboundedReceiver<String>,
    /// The channel to talk on, once open.
    channel: mpsc::UnboundedReceiver<Arc<RTCDataChannel>>,
}

async fn peer_connection() -> Arc<RTCPeerConnection> {
    let mut media = MediaEngine::default();
    media.register_default_codecs().unwrap();
    let registry = register_default_interceptors(Registry::new(), &mut media).unwrap();
    let api = APIBuilder::new()
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .build();
    Arc::new(
        api.new_peer_connection(RTCConfiguration::default())
            .await
            .unwrap(),
    )
}

/// Joins `session` as `username` and wires a peer connection to the socket.
async fn join(app: &TestApp, username: &str, session: Uuid, peer: Uuid) -> Side {
    let client = app.signed_in(username).await;
    let info = client
        .post_json(&format!("/api/sessions/{session}/join"), &json!({}))
        .await
        .json();
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr))
        .await
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    let (out, mut outbox) = mpsc::unbounded_channel::<Value>();
    tokio::spawn(async move {
        while let Some(v) = outbox.recv().await {
            if sink
                .send(Message::Text(v.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    out.send(json!({"type": "hello", "token": info["token"]}))
        .unwrap();

    let pc = peer_connection().await;
    let (heard_tx, heard) = mpsc::unbounded_channel();
    let (channel_tx, channel) = mpsc::unbounded_channel();
    // Trickle ICE through the server, addressed to the other person.
    let to_server = out.clone();
    pc.on_ice_candidate(Box::new(move |c| {
        let to_server = to_server.clone();
        Box::pin(async move {
            if let Some(c) = c {
                let init = c.to_json().unwrap();
                to_server
                    .send(json!({"type": "candidate", "candidate": init, "to": peer}))
                    .unwrap();
            }
        })
    }));
    // Report the connection state, as the call page does.
    let to_server = out.clone();
    pc.on_peer_connection_state_change(Box::new(move |s| {
        let to_server = to_server.clone();
        Box::pin(async move {
            if s == RTCPeerConnectionState::Connected {
                to_server
                    .send(json!({"type": "state", "pc_state": "connected"}))
                    .unwrap();
            }
        })
    }));
    let (heard_in, open_in) = (heard_tx.clone(), channel_tx.clone());
    pc.on_data_channel(Box::new(move |dc| {
        let (heard, open) = (heard_in.clone(), open_in.clone());
        Box::pin(async move {
            let talk = dc.clone();
            dc.on_open(Box::new(move || {
                let _ = open.send(talk);
                Box::pin(async {})
            }));
            dc.on_message(Box::new(move |m| {
                let _ = heard.send(String::from_utf8_lossy(&m.data).into_owned());
                Box::pin(async {})
            }));
        })
    }));

    // Offers, answers and candidates from the server.
    let (pc_in, reply) = (pc.clone(), out.clone());
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            let Message::Text(text) = msg else { continue };
            let m: Value = serde_json::from_str(&text).unwrap();
            match m["type"].as_str().unwrap_or("") {
                "offer" => {
                    let offer = RTCSessionDescription::offer(m["sdp"].as_str().unwrap().to_owned())
                        .unwrap();
                    pc_in.set_remote_description(offer).await.unwrap();
                    let answer = pc_in.create_answer(None).await.unwrap();
                    pc_in.set_local_description(answer.clone()).await.unwrap();
                    reply
                        .send(json!({"type": "answer", "sdp": answer.sdp, "to": m["from"]}))
                        .unwrap();
                }
                "answer" => {
                    let answer =
                        RTCSessionDescription::answer(m["sdp"].as_str().unwrap().to_owned())
                            .unwrap();
                    pc_in.set_remote_description(answer).await.unwrap();
                }
                "candidate" => {
                    let init: RTCIceCandidateInit =
                        serde_json::from_value(m["candidate"].clone()).unwrap();
                    pc_in.add_ice_candidate(init).await.unwrap();
                }
                _ => {}
            }
        }
    });
    Side {
        pc,
        out,
        heard,
        channel,
    }
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = Option<T>>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within 20 s"))
        .unwrap_or_else(|| panic!("{what}: ended"))
}

async fn two_webrtc_peers_connect_through_the_signalling_server(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let world = app.world().await;
    app.ready_to_match(&world).await;
    app.calls_without_supervisor(&world).await;
    app.approve_as_both(&world).await;
    let session = app.session_now(&world).await;

    let mut mentee = join(&app, "mentee.b", session.id, world.mentor_a.id).await;
    let mut mentor = join(&app, "mentor.a", session.id, world.mentee_b.id).await;
    // The mentor opens a data channel and offers; the offer, the answer and
    // every candidate go through the server.
    let channel = mentor.pc.create_data_channel("talk", None).await.unwrap();
    let (open_tx, mut opened) = mpsc::unbounded_channel();
    let talk = channel.clone();
    channel.on_open(Box::new(move || {
        let _ = open_tx.send(talk);
        Box::pin(async {})
    }));
    let heard_by_mentor = {
        let (tx, rx) = mpsc::unbounded_channel();
        channel.on_message(Box::new(move |m| {
            let _ = tx.send(String::from_utf8_lossy(&m.data).into_owned());
            Box::pin(async {})
        }));
        rx
    };
    let offer = mentor.pc.create_offer(None).await.unwrap();
    mentor
        .pc
        .set_local_description(offer.clone())
        .await
        .unwrap();
    mentor
        .out
        .send(json!({"type": "offer", "sdp": offer.sdp, "to": world.mentee_b.id}))
        .unwrap();

    let from_mentor = within("the mentor's channel opens", opened.recv()).await;
    let at_mentee = within("the mentee's channel opens", mentee.channel.recv()).await;
    from_mentor.send_text("Hello from Hillside").await.unwrap();
    assert_eq!(
        within("the mentee hears", mentee.heard.recv()).await,
        "Hello from Hillside"
    );
    at_mentee.send_text("Hello back").await.unwrap();
    let mut heard_by_mentor = heard_by_mentor;
    assert_eq!(
        within("the mentor hears", heard_by_mentor.recv()).await,
        "Hello back"
    );
    assert_eq!(
        mentor.pc.connection_state(),
        RTCPeerConnectionState::Connected
    );
    drop(mentor.heard.try_recv());

    // Attendance shows both, in the call with media connected.
    let mut record = Vec::new();
    for _ in 0..100 {
        record = app.store.attendance(&session).await.unwrap();
        if record.iter().all(|p| p.connected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(record.len(), 2, "{record:?}");
    for person in &record {
        assert!(
            person.present && person.in_call && person.connected,
            "{person:?}"
        );
        assert!(person.joined_at.is_some() && !person.late, "{person:?}");
    }
    mentor.pc.close().await.unwrap();
    mentee.pc.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_two_webrtc_peers_connect_through_the_signalling_server() {
    two_webrtc_peers_connect_through_the_signalling_server(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_two_webrtc_peers_connect_through_the_signalling_server() {
    two_webrtc_peers_connect_through_the_signalling_server(Backend::Postgres).await;
}
