//! # mentorbridge
//!
//! Cross-school peer mentoring: older students at one school mentor students
//! at another over video, in timetabled morning slots supervised by teachers.
//! This crate is the server: the HTTP app, the domains, and storage. The
//! binary's command line (`src/main.rs`, `src/cli/`) is a thin layer on top.
//!
//! ## Layout, in the order data flows
//! The app and what every domain builds on:
//! - [`state`]: [`state::AppState`] (what every handler reaches) and
//!   [`state::Routes`], the table every route is declared in.
//! - [`app`]: start-up's named steps (crypto provider, signalling, the
//!   background tasks), the whole route table, `router(state)` for in-process
//!   tests and `run(listener, state, events, shutdown)` for a socket.
//! - [`store`]: `enum Store { Sqlite, Postgres }`, chosen by URL; migrations;
//!   [`store::Constraint`], each constraint known by its name on both backends.
//! - [`config`], [`tls`]: settings (flags, environment, TOML) and https;
//!   [`net`]: the HTTP/1.1 server itself (hyper with a timer: header and idle
//!   timeouts, connection caps that keep room for the signed-in, a graceful
//!   stop), in place of `axum::serve`.
//! - [`error`]: the one domain error and its API and page renderings;
//!   [`extract`]: request extractors whose rejections speak that format;
//!   [`web`]: askama templates and static assets, embedded in the binary.
//! - [`import`]: what every file import shares (errors naming file, line and
//!   field; a CSV reader that keeps line numbers, refusing a cell that is
//!   not one line of text); [`text`]: the one rule for every name and
//!   label a person sets (one line, no control characters or overrides).
//! - [`auth`]: sign-in sessions (`store`, `password`, `rate_limit`), the
//!   `middleware` that turns a cookie into an actor and guards every state
//!   change against CSRF, and [`auth::policy`], the one authorization policy
//!   every handler asks.
//!
//! The domains, upstream first (each has the parts it needs of `mod`,
//! `store`, `http` and `pages`; the other modules are named here):
//! - [`people`]: [`people::schools`]; [`people::accounts`] (+ `parse`, the
//!   input rules); [`people::partnerships`]; [`people::rosters`] (`plain` CSV
//!   and `oneroster` readers; it has no table, and writes accounts through
//!   their store); [`people::mentors`]; [`people::referrals`] (+ `rules`,
//!   the referral's checks and life); [`people::groups`] (schools gathered
//!   into a scheme a local authority or a trust runs, joined only with each
//!   school's consent, and its scheme leads, who belong to no school).
//! - [`calendar`]: `model` (terms, closures, bell schedules, teaching days
//!   and cycles in each school's zone; a school's week starts on its first
//!   teaching day, so Sunday for Sunday to Thursday), `import` (CSV and `.ics`), `time` (the one rule
//!   for local times that do not exist or happen twice), [`calendar::align`]
//!   (two schools' calendars into shared slots), [`calendar::capacity`] (a
//!   school's iPads and supervisors, declared once from a date and shared
//!   by all its partnerships: a partnership's policy only says which
//!   periods it uses); its store has `policy`, `capacity` and `changes`,
//!   its pages `slots`.
//! - [`matching`]: `weekly` (slots as weekly patterns), `fit` (how well a
//!   mentor suits a mentee), `propose` (a run, and why each pair), `unmatched`
//!   (what kept each mentee out), `stale` (what changed since a run),
//!   `solver` (the exact minimum-cost flow, + `greedy` for comparison),
//!   `synthetic` (generated partnerships for tests and benchmarks); its store
//!   has `input`, `approve` and `rules`.
//! - [`booking`]: approved matches become series of sessions that claim
//!   students, iPads and supervisors; `listing` shapes the Sessions page's
//!   rows; its store has `book`, `listing` (a page of sessions in a fixed
//!   number of queries), `names`, `settle` and `delivered` (a mentor's
//!   delivered sessions, counted by `booking::delivered_minutes`).
//! - [`invites`]: iCalendar output: `series` (a pair's sessions as one
//!   recurring event, with its `VTIMEZONE`) written by `ics`, `copies`
//!   (what each recipient's calendar holds, and which one message a change
//!   sends them), `announce` (those messages and the digest's lines), `feeds` (subscription links), `outbox` (queued messages,
//!   and staff notices) and `mail` (the SMTP sender, which announces
//!   changed series each round). A change marks its series in the change's
//!   transaction; the messages are worked out by the sender, so a series
//!   booked session by session is announced once.
//! - [`attendance`]: the call around the signalling hub (join tokens, `/ws`,
//!   the call and pre-call pages, Today's calls) and the attendance its
//!   events record.
//! - [`messaging`]: a pair's thread (one per match, the call's chat too):
//!   every message kept, each reader shown what is theirs to see; `threads`
//!   opens one as the policy (`auth::policy::thread_access`) allows.
//! - [`safeguarding`]: `moderate` (the pipeline every message passes), the
//!   in-memory `Moderator` and the hub's chat filter, each school's word
//!   list and rules, the review of held messages, concerns, and the record
//!   of staff reads.
//! - [`certificates`]: mentors' volunteering certificates: what a mentor
//!   delivered (booking's `delivered_minutes`) signed by a coordinator, a
//!   PDF (`pdf`, krilla with DejaVu Sans embedded) and a public page that
//!   checks a certificate's code and shows nothing else.
//! - [`record`]: the mentoring record (assessments, action plans, notes,
//!   reviews, exits, feedback); its store's `figures` are the reports'.
//! - [`reports`]: a school's, a partnership's or a group's figures for any
//!   range and by term, each family counted by its owner's store; `charts`
//!   draws them as SVG (plotters); JSON, CSV of every table, and the
//!   Reports page.
//! - [`home`]: each role's landing page, drawn from the domains above.
//! - [`demo`]: the demo data behind `mentorbridge demo`.
//!
//! ## The one shape of a domain
//! Every domain folder has the parts it needs of: `mod.rs` (types and rules:
//! no SQL, no HTTP), `store.rs` (all its SQL, on its own tables only),
//! `http.rs` (the JSON API under `/api`) and `pages.rs` (server-rendered
//! pages). A domain reaches another only through that domain's `mod.rs` or
//! `store.rs` items; where one write must span two domains' tables (booking
//! a series and queueing its invites; approving matches and marking their
//! referrals matched) the owner of each table offers a function taking the
//! open transaction ([`store::Tx`]). `server/tests/boundaries.rs` reads the
//! source and fails on any `http`/`pages` reached across domains and any SQL
//! on another domain's tables.
//!
//! Request flow: tracing span → [`auth::authenticate`] (cookie → actor) →
//! [`auth::csrf_guard`] (every state change) → handler (parse → authorize →
//! domain → render).
//!
//! ## Where this differs from `ARCHITECTURE.md`
//! - `state.rs` holds the state and the route *table type*; the table itself
//!   is assembled in `app.rs`, so domains import `state` and never `app`.
//! - The calls domain is `attendance` (join tokens, the call pages and the
//!   attendance record), not `calls/attendance`.
//! - The CLI lives in the binary (`src/cli/`), not the library, so clap and
//!   `anyhow` stay out of the library.
//! - A pair's messages are a domain of their own, [`messaging`] (threads,
//!   what each reader sees, unread counts), beside [`safeguarding`], which
//!   owns what the flow diagram gives it: moderation, each school's word
//!   list and rules, the review of held messages, concerns, deputies and
//!   the record of staff reads. A decision on a held message changes the
//!   message through messaging's `settle_held_in_tx`, in one transaction.
//! - The invites' outbox also carries *notices* (plain emails to staff,
//!   such as the safeguarding lead's alert that something waits), with the
//!   same queue, leases and retries as invites.

pub mod state;

pub mod app;

pub mod store;

pub mod config;
pub mod net;
pub mod tls;

pub mod error;
pub mod extract;
pub mod web;

pub mod import;
pub mod text;

pub mod auth;

pub mod people;

pub mod calendar;

pub mod matching;

pub mod booking;

pub mod invites;

pub mod attendance;

pub mod messaging;

pub mod safeguarding;

pub mod record;

pub mod certificates;
pub mod reports;

pub mod home;

pub mod demo;
