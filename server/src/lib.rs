//! # mentorbridge
//!
//! Cross-school peer mentoring: older students at one school mentor students
//! at another over video, in timetabled morning slots supervised by teachers.
//! This crate is the server: the HTTP app, the domain, and storage.
//!
//! ## Layout
//! - [`app`]: state, the route table, `router(state)` and `run(listener, shutdown)`.
//! - [`store`]: `enum Store { Sqlite, Postgres }`, chosen by URL; migrations.
//! - Domains, each owning its types, rules, SQL and routes:
//!   [`schools`], [`accounts`], [`partnerships`], [`auth`] (sessions, CSRF,
//!   rate limits, and [`auth::policy`], the one authorization policy),
//!   [`home`] (each role's landing page).
//! - [`web`]: askama templates and static assets, embedded in the binary.
//! - [`error`]: the one domain error and its API and page renderings.
//! - [`config`], [`demo`]: settings, and the demo data behind `mentorbridge demo`.
//!
//! Request flow: tracing span → [`auth::authenticate`] (cookie → actor) →
//! [`auth::csrf_guard`] (every state change) → handler (parse → authorize →
//! domain → render).

pub mod app;
pub mod attendance;
pub mod auth;
pub mod booking;
pub mod calendar;
pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod home;
pub mod import;
pub mod invites;
pub mod matching;
pub mod people;
pub mod state;
pub mod store;
pub mod tls;
pub mod web;
