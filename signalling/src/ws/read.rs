//! Reading: bytes from the socket into the worker thread's scratch
//! buffer, frames parsed there in place ([`crate::frame`]), and only an
//! unfinished frame's tail kept; then each frame acted on (pings, closes,
//! fragments) and each whole message handed on.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::conn::{Conn, Phase};
use crate::frame::{self, Frame, FrameError, Opcode};
use crate::protocol::ErrorCode;

/// Reads in a row before a busy connection lets others run.
const READS_PER_TURN: usize = 16;

/// The scratch buffer each worker thread reads into.
const SCRATCH: usize = 32 * 1024;

thread_local! {
    static SCRATCH_BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; SCRATCH]);
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Reads and handles what the client has sent, until the socket has
    /// no more for now (or this connection has had its turn).
    pub(super) fn poll_read(&mut self, cx: &mut Context<'_>) {
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
                    if !matches!(self.phase, Phase::Open | Phase::Lingering) || self.holding() {
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
        // Frames behind a kept message wait, still masked, in the tail.
        while self.phase == Phase::Open && at < buf.len() && !self.holding() {
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

    /// Handles the whole frames already in the kept tail (those that
    /// arrived behind a message that was kept).
    pub(super) fn handle_tail(&mut self) {
        let Some(mut tail) = self.partial.as_mut().map(|p| std::mem::take(&mut p.tail)) else {
            return;
        };
        let used = self.handle(&mut tail);
        if used < tail.len() && self.phase == Phase::Open {
            tail.drain(..used);
            self.partial.get_or_insert_default().tail = tail;
        }
    }

    fn protocol_error(&mut self, e: FrameError) {
        self.end_quietly(e.close_code(), &e.to_string());
    }

    fn on_frame(&mut self, f: Frame<'_>) {
        self.heard = self.hub.now_micros();
        // Whole messages are counted as they are handed on; every other
        // frame is counted here, or pings and fragments, each a few bytes,
        // could be sent as fast as the server can read them.
        let counted = f.opcode.is_control() || !f.fin;
        if counted && f.opcode != Opcode::Close && !self.within_rate() {
            if self.count_strike() {
                self.end_with(ErrorCode::RateLimited, "too many frames; disconnected");
                return;
            }
            if f.opcode.is_control() {
                // Over the rate, a ping goes unanswered. (A fragment is
                // kept all the same: dropped, it would corrupt its message;
                // the strike is what counts.)
                return;
            }
        }
        match f.opcode {
            Opcode::Ping => self.outbox.push_pong(frame::pong(f.payload)),
            Opcode::Pong => {}
            Opcode::Close => self.answer_close(f.payload),
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
}
