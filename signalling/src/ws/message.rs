//! Messages: `hello` first (handed to the hub to admit), then each
//! signal checked against the limits (rate, size) and handed to the hub;
//! offers and answers take a fast path that never unescapes their SDP.

use chrono::Utc;
use tokio::io::{AsyncRead, AsyncWrite};

use super::conn::{Conn, Member, error_frame};
use crate::frame::Opcode;
use crate::hub::{Refused, SdpKind, refused};
use crate::protocol::{ClientMessage, ErrorCode, ServerBody};

/// An offer or answer, read without unescaping its SDP (see
/// [`Hub::relay_sdp`](crate::hub::Hub::relay_sdp)); anything else is read
/// as a [`ClientMessage`].
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
const STRIKES: u8 = 20;

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Whether the client may send a message now, under the rate limit.
    pub(super) fn within_rate(&mut self) -> bool {
        let config = self.hub.config();
        let interval = 1_000_000 / u64::from(config.rate_per_second.max(1));
        let tolerance = interval * u64::from(config.burst.max(1) - 1);
        let now = self.hub.now_micros();
        let due = self.allowance_at.max(now);
        if due - now > tolerance {
            return false;
        }
        self.allowance_at = due + interval;
        true
    }

    /// Counts a strike: true once there have been too many.
    pub(super) fn count_strike(&mut self) -> bool {
        self.strikes = self.strikes.saturating_add(1);
        self.strikes > STRIKES
    }

    /// Answers the client with an error and counts a strike; too many and
    /// it is cut off.
    fn strike(&mut self, code: ErrorCode, message: String) {
        if self.count_strike() {
            self.end_with(code, message);
        } else {
            self.outbox.push_own(error_frame(code, &message));
        }
    }

    pub(super) fn on_message(&mut self, opcode: Opcode, payload: &[u8]) {
        if opcode == Opcode::Binary {
            match self.member {
                None => self.end_with(ErrorCode::HelloFirst, "send hello with a join token first"),
                Some(_) => self.end_with(ErrorCode::BadMessage, "messages are JSON text"),
            }
            return;
        }
        let Ok(text) = std::str::from_utf8(payload) else {
            self.end_quietly(1007, "text must be UTF-8");
            return;
        };
        if self.hub.events_held() && self.may_make_an_event(text) {
            // Back-pressure on room events: this waits for them to be
            // sent (see `hub::events`), and nothing more is read.
            self.partial.get_or_insert_default().held = Some(text.to_owned());
            return;
        }
        self.on_text(text);
    }

    /// Whether `text` is a message that can make a room event: `hello`
    /// (joined, resumed), `state` (media), `chat`, `leave` and `end`.
    /// Asked only while events are held, so it may parse.
    fn may_make_an_event(&self, text: &str) -> bool {
        #[derive(serde::Deserialize)]
        struct Kind<'a> {
            #[serde(rename = "type", borrow)]
            kind: std::borrow::Cow<'a, str>,
        }
        match serde_json::from_str::<Kind<'_>>(text) {
            Ok(Kind { kind }) => {
                self.member.is_none() || matches!(&*kind, "state" | "chat" | "leave" | "end")
            }
            // Refused whole, with no event.
            Err(_) => false,
        }
    }

    /// Handles a whole text message.
    pub(super) fn on_text(&mut self, text: &str) {
        match self.member.take() {
            None => self.on_hello(text),
            Some(member) => {
                self.on_signal(&member, text);
                // `Leave` and `End` have already let the place go.
                if !self.left {
                    self.member = Some(member);
                }
            }
        }
    }

    fn on_hello(&mut self, text: &str) {
        let config = self.hub.config();
        if text.len() > config.max_message_bytes {
            self.end_with(ErrorCode::TooLarge, "message too large");
            return;
        }
        let (token, resume) = match serde_json::from_str::<ClientMessage>(text) {
            Ok(ClientMessage::Hello { token, resume }) => (token, resume),
            Ok(_) => {
                self.end_with(ErrorCode::HelloFirst, "send hello with a join token first");
                return;
            }
            Err(_) => {
                self.end_with(ErrorCode::BadMessage, "not a signalling message");
                return;
            }
        };
        match self
            .hub
            .admit(self.outbox.clone(), &token, resume, Utc::now())
        {
            Ok(admitted) => {
                self.member = Some(Box::new(Member {
                    seat: admitted.seat,
                    conn: admitted.conn,
                }));
                // Signed in: no longer counted among the anonymous.
                if let Some(p) = &mut self.partial {
                    p.pending = None;
                }
                self.tidy_partial();
            }
            Err(refused) => self.end_with(refused.code, refused.message),
        }
    }

    fn on_signal(&mut self, member: &Member, text: &str) {
        if !self.within_limits(text) {
            return;
        }
        if let Some((kind, m)) = sdp_message(text) {
            if let Err(r) = self.hub.relay_sdp(&member.seat, m.to, kind, m.sdp.get()) {
                self.strike(r.code, r.message);
            }
            return;
        }
        let outcome = match serde_json::from_str::<ClientMessage>(text) {
            Err(_) => Err(refused(
                ErrorCode::BadMessage,
                "unknown or malformed message; dropped",
            )),
            Ok(message) => self.on_client_message(member, message),
        };
        if let Err(r) = outcome {
            self.strike(r.code, r.message);
        }
    }

    /// Whether a message is within the rate and size limits; one that is
    /// not is dropped and answered, and counts as a strike.
    fn within_limits(&mut self, text: &str) -> bool {
        if !self.within_rate() {
            if self.count_strike() {
                self.end_with(ErrorCode::RateLimited, "too many messages; disconnected");
            } else {
                self.outbox.push_own(error_frame(
                    ErrorCode::RateLimited,
                    "slow down: message dropped",
                ));
            }
            return false;
        }
        let limit = self.hub.config().max_message_bytes;
        if text.len() > limit {
            self.strike(
                ErrorCode::TooLarge,
                format!("messages are at most {limit} bytes; this one was dropped"),
            );
            return false;
        }
        true
    }

    /// Hands a message after `hello` to the hub.
    fn on_client_message(
        &mut self,
        member: &Member,
        message: ClientMessage,
    ) -> Result<(), Refused> {
        let (hub, seat) = (&self.hub, &member.seat);
        let now = Utc::now();
        match message {
            ClientMessage::Hello { .. } => {
                Err(refused(ErrorCode::BadMessage, "already said hello"))
            }
            ClientMessage::Offer { sdp, to } => hub.relay(seat, to, |from| ServerBody::Offer {
                from,
                sdp: sdp.clone(),
            }),
            ClientMessage::Answer { sdp, to } => hub.relay(seat, to, |from| ServerBody::Answer {
                from,
                sdp: sdp.clone(),
            }),
            ClientMessage::Candidate { candidate, to } => {
                hub.relay(seat, to, |from| ServerBody::Candidate {
                    from,
                    candidate: candidate.clone(),
                })
            }
            ClientMessage::State { pc_state } => {
                hub.media_state(seat, &pc_state, now);
                Ok(())
            }
            ClientMessage::Chat { text } => hub.chat(seat, &text, now),
            ClientMessage::Ping { last_seq } => {
                hub.pong(seat, last_seq);
                Ok(())
            }
            ClientMessage::Leave => {
                hub.leave(seat, member.conn, now);
                self.left = true;
                self.end_quietly(1000, "left");
                Ok(())
            }
            ClientMessage::End => {
                hub.end(seat, now)?;
                // The hub has queued `ended` and the goodbye for everyone,
                // this connection included.
                self.left = true;
                self.begin_closing();
                Ok(())
            }
        }
    }
}

/// `text` as an offer or answer whose SDP is a JSON string, if it is one.
fn sdp_message(text: &str) -> Option<(SdpKind, SdpMessage<'_>)> {
    let m = serde_json::from_str::<SdpMessage<'_>>(text).ok()?;
    if !m.sdp.get().starts_with('"') {
        return None;
    }
    let kind = match m.kind {
        "offer" => SdpKind::Offer,
        "answer" => SdpKind::Answer,
        _ => return None,
    };
    Some((kind, m))
}
