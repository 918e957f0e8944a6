//! Rooms: who is in each call, and the relay between them.
//!
//! A room is keyed by the booked session. Each member has a bounded queue
//! of outgoing messages; the hub never waits on a member, so a client that
//! stops reading fills only its own queue and is then cut off
//! ([`SlowConsumer`](crate::protocol::ErrorCode::SlowConsumer)) while
//! everyone else carries on. Every message to a member carries a rising
//! `seq`, and what a resume needs is kept in a short backlog (see
//! `replay`), so a member whose socket drops can come back within
//! [`Config::resume_ttl`] and pick up where it left off, without the drop
//! counting as leaving.
//!
//! The hub's state sits behind one `std::sync::Mutex`, held only for the
//! few map operations of each message and never across an `.await`.
//!
//! ## Layout
//! In the order a member's messages go through the hub:
//! - `admit`: `hello` checked and its sender given a place ([`Seat`]).
//! - `room`: a room's members, and delivery to one of them.
//! - `relay`: offers, answers, candidates, chat and pings.
//! - `replay`: what is kept for a resume, and replayed.
//! - `outbox`: each connection's send queue ([`Outbox`]).
//! - `pending`: connections not yet signed in, capped ([`PendingSlot`]).
//! - `leave`: Leave, End, drops, and the sweep.
//! - `events`: the [`RoomEvent`]s out to the server.
//! - `providers`: what the server plugs in ([`ChatFilter`], [`IceProvider`]).
//! - `clock`: the hub's clock and the ticker that wakes connections.
//! - `shutdown`: connections counted, and the hub's graceful shutdown.

mod admit;
mod clock;
mod events;
mod leave;
mod outbox;
mod pending;
mod providers;
mod relay;
mod replay;
mod room;
mod shutdown;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::mpsc;
use uuid::Uuid;

use crate::token::TokenKey;
use room::Room;

pub(crate) use admit::refused;
pub use admit::{Admitted, Refused, Seat};
pub use clock::TICK;
pub use events::RoomEvent;
pub use outbox::{Goodbye, Next, Outbox};
pub use pending::PendingSlot;
pub use providers::{ChatFilter, ChatVerdict, IceProvider, NoFilter, StaticIce};
pub use relay::SdpKind;
pub(crate) use shutdown::going_away;

/// Limits and timings.
#[derive(Clone, Debug)]
pub struct Config {
    /// How often clients ping.
    pub ping_interval: Duration,
    /// How long a dropped member may take to resume before they have left.
    pub resume_ttl: Duration,
    /// The largest message accepted (an SDP with every codec is ~10 KB).
    pub max_message_bytes: usize,
    /// Messages per second a client may send, on average.
    pub rate_per_second: u32,
    /// How many it may send in a burst (ICE candidates come in bursts).
    pub burst: u32,
    /// Messages waiting for a client before it counts as not reading.
    pub queue: usize,
    /// Messages kept per member for a resume.
    pub backlog: usize,
    /// And at most this many bytes of them (so large SDPs cannot pile up).
    pub backlog_bytes: usize,
    /// How long a new connection has to say `hello`.
    pub hello_timeout: Duration,
    /// Silence after which a connection is treated as dropped.
    pub idle_timeout: Duration,
    /// The longest chat message, in characters.
    pub max_chat_chars: usize,
    /// The origins (`https://host[:port]`, as browsers send them) whose
    /// pages may open a websocket; an upgrade from a browser on any other
    /// origin is refused (403), so another site's page cannot use a
    /// visitor's browser against the server. Clients that send no
    /// `Origin` (not browsers) are let through: the join token is what
    /// admits them. Empty: any origin (the load generator, tests).
    pub allowed_origins: Vec<String>,
    /// Connections that have not said `hello` yet, at most, in all: an
    /// upgrade past it is refused (503). Members of calls are not
    /// counted, so a flood of anonymous sockets cannot push them out.
    pub max_pending: usize,
    /// And at most this many from one address (an IPv6 /64 counting as
    /// one, as that is what one household or school is given).
    pub max_pending_per_address: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ping_interval: Duration::from_secs(10),
            resume_ttl: Duration::from_secs(30),
            max_message_bytes: 64 * 1024,
            rate_per_second: 50,
            burst: 200,
            queue: 256,
            backlog: 256,
            backlog_bytes: 256 * 1024,
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_chat_chars: 1000,
            allowed_origins: Vec::new(),
            // A connection is pending for one round trip, from the upgrade
            // to the welcome (tens of milliseconds, a second on a poor
            // school network), unless it means harm: then it is bounded
            // by the hello timeout. A school's 200 iPads behind one
            // address open their calls over the seconds around the bell,
            // each page loading first, so 64 at once leaves them room;
            // one attacker's address holds at most 64. 1,024 in all lets
            // sixteen such schools start at the same instant while keeping
            // what anonymous sockets can hold to about a megabyte (about
            // 1 KiB each when idle).
            max_pending: 1024,
            max_pending_per_address: 64,
        }
    }
}

/// Counters for the load generator and health checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub rooms: usize,
    /// Members connected now.
    pub connected: usize,
    /// Members dropped and waiting to resume.
    pub dropped: usize,
}

/// A connection's number. 32 bits (every connection keeps one, in its
/// seat's box): they wrap after four billion connections, and two
/// connections of one member would need to be that many apart to clash.
pub type ConnId = u32;

struct State {
    rooms: HashMap<Uuid, Room>,
    next_conn: ConnId,
}

struct Inner {
    key: TokenKey,
    config: Config,
    ice: Box<dyn IceProvider>,
    filter: Box<dyn ChatFilter>,
    /// Where room events go, and those waiting for room in the channel.
    events: Mutex<events::EventQueue>,
    state: Mutex<State>,
    /// Shutting down: no new upgrades, no new members.
    closing: AtomicBool,
    /// Connections whose task has not yet ended.
    live: AtomicUsize,
    /// Notified when `live` falls to 0.
    all_closed: tokio::sync::Notify,
    /// Connections that have not said `hello`, per address and in all.
    pending: Mutex<pending::Pending>,
    /// Every connection's outbox, for the ticker to ring alarms.
    alarms: Mutex<Vec<Weak<Outbox>>>,
    /// Whether the ticker is running.
    ticking: AtomicBool,
    /// Time zero of [`Hub::micros`].
    epoch: std::time::Instant,
}

/// The rooms of one signalling server. Cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("config", &self.0.config)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Hub {
    /// A hub checking tokens with `key`, sending room events to `events`.
    ///
    /// The channel is bounded, and no event is lost when it is full: the
    /// event waits in the hub, and connections wait before handling any
    /// message that could add another (see `hub::events`), so a server
    /// slow to store events slows the calls' sign-ins and leaves rather
    /// than losing them. Once [`Hub::shutdown`] has resolved, every event
    /// is in the channel and the hub has dropped its sender: the
    /// receiver's `recv()` returns `None` after the last one.
    pub fn new(
        key: TokenKey,
        config: Config,
        ice: Box<dyn IceProvider>,
        filter: Box<dyn ChatFilter>,
        events: mpsc::Sender<RoomEvent>,
    ) -> Hub {
        Hub(Arc::new(Inner {
            key,
            config,
            ice,
            filter,
            events: Mutex::new(events::EventQueue::new(events)),
            state: Mutex::new(State {
                rooms: HashMap::new(),
                next_conn: 1,
            }),
            closing: AtomicBool::new(false),
            live: AtomicUsize::new(0),
            all_closed: tokio::sync::Notify::new(),
            pending: Mutex::new(pending::Pending::default()),
            alarms: Mutex::new(Vec::new()),
            ticking: AtomicBool::new(false),
            epoch: std::time::Instant::now(),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves maps that are still
        // consistent (every change is a single insert or remove).
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a supervisor has ended `session`'s call (as far as this hub
    /// has seen: its rooms live in memory), so no page offers to join it.
    pub fn has_ended(&self, session: uuid::Uuid) -> bool {
        self.lock()
            .rooms
            .get(&session)
            .is_some_and(|room| room.ended)
    }

    /// How many rooms and members there are now.
    pub fn stats(&self) -> Stats {
        let state = self.lock();
        let mut stats = Stats {
            rooms: state.rooms.len(),
            ..Stats::default()
        };
        for room in state.rooms.values() {
            for m in room.members.values() {
                if m.dropped_at.is_some() {
                    stats.dropped += 1;
                } else {
                    stats.connected += 1;
                }
            }
        }
        stats
    }
}
