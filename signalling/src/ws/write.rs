//! Writing: the frames the hub queued in the connection's outbox, several
//! to a system call, then its goodbye, then shutting down.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite};

use super::conn::{Conn, LINGER, NEVER, Phase, error_frame, micros};
use crate::frame;
use crate::hub::{Goodbye, Next};
use crate::protocol::ErrorCode;

/// Frames written in one system call at most.
const FRAMES_PER_WRITE: usize = 64;

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Writes what is queued, as much as the socket takes now.
    pub(super) fn poll_write(&mut self, cx: &mut Context<'_>) {
        loop {
            if self.writing.is_empty() && !self.said_goodbye && !self.take_queued(cx) {
                return;
            }
            if self.writing.is_empty() {
                self.poll_shut_down(cx);
                return;
            }
            if !self.write_some(cx) {
                return;
            }
        }
    }

    /// Takes what the outbox holds into `writing`: frames, or the goodbye
    /// (its error and close frames). False when there is nothing to write.
    fn take_queued(&mut self, cx: &mut Context<'_>) -> bool {
        match self.outbox.take(&mut self.writing, cx.waker()) {
            Next::Frames => true,
            Next::Empty => {
                self.stalled = NEVER;
                // Idle connections hold no buffers.
                if self.writing.capacity() > 0 {
                    self.writing = VecDeque::new();
                }
                // TLS keeps bytes back until flushed; TCP has none.
                if Pin::new(&mut self.io).poll_flush(cx).is_pending() {
                    self.mark_stalled();
                }
                false
            }
            Next::Close(goodbye) => {
                self.said_goodbye = true;
                match goodbye {
                    Goodbye::Error(code, message) => {
                        self.left |= matches!(
                            code,
                            ErrorCode::Replaced | ErrorCode::CallEnded | ErrorCode::OutsideWindow
                        );
                        self.writing.push_back(error_frame(code, &message));
                        // 4000-range close codes are the application's own.
                        self.writing
                            .push_back(frame::close(4000, &format!("{code:?}")));
                    }
                    Goodbye::Close(code, reason) => {
                        self.writing.push_back(frame::close(code, &reason));
                    }
                }
                self.begin_closing();
                true
            }
        }
    }

    /// Closing, and all is written: shuts down our side, then reads until
    /// the client closes too.
    fn poll_shut_down(&mut self, cx: &mut Context<'_>) {
        match Pin::new(&mut self.io).poll_shutdown(cx) {
            Poll::Pending => self.mark_stalled(),
            Poll::Ready(_) => {
                self.phase = Phase::Lingering;
                self.phase_at = self.hub.now_micros().saturating_add(micros(LINGER));
                self.stalled = NEVER;
            }
        }
    }

    /// Writes as many of the frames in `writing` as the socket takes, in
    /// one system call. False when it takes none now, or has failed.
    fn write_some(&mut self, cx: &mut Context<'_>) -> bool {
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
                false
            }
            Poll::Ready(Err(_) | Ok(0)) => {
                self.phase = Phase::Done;
                false
            }
            Poll::Ready(Ok(n)) => {
                self.stalled = NEVER;
                self.written_out(n);
                true
            }
        }
    }

    /// `n` more bytes are out: drops the frames they finished.
    fn written_out(&mut self, mut n: usize) {
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
