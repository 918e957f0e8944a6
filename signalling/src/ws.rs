//! One websocket connection: `hello` first, then the relay loop.
//!
//! The loop waits on three things at once: the client's next message, the
//! member's outgoing queue, and the idle timer. It never blocks the room: a
//! message for this client goes into its own bounded queue (see
//! [`crate::hub`]), and a client that sends too much, too large or too fast
//! is answered with an error code, then cut off if it keeps on.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chrono::Utc;
use futures_util::{SinkExt, StreamExt};

use crate::hub::{Admitted, Hub, Outgoing, SdpKind};
use crate::protocol::{ClientMessage, ErrorCode, ServerBody, ServerMessage};

/// An offer or answer, read without unescaping its SDP (see
/// [`Hub::relay_sdp`]); anything else is read as a [`ClientMessage`].
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SdpMessage<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    sdp: &'a serde_json::value::RawValue,
    #[serde(default)]
    to: Option<uuid::Uuid>,
}

/// Malformed or refused messages tolerated before a connection is closed.
const STRIKES: u32 = 20;

/// The longest wait for a client to take one message.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Token bucket: `burst` messages at once, refilled at `rate` a second.
struct Bucket {
    tokens: f64,
    burst: f64,
    rate: f64,
    last: std::time::Instant,
}

impl Bucket {
    fn new(rate: u32, burst: u32) -> Self {
        Bucket {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            rate: f64::from(rate),
            last: std::time::Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = std::time::Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// An error outside the member's sequence (before `hello`, or the last
/// word before closing): `seq` 0.
fn error_text(code: ErrorCode, message: &str) -> Utf8Bytes {
    let msg = ServerMessage {
        seq: 0,
        body: ServerBody::Error {
            code,
            message: message.to_owned(),
        },
    };
    serde_json::to_string(&msg).unwrap_or_default().into()
}

async fn close_with(socket: &mut WebSocket, code: ErrorCode, message: &str) {
    let _ = socket.send(Message::Text(error_text(code, message))).await;
    // 4000-range close codes are the application's own.
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 4000,
            reason: Utf8Bytes::from(format!("{code:?}")),
        })))
        .await;
}

/// Serves one websocket until it closes.
pub async fn serve(hub: Hub, mut socket: WebSocket) {
    let config = hub.config().clone();
    // Hello first, within the time allowed.
    let first = tokio::time::timeout(config.hello_timeout, socket.recv()).await;
    let text = match first {
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(_))) | Err(_) => {
            close_with(
                &mut socket,
                ErrorCode::HelloFirst,
                "send hello with a join token first",
            )
            .await;
            return;
        }
        Ok(Some(Err(_)) | None) => return,
    };
    if text.len() > config.max_message_bytes {
        close_with(&mut socket, ErrorCode::TooLarge, "message too large").await;
        return;
    }
    let (token, resume) = match serde_json::from_str::<ClientMessage>(&text) {
        Ok(ClientMessage::Hello { token, resume }) => (token, resume),
        Ok(_) => {
            close_with(
                &mut socket,
                ErrorCode::HelloFirst,
                "send hello with a join token first",
            )
            .await;
            return;
        }
        Err(_) => {
            close_with(
                &mut socket,
                ErrorCode::BadMessage,
                "not a signalling message",
            )
            .await;
            return;
        }
    };
    let admitted = match hub.admit(&token, resume, Utc::now()) {
        Ok(a) => a,
        Err(refused) => {
            close_with(&mut socket, refused.code, &refused.message).await;
            return;
        }
    };
    run(hub, socket, admitted, config.idle_timeout).await;
}

async fn run(hub: Hub, socket: WebSocket, admitted: Admitted, idle: Duration) {
    let Admitted {
        claims,
        conn,
        mut rx,
    } = admitted;
    let config = hub.config().clone();
    let (mut sink, mut stream) = socket.split();
    let mut bucket = Bucket::new(config.rate_per_second, config.burst);
    let mut strikes = 0_u32;
    let mut left = false;
    let idle_timer = tokio::time::sleep(idle);
    tokio::pin!(idle_timer);
    // What to tell the client if this loop ends it.
    let mut last_word: Option<(ErrorCode, String)> = None;
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outgoing::Text(text)) => {
                    // Everything already queued goes out in one write: under
                    // load that is one system call for many messages.
                    let mut batch = vec![text];
                    let mut closing = None;
                    while batch.len() < 64 {
                        match rx.try_recv() {
                            Ok(Outgoing::Text(t)) => batch.push(t),
                            Ok(Outgoing::Close(code, message)) => {
                                closing = Some((code, message));
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    // A client that stops reading fills the socket's buffers;
                    // waiting for it longer than this would leak the task.
                    let sent = tokio::time::timeout(SEND_TIMEOUT, async {
                        for t in batch {
                            sink.feed(Message::Text(Utf8Bytes::from(&*t))).await?;
                        }
                        sink.flush().await
                    })
                    .await;
                    if !matches!(sent, Ok(Ok(()))) {
                        break;
                    }
                    if let Some((code, message)) = closing {
                        left = matches!(code, ErrorCode::Replaced | ErrorCode::CallEnded | ErrorCode::OutsideWindow);
                        last_word = Some((code, message));
                        break;
                    }
                }
                Some(Outgoing::Close(code, message)) => {
                    last_word = Some((code, message));
                    left = matches!(code, ErrorCode::Replaced | ErrorCode::CallEnded | ErrorCode::OutsideWindow);
                    break;
                }
                None => {
                    last_word = Some((ErrorCode::SlowConsumer, "you fell too far behind; reconnecting".into()));
                    break;
                }
            },
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Binary(_))) => {
                        last_word = Some((ErrorCode::BadMessage, "messages are JSON text".into()));
                        break;
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue, // ping/pong frames
                };
                idle_timer.as_mut().reset(tokio::time::Instant::now() + idle);
                if !bucket.take() {
                    strikes += 1;
                    if strikes > STRIKES {
                        last_word = Some((ErrorCode::RateLimited, "too many messages; disconnected".into()));
                        break;
                    }
                    let _ = sink.send(Message::Text(error_text(ErrorCode::RateLimited, "slow down: message dropped"))).await;
                    continue;
                }
                if text.len() > config.max_message_bytes {
                    strikes += 1;
                    let _ = sink.send(Message::Text(error_text(
                        ErrorCode::TooLarge,
                        &format!("messages are at most {} bytes; this one was dropped", config.max_message_bytes),
                    ))).await;
                    if strikes > STRIKES { break; }
                    continue;
                }
                let now = Utc::now();
                if let Ok(m) = serde_json::from_str::<SdpMessage<'_>>(&text)
                    && m.sdp.get().starts_with('"')
                    && let Some(kind) = match m.kind {
                        "offer" => Some(SdpKind::Offer),
                        "answer" => Some(SdpKind::Answer),
                        _ => None,
                    }
                {
                    if let Err(r) = hub.relay_sdp(&claims, m.to, kind, m.sdp.get()) {
                        strikes += 1;
                        if strikes > STRIKES {
                            last_word = Some((r.code, r.message));
                            break;
                        }
                        if sink.send(Message::Text(error_text(r.code, &r.message))).await.is_err() {
                            break;
                        }
                    }
                    continue;
                }
                let outcome = match serde_json::from_str::<ClientMessage>(&text) {
                    Err(_) => Err((ErrorCode::BadMessage, "unknown or malformed message; dropped".to_owned())),
                    Ok(ClientMessage::Hello { .. }) => Err((ErrorCode::BadMessage, "already said hello".to_owned())),
                    Ok(ClientMessage::Offer { sdp, to }) => hub
                        .relay(&claims, to, |from| ServerBody::Offer { from, sdp: sdp.clone() })
                        .map_err(|r| (r.code, r.message)),
                    Ok(ClientMessage::Answer { sdp, to }) => hub
                        .relay(&claims, to, |from| ServerBody::Answer { from, sdp: sdp.clone() })
                        .map_err(|r| (r.code, r.message)),
                    Ok(ClientMessage::Candidate { candidate, to }) => hub
                        .relay(&claims, to, |from| ServerBody::Candidate { from, candidate: candidate.clone() })
                        .map_err(|r| (r.code, r.message)),
                    Ok(ClientMessage::State { pc_state }) => {
                        hub.media_state(&claims, &pc_state, now);
                        Ok(())
                    }
                    Ok(ClientMessage::Chat { text }) => hub.chat(&claims, &text, now).map_err(|r| (r.code, r.message)),
                    Ok(ClientMessage::Ping) => {
                        hub.pong(&claims);
                        Ok(())
                    }
                    Ok(ClientMessage::Leave) => {
                        hub.leave(&claims, conn, now);
                        left = true;
                        break;
                    }
                    Ok(ClientMessage::End) => match hub.end(&claims, now) {
                        Ok(()) => {
                            left = true;
                            break;
                        }
                        Err(r) => Err((r.code, r.message)),
                    },
                };
                if let Err((code, message)) = outcome {
                    strikes += 1;
                    if strikes > STRIKES {
                        last_word = Some((code, message));
                        break;
                    }
                    if sink.send(Message::Text(error_text(code, &message))).await.is_err() {
                        break;
                    }
                }
            }
            () = &mut idle_timer => {
                last_word = Some((ErrorCode::IdleTimeout, "nothing heard for too long".into()));
                break;
            }
        }
    }
    if !left {
        hub.dropped(&claims, conn, Utc::now());
    }
    let goodbye = async {
        if let Some((code, message)) = last_word {
            let _ = sink.send(Message::Text(error_text(code, &message))).await;
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code: 4000,
                    reason: Utf8Bytes::from(format!("{code:?}")),
                })))
                .await;
        }
        let _ = sink.close().await;
    };
    let _ = tokio::time::timeout(SEND_TIMEOUT, goodbye).await;
}

/// An axum handler for `GET /ws`: upgrades and serves the connection. The
/// transport limit is above the protocol's, so an oversized message gets a
/// `too_large` answer rather than a torn connection.
pub async fn handler(
    axum::extract::State(hub): axum::extract::State<Hub>,
    upgrade: axum::extract::ws::WebSocketUpgrade,
) -> axum::response::Response {
    let limit = hub.config().max_message_bytes.saturating_mul(4);
    // Small socket buffers: most connections sit idle through a call, and
    // the transport's 128 KiB defaults would be most of their memory.
    upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| serve(hub, socket))
}
