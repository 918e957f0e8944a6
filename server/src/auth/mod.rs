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

pub mod http;
pub mod password;
pub mod policy;
pub mod rate_limit;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::error::{ApiError, Error, PageError, Result};
use crate::on_pool;
use crate::people::accounts::{Role, User};
use crate::state::AppState;
use crate::store::Store;

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "mb_session";
/// The cookie that binds the sign-in form's CSRF token.
pub const PRE_SESSION_COOKIE: &str = "mb_presession";
/// The header the JSON API takes the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field pages take the CSRF token in.
pub const CSRF_FIELD: &str = "csrf";
/// How long a session lasts: a school day and then some.
pub const SESSION_HOURS: i64 = 12;

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

/// The result of [`authenticate`], stored in request extensions.
#[derive(Clone, Debug)]
struct Authenticated(Option<Actor>);

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

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
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

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: Uuid,
    csrf_token: String,
    expires_at: DateTime<Utc>,
}

impl Store {
    /// Starts a session for a user who has just proved who they are.
    pub async fn create_session(&self, user_id: Uuid) -> Result<NewSession> {
        let session = NewSession {
            token: random_token(),
            csrf_token: random_token(),
            expires_at: Utc::now() + Duration::hours(SESSION_HOURS),
        };
        // Sweep lapsed sessions as new ones begin, so the table stays small.
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM sessions WHERE expires_at < $1"
        )
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        let sql = "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(token_hash(&session.token))
            .bind(user_id)
            .bind(&session.csrf_token)
            .bind(Utc::now())
            .bind(session.expires_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(session)
    }

    /// The actor a session token belongs to, if the session is live.
    pub async fn session_actor(&self, token: &str) -> Result<Option<Actor>> {
        let sql = "SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1";
        let row: Option<SessionRow> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(token_hash(token))
            .fetch_optional(pool)
            .await)?;
        let Some(row) = row.filter(|r| r.expires_at > Utc::now()) else {
            return Ok(None);
        };
        let user = match self.user(row.user_id).await {
            Ok(user) => user,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(Actor {
            user,
            csrf_token: row.csrf_token,
        }))
    }

    /// Ends a session (sign-out), and sweeps away expired ones.
    pub async fn end_session(&self, token: &str) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM sessions WHERE token_hash = $1 OR expires_at < $2"
        )
        .bind(token_hash(token))
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// The session cookie for a new session.
pub(crate) fn session_cookie(state: &AppState, session: &NewSession) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, session.token.clone()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies())
        .path("/")
        .max_age(time_duration(SESSION_HOURS * 3600))
        .build()
}

/// The jar with the session cookie deleted (expired, not merely emptied).
pub(crate) fn remove_session_cookie(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(SESSION_COOKIE).path("/"))
}

fn time_duration(secs: i64) -> time::Duration {
    time::Duration::seconds(secs)
}

/// A nonce for the pre-session cookie, and the form token derived from it.
pub(crate) fn pre_session(state: &AppState, jar: &CookieJar) -> (Option<Cookie<'static>>, String) {
    let (nonce, cookie) = match jar.get(PRE_SESSION_COOKIE) {
        Some(c) if !c.value().is_empty() => (c.value().to_owned(), None),
        _ => {
            let nonce = random_token();
            let cookie = Cookie::build((PRE_SESSION_COOKIE, nonce.clone()))
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(state.settings.secure_cookies())
                .path("/")
                .max_age(time_duration(3600))
                .build();
            (nonce, Some(cookie))
        }
    };
    (cookie, pre_session_token(state, &nonce))
}

fn pre_session_token(state: &AppState, nonce: &str) -> String {
    // HMAC binds the token to this server's secret, so a cookie planted by
    // a neighbouring host is useless without its token. (Anyone can fetch a
    // matching pair from /login for their own browser; what stops a forged
    // cross-site sign-in is SameSite=Lax keeping the cookie at home.)
    let mut mac = Hmac::<Sha256>::new_from_slice(state.settings.secret_key.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"pre-session:");
    mac.update(nonce.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Resolves the session cookie to an [`Actor`] for the rest of the request.
pub async fn authenticate(
    State(state): State<AppState>,
    jar: CookieJar,
    mut req: Request,
    next: Next,
) -> Response {
    let actor = match jar
        .get(SESSION_COOKIE)
        .map(|c| c.value())
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(token) => match state.store.session_actor(token).await {
            Ok(actor) => actor,
            Err(err) => return ApiError(err).into_response(),
        },
    };
    if let Some(actor) = &actor {
        tracing::Span::current().record("user", tracing::field::display(actor.user.id));
    }
    req.extensions_mut().insert(Authenticated(actor));
    next.run(req).await
}

/// The largest form body the CSRF guard will read.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Refuses a state-changing request that does not carry the right CSRF token.
///
/// This runs for every route, so no form or API call can forget it. JSON API
/// calls without a session pass through (they can only sign in, which needs
/// `Content-Type: application/json`, which a cross-site form cannot send).
pub async fn csrf_guard(
    State(state): State<AppState>,
    jar: CookieJar,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let actor = req
        .extensions()
        .get::<Authenticated>()
        .and_then(|a| a.0.clone());
    // Two requests need no token. Signing in through the API must be JSON,
    // which no cross-site form can send. Signing out with no live session
    // has nothing left to protect, and must still clear a stale cookie.
    let path = req.uri().path();
    if (path == "/api/session" && req.method() == Method::POST)
        || (path == "/logout" && actor.is_none())
    {
        return next.run(req).await;
    }
    if req.uri().path().starts_with("/api/") {
        api_csrf(actor, req, next).await
    } else {
        form_csrf(&state, &jar, actor, req, next).await
    }
}

/// An API call: a signed-in caller echoes the session's token in a header.
async fn api_csrf(actor: Option<Actor>, req: Request, next: Next) -> Response {
    let Some(actor) = actor else {
        return next.run(req).await;
    };
    let sent = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if same(sent, &actor.csrf_token) {
        return next.run(req).await;
    }
    ApiError(Error::Forbidden).into_response()
}

/// A page form: read the body, find the token, and hand the body on (the
/// session's token, or before sign-in the one bound to the pre-session cookie).
async fn form_csrf(
    state: &AppState,
    jar: &CookieJar,
    actor: Option<Actor>,
    req: Request,
    next: Next,
) -> Response {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_multipart = content_type.starts_with("multipart/form-data");
    let expected = match &actor {
        Some(actor) => actor.csrf_token.clone(),
        None => match jar.get(PRE_SESSION_COOKIE) {
            Some(c) => pre_session_token(state, c.value()),
            None => String::new(),
        },
    };
    let field = |text: &[u8]| {
        form_urlencoded::parse(text)
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let valid = |sent: &str| !expected.is_empty() && same(sent, &expected);
    let expired = || {
        PageError(Error::Malformed(
            "this form has expired; go back, reload the page and try again".into(),
        ))
        .into_response()
    };
    // File uploads carry the token in the form's action URL: reading it from
    // a multipart body here would mean buffering the whole upload.
    if is_multipart {
        let sent = field(req.uri().query().unwrap_or("").as_bytes());
        return if valid(&sent) {
            next.run(req).await
        } else {
            expired()
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response(),
    };
    let sent = if is_form {
        field(&bytes)
    } else {
        String::new()
    };
    if !valid(&sent) {
        return expired();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Rejection when a route needs someone signed in.
#[derive(Debug)]
pub struct AuthRejection {
    api: bool,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        if self.api {
            ApiError(Error::Unauthenticated).into_response()
        } else {
            PageError(Error::Unauthenticated).into_response()
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .and_then(|a| a.0.clone())
            .ok_or(AuthRejection {
                api: parts.uri.path().starts_with("/api/"),
            })
    }
}

/// The actor if someone is signed in; for pages that anyone may see.
#[derive(Clone, Debug)]
pub struct MaybeActor(pub Option<Actor>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeActor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeActor(
            parts
                .extensions
                .get::<Authenticated>()
                .and_then(|a| a.0.clone()),
        ))
    }
}
