//! A connection's send queue, filled by the hub and emptied by the
//! connection's task, and the alarm by which the hub's ticker wakes a
//! connection at its next deadline.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use bytes::Bytes;

use crate::frame;
use crate::protocol::ErrorCode;

/// A connection's send queue: the hub fills it (never waiting), the
/// connection's task empties it onto the socket. Frames are ready to
/// write ([`crate::frame`]) and shared with the resume backlog.
///
/// It replaces a channel per member for memory's sake: an idle member's
/// queue is a few words, not a preallocated block of slots.
#[derive(Debug)]
pub struct Outbox {
    inner: Mutex<OutboxInner>,
    /// When the connection next has a deadline (hello, idle, a stalled
    /// write), on the hub's clock ([`Hub::micros`](super::Hub::micros));
    /// `u64::MAX` for none. The hub's ticker wakes the connection once it
    /// has passed.
    alarm: AtomicU64,
    limit: u32,
}

#[derive(Debug, Default)]
struct OutboxInner {
    frames: VecDeque<Bytes>,
    /// How to close, once the frames ahead of it are out. (Boxed: it is
    /// set once in a connection's life, and every outbox carries it.)
    close: Option<Box<Goodbye>>,
    /// The connection has gone: nothing more is accepted.
    gone: bool,
    waker: Option<Waker>,
}

/// Why a frame could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum QueueError {
    /// The client has fallen `limit` frames behind.
    Full,
    /// The connection has gone, or is closing.
    Closed,
}

/// How a connection ends, once what is queued before it is out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goodbye {
    /// Send this error, then close (code 4000).
    Error(ErrorCode, String),
    /// Just a close frame with this code and reason (a protocol error,
    /// the answer to the client's own close, or leaving).
    Close(u16, String),
}

/// What [`Outbox::take`] found.
#[derive(Debug)]
pub enum Next {
    /// Frames to write (moved into the caller's buffer).
    Frames,
    /// Nothing queued; the caller is woken when there is.
    Empty,
    /// Close as this says.
    Close(Goodbye),
}

impl Outbox {
    /// A queue holding at most `limit` frames.
    pub fn new(limit: usize) -> Arc<Outbox> {
        Arc::new(Outbox {
            inner: Mutex::new(OutboxInner::default()),
            alarm: AtomicU64::new(u64::MAX),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
        })
    }

    fn lock(&self) -> MutexGuard<'_, OutboxInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn push(&self, frame: Bytes) -> Result<(), QueueError> {
        let mut inner = self.lock();
        if inner.gone || inner.close.is_some() {
            return Err(QueueError::Closed);
        }
        if inner.frames.len() >= self.limit as usize {
            return Err(QueueError::Full);
        }
        inner.frames.push_back(frame);
        if let Some(w) = inner.waker.take() {
            w.wake();
        }
        Ok(())
    }

    /// Queues the pong answering a client's ping. At most one waits: a
    /// pong still queued is replaced by this one, which answers the most
    /// recent ping, as RFC 6455 section 5.5.3 allows. (Answered one for
    /// one, a flood of 6-byte pings from a client that never reads grew
    /// the server by ten times its size.)
    pub fn push_pong(&self, pong: Bytes) {
        let mut inner = self.lock();
        if inner.gone || inner.close.is_some() {
            return;
        }
        match inner.frames.iter_mut().rev().find(|f| frame::is_pong(f)) {
            Some(waiting) => *waiting = pong,
            None => inner.frames.push_back(pong),
        }
        if let Some(w) = inner.waker.take() {
            w.wake();
        }
    }

    /// Queues a frame from the connection itself (its own error replies):
    /// these are not counted against the limit, which is for the room.
    /// Each is bounded by the connection (its strikes, its resume's
    /// backlog), not by this queue.
    pub fn push_own(&self, frame: Bytes) {
        let mut inner = self.lock();
        if !inner.gone && inner.close.is_none() {
            inner.frames.push_back(frame);
        }
    }

    /// Asks the connection to send `code` and close, after what is queued.
    /// The first reason given wins.
    pub fn close(&self, code: ErrorCode, message: impl Into<String>) {
        self.say_goodbye(Goodbye::Error(code, message.into()));
    }

    /// Closes after what is queued, as `goodbye` says (the first wins).
    /// The close frame is made only once everything before it is out, and
    /// nothing is queued after it: no frame can slip in behind the close.
    pub fn say_goodbye(&self, goodbye: Goodbye) {
        self.set_goodbye(goodbye, false);
    }

    /// Answers the client's close frame with `goodbye`, instead of any
    /// goodbye not yet begun: the client has closed, so the answer must be
    /// a close frame (an error message would be data after its close).
    pub fn answer_close(&self, goodbye: Goodbye) {
        self.set_goodbye(goodbye, true);
    }

    fn set_goodbye(&self, goodbye: Goodbye, replace: bool) {
        let mut inner = self.lock();
        if inner.gone {
            // Its goodbye is under way: nothing to wake it for. (Taking
            // the waker here would leave a lingering connection deaf to
            // its alarm, see `set_alarm`.)
            return;
        }
        if replace || inner.close.is_none() {
            inner.close = Some(Box::new(goodbye));
        }
        if let Some(w) = inner.waker.take() {
            w.wake();
        }
    }

    /// Moves every queued frame to the back of `into`, or says why there
    /// are none. With none queued, `waker` is woken when some are.
    pub fn take(&self, into: &mut VecDeque<Bytes>, waker: &Waker) -> Next {
        let mut inner = self.lock();
        if !inner.frames.is_empty() {
            if into.is_empty() {
                // Swap rather than copy: the usual case under load.
                std::mem::swap(into, &mut inner.frames);
            } else {
                into.extend(inner.frames.drain(..));
            }
            return Next::Frames;
        }
        if let Some(goodbye) = inner.close.take() {
            inner.gone = true;
            return Next::Close(*goodbye);
        }
        if !inner.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            inner.waker = Some(waker.clone());
        }
        Next::Empty
    }

    /// Asks to be woken (through `waker`) once the hub's clock passes `at`
    /// ([`Hub::micros`](super::Hub::micros)).
    pub fn set_alarm(&self, at: u64, waker: &Waker) {
        // The same alarm as before: its waker is still here, as only
        // `ring_if_due` (which clears the alarm) and wakes that lead the
        // connection to `take` (which puts it back) remove it.
        if self.alarm.swap(at, Ordering::Relaxed) == at {
            return;
        }
        let mut inner = self.lock();
        if !inner.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            inner.waker = Some(waker.clone());
        }
    }

    /// Wakes the connection if its alarm has passed.
    pub(super) fn ring_if_due(&self, now: u64) {
        if self.alarm.load(Ordering::Relaxed) <= now {
            self.alarm.store(u64::MAX, Ordering::Relaxed);
            if let Some(w) = self.lock().waker.take() {
                w.wake();
            }
        }
    }

    /// The connection has ended: later frames are refused, so the hub
    /// stops queueing for it.
    pub fn hang_up(&self) {
        let mut inner = self.lock();
        inner.gone = true;
        inner.frames = VecDeque::new();
        inner.waker = None;
    }
}
