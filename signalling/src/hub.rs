//! Rooms: who is in each call, and the relay between them.
//!
//! A room is keyed by the booked session. Each member has a bounded queue
//! of outgoing messages; the hub never waits on a member, so a client that
//! stops reading fills only its own queue and is then cut off
//! ([`ErrorCode::SlowConsumer`]) while everyone else carries on. Every
//! message to a member carries a rising `seq`, and what a resume needs is
//! kept in a short backlog (see `Replay`), so a member whose socket
//! drops can come back within [`Config::resume_ttl`] and pick up where it
//! left off, without the drop counting as leaving.
//!
//! The hub's state sits behind one `std::sync::Mutex`, held only for the
//! few map operations of each message and never across an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Waker;
use std::time::Duration;

use bytes::Bytes;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::frame::{FrameBuf, Opcode};
use crate::ice::IceServer;
use crate::protocol::{ErrorCode, LeaveReason, Peer, ServerBody, ServerMessage};
use crate::token::{CallRole, JoinClaims, TokenError, TokenKey};

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
        }
    }
}

/// What happened in a room, for the server's attendance record and the
/// safeguarding log. Times are when the hub saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomEvent {
    /// Someone entered the room.
    Joined {
        /// The session.
        session: Uuid,
        /// Who.
        user: Uuid,
        /// As what.
        role: CallRole,
        /// When.
        at: DateTime<Utc>,
    },
    /// A dropped connection came back in time: presence never broke.
    Resumed {
        /// The session.
        session: Uuid,
        /// Who.
        user: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// A member's peer connection changed state (`connected`,
    /// `disconnected`, `failed` …), as their browser reported it.
    Media {
        /// The session.
        session: Uuid,
        /// Who.
        user: Uuid,
        /// `RTCPeerConnection.connectionState`.
        state: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Someone left. For a drop that never resumed, `at` is when the
    /// connection dropped, not when the hub gave up on it.
    Left {
        /// The session.
        session: Uuid,
        /// Who.
        user: Uuid,
        /// Why.
        reason: LeaveReason,
        /// When.
        at: DateTime<Utc>,
    },
    /// In-call text, with the filter's verdict.
    Chat {
        /// The session.
        session: Uuid,
        /// Who wrote it.
        user: Uuid,
        /// What they wrote.
        text: String,
        /// Why the filter stopped it, if it did.
        blocked: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A supervisor ended the call.
    Ended {
        /// The session.
        session: Uuid,
        /// The supervisor.
        by: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
}

/// Decides whether chat may pass (the school-managed word filter lives in
/// the server; the hub only asks).
pub trait ChatFilter: Send + Sync {
    /// `Err(reason)` stops the message; the sender is told, nobody else
    /// sees it, and the event keeps it for the safeguarding lead.
    fn check(&self, seat: &Seat, text: &str) -> Result<(), String>;
}

/// Lets every message through.
#[derive(Debug, Default)]
pub struct NoFilter;

impl ChatFilter for NoFilter {
    fn check(&self, _seat: &Seat, _text: &str) -> Result<(), String> {
        Ok(())
    }
}

/// Which kind of session description is relayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SdpKind {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

/// Gives each joining person their ICE servers (STUN, and TURN with fresh
/// credentials).
pub trait IceProvider: Send + Sync {
    /// The servers for `user`.
    fn servers(&self, user: Uuid) -> Vec<IceServer>;
}

/// A fixed list, for tests and for STUN-only set-ups.
#[derive(Debug, Default)]
pub struct StaticIce(pub Vec<IceServer>);

impl IceProvider for StaticIce {
    fn servers(&self, _user: Uuid) -> Vec<IceServer> {
        self.0.clone()
    }
}

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
    /// write), on the hub's clock ([`Hub::micros`]); `u64::MAX` for none.
    /// The hub's ticker wakes the connection once it has passed.
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
enum QueueError {
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
    /// Just close: the connection has queued its own last frame.
    Quiet,
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

    fn push(&self, frame: Bytes) -> Result<(), QueueError> {
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

    /// Queues a frame from the connection itself (its own error replies):
    /// these are not counted against the limit, which is for the room.
    pub fn push_own(&self, frame: Bytes) {
        let mut inner = self.lock();
        if !inner.gone {
            inner.frames.push_back(frame);
        }
    }

    /// Asks the connection to send `code` and close, after what is queued.
    /// The first reason given wins.
    pub fn close(&self, code: ErrorCode, message: impl Into<String>) {
        self.say_goodbye(Goodbye::Error(code, message.into()));
    }

    /// Closes after what is queued, as `goodbye` says (the first wins).
    pub fn say_goodbye(&self, goodbye: Goodbye) {
        let mut inner = self.lock();
        if inner.close.is_none() && !inner.gone {
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

    /// Asks to be woken (through `waker`) once the hub's clock passes
    /// `at` ([`Hub::micros`]).
    pub fn set_alarm(&self, at: u64, waker: &Waker) {
        if self.alarm.swap(at, Ordering::Relaxed) == at {
            return;
        }
        let mut inner = self.lock();
        if !inner.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            inner.waker = Some(waker.clone());
        }
    }

    /// Wakes the connection if its alarm has passed.
    fn ring_if_due(&self, now: u64) {
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

/// How much of a member's messages to keep for a resume.
#[derive(Clone, Copy)]
struct Keep {
    messages: usize,
    bytes: usize,
}

/// What a message to a member means for a later resume.
#[derive(Clone, Copy)]
enum Replay {
    /// Kept in the backlog (within these limits) and replayed to a
    /// member who missed it: offers, answers, candidates, chat.
    Kept(Keep),
    /// Not kept: a resume's fresh `welcome` says it again (the welcome
    /// itself, pongs).
    Restated,
    /// Not kept: it changed who is in the room (`peer_joined`,
    /// `peer_left`). A member who missed it starts afresh instead of
    /// resuming, and learns the room as it now is. Such a miss needs a
    /// drop and a change of members at the same moment, so it is rare;
    /// in exchange an idle pair keeps no backlog at all.
    Unkept,
}

/// A member's messages kept for a resume, oldest first.
#[derive(Default)]
struct Backlog {
    frames: VecDeque<(u64, Bytes)>,
    bytes: u32,
}

impl Backlog {
    fn pop_front(&mut self) -> Option<u64> {
        let (seq, frame) = self.frames.pop_front()?;
        self.bytes -= frame_len(&frame);
        Some(seq)
    }
}

struct Member {
    sid: Uuid,
    role: CallRole,
    /// Which connection holds the member now; an older one's cleanup must
    /// not touch a newer one.
    conn: ConnId,
    tx: Option<Arc<Outbox>>,
    seq: u64,
    /// The last `seq` a resume cannot replay (an [`Replay::Unkept`]
    /// message, one the backlog's limits pushed out, or one the client
    /// said it has): a member who has not seen it starts afresh.
    forgot: u64,
    /// What a resume would replay; none once the client has said it has
    /// everything (see [`Hub::pong`]), so an idle call keeps nothing.
    backlog: Option<Box<Backlog>>,
    /// When the connection dropped (wall clock: it is what the
    /// attendance record shows, and what the resume time counts from).
    dropped_at: Option<DateTime<Utc>>,
}

/// A room's members. A call has two to four people, so a short list
/// searched in order is both smaller and quicker than a hash map.
#[derive(Default)]
struct Members(Vec<(Uuid, Member)>);

impl Members {
    fn get(&self, user: &Uuid) -> Option<&Member> {
        self.0.iter().find(|(u, _)| u == user).map(|(_, m)| m)
    }

    fn get_mut(&mut self, user: &Uuid) -> Option<&mut Member> {
        self.0.iter_mut().find(|(u, _)| u == user).map(|(_, m)| m)
    }

    fn remove(&mut self, user: &Uuid) -> Option<Member> {
        let at = self.0.iter().position(|(u, _)| u == user)?;
        Some(self.0.swap_remove(at).1)
    }

    fn insert(&mut self, user: Uuid, member: Member) {
        self.remove(&user);
        if self.0.capacity() == 0 {
            // Most rooms are a pair.
            self.0.reserve_exact(2);
        }
        self.0.push((user, member));
    }

    fn iter(&self) -> impl Iterator<Item = (&Uuid, &Member)> {
        self.0.iter().map(|(u, m)| (u, m))
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = (&Uuid, &mut Member)> {
        self.0.iter_mut().map(|(u, m)| (&*u, m))
    }

    fn values(&self) -> impl Iterator<Item = &Member> {
        self.0.iter().map(|(_, m)| m)
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut Member> {
        self.0.iter_mut().map(|(_, m)| m)
    }

    fn keys(&self) -> impl Iterator<Item = &Uuid> {
        self.0.iter().map(|(u, _)| u)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

struct Room {
    members: Members,
    closes_at: DateTime<Utc>,
    needs_supervisor: bool,
    ended: bool,
}

impl Room {
    fn has_supervisor(&self) -> bool {
        self.members
            .values()
            .any(|m| m.role == CallRole::Supervisor && m.dropped_at.is_none())
    }
}

/// Counters for the load generator and health checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Rooms open.
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
    events: mpsc::UnboundedSender<RoomEvent>,
    state: Mutex<State>,
    /// Every connection's outbox, for the ticker to ring alarms.
    alarms: Mutex<Vec<Weak<Outbox>>>,
    /// Whether the ticker is running.
    ticking: AtomicBool,
    /// Time zero of [`Hub::micros`].
    epoch: std::time::Instant,
}

/// How often connections' deadlines are looked at. Every deadline is
/// seconds long, so being this late is harmless; in exchange a
/// connection needs no timer of its own (see [`crate::ws`]).
pub const TICK: Duration = Duration::from_millis(250);

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

/// Who a connection speaks for, once `hello` is accepted: what the call
/// needs of the token's claims, and no more (a connection keeps it for
/// its whole life, so it is kept small).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seat {
    /// The booked session (the room).
    pub session: Uuid,
    /// The person.
    pub user: Uuid,
    /// Their school (for its word filter).
    pub school: Uuid,
    /// Their role in the call.
    pub role: CallRole,
}

impl From<&JoinClaims> for Seat {
    fn from(claims: &JoinClaims) -> Self {
        Seat {
            session: claims.session,
            user: claims.user,
            school: claims.school,
            role: claims.role,
        }
    }
}

/// A member's place, once `hello` is accepted.
#[derive(Debug)]
pub struct Admitted {
    /// Who the connection speaks for.
    pub seat: Seat,
    /// The connection's number.
    pub conn: ConnId,
    /// Its outgoing queue (the one it was admitted with).
    pub outbox: Arc<Outbox>,
}

/// Why `hello` was refused.
#[derive(Debug)]
pub struct Refused {
    /// The code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

fn refused(code: ErrorCode, message: impl Into<String>) -> Refused {
    Refused {
        code,
        message: message.into(),
    }
}

/// Queues `body` for a member, kept for a resume as `replay` says. A
/// full queue means the client is not reading: it is cut off (and may
/// resume later).
fn deliver(member: &mut Member, body: ServerBody, replay: Replay) {
    deliver_frame(member, replay, 256, |seq, frame| {
        serde_json::to_writer(frame, &ServerMessage { seq, body }).is_ok()
    });
}

/// Queues a message that `render` writes into a text frame (of about
/// `size` bytes) for the member's next `seq`, returning false if it
/// could not; keeps it for a resume as `replay` says.
fn deliver_frame(
    member: &mut Member,
    replay: Replay,
    size: usize,
    render: impl FnOnce(u64, &mut FrameBuf) -> bool,
) {
    let mut frame = FrameBuf::new(Opcode::Text, size);
    if !render(member.seq + 1, &mut frame) {
        return;
    }
    member.seq += 1;
    let frame = frame.finish();
    match replay {
        Replay::Kept(keep) => {
            let backlog = member.backlog.get_or_insert_default();
            backlog.bytes += frame_len(&frame);
            backlog.frames.push_back((member.seq, frame.clone()));
            while backlog.frames.len() > keep.messages || backlog.bytes as usize > keep.bytes {
                match backlog.pop_front() {
                    Some(seq) => member.forgot = seq,
                    None => break,
                }
            }
        }
        Replay::Restated => {}
        Replay::Unkept => member.forgot = member.seq,
    }
    if let Some(tx) = &member.tx {
        match tx.push(frame) {
            Ok(()) => {}
            Err(QueueError::Full) => {
                tx.close(
                    ErrorCode::SlowConsumer,
                    "you fell too far behind; reconnecting",
                );
                member.tx = None;
                member.dropped_at = Some(Utc::now());
            }
            Err(QueueError::Closed) => member.tx = None,
        }
    }
}

impl Hub {
    /// A hub checking tokens with `key`, sending room events to `events`.
    pub fn new(
        key: TokenKey,
        config: Config,
        ice: Box<dyn IceProvider>,
        filter: Box<dyn ChatFilter>,
        events: mpsc::UnboundedSender<RoomEvent>,
    ) -> Hub {
        Hub(Arc::new(Inner {
            key,
            config,
            ice,
            filter,
            events,
            state: Mutex::new(State {
                rooms: HashMap::new(),
                next_conn: 1,
            }),
            alarms: Mutex::new(Vec::new()),
            ticking: AtomicBool::new(false),
            epoch: std::time::Instant::now(),
        }))
    }

    /// The limits in force.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

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

    /// Messages that a resume replays are kept within these limits.
    fn keep(&self) -> Replay {
        Replay::Kept(Keep {
            messages: self.0.config.backlog,
            bytes: self.0.config.backlog_bytes,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves maps that are still
        // consistent (every change is a single insert or remove).
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn emit(&self, event: RoomEvent) {
        let _ = self.0.events.send(event);
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

    /// Checks a `hello` and admits its sender: a fresh join, or a resume of
    /// a dropped connection (replaying what it missed).
    pub fn admit(
        &self,
        outbox: Arc<Outbox>,
        token: &str,
        resume: Option<crate::protocol::Resume>,
        now: DateTime<Utc>,
    ) -> Result<Admitted, Refused> {
        let claims = self.0.key.verify(token, now).map_err(|e| {
            let code = match e {
                TokenError::Malformed | TokenError::BadSignature => ErrorCode::BadToken,
                TokenError::Expired => ErrorCode::TokenExpired,
                TokenError::Reused => ErrorCode::TokenReused,
                TokenError::OutsideWindow { .. } => ErrorCode::OutsideWindow,
            };
            refused(code, e.to_string())
        })?;
        let config = &self.0.config;
        let mut state = self.lock();
        let conn = state.next_conn;
        state.next_conn = state.next_conn.wrapping_add(1);
        let room = state.rooms.entry(claims.session).or_insert_with(|| Room {
            members: Members::default(),
            closes_at: claims.closes_at,
            needs_supervisor: claims.needs_supervisor,
            ended: false,
        });
        if room.ended {
            return Err(refused(
                ErrorCode::CallEnded,
                "a supervisor has ended this call",
            ));
        }
        let ice_servers = self.0.ice.servers(claims.user);
        let ping_interval = u32::try_from(config.ping_interval.as_secs()).unwrap_or(10);
        let resume_ttl = u32::try_from(config.resume_ttl.as_secs()).unwrap_or(30);

        // A resume: the same person, the connection id the server gave them,
        // and a backlog still holding everything after `last_seq`.
        if let Some(r) = &resume {
            let resumable = room
                .members
                .get(&claims.user)
                .is_some_and(|m| m.sid == r.sid && (m.forgot..=m.seq).contains(&r.last_seq));
            if resumable {
                let peers = peers_of(room, claims.user);
                let needs = room.needs_supervisor;
                let member = room
                    .members
                    .get_mut(&claims.user)
                    .ok_or_else(|| refused(ErrorCode::CannotResume, "start the call again"))?;
                if let Some(old) = member.tx.take() {
                    old.close(
                        ErrorCode::Replaced,
                        "this call carried on in a newer connection",
                    );
                }
                member.conn = conn;
                member.dropped_at = None;
                // Replay first, then the welcome (with a fresh seq), so the
                // client sees what it missed in order.
                for (seq, frame) in member.backlog.iter().flat_map(|b| b.frames.iter()) {
                    if *seq > r.last_seq {
                        outbox.push_own(frame.clone());
                    }
                }
                member.tx = Some(outbox.clone());
                let sid = member.sid;
                deliver(
                    member,
                    ServerBody::Welcome {
                        sid,
                        role: claims.role,
                        peers,
                        ice_servers,
                        ping_interval,
                        resume_ttl,
                        needs_supervisor: needs,
                        resumed: true,
                    },
                    Replay::Restated,
                );
                drop(state);
                self.emit(RoomEvent::Resumed {
                    session: claims.session,
                    user: claims.user,
                    at: now,
                });
                return Ok(Admitted {
                    seat: Seat::from(&claims),
                    conn,
                    outbox,
                });
            }
        }

        // A fresh join. The same person already here (another tab, or a
        // resume that came too late) is replaced: the old connection is
        // told so and closed, and the others see them join again so they
        // negotiate afresh.
        let rejoining = if let Some(mut old) = room.members.remove(&claims.user) {
            if let Some(old_tx) = old.tx.take() {
                old_tx.close(
                    ErrorCode::Replaced,
                    "you joined this call from another window",
                );
            }
            true
        } else {
            false
        };
        let peers = peers_of(room, claims.user);
        let sid = Uuid::new_v4();
        let mut member = Member {
            role: claims.role,
            sid,
            conn,
            tx: Some(outbox.clone()),
            seq: 0,
            forgot: 0,
            backlog: None,
            dropped_at: None,
        };
        deliver(
            &mut member,
            ServerBody::Welcome {
                sid,
                role: claims.role,
                peers,
                ice_servers,
                ping_interval,
                resume_ttl,
                needs_supervisor: room.needs_supervisor,
                resumed: false,
            },
            Replay::Restated,
        );
        let joined = Peer {
            user: claims.user,
            role: claims.role,
        };
        for other in room.members.values_mut() {
            deliver(
                other,
                ServerBody::PeerJoined {
                    peer: joined.clone(),
                },
                Replay::Unkept,
            );
        }
        room.members.insert(claims.user, member);
        drop(state);
        if !rejoining {
            self.emit(RoomEvent::Joined {
                session: claims.session,
                user: claims.user,
                role: claims.role,
                at: now,
            });
        }
        Ok(Admitted {
            seat: Seat::from(&claims),
            conn,
            outbox,
        })
    }

    /// Relays an offer, answer or candidate from `from` to `to` (or to
    /// everyone else), within the sender's room only.
    pub fn relay(
        &self,
        seat: &Seat,
        to: Option<Uuid>,
        body: impl Fn(Uuid) -> ServerBody,
    ) -> Result<(), Refused> {
        self.relay_with(seat, to, |member, keep| {
            deliver(member, body(seat.user), keep);
        })
    }

    /// The room's rules for relaying, with `send` for each recipient.
    fn relay_with(
        &self,
        seat: &Seat,
        to: Option<Uuid>,
        mut send: impl FnMut(&mut Member, Replay),
    ) -> Result<(), Refused> {
        let keep = self.keep();
        let mut state = self.lock();
        let room = state
            .rooms
            .get_mut(&seat.session)
            .ok_or_else(|| refused(ErrorCode::CallEnded, "this call has ended"))?;
        if room.needs_supervisor && seat.role != CallRole::Supervisor && !room.has_supervisor() {
            // Safeguarding: students do not connect before a supervisor
            // is in the call, whatever their page does.
            let to_student = match to {
                Some(t) => room
                    .members
                    .get(&t)
                    .is_some_and(|m| m.role != CallRole::Supervisor),
                None => true,
            };
            if to_student {
                return Err(refused(
                    ErrorCode::WaitingForSupervisor,
                    "the call starts when a supervising teacher joins",
                ));
            }
        }
        for (user, member) in room.members.iter_mut() {
            if *user == seat.user || to.is_some_and(|t| t != *user) {
                continue;
            }
            send(member, keep);
        }
        Ok(())
    }

    /// Relays an offer or answer whose `sdp` is still the JSON string the
    /// sender wrote (`raw`, quotes and escapes included): it is spliced into
    /// each recipient's message as it stands, never unescaped and escaped
    /// again. This is the hot path of a call set-up, and SDPs are large.
    pub fn relay_sdp(
        &self,
        seat: &Seat,
        to: Option<Uuid>,
        kind: SdpKind,
        raw: &str,
    ) -> Result<(), Refused> {
        debug_assert!(raw.starts_with('"'));
        let from = seat.user;
        let kind = match kind {
            SdpKind::Offer => "offer",
            SdpKind::Answer => "answer",
        };
        self.relay_with(seat, to, |member, keep| {
            deliver_frame(member, keep, raw.len() + 96, |seq, frame| {
                use std::io::Write as _;
                write!(
                    frame,
                    r#"{{"seq":{seq},"type":"{kind}","from":"{from}","sdp":"#
                )
                .is_ok()
                    && {
                        frame.push(raw.as_bytes());
                        frame.push(b"}");
                        true
                    }
            });
        })
    }

    /// Passes chat through the filter and to the room (the sender sees
    /// their own message come back, so every screen shows the same order).
    pub fn chat(&self, seat: &Seat, text: &str, now: DateTime<Utc>) -> Result<(), Refused> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > self.0.config.max_chat_chars {
            return Err(refused(
                ErrorCode::BadMessage,
                format!(
                    "a chat message has 1 to {} characters",
                    self.0.config.max_chat_chars
                ),
            ));
        }
        let verdict = self.0.filter.check(seat, text);
        self.emit(RoomEvent::Chat {
            session: seat.session,
            user: seat.user,
            text: text.to_owned(),
            blocked: verdict.clone().err(),
            at: now,
        });
        if let Err(why) = verdict {
            return Err(refused(ErrorCode::ChatBlocked, why));
        }
        let keep = self.keep();
        let mut state = self.lock();
        if let Some(room) = state.rooms.get_mut(&seat.session) {
            for member in room.members.values_mut() {
                deliver(
                    member,
                    ServerBody::Chat {
                        from: seat.user,
                        text: text.to_owned(),
                    },
                    keep,
                );
            }
        }
        Ok(())
    }

    /// Records a member's peer-connection state.
    pub fn media_state(&self, seat: &Seat, state: &str, now: DateTime<Utc>) {
        let state: String = state.chars().take(20).collect();
        self.emit(RoomEvent::Media {
            session: seat.session,
            user: seat.user,
            state,
            at: now,
        });
    }

    /// Answers a ping on the member's own queue, and forgets what the
    /// client says it has read (`last_seq`): it will not be asked for
    /// again, and a call's negotiation need not be kept for its whole
    /// length.
    pub fn pong(&self, seat: &Seat, last_seq: Option<u64>) {
        let mut state = self.lock();
        let Some(member) = state
            .rooms
            .get_mut(&seat.session)
            .and_then(|r| r.members.get_mut(&seat.user))
        else {
            return;
        };
        if let Some(read) = last_seq.filter(|read| *read <= member.seq) {
            if let Some(backlog) = &mut member.backlog {
                while backlog.frames.front().is_some_and(|(seq, _)| *seq <= read) {
                    backlog.pop_front();
                }
                if backlog.frames.is_empty() {
                    member.backlog = None;
                }
            }
            member.forgot = member.forgot.max(read);
        }
        deliver(member, ServerBody::Pong, Replay::Restated);
    }

    /// Takes a member out of the room and tells the others why.
    fn remove(
        &self,
        state: &mut State,
        session: Uuid,
        user: Uuid,
        reason: LeaveReason,
        at: DateTime<Utc>,
    ) -> bool {
        let Some(room) = state.rooms.get_mut(&session) else {
            return false;
        };
        if room.members.remove(&user).is_none() {
            return false;
        }
        for other in room.members.values_mut() {
            deliver(
                other,
                ServerBody::PeerLeft { peer: user, reason },
                Replay::Unkept,
            );
        }
        if room.members.is_empty() && !room.ended {
            state.rooms.remove(&session);
        }
        self.emit(RoomEvent::Left {
            session,
            user,
            reason,
            at,
        });
        true
    }

    /// The member pressed Leave.
    pub fn leave(&self, seat: &Seat, conn: ConnId, now: DateTime<Utc>) {
        let mut state = self.lock();
        let current = state
            .rooms
            .get(&seat.session)
            .and_then(|r| r.members.get(&seat.user))
            .is_some_and(|m| m.conn == conn);
        if current {
            self.remove(&mut state, seat.session, seat.user, LeaveReason::Left, now);
        }
    }

    /// A supervisor ends the call: everyone is told and disconnected, and
    /// nobody can join it again.
    pub fn end(&self, seat: &Seat, now: DateTime<Utc>) -> Result<(), Refused> {
        if seat.role != CallRole::Supervisor {
            return Err(refused(
                ErrorCode::NotAllowed,
                "only a supervising teacher can end the call",
            ));
        }
        let keep = self.keep();
        let mut state = self.lock();
        let Some(room) = state.rooms.get_mut(&seat.session) else {
            return Ok(());
        };
        room.ended = true;
        let members: Vec<Uuid> = room.members.keys().copied().collect();
        for member in room.members.values_mut() {
            deliver(member, ServerBody::Ended { by: seat.user }, keep);
            if let Some(tx) = member.tx.take() {
                tx.close(ErrorCode::CallEnded, "a supervising teacher ended the call");
            }
        }
        room.members.clear();
        drop(state);
        self.emit(RoomEvent::Ended {
            session: seat.session,
            by: seat.user,
            at: now,
        });
        for user in members {
            self.emit(RoomEvent::Left {
                session: seat.session,
                user,
                reason: LeaveReason::Ended,
                at: now,
            });
        }
        Ok(())
    }

    /// The connection `conn` of a member closed without a Leave: they may
    /// resume within [`Config::resume_ttl`].
    pub fn dropped(&self, seat: &Seat, conn: ConnId, now: DateTime<Utc>) {
        let mut state = self.lock();
        if let Some(member) = state
            .rooms
            .get_mut(&seat.session)
            .and_then(|r| r.members.get_mut(&seat.user))
            .filter(|m| m.conn == conn)
        {
            member.tx = None;
            if member.dropped_at.is_none() {
                member.dropped_at = Some(now);
            }
        }
    }

    /// Housekeeping, run every second or so: members dropped for longer
    /// than the resume time have left (at the moment they dropped), and
    /// rooms whose window has closed are emptied.
    pub fn sweep(&self, now: DateTime<Utc>) {
        let ttl = self.0.config.resume_ttl;
        let keep = self.keep();
        let mut state = self.lock();
        let mut gone = Vec::new();
        let mut closed = Vec::new();
        for (session, room) in &state.rooms {
            if now >= room.closes_at {
                closed.push(*session);
                continue;
            }
            for (user, m) in room.members.iter() {
                if let Some(at) = m.dropped_at
                    && (now - at).to_std().is_ok_and(|away| away >= ttl)
                {
                    gone.push((*session, *user, at));
                }
            }
        }
        for (session, user, at) in gone {
            self.remove(&mut state, session, user, LeaveReason::TimedOut, at);
        }
        for session in closed {
            if let Some(mut room) = state.rooms.remove(&session) {
                for (user, member) in room.members.iter_mut() {
                    deliver(
                        member,
                        ServerBody::Error {
                            code: ErrorCode::OutsideWindow,
                            message: "the session's time is over".into(),
                        },
                        keep,
                    );
                    if let Some(tx) = member.tx.take() {
                        tx.close(ErrorCode::OutsideWindow, "the session's time is over");
                    }
                    let at = member.dropped_at.unwrap_or(now);
                    self.emit(RoomEvent::Left {
                        session,
                        user: *user,
                        reason: LeaveReason::WindowClosed,
                        at,
                    });
                }
            }
        }
    }

    /// Runs [`Hub::sweep`] every `every` until the task is dropped.
    pub async fn sweep_forever(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            self.sweep(Utc::now());
        }
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

/// A frame's length for the backlog's byte count (frames are far below
/// 4 GiB: messages are limited to [`Config::max_message_bytes`]).
fn frame_len(frame: &Bytes) -> u32 {
    u32::try_from(frame.len()).unwrap_or(u32::MAX)
}

fn peers_of(room: &Room, except: Uuid) -> Vec<Peer> {
    let mut peers: Vec<Peer> = room
        .members
        .iter()
        .filter(|(user, _)| **user != except)
        .map(|(user, m)| Peer {
            user: *user,
            role: m.role,
        })
        .collect();
    peers.sort_by_key(|p| p.user);
    peers
}
