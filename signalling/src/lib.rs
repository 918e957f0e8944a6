//! # mentorbridge-signalling
//!
//! The signalling side of mentorbridge's video sessions, kept apart from the
//! database and the web pages so it can be tested alone and scaled out later.
//! The server mints a [`token::JoinToken`] for a booked person and a booked
//! window; this crate verifies it and speaks the [`protocol`] over one
//! websocket. [`ice`] mints coturn-compatible TURN credentials.
//!
//! ## Layout
//! - [`protocol`]: the JSON messages, client → server and server → client.
//! - [`token`]: signing and verifying join tokens (HMAC-SHA256, short-lived,
//!   single use, bound to session, user, role, school and window).
//! - [`ice`]: STUN/TURN server lists and time-limited TURN credentials.
//! - [`hub`]: rooms, the relay between members, resume after a drop, and
//!   the [`hub::RoomEvent`]s the server turns into attendance.
//! - [`ws`]: one websocket connection (axum): hello, limits, the loop.
//! - [`precall`]: the peer the pre-call check connects to (`webrtc` crate).

pub mod hub;
pub mod ice;
pub mod precall;
pub mod protocol;
pub mod token;
pub mod ws;
