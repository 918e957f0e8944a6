//! Shutting down: the hub stops taking new connections and members, tells
//! every connection `1001 Going Away`, records everyone in a call as
//! having left, waits (a while) for the connections to close, and then
//! lets go of its room-event sender, so the server can read the events
//! to the end.
//!
//! Connections are counted here too: shutdown waits for the count to
//! reach zero.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;

use super::{Goodbye, Hub, RoomEvent};
use crate::protocol::LeaveReason;

/// The close every connection is given on shutdown.
pub(crate) fn going_away() -> Goodbye {
    Goodbye::Close(1001, "the server is shutting down".into())
}

impl Hub {
    /// Whether [`Hub::shutdown`] has begun: upgrades are refused (503)
    /// and `hello`s too.
    pub fn is_shutting_down(&self) -> bool {
        self.0.closing.load(Ordering::SeqCst)
    }

    /// Shuts the hub down gracefully, and resolves once every connection
    /// has closed, or `wait` has passed:
    /// 1. new upgrades are refused with 503, and new `hello`s;
    /// 2. every member of every call is recorded as having left
    ///    ([`LeaveReason::ServerShutdown`]; one who had dropped, at the
    ///    moment they dropped), and every connection, signed in or not,
    ///    is sent `1001 Going Away` after what is already queued for it;
    /// 3. once the connections have closed (the clients answer the close,
    ///    or linger and send timeouts end them), or `wait` is over, the
    ///    events still held for want of room in the channel are sent (this
    ///    waits for the server to read them, however long that takes), and
    ///    the hub drops its room-event sender. The receiver then yields
    ///    every event still buffered, the leaves above included, and then
    ///    `None`: that is how the server knows it has them all. (Keep
    ///    reading the receiver while this runs.)
    pub async fn shutdown(&self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        // Set before the rooms are emptied, under the same lock that
        // `admit` checks it under: no one joins a room after it is emptied.
        let rooms = {
            let mut state = self.lock();
            self.0.closing.store(true, Ordering::SeqCst);
            std::mem::take(&mut state.rooms)
        };
        let now = Utc::now();
        for (session, mut room) in rooms {
            for (user, member) in room.members.iter_mut() {
                if let Some(tx) = member.tx.take() {
                    tx.say_goodbye(going_away());
                }
                self.emit(RoomEvent::Left {
                    session,
                    user: *user,
                    reason: LeaveReason::ServerShutdown,
                    at: member.dropped_at.unwrap_or(now),
                });
            }
        }
        // Those not yet signed in, and any closing anyway (the first
        // goodbye wins). A connection opened from now on closes itself
        // (see `Hub::is_shutting_down`).
        let outboxes: Vec<_> = self
            .0
            .alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .collect();
        for outbox in outboxes {
            outbox.say_goodbye(going_away());
        }
        loop {
            let closed = self.0.all_closed.notified();
            let mut closed = std::pin::pin!(closed);
            // Registered before the count is read, so a last close in
            // between is not missed.
            closed.as_mut().enable();
            let live = self.0.live.load(Ordering::SeqCst);
            if live == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline, closed).await.is_err() {
                tracing::warn!(live, "shutdown: connections still open after the wait");
                break;
            }
        }
        // Not bounded by `wait`: these are attendance, and the server is
        // reading them (a receiver that is gone empties the queue at once).
        self.hand_over_events().await;
    }

    /// A connection's task has begun; it closes itself at once if the
    /// hub is shutting down.
    pub(crate) fn conn_opened(&self) {
        self.0.live.fetch_add(1, Ordering::SeqCst);
    }

    /// A connection's task has ended.
    pub(crate) fn conn_closed(&self) {
        if self.0.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.all_closed.notify_waiters();
        }
    }
}
