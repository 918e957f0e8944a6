//! Shared helpers for the mentorbridge end-to-end tests.
//!
//! [`spawn_app`] starts the real server on `127.0.0.1:0` over a fresh
//! database — a temporary SQLite file, or a uniquely named PostgreSQL
//! database when `MENTORBRIDGE_TEST_POSTGRES` names a server — and returns a
//! [`TestApp`] with typed helpers. [`on_both_backends!`] turns one test
//! function into a SQLite test and a PostgreSQL test, so the same suite runs
//! on both. A test whose dependency is missing prints `SKIPPED: …`; with
//! `MENTORBRIDGE_TEST_REQUIRE_ALL=1` (as `.ci/run` sets) it fails instead.
//!
//! The helpers live in [`support`], one file a job; everything a test uses
//! is re-exported here, so tests import `mentorbridge_tests::{…}`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub mod support;

pub use support::app::{
    Backend, FreshDatabase, PASSWORD, TestApp, skip, spawn_app, spawn_app_with,
};
pub use support::client::{Client, DATA_CHANNEL_OFFER, Reply};
pub use support::expand::{Occurrence, expanded};
pub use support::smtp::{Delivered, SmtpServer, quick_mail};
pub use support::world::World;
