//! Real headless Chromium, driven over WebDriver, against the real server.
//!
//! The viewport is an iPad's (820 × 1180, portrait), the size students and
//! teachers use. Needs Debian's `chromium` and `chromium-driver`; paths can be
//! overridden with `CHROMIUM` and `CHROMEDRIVER`. `MENTORBRIDGE_SCREENSHOTS=DIR`
//! saves what the pages look like; `MENTORBRIDGE_LANDSCAPE=1` turns the iPad.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

mod calendar_changes;
mod calendars;
mod calls;
mod cards;
mod demo;
mod matching;
mod messages;
mod record;
mod sessions;
mod webkit;
