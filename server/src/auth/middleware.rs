//! The session and pre-session cookies, the two middlewares every request
//! passes ([`authenticate`], then [`csrf_guard`]), and the extractors
//! handlers name the caller by ([`Actor`], [`MaybeActor`]).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{
    Actor, CSRF_FIELD, CSRF_HEADER, NewSession, PRE_SESSION_COOKIE, SESSION_COOKIE, SESSION_HOURS,
    random_token,
};
use crate::error::{ApiError, Error, PageError};
use crate::state::AppState;

/// The result of [`authenticate`], stored in request extensions.
#[derive(Clone, Debug)]
struct Authenticated(Option<Actor>);

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The session cookie for a new session.
/// The session cookie. A pupil's lasts only while the browser is open (a
/// shared iPad's next user starts signed out); staff keep theirs for the
/// day.
pub(crate) fn session_cookie(
    state: &AppState,
    session: &NewSession,
    role: crate::people::accounts::Role,
) -> Cookie<'static> {
    let cookie = Cookie::build((SESSION_COOKIE, session.token.clone()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies())
        .path("/");
    if role == crate::people::accounts::Role::Student {
        cookie.build()
    } else {
        cookie.max_age(time_duration(SESSION_HOURS * 3600)).build()
    }
}

/// The cookie that marks this browser as one where these people have
/// signed in before (see [`super::rate_limit::KnownDevices`]): kept for a
/// school year, and sent only to this server.
pub(crate) fn known_device_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((super::rate_limit::KNOWN_DEVICE_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.secure_cookies())
        .path("/")
        .max_age(time_duration(400 * 24 * 3600))
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
        Some(token) => match state
            .store
            .session_actor(token, &state.settings.idle_limits)
            .await
        {
            Ok(actor) => actor,
            Err(err) => return ApiError(err).into_response(),
        },
    };
    if let Some(actor) = &actor {
        tracing::Span::current().record("user", tracing::field::display(actor.user.id));
    }
    if let Some(slot) = req
        .extensions()
        .get::<std::sync::Arc<crate::net::ConnSlot>>()
    {
        if actor.is_some() {
            slot.identify();
        } else if slot.refused_as_anonymous() && req.uri().path() != "/ws" {
            // Taken while the server was full of connections nobody has
            // signed in on: only the signed-in are served on it. (The
            // signalling socket's authority is its join token, and the hub
            // caps the sockets that have not said hello itself.)
            let mut busy = (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "The server is very busy. Try again in a few seconds.",
            )
                .into_response();
            let headers = busy.headers_mut();
            headers.insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
            headers.insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            return busy;
        }
    }
    let signed_in = actor.is_some() && !req.uri().path().starts_with("/static/");
    req.extensions_mut().insert(Authenticated(actor));
    let mut response = next.run(req).await;
    if signed_in {
        // A shared iPad's browser must not keep a page of someone's
        // referrals or messages for the next pupil's Back button.
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    response
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
