//! The signalling server over real websockets on loopback: relay, limits,
//! resume, supervisors, and every kind of bad input. One test binary;
//! `support` starts a server and drives clients, each other module is a
//! topic.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

mod calls;
mod limits;
mod resume;
mod shutdown;
mod tokens;
mod wire;
