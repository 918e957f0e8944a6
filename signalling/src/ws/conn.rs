//! A connection's state and its life: opened after the upgrade, `Open`
//! while it reads and writes, `Closing` once its goodbye is queued,
//! `Lingering` after shutting down, then done; and its deadlines, which
//! the hub's ticker wakes it for.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::frame::{self, Opcode};
use crate::hub::{ConnId, Goodbye, Hub, Outbox, PendingSlot, Seat};
use crate::protocol::{ErrorCode, ServerBody, ServerMessage};

/// The longest wait for a client to take what is written to it.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// After saying goodbye, how long to read (and discard) what the client
/// still sends, so that closing does not reset the connection before the
/// client has read the goodbye.
pub(super) const LINGER: Duration = Duration::from_secs(2);

/// A time on the hub's clock that never comes.
pub(super) const NEVER: u64 = u64::MAX;

/// `d` in microseconds, the unit of the hub's clock.
pub(super) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(NEVER)
}

/// An error outside the member's sequence (before `hello`, or the last
/// word before closing): `seq` 0.
pub(super) fn error_frame(code: ErrorCode, message: &str) -> Bytes {
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
pub(super) enum Phase {
    /// Reading messages and writing replies.
    Open,
    /// The goodbye is queued: writing it out, reading no more.
    Closing,
    /// Written and shut down: reading what the client still sends until
    /// it closes (or [`LINGER`] passes).
    Lingering,
    Done,
}

/// A member's place, once `hello` is accepted.
pub(super) struct Member {
    pub(super) seat: Seat,
    pub(super) conn: ConnId,
}

/// What a connection keeps for a while only: a message still arriving,
/// one waiting for the hub's events, its place before `hello`. All are
/// rare or brief, so they live behind one pointer that is null when none
/// is there (as for an idle member).
#[derive(Default)]
pub(super) struct Partial {
    /// The unread tail of a frame that has not all arrived.
    pub(super) tail: Vec<u8>,
    /// A message arriving in fragments: its opcode and what has come.
    pub(super) message: Option<(Opcode, Vec<u8>)>,
    /// A whole message that could make a room event, kept until the
    /// hub's held events are sent (see `hub::events`); nothing more is
    /// read meanwhile.
    pub(super) held: Option<String>,
    /// Until `hello` is accepted, the connection's place among those not
    /// signed in (so every such connection has this box; a member's is
    /// freed with it).
    pub(super) pending: Option<PendingSlot>,
}

/// The state of one connection.
///
/// Its size matters: it is most of an idle connection's memory, and it
/// lives in the connection's tokio task, whose size tokio rounds up to a
/// multiple of 128 bytes. Times are therefore kept on the hub's clock in
/// 8 bytes ([`Hub::micros`]), and what is rare is boxed; the test
/// `a_connection_fits_a_256_byte_task` keeps the task at 256 bytes.
pub(super) struct Conn<S> {
    pub(super) io: S,
    pub(super) hub: Hub,
    pub(super) outbox: Arc<Outbox>,
    pub(super) member: Option<Box<Member>>,
    pub(super) partial: Option<Box<Partial>>,
    /// Frames taken from the outbox, being written; `written` bytes of
    /// the first are out.
    pub(super) writing: VecDeque<Bytes>,
    /// The rate limit, as a generic cell rate algorithm: the time by
    /// which the client's allowance is whole again. A message may pass
    /// while that is at most a burst's worth of messages ahead of now.
    pub(super) allowance_at: u64,
    /// When the client was last heard from (or the connection opened).
    pub(super) heard: u64,
    /// Since when a write has been waiting for the client to read
    /// ([`NEVER`]: none is).
    pub(super) stalled: u64,
    /// Open: when the connection was upgraded (the hello deadline counts
    /// from it, whatever the client sends meanwhile). Closing: when it
    /// began (a goodbye not out within [`SEND_TIMEOUT`] is abandoned).
    /// Lingering: when lingering ends. (One field for the three, as the
    /// connection has no bytes to spare: see `a_connection_fits_a_256_byte_task`.)
    pub(super) phase_at: u64,
    pub(super) written: u32,
    pub(super) strikes: u8,
    pub(super) phase: Phase,
    /// The goodbye has been taken from the outbox: once it is written,
    /// the connection shuts down.
    pub(super) said_goodbye: bool,
    /// The member left for good (Leave, End, replaced, the call over):
    /// closing is not a drop they may resume from.
    pub(super) left: bool,
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
        self.hub.conn_closed();
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn new(hub: Hub, io: S, pending: PendingSlot) -> Self {
        hub.conn_opened();
        let outbox = hub.outbox();
        if hub.is_shutting_down() {
            // Upgraded as shutdown began: told at once, like the rest.
            outbox.say_goodbye(crate::hub::going_away());
        }
        let now = hub.now_micros();
        Conn {
            io,
            hub,
            outbox,
            member: None,
            partial: Some(Box::new(Partial {
                pending: Some(pending),
                ..Partial::default()
            })),
            writing: VecDeque::new(),
            allowance_at: 0,
            heard: now,
            stalled: NEVER,
            phase_at: now,
            written: 0,
            strikes: 0,
            phase: Phase::Open,
            said_goodbye: false,
            left: false,
        }
    }

    /// Keeps the start of a frame that has not all arrived.
    pub(super) fn keep_tail(&mut self, tail: &[u8]) {
        if !tail.is_empty() && self.phase == Phase::Open {
            self.partial
                .get_or_insert_default()
                .tail
                .extend_from_slice(tail);
        }
    }

    /// Frees what was kept of a partial message once there is none.
    pub(super) fn tidy_partial(&mut self) {
        if self.partial.as_ref().is_some_and(|p| {
            p.tail.is_empty() && p.message.is_none() && p.held.is_none() && p.pending.is_none()
        }) {
            self.partial = None;
        }
    }

    /// Whether a message is kept until the hub's held events are sent.
    pub(super) fn holding(&self) -> bool {
        self.partial.as_ref().is_some_and(|p| p.held.is_some())
    }

    /// Handles the kept message once the hub's events are sent, then what
    /// arrived behind it; true if it did (false: still waiting, and woken
    /// when it may).
    fn release_held(&mut self, cx: &Context<'_>) -> bool {
        if !self.holding() || self.hub.events_held_wake(cx.waker()) {
            return false;
        }
        let Some(text) = self.partial.as_mut().and_then(|p| p.held.take()) else {
            return false;
        };
        self.on_text(&text);
        self.handle_tail();
        self.tidy_partial();
        true
    }

    /// Notes that a write is waiting for the client, if none was.
    pub(super) fn mark_stalled(&mut self) {
        if self.stalled == NEVER {
            self.stalled = self.hub.now_micros();
        }
    }

    /// The largest message the transport takes: above the protocol's
    /// limit, so an oversized message gets a `too_large` answer rather
    /// than a torn connection.
    pub(super) fn transport_limit(&self) -> usize {
        self.hub.config().max_message_bytes.saturating_mul(4)
    }

    /// Ends the connection with an error code the client can act on.
    pub(super) fn end_with(&mut self, code: ErrorCode, message: impl Into<String>) {
        self.outbox.close(code, message);
        self.begin_closing();
    }

    /// Reads no more; what is queued, then the goodbye, goes out.
    pub(super) fn begin_closing(&mut self) {
        if self.phase == Phase::Open {
            self.phase = Phase::Closing;
            self.phase_at = self.hub.now_micros();
            // Half a frame will never be finished now, nor a kept message
            // handled. (A place before `hello` is kept until the
            // connection has gone: closing, it still holds a socket.)
            if let Some(p) = &mut self.partial {
                p.tail = Vec::new();
                p.message = None;
                p.held = None;
            }
            self.tidy_partial();
        }
    }

    /// Ends the connection with a bare close frame (a protocol error, or
    /// leaving).
    pub(super) fn end_quietly(&mut self, close_code: u16, reason: &str) {
        self.outbox
            .say_goodbye(Goodbye::Close(close_code, reason.to_owned()));
        self.begin_closing();
    }

    /// Answers the client's close frame, whose payload is `body`.
    pub(super) fn answer_close(&mut self, body: &[u8]) {
        let (code, reason) = frame::close_answer(body);
        self.outbox
            .answer_close(Goodbye::Close(code, reason.to_owned()));
        self.begin_closing();
    }

    fn poll_conn(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.phase == Phase::Open {
                self.release_held(cx);
            }
            // Back-pressure: while the client is not taking what is
            // written to it, nothing more is read from it (and so nothing
            // more queued for it); its own socket fills and its writes
            // wait instead of the server's memory growing. The same while
            // a message waits for the hub's room events to be sent.
            let reading = self.phase == Phase::Lingering
                || (self.phase == Phase::Open && self.stalled == NEVER && !self.holding());
            if reading {
                self.poll_read(cx);
            }
            if matches!(self.phase, Phase::Open | Phase::Closing) {
                self.poll_write(cx);
            }
            if self.phase == Phase::Done {
                return Poll::Ready(());
            }
            let may_read = self.phase == Phase::Open && self.stalled == NEVER;
            if may_read && self.holding() && self.release_held(cx) {
                continue;
            }
            if !reading && may_read && !self.holding() {
                // The writes flowed again: read what waited.
                continue;
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
                    self.heard.saturating_add(micros(config.idle_timeout))
                } else {
                    // From the upgrade, not from the last frame: pings
                    // must not keep an anonymous socket open for ever.
                    self.phase_at.saturating_add(micros(config.hello_timeout))
                };
                Some(quiet.min(stalled_until))
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
            Phase::Open if self.member.is_none() && since(self.phase_at, config.hello_timeout) => {
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
}

/// A connection's task: its state and nothing else, so that the task
/// stays small (see [`Conn`]).
pub(super) struct Serve<S>(Conn<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> Future for Serve<S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.poll_conn(cx)
    }
}

/// Serves one websocket (after the upgrade) until it closes; `pending`
/// is its place until it says `hello` ([`Hub::reserve_pending`]).
pub fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    hub: Hub,
    io: S,
    pending: PendingSlot,
) -> impl Future<Output = ()> {
    Serve(Conn::new(hub, io, pending))
}
