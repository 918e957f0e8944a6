//! The HTTP API, end to end, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod accounts;
mod authorization;
mod bookings;
mod calendar;
mod calendar_changes;
mod calls;
mod certificates;
mod hardening;
mod health;
mod invites;
mod matching;
mod mentors;
mod messaging;
mod partnerships;
mod record;
mod referrals;
mod reports;
mod rosters;
mod schema;
mod schools;
mod sessions;
mod tls;
mod transport;
