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
//!   `cannot_resume`, `chat_blocked`.
//!
//! ## Layout
//! - [`protocol`]: the JSON messages, client → server and server → client.
//! - [`token`]: signing and verifying join tokens (HMAC-SHA256, short-lived,
//!   single use, bound to session, user, role, school and window).
//! - [`ice`]: STUN/TURN server lists and time-limited TURN credentials.
//! - [`hub`]: rooms, the relay between members, resume after a drop, and
//!   the [`hub::RoomEvent`]s the server turns into attendance.
//! - [`frame`]: the websocket wire format, read in place and written once.
//! - [`ws`]: one websocket connection: the upgrade, hello, limits, the
//!   relay loop, with no buffers held while idle.
//! - [`precall`]: the peer the pre-call check connects to (`webrtc` crate).

pub mod frame;
pub mod hub;
pub mod ice;
pub mod precall;
pub mod protocol;
pub mod token;
pub mod ws;
