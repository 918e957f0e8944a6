//! One websocket connection: the upgrade, `hello` first, then the relay.
//!
//! A connection is one task driving one `Conn`: it reads the client's
//! frames, hands each message to the [`Hub`] (which never waits on
//! anyone), and writes out what the hub has queued for it in its
//! [`Outbox`]. A client that sends too much, too large or too fast is
//! answered with an error code, then cut off if it keeps on; one that
//! stops reading fills only its own queue and is cut off alone.
//!
//! ## Memory
//! Almost every connection is idle almost all the time (a call's
//! signalling is a burst at the start), so an idle connection holds no
//! buffers: bytes are read into one scratch buffer per worker thread and
//! handled there, in place; only the tail of a frame that has not all
//! arrived is kept, in a buffer that is freed once the frame is whole.
//! Outgoing frames are built once by the hub and written as they are,
//! several to a system call. The task itself holds the connection's state
//! and nothing else, and that state is kept under 152 bytes, so that
//! tokio's task (rounded up to a multiple of 128 bytes) is 256 bytes.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use chrono::Utc;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::frame::{self, Frame, FrameError, Opcode};
use crate::hub::{Goodbye, Hub, Next, Outbox, SdpKind, Seat};
use crate::protocol::{ClientMessage, ErrorCode, ServerBody, ServerMessage};
use hyper_util::rt::TokioIo;

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
const STRIKES: u8 = 20;

/// The longest wait for a client to take what is written to it.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// After saying goodbye, how long to read (and discard) what the client
/// still sends, so that closing does not reset the connection before the
/// client has read the goodbye.
const LINGER: Duration = Duration::from_secs(2);

/// Reads in a row before a busy connection lets others run.
const READS_PER_TURN: usize = 16;

/// Frames written in one system call at most.
const FRAMES_PER_WRITE: usize = 64;

/// The scratch buffer each worker thread reads into.
const SCRATCH: usize = 32 * 1024;

thread_local! {
    static SCRATCH_BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; SCRATCH]);
}

/// A time on the hub's clock that never comes.
const NEVER: u64 = u64::MAX;

/// `d` in microseconds, the unit of the hub's clock.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(NEVER)
}

/// An error outside the member's sequence (before `hello`, or the last
/// word before closing): `seq` 0.
fn error_frame(code: ErrorCode, message: &str) -> Bytes {
    let msg = ServerMessage {
        seq: 0,
        body: ServerBody::Error {
            code,
            message: message.to_owned(),
        },
    };
    frame::text(&serde_json::to_string(&msg).unwrap_or_default())
}

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Reading messages and writing replies.
    Open,
    /// The goodbye is queued: writing it out, reading no more.
    Closing,
    /// Written and shut down: reading what the client still sends until
    /// it closes (or [`LINGER`] passes).
    Lingering,
    /// Over.
    Done,
}

/// A member's place, once `hello` is accepted.
struct Member {
    seat: Seat,
    conn: crate::hub::ConnId,
}

/// What a connection keeps of a message still arriving: both are rare,
/// so they live behind one pointer that is null when neither is there.
#[derive(Default)]
struct Partial {
    /// The unread tail of a frame that has not all arrived.
    tail: Vec<u8>,
    /// A message arriving in fragments: its opcode and what has come.
    message: Option<(Opcode, Vec<u8>)>,
}

/// The state of one connection.
///
/// Its size matters: it is most of an idle connection's memory, and it
/// lives in the connection's tokio task, whose size tokio rounds up to a
/// multiple of 128 bytes. Times are therefore kept on the hub's clock in
/// 8 bytes ([`Hub::micros`]), and what is rare is boxed; the test at the
/// end of this file keeps the task at 256 bytes.
struct Conn<S> {
    io: S,
    hub: Hub,
    outbox: Arc<Outbox>,
    member: Option<Box<Member>>,
    partial: Option<Box<Partial>>,
    /// Frames taken from the outbox, being written; `written` bytes of
    /// the first are out.
    writing: VecDeque<Bytes>,
    /// The rate limit, as a generic cell rate algorithm: the time by
    /// which the client's allowance is whole again. A message may pass
    /// while that is at most a burst's worth of messages ahead of now.
    allowance_at: u64,
    /// When the client was last heard from (or the connection opened).
    heard: u64,
    /// Since when a write has been waiting for the client to read
    /// ([`NEVER`]: none is).
    stalled: u64,
    /// Closing: when it began (a goodbye not out within [`SEND_TIMEOUT`]
    /// is abandoned). Lingering: when lingering ends.
    phase_at: u64,
    written: u32,
    strikes: u8,
    phase: Phase,
    /// The goodbye has been taken from the outbox: once it is written,
    /// the connection shuts down.
    said_goodbye: bool,
    /// The member left for good (Leave, End, replaced, the call over):
    /// closing is not a drop they may resume from.
    left: bool,
}

impl<S> Drop for Conn<S> {
    /// The connection is over: the hub stops queueing for it, and a member
    /// who did not leave has dropped, and may resume.
    fn drop(&mut self) {
        self.outbox.hang_up();
        if let Some(member) = &self.member
            && !self.left
        {
            self.hub.dropped(&member.seat, member.conn, Utc::now());
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn new(hub: Hub, io: S) -> Self {
        let outbox = hub.outbox();
        let now = hub.now_micros();
        Conn {
            io,
            hub,
            outbox,
            member: None,
            partial: None,
            writing: VecDeque::new(),
            allowance_at: 0,
            heard: now,
            stalled: NEVER,
            phase_at: 0,
            written: 0,
            strikes: 0,
            phase: Phase::Open,
            said_goodbye: false,
            left: false,
        }
    }

    /// Keeps the start of a frame that has not all arrived.
    fn keep_tail(&mut self, tail: &[u8]) {
        if !tail.is_empty() && self.phase == Phase::Open {
            self.partial
                .get_or_insert_default()
                .tail
                .extend_from_slice(tail);
        }
    }

    /// Frees what was kept of a partial message once there is none.
    fn tidy_partial(&mut self) {
        if self
            .partial
            .as_ref()
            .is_some_and(|p| p.tail.is_empty() && p.message.is_none())
        {
            self.partial = None;
        }
    }

    /// Whether the client may send a message now, under the rate limit.
    fn within_rate(&mut self) -> bool {
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

    /// Notes that a write is waiting for the client, if none was.
    fn mark_stalled(&mut self) {
        if self.stalled == NEVER {
            self.stalled = self.hub.now_micros();
        }
    }

    /// The largest message the transport takes: above the protocol's
    /// limit, so an oversized message gets a `too_large` answer rather
    /// than a torn connection.
    fn transport_limit(&self) -> usize {
        self.hub.config().max_message_bytes.saturating_mul(4)
    }

    /// Ends the connection with an error code the client can act on.
    fn end_with(&mut self, code: ErrorCode, message: impl Into<String>) {
        self.outbox.close(code, message);
        self.begin_closing();
    }

    /// Reads no more; what is queued, then the goodbye, goes out.
    fn begin_closing(&mut self) {
        if self.phase == Phase::Open {
            self.phase = Phase::Closing;
            self.phase_at = self.hub.now_micros();
            // Half a frame will never be finished now.
            self.partial = None;
        }
    }

    /// Ends the connection with a bare close frame (a protocol error, or
    /// the answer to the client's own close).
    fn end_quietly(&mut self, close_code: u16, reason: &str) {
        self.outbox.push_own(frame::close(close_code, reason));
        self.outbox.say_goodbye(Goodbye::Quiet);
        self.begin_closing();
    }

    /// Answers the client with an error and counts a strike; too many and
    /// it is cut off.
    fn strike(&mut self, code: ErrorCode, message: String) {
        self.strikes = self.strikes.saturating_add(1);
        if self.strikes > STRIKES {
            self.end_with(code, message);
        } else {
            self.outbox.push_own(error_frame(code, &message));
        }
    }

    fn poll_conn(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.phase == Phase::Open || self.phase == Phase::Lingering {
                self.poll_read(cx);
            }
            if matches!(self.phase, Phase::Open | Phase::Closing) {
                self.poll_write(cx);
            }
            if self.phase == Phase::Done {
                return Poll::Ready(());
            }
            // No timer of its own: the hub's ticker wakes it once the
            // first deadline has passed.
            let Some(deadline) = self.deadline() else {
                return Poll::Pending;
            };
            if self.hub.now_micros() < deadline || !self.on_deadline() {
                self.outbox.set_alarm(deadline, cx.waker());
                return Poll::Pending;
            }
        }
    }

    /// When the connection next has something to do of its own accord
    /// (on the hub's clock).
    fn deadline(&self) -> Option<u64> {
        let config = self.hub.config();
        let stalled_until = self.stalled.saturating_add(micros(SEND_TIMEOUT));
        match self.phase {
            Phase::Open => {
                let quiet = if self.member.is_some() {
                    config.idle_timeout
                } else {
                    config.hello_timeout
                };
                Some(self.heard.saturating_add(micros(quiet)).min(stalled_until))
            }
            Phase::Closing => Some(
                self.phase_at
                    .saturating_add(micros(SEND_TIMEOUT))
                    .min(stalled_until),
            ),
            Phase::Lingering => Some(self.phase_at),
            Phase::Done => None,
        }
    }

    /// Acts on whichever deadline has passed; false if none has.
    fn on_deadline(&mut self) -> bool {
        let now = self.hub.now_micros();
        let config = self.hub.config();
        let since = |t: u64, d: Duration| now >= t.saturating_add(micros(d));
        if since(self.stalled, SEND_TIMEOUT) {
            // The client is not reading: no goodbye can reach it.
            self.phase = Phase::Done;
            return true;
        }
        match self.phase {
            Phase::Open if self.member.is_none() && since(self.heard, config.hello_timeout) => {
                self.end_with(ErrorCode::HelloFirst, "send hello with a join token first");
            }
            Phase::Open if self.member.is_some() && since(self.heard, config.idle_timeout) => {
                self.end_with(ErrorCode::IdleTimeout, "nothing heard for too long");
            }
            Phase::Closing if since(self.phase_at, SEND_TIMEOUT) => {
                self.phase = Phase::Done;
            }
            Phase::Lingering if now >= self.phase_at => {
                self.phase = Phase::Done;
            }
            _ => return false,
        }
        true
    }

    /// Reads and handles what the client has sent, until the socket has
    /// no more for now (or this connection has had its turn).
    fn poll_read(&mut self, cx: &mut Context<'_>) {
        for _ in 0..READS_PER_TURN {
            let read = if self.partial.as_ref().is_none_or(|p| p.tail.is_empty()) {
                SCRATCH_BUF.with_borrow_mut(|scratch| self.read_scratch(cx, scratch))
            } else {
                self.read_pending(cx)
            };
            match read {
                Poll::Pending => return,
                Poll::Ready(false) => {
                    // Closed or failed: nothing more can be said to it.
                    self.phase = Phase::Done;
                    return;
                }
                Poll::Ready(true) => {
                    if !matches!(self.phase, Phase::Open | Phase::Lingering) {
                        return;
                    }
                }
            }
        }
        // Still more to read: let other connections run first.
        cx.waker().wake_by_ref();
    }

    /// Reads into the thread's scratch buffer and handles it there; an
    /// unfinished frame's bytes move to `pending`. `Ready(false)`: closed.
    fn read_scratch(&mut self, cx: &mut Context<'_>, scratch: &mut [u8]) -> Poll<bool> {
        let mut buf = ReadBuf::new(scratch);
        match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(_)) => Poll::Ready(false),
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                if n == 0 {
                    return Poll::Ready(false);
                }
                let used = self.handle(&mut scratch[..n]);
                self.keep_tail(&scratch[used..n]);
                Poll::Ready(true)
            }
        }
    }

    /// Reads more of an unfinished frame (the partial tail), with room
    /// for the whole frame, and handles it once it is all here.
    fn read_pending(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        let limit = self.transport_limit();
        let mut pending = self
            .partial
            .as_mut()
            .map(|p| std::mem::take(&mut p.tail))
            .unwrap_or_default();
        let have = pending.len();
        let whole = match frame::needed(&pending, limit) {
            Ok(Some(n)) => n,
            Ok(None) => have + frame::MAX_HEADER,
            Err(e) => {
                self.protocol_error(e);
                return Poll::Ready(true);
            }
        };
        pending.resize(whole.max(have + 4096), 0);
        let mut buf = ReadBuf::new(&mut pending[have..]);
        let polled = Pin::new(&mut self.io).poll_read(cx, &mut buf);
        let n = buf.filled().len();
        pending.truncate(have + n);
        match polled {
            Poll::Pending => {
                self.partial.get_or_insert_default().tail = pending;
                Poll::Pending
            }
            Poll::Ready(Err(_)) => Poll::Ready(false),
            Poll::Ready(Ok(())) if n == 0 => Poll::Ready(false),
            Poll::Ready(Ok(())) => {
                let used = self.handle(&mut pending);
                if used < pending.len() && self.phase == Phase::Open {
                    pending.drain(..used);
                    self.partial.get_or_insert_default().tail = pending;
                } else {
                    // `pending` is dropped: idle again, no buffer.
                    self.tidy_partial();
                }
                Poll::Ready(true)
            }
        }
    }

    /// Handles every whole frame at the front of `buf`; returns how many
    /// bytes they took.
    fn handle(&mut self, buf: &mut [u8]) -> usize {
        if self.phase == Phase::Lingering {
            return buf.len();
        }
        let limit = self.transport_limit();
        let mut at = 0;
        while self.phase == Phase::Open && at < buf.len() {
            match frame::parse(&mut buf[at..], limit) {
                Ok(Some((f, used))) => {
                    at += used;
                    self.on_frame(f);
                }
                Ok(None) => break,
                Err(e) => {
                    self.protocol_error(e);
                    break;
                }
            }
        }
        at
    }

    fn protocol_error(&mut self, e: FrameError) {
        self.end_quietly(e.close_code(), &e.to_string());
    }

    fn on_frame(&mut self, f: Frame<'_>) {
        self.heard = self.hub.now_micros();
        match f.opcode {
            Opcode::Ping => self.outbox.push_own(frame::pong(f.payload)),
            Opcode::Pong => {}
            Opcode::Close => {
                // Answer the client's close with the same code.
                let code = match f.payload {
                    [a, b, ..] => u16::from_be_bytes([*a, *b]),
                    _ => 1000,
                };
                self.end_quietly(code, "");
            }
            Opcode::Text | Opcode::Binary
                if self.partial.as_ref().is_some_and(|p| p.message.is_some()) =>
            {
                self.end_quietly(1002, "a new message began inside a fragmented one");
            }
            Opcode::Text | Opcode::Binary if !f.fin => {
                self.partial.get_or_insert_default().message = Some((f.opcode, f.payload.to_vec()));
            }
            Opcode::Text | Opcode::Binary => self.on_message(f.opcode, f.payload),
            Opcode::Continuation => {
                let limit = self.transport_limit();
                let Some((opcode, mut message)) =
                    self.partial.as_mut().and_then(|p| p.message.take())
                else {
                    self.end_quietly(1002, "a continuation with nothing to continue");
                    return;
                };
                if message.len() + f.payload.len() > limit {
                    self.end_quietly(1009, "message too large");
                    return;
                }
                message.extend_from_slice(f.payload);
                if f.fin {
                    self.tidy_partial();
                    self.on_message(opcode, &message);
                } else {
                    self.partial.get_or_insert_default().message = Some((opcode, message));
                }
            }
        }
    }

    fn on_message(&mut self, opcode: Opcode, payload: &[u8]) {
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
            }
            Err(refused) => self.end_with(refused.code, refused.message),
        }
    }

    fn on_signal(&mut self, member: &Member, text: &str) {
        let seat = &member.seat;
        if !self.within_rate() {
            self.strikes = self.strikes.saturating_add(1);
            if self.strikes > STRIKES {
                self.end_with(ErrorCode::RateLimited, "too many messages; disconnected");
            } else {
                self.outbox.push_own(error_frame(
                    ErrorCode::RateLimited,
                    "slow down: message dropped",
                ));
            }
            return;
        }
        let limit = self.hub.config().max_message_bytes;
        if text.len() > limit {
            self.strike(
                ErrorCode::TooLarge,
                format!("messages are at most {limit} bytes; this one was dropped"),
            );
            return;
        }
        let hub = &self.hub;
        if let Ok(m) = serde_json::from_str::<SdpMessage<'_>>(text)
            && m.sdp.get().starts_with('"')
            && let Some(kind) = match m.kind {
                "offer" => Some(SdpKind::Offer),
                "answer" => Some(SdpKind::Answer),
                _ => None,
            }
        {
            if let Err(r) = hub.relay_sdp(seat, m.to, kind, m.sdp.get()) {
                self.strike(r.code, r.message);
            }
            return;
        }
        let now = Utc::now();
        let outcome = match serde_json::from_str::<ClientMessage>(text) {
            Err(_) => Err((
                ErrorCode::BadMessage,
                "unknown or malformed message; dropped".to_owned(),
            )),
            Ok(ClientMessage::Hello { .. }) => {
                Err((ErrorCode::BadMessage, "already said hello".to_owned()))
            }
            Ok(ClientMessage::Offer { sdp, to }) => hub
                .relay(seat, to, |from| ServerBody::Offer {
                    from,
                    sdp: sdp.clone(),
                })
                .map_err(|r| (r.code, r.message)),
            Ok(ClientMessage::Answer { sdp, to }) => hub
                .relay(seat, to, |from| ServerBody::Answer {
                    from,
                    sdp: sdp.clone(),
                })
                .map_err(|r| (r.code, r.message)),
            Ok(ClientMessage::Candidate { candidate, to }) => hub
                .relay(seat, to, |from| ServerBody::Candidate {
                    from,
                    candidate: candidate.clone(),
                })
                .map_err(|r| (r.code, r.message)),
            Ok(ClientMessage::State { pc_state }) => {
                hub.media_state(seat, &pc_state, now);
                Ok(())
            }
            Ok(ClientMessage::Chat { text }) => {
                hub.chat(seat, &text, now).map_err(|r| (r.code, r.message))
            }
            Ok(ClientMessage::Ping { last_seq }) => {
                hub.pong(seat, last_seq);
                Ok(())
            }
            Ok(ClientMessage::Leave) => {
                hub.leave(seat, member.conn, now);
                self.left = true;
                self.end_quietly(1000, "left");
                Ok(())
            }
            Ok(ClientMessage::End) => match hub.end(seat, now) {
                Ok(()) => {
                    // The hub has queued `ended` and the goodbye for
                    // everyone, this connection included.
                    self.left = true;
                    self.begin_closing();
                    Ok(())
                }
                Err(r) => Err((r.code, r.message)),
            },
        };
        if let Err((code, message)) = outcome {
            self.strike(code, message);
        }
    }

    /// Writes what is queued, as much as the socket takes now.
    fn poll_write(&mut self, cx: &mut Context<'_>) {
        loop {
            if self.writing.is_empty() && !self.said_goodbye {
                match self.outbox.take(&mut self.writing, cx.waker()) {
                    Next::Frames => {}
                    Next::Empty => {
                        self.stalled = NEVER;
                        // Idle connections hold no buffers.
                        if self.writing.capacity() > 0 {
                            self.writing = VecDeque::new();
                        }
                        // TLS keeps bytes back until flushed; TCP has none.
                        if Pin::new(&mut self.io).poll_flush(cx).is_ready() {
                            return;
                        }
                        self.mark_stalled();
                        return;
                    }
                    Next::Close(goodbye) => {
                        self.said_goodbye = true;
                        if let Goodbye::Error(code, message) = goodbye {
                            self.left |= matches!(
                                code,
                                ErrorCode::Replaced
                                    | ErrorCode::CallEnded
                                    | ErrorCode::OutsideWindow
                            );
                            self.writing.push_back(error_frame(code, &message));
                            // 4000-range close codes are the application's own.
                            self.writing
                                .push_back(frame::close(4000, &format!("{code:?}")));
                        }
                        self.begin_closing();
                    }
                }
            }
            if self.writing.is_empty() {
                // Closing, and all is written: shut down our side, then
                // read until the client closes too.
                match Pin::new(&mut self.io).poll_shutdown(cx) {
                    Poll::Pending => self.mark_stalled(),
                    Poll::Ready(_) => {
                        self.phase = Phase::Lingering;
                        self.phase_at = self.hub.now_micros().saturating_add(micros(LINGER));
                        self.stalled = NEVER;
                    }
                }
                return;
            }
            let mut slices = [IoSlice::new(&[]); FRAMES_PER_WRITE];
            let mut count = 0;
            for (i, f) in self.writing.iter().take(FRAMES_PER_WRITE).enumerate() {
                let bytes = if i == 0 {
                    &f[self.written as usize..]
                } else {
                    &f[..]
                };
                slices[i] = IoSlice::new(bytes);
                count += 1;
            }
            match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]) {
                Poll::Pending => {
                    self.mark_stalled();
                    return;
                }
                Poll::Ready(Err(_) | Ok(0)) => {
                    self.phase = Phase::Done;
                    return;
                }
                Poll::Ready(Ok(mut n)) => {
                    self.stalled = NEVER;
                    while n > 0 {
                        let Some(front) = self.writing.front() else {
                            break;
                        };
                        let left = front.len() - self.written as usize;
                        if n >= left {
                            n -= left;
                            self.written = 0;
                            self.writing.pop_front();
                        } else {
                            // Less than the frame, so it fits.
                            self.written += u32::try_from(n).unwrap_or(u32::MAX);
                            n = 0;
                        }
                    }
                }
            }
        }
    }
}

/// A connection's task: its state and nothing else, so that the task
/// stays small (see [`Conn`]).
struct Serve<S>(Conn<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> Future for Serve<S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.poll_conn(cx)
    }
}

/// Serves one websocket (after the upgrade) until it closes.
pub fn serve<S: AsyncRead + AsyncWrite + Unpin>(hub: Hub, io: S) -> impl Future<Output = ()> {
    Serve(Conn::new(hub, io))
}

/// The connections waiting to be accepted, at most.
pub const BACKLOG: u32 = 1024;

/// A listening socket for the server, with room for a whole school's
/// iPads connecting at once. (Bound the usual way, the queue here holds
/// 128; when it is full a connection attempt is dropped and the iPad
/// tries again only a second later.)
pub fn listener(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Why a request is not a websocket upgrade we take.
fn not_upgrade(what: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        format!("expected a websocket upgrade: {what}"),
    )
        .into_response()
}

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// An axum handler for `GET /ws`: checks the upgrade (RFC 6455 section
/// 4.2), answers `101 Switching Protocols` and serves the connection.
pub async fn handler(State(hub): State<Hub>, mut request: Request) -> Response {
    let headers = request.headers();
    if !header_has(headers, header::CONNECTION, "upgrade") {
        return not_upgrade("Connection must include `upgrade`");
    }
    if !header_has(headers, header::UPGRADE, "websocket") {
        return not_upgrade("Upgrade must be `websocket`");
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return (
            StatusCode::UPGRADE_REQUIRED,
            [(header::SEC_WEBSOCKET_VERSION, "13")],
            "expected a websocket upgrade: Sec-WebSocket-Version must be 13",
        )
            .into_response();
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return not_upgrade("Sec-WebSocket-Key is missing");
    };
    if base64::engine::general_purpose::STANDARD
        .decode(key.as_bytes())
        .map_or(true, |k| k.len() != 16)
    {
        return not_upgrade("Sec-WebSocket-Key must be 16 bytes in base64");
    }
    let accept = accept_key(key.as_bytes());
    let Some(on_upgrade) = request
        .extensions_mut()
        .remove::<hyper::upgrade::OnUpgrade>()
    else {
        return not_upgrade("this connection cannot be upgraded");
    };
    // The upgrade completes once the response below is out. This task
    // waits for it, then hands the connection to a task of its own that
    // holds nothing else (awaited here, it would carry this task's state
    // too, and take a larger size class).
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            tokio::spawn(serve(hub, TokioIo::new(upgraded)));
        }
    });
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [
            (header::CONNECTION, HeaderValue::from_static("upgrade")),
            (header::UPGRADE, HeaderValue::from_static("websocket")),
            (header::SEC_WEBSOCKET_ACCEPT, accept),
        ],
    )
        .into_response()
}

/// `Sec-WebSocket-Accept` for a client's key.
fn accept_key(key: &[u8]) -> HeaderValue {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let encoded = base64::engine::general_purpose::STANDARD.encode(sha.finalize());
    // Base64 is always a valid header value.
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection's task is tokio's header (32 bytes), scheduler and id
    /// (16), the future behind a tag (8) and a trailer (48), rounded up to
    /// a multiple of 128. A future of at most 152 bytes keeps the task at
    /// 256 bytes; one more byte and every connection carries 128 more.
    #[test]
    fn a_connection_fits_a_256_byte_task() {
        let size = std::mem::size_of::<Serve<TokioIo<hyper::upgrade::Upgraded>>>();
        assert!(size <= 152, "a connection's state is {size} bytes");
    }

    #[test]
    fn the_accept_key_is_the_rfcs_example() {
        // RFC 6455, section 1.3.
        assert_eq!(
            super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
