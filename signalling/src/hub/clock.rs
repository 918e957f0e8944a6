//! The hub's clock, and the ticker that wakes connections at their
//! deadlines: a connection keeps no timer of its own (see [`crate::ws`]),
//! only an alarm in its [`Outbox`] that the ticker rings.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{Hub, Inner, Outbox};

/// How often connections' deadlines are looked at. Every deadline is
/// seconds long, so being this late is harmless; in exchange a
/// connection needs no timer of its own (see [`crate::ws`]).
pub const TICK: Duration = Duration::from_millis(250);

impl Hub {
    /// A send queue for a new connection, sized so that a resume can
    /// replay a whole backlog into it.
    ///
    /// The first call starts the ticker that rings connections' alarms
    /// (so it must be made inside a tokio runtime).
    pub fn outbox(&self) -> Arc<Outbox> {
        let config = &self.0.config;
        let outbox = Outbox::new(config.queue.max(config.backlog + 1));
        self.0
            .alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::downgrade(&outbox));
        if !self.0.ticking.swap(true, Ordering::Relaxed) {
            tokio::spawn(tick_forever(Arc::downgrade(&self.0)));
        }
        outbox
    }

    /// `at` on the hub's clock: microseconds since the hub began. (A
    /// connection keeps its times this way, in 8 bytes where an `Instant`
    /// takes 16.)
    pub fn micros(&self, at: std::time::Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.0.epoch).as_micros())
            .unwrap_or(u64::MAX - 1)
    }

    /// Now, on the hub's clock ([`Hub::micros`]).
    pub fn now_micros(&self) -> u64 {
        self.micros(std::time::Instant::now())
    }
}

/// Rings the alarms that are due, every [`TICK`], until the hub is gone;
/// forgets connections that have ended.
async fn tick_forever(hub: Weak<Inner>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = hub.upgrade() else {
            return;
        };
        let now = Hub(inner.clone()).now_micros();
        let mut alarms = inner.alarms.lock().unwrap_or_else(|p| p.into_inner());
        alarms.retain(|weak| match weak.upgrade() {
            Some(outbox) => {
                outbox.ring_if_due(now);
                true
            }
            None => false,
        });
    }
}
