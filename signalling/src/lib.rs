//! # mentorbridge-signalling
//!
//! The signalling side of mentorbridge's video sessions, kept apart from the
//! database and the web pages so it can be tested alone and scaled out later.
//! The server mints a join token ([`token::JoinClaims`], signed with
//! [`token::TokenKey`]) for a booked person and a booked window; this crate
//! verifies it and speaks the [`protocol`] over one websocket. [`ice`] mints
//! coturn-compatible TURN credentials.
//!
//! ## Where the protocol goes beyond ARCHITECTURE.md
//! - `offer`, `answer` and `candidate` may name a peer (`to`): a call with a
//!   supervising observer is a mesh of peer connections, one per pair, so
//!   each description is for one peer. Without `to` it goes to everyone
//!   else in the room.
//! - `end` (a supervisor ends the call) and the server's `ended{by}`.
//! - `welcome` says whether the students wait for a supervisor
//!   (`needs_supervisor`, the partnership's policy, enforced here: offers
//!   between students are refused until one is in) and whether it is a
//!   `resumed` place.
//! - `ping` may carry `last_seq`, how far the client has read: the server
//!   keeps nothing up to there for a resume. (Otherwise a call's offer,
//!   answer and candidates, several kilobytes, would be kept for the whole
//!   call.)
//! - A resume replays what the member missed of offers, answers,
//!   candidates and chat. Joins and leaves are not replayed: a member who
//!   missed one is given a fresh place instead (`resumed: false`, with the
//!   room as it now is, and the others renegotiate with them), which the
//!   call page already handles as a fresh join. Either way the drop is not
//!   a leave. (Keeping each pair's `peer_joined` for a resume was about a
//!   tenth of an idle connection's memory.)
//! - More error codes: `slow_consumer`, `replaced`, `call_ended`,
//!   `not_allowed`, `waiting_for_supervisor`, `idle_timeout`,
//!   `cannot_resume`, `chat_blocked`, `chat_held`,
//!   `chat_waiting_for_supervisor`.
//!
//! ## Layout
//! In the order a call's data flows through the crate:
//! - [`protocol`]: the JSON messages, client → server and server → client.
//! - [`ws`], a connection's way in (one small task per connection, holding
//!   no buffers while idle):
//!   - `ws::upgrade`: the listening socket, and `GET /ws` upgraded;
//!   - `ws::conn`: the connection's state, its phases and deadlines;
//!   - `ws::read`: bytes in, frames parsed in place with [`frame`];
//!   - `ws::message`: `hello` first, then each message, within the rate
//!     and size limits, handed to the hub (or kept, while the hub's room
//!     events wait for the server).
//! - [`token`]: the `hello`'s join token checked (HMAC-SHA256,
//!   short-lived, single use, bound to session, user, role, school and
//!   window).
//! - [`hub`], the rooms:
//!   - `hub::admit`: the token's holder given a place, resuming a dropped
//!     one or joining afresh;
//!   - `hub::room`: a room's members, and delivery to one of them;
//!   - `hub::relay`: offers, answers, candidates and chat between members
//!     (students wait for a supervisor where the partnership says so),
//!     and pongs;
//!   - `hub::replay`: what a resume keeps, and replays;
//!   - `hub::outbox`: each connection's send queue, filled without
//!     waiting, with at most one pong, and nothing after the goodbye;
//!   - `hub::pending`: connections not yet signed in, capped per address
//!     and in all.
//! - `ws::write`: the outbox's frames out, several to a system call, then
//!   the goodbye; [`frame`] builds each frame once, shared by the queue and
//!   the backlog.
//! - `hub::leave`: Leave, a supervisor's End, drops, and the sweep that
//!   makes an unresumed drop a leave; `hub::clock`: the ticker that wakes
//!   connections at their deadlines.
//! - `hub::events`: the [`hub::RoomEvent`]s out to the server, which turns
//!   them into attendance, through a bounded channel that never drops one
//!   (producers wait instead); `hub::shutdown`: [`hub::Hub::shutdown`],
//!   1001 to everyone and the events handed over to the end;
//!   `hub::providers`: what the server plugs in (the [`hub::ChatFilter`],
//!   the [`hub::IceProvider`]).
//! - [`precall`]: the peer the pre-call check connects to (`webrtc` crate).
//! - [`ice`]: STUN/TURN server lists and time-limited TURN credentials,
//!   the server's [`hub::IceProvider`].
//! - `bin/mb-loadgen/`: the load generator that compares this server with
//!   PeerJS (figures in `BENCHMARKS.md`): `main.rs` (its commands, and
//!   `serve`, the hub alone), `client.rs` (its own websocket client, in
//!   either server's protocol), `measure.rs` (the four measuring steps).
//!
//! ## Own websocket framing, kept, and how it is checked
//! The framing (`frame.rs`, `ws/`) is this crate's own, not a websocket
//! library's, and stays so, for memory, measured (2026-12-01): a server
//! holding 2,000 idle connections over loopback, each having read one
//! 300-byte frame, grows per 1,000 connections by 2,218 KiB with bare TCP
//! sockets in their tasks, 6,576 KiB with tokio-websockets 0.12.3 and
//! 6,472 KiB with fastwebsockets 0.10.0: about 4.3 KiB more per idle
//! connection for either (their read and write buffers stay allocated).
//! This server's whole cost is about 1.1 KiB per idle connection, and
//! the target is at most a fifth of PeerJS's 5.8 KiB (see
//! `BENCHMARKS.md`): a library would put it near PeerJS's own.
//!
//! What a library would bring, correctness under hostile input, is
//! checked instead:
//! - `tests/conformance/`: RFC 6455 case by case, as Autobahn's fuzzing
//!   client checks it (lengths, masking, reserved bits and opcodes, pings,
//!   fragmentation, UTF-8, closing codes, the handshake, size limits),
//!   driven by tokio-tungstenite, by bytes written by hand, and by
//!   Python's `websockets` in a process of its own;
//! - `tests/frames.rs`: the frame parser against tungstenite's, on
//!   generated input (proptest);
//! - `tests/memory.rs` and `tests/relay/`: what a flood, a client that
//!   never reads, or anonymous sockets can make the server hold.

pub mod frame;
pub mod hub;
pub mod ice;
pub mod precall;
pub mod protocol;
pub mod token;
pub mod ws;
