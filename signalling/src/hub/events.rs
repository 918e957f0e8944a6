//! What the hub tells the server: [`RoomEvent`]s, sent into the channel the
//! server's attendance module reads (and the safeguarding log keeps).
//!
//! The channel is bounded, and an event is never dropped for want of room.
//! One that finds the channel full waits in the hub's `held` queue, and so
//! does every later one (so the order stays the one they happened in),
//! while a task moves them into the channel as the server reads. Meanwhile
//! a connection about to handle a message that can make an event (`hello`,
//! `state`, `chat`, `leave`, `end`) keeps it and reads nothing more until
//! the queue is empty: the producers wait, so what is held is at most the
//! events of the messages already being handled, not a backlog.

use std::collections::VecDeque;
use std::task::Waker;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Hub;

use crate::protocol::LeaveReason;
use crate::token::CallRole;

/// What happened in a room, for the server's attendance record and the
/// safeguarding log. Times are when the hub saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomEvent {
    /// Someone entered the room.
    Joined {
        session: Uuid,
        user: Uuid,
        role: CallRole,
        at: DateTime<Utc>,
    },
    /// A dropped connection came back in time: presence never broke.
    Resumed {
        session: Uuid,
        user: Uuid,
        at: DateTime<Utc>,
    },
    /// A member's peer connection changed state (`connected`,
    /// `disconnected`, `failed` …), as their browser reported it.
    Media {
        session: Uuid,
        user: Uuid,
        /// `RTCPeerConnection.connectionState`.
        state: String,
        at: DateTime<Utc>,
    },
    /// Someone left. For a drop that never resumed, `at` is when the
    /// connection dropped, not when the hub gave up on it.
    Left {
        session: Uuid,
        user: Uuid,
        reason: LeaveReason,
        at: DateTime<Utc>,
    },
    /// In-call text, with the filter's verdict.
    Chat {
        session: Uuid,
        /// Who wrote it.
        user: Uuid,
        text: String,
        /// What the filter decided.
        verdict: super::ChatVerdict,
        at: DateTime<Utc>,
    },
    /// A supervisor ended the call.
    Ended {
        session: Uuid,
        /// The supervisor.
        by: Uuid,
        at: DateTime<Utc>,
    },
}

/// The hub's side of the event channel.
pub(super) struct EventQueue {
    /// `None` once [`Hub::shutdown`] has handed the events over.
    tx: Option<mpsc::Sender<RoomEvent>>,
    /// Events that found the channel full, oldest first; while any are
    /// here, later events queue behind them.
    held: VecDeque<RoomEvent>,
    /// Connections (and a shutdown) waiting for `held` to empty.
    waiting: Vec<Waker>,
    /// Whether the task moving `held` into the channel is running.
    draining: bool,
}

impl EventQueue {
    pub(super) fn new(tx: mpsc::Sender<RoomEvent>) -> EventQueue {
        EventQueue {
            tx: Some(tx),
            held: VecDeque::new(),
            waiting: Vec::new(),
            draining: false,
        }
    }

    fn wake_all(&mut self) {
        for w in self.waiting.drain(..) {
            w.wake();
        }
    }
}

impl Hub {
    fn events(&self) -> std::sync::MutexGuard<'_, EventQueue> {
        self.0.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `event` to the server, or holds it until there is room.
    pub(super) fn emit(&self, event: RoomEvent) {
        let mut q = self.events();
        let Some(tx) = &q.tx else {
            tracing::warn!(?event, "a room event after shutdown is not recorded");
            return;
        };
        if q.held.is_empty() {
            match tx.try_send(event) {
                Ok(()) => return,
                // The server has stopped listening: nothing to keep it for.
                Err(mpsc::error::TrySendError::Closed(_)) => return,
                Err(mpsc::error::TrySendError::Full(event)) => q.held.push_back(event),
            }
        } else {
            q.held.push_back(event);
        }
        if !q.draining {
            q.draining = true;
            tokio::spawn(self.clone().drain_held());
        }
    }

    /// Whether events are waiting for room in the channel (a connection
    /// then keeps a message that could add one).
    pub(crate) fn events_held(&self) -> bool {
        !self.events().held.is_empty()
    }

    /// As [`Hub::events_held`], and if they are, `waker` is woken once
    /// they are all sent.
    pub(crate) fn events_held_wake(&self, waker: &Waker) -> bool {
        let mut q = self.events();
        if q.held.is_empty() && !q.draining {
            return false;
        }
        if !q.waiting.iter().any(|w| w.will_wake(waker)) {
            q.waiting.push(waker.clone());
        }
        true
    }

    /// Moves the held events into the channel as room appears, in order.
    async fn drain_held(self) {
        loop {
            let tx = {
                let mut q = self.events();
                match &q.tx {
                    Some(tx) if !q.held.is_empty() => tx.clone(),
                    // Decided under the same lock as `emit` looks at
                    // `draining`, so no event is left behind.
                    _ => {
                        q.draining = false;
                        q.wake_all();
                        return;
                    }
                }
            };
            let reserved = tx.reserve_owned().await;
            let mut q = self.events();
            match reserved {
                Ok(permit) => {
                    if let Some(event) = q.held.pop_front() {
                        permit.send(event);
                    }
                }
                // The receiver is gone: no one will read them.
                Err(_) => q.held.clear(),
            }
        }
    }

    /// Waits until every held event is in the channel, then drops the
    /// sender: the receiver reads what is buffered, then `None`.
    pub(super) async fn hand_over_events(&self) {
        std::future::poll_fn(|cx| {
            if self.events_held_wake(cx.waker()) {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        self.events().tx = None;
    }
}
