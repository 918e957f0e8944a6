//! Who is asking, and whether the request is really theirs.
//!
//! Sign-in creates a server-side session: the browser holds a random token in
//! an HttpOnly cookie; the database holds only its SHA-256. One middleware,
//! [`authenticate`], resolves the cookie to an [`Actor`] once per request; a
//! second, [`csrf_guard`], refuses any state-changing request that does not
//! carry the session's CSRF token (a hidden form field, or the
//! `X-CSRF-Token` header for the JSON API). Before sign-in, the sign-in form
//! is protected by a token bound to a short-lived cookie with the server's
//! secret key. What an actor may then do is decided in [`policy`] alone.
//!
//! Layout: this module holds the actor and the session's tokens; `store`
//! the sessions table; `middleware` the cookies, the two middlewares and the
//! extractors; [`http`] signing in and out; [`password`] and [`rate_limit`]
//! what signing in checks.

pub mod http;
mod middleware;
pub mod password;
pub mod policy;
pub mod rate_limit;
pub mod store;

pub use middleware::{AuthRejection, MaybeActor, authenticate, csrf_guard};
pub(crate) use middleware::{
    known_device_cookie, pre_session, remove_session_cookie, session_cookie,
};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::people::accounts::{Role, User};

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "mb_session";
/// The cookie that binds the sign-in form's CSRF token.
pub const PRE_SESSION_COOKIE: &str = "mb_presession";
/// The header the JSON API takes the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field pages take the CSRF token in.
pub const CSRF_FIELD: &str = "csrf";
/// The longest a session lasts, however busy: a school day and then some.
pub const SESSION_HOURS: i64 = 12;

/// How long a session lasts without a request before it ends. A pupil's
/// iPad is shared with the next class, so a pupil who walks away is signed
/// out soon; staff work in longer stretches.
#[derive(Clone, Copy, Debug)]
pub struct IdleLimits {
    pub student: std::time::Duration,
    pub staff: std::time::Duration,
}

impl Default for IdleLimits {
    fn default() -> Self {
        IdleLimits {
            student: std::time::Duration::from_secs(15 * 60),
            staff: std::time::Duration::from_secs(2 * 60 * 60),
        }
    }
}

impl IdleLimits {
    /// The idle limit of someone in `role`.
    pub fn of(&self, role: Role) -> chrono::Duration {
        let limit = if role == Role::Student {
            self.student
        } else {
            self.staff
        };
        chrono::Duration::from_std(limit).unwrap_or(chrono::Duration::minutes(15))
    }
}

/// The signed-in person making a request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: User,
    /// The token their forms and API calls must echo.
    pub csrf_token: String,
}

impl Actor {
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Their school (`None` for platform administrators).
    pub fn school_id(&self) -> Option<Uuid> {
        self.user.school_id
    }
}

/// A fresh random token, URL-safe.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A session just created: the token for the cookie and its CSRF token.
#[derive(Debug)]
pub struct NewSession {
    /// The secret for the cookie; never stored.
    pub token: String,
    /// The CSRF token for forms and API calls.
    pub csrf_token: String,
    /// When it lapses.
    pub expires_at: DateTime<Utc>,
}
