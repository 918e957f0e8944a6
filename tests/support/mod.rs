//! The test harness, one job a file: [`app`] (the server over a fresh
//! database, on both backends), [`client`] (HTTP requests and replies),
//! [`world`] (fixtures), [`smtp`] (a real mail server).

pub mod app;
pub mod client;
pub mod expand;
pub mod smtp;
pub mod world;
