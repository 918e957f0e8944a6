//! Signing in and out: the sign-in page, and the same through the JSON API.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};

use std::time::Instant;

use super::rate_limit::KNOWN_DEVICE_COOKIE;
use super::{Actor, MaybeActor, NewSession, SESSION_COOKIE, password};
use crate::error::{ApiError, Error, PageError, Result};
use crate::extract::{ApiJson, ClientAddr, PageForm};
use crate::people::accounts::User;
use crate::state::{AppState, Routes};
use crate::web::render;

/// The sign-in routes.
pub fn routes(routes: Routes) -> Routes {
    routes
        .get("/login", login_page)
        .post("/login", login_submit)
        .post("/logout", logout)
        .post("/api/session", api_login)
        .delete("/api/session", api_logout)
        .get("/api/me", api_me)
}

/// Checks a username and password, minding the rate limit, and starts a
/// session. `known` is the browser's known-device cookie; a success returns
/// its new value, naming this username too.
async fn sign_in(
    state: &AppState,
    username: &str,
    pass: String,
    addr: ClientAddr,
    known: Option<&str>,
) -> Result<(User, NewSession, String)> {
    if username.trim().is_empty() {
        return Err(Error::invalid("username", "enter your username"));
    }
    if pass.is_empty() {
        return Err(Error::invalid("password", "enter your password"));
    }
    if username.len() > 64 {
        return Err(Error::Unauthenticated);
    }
    let is_known = state.known_devices.knows(known, username);
    // The limit is checked holding a turn to hash, so the few tries being
    // checked are all that can be allowed and not yet counted.
    let turn = password::hashing_permit().await?;
    state
        .login_limiter
        .check(username, addr.0, is_known, Instant::now())
        .map_err(|retry_after_secs| Error::RateLimited { retry_after_secs })?;
    let found = state.store.user_for_sign_in(username).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let ok = password::verify(&turn, pass, hash).await?;
    drop(turn);
    match user {
        // Said only to someone who knows the password.
        Some(user) if ok && user.disabled_at.is_some() => Err(Error::invalid(
            "username",
            "this account has been turned off by the school; ask the school's coordinator",
        )),
        Some(user) if ok => {
            state.login_limiter.record_success(username);
            let session = state
                .store
                .create_session(user.id, state.settings.idle_limits.of(user.role))
                .await?;
            tracing::info!(user = %user.id, "signed in");
            let known = state.known_devices.add(known, username);
            Ok((user, session, known))
        }
        _ => {
            state
                .login_limiter
                .record_failure(username, addr.0, Instant::now());
            tracing::info!("failed sign-in");
            Err(Error::Unauthenticated)
        }
    }
}

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    signed_out: bool,
    password_changed: bool,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct LoginQuery {
    signed_out: Option<String>,
    password_changed: Option<String>,
    /// Filled in from a sign-in card's QR code.
    username: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    MaybeActor(actor): MaybeActor,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Response {
    if actor.is_some() {
        return Redirect::to("/home").into_response();
    }
    let (cookie, csrf) = super::pre_session(&state, &jar);
    let jar = match cookie {
        Some(c) => jar.add(c),
        None => jar,
    };
    let page = LoginPage {
        csrf,
        signed_out: q.signed_out.is_some(),
        password_changed: q.password_changed.is_some(),
        username: q
            .username
            .filter(|u| crate::people::accounts::Username::parse(u).is_ok())
            .unwrap_or_default(),
        error: None,
    };
    (jar, Html(render(&page))).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    addr: ClientAddr,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    let known = jar.get(KNOWN_DEVICE_COOKIE).map(|c| c.value().to_owned());
    match sign_in(
        &state,
        &form.username,
        form.password,
        addr,
        known.as_deref(),
    )
    .await
    {
        Ok((user, session, known)) => {
            if let Some(old) = jar.get(SESSION_COOKIE)
                && let Err(err) = state.store.end_session(old.value()).await
            {
                return PageError(err).into_response();
            }
            let jar = jar
                .remove(super::PRE_SESSION_COOKIE)
                .add(super::session_cookie(&state, &session, user.role))
                .add(super::known_device_cookie(&state, known));
            (jar, Redirect::to("/home")).into_response()
        }
        Err(err) => {
            let (status, message) = match &err {
                Error::Unauthenticated => (
                    StatusCode::UNAUTHORIZED,
                    "That username and password do not match. Check them and try again, or ask a teacher to reset your password.".to_owned(),
                ),
                Error::RateLimited { .. } | Error::Invalid { .. } => (err.status(), err.public_message()),
                _ => return PageError(err).into_response(),
            };
            let (_, csrf) = super::pre_session(&state, &jar);
            let page = LoginPage {
                csrf,
                signed_out: false,
                password_changed: false,
                username: form.username,
                error: Some(message),
            };
            let mut response = (status, Html(render(&page))).into_response();
            if let Error::RateLimited { retry_after_secs } = err {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
            }
            response
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    MaybeActor(actor): MaybeActor,
    jar: CookieJar,
) -> Result<Response, PageError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        state.store.end_session(c.value()).await?;
    }
    // Someone whose session had already lapsed still gets a clean sign-in page.
    let to = if actor.is_some() {
        "/login?signed_out=1"
    } else {
        "/login"
    };
    Ok((super::remove_session_cookie(jar), Redirect::to(to)).into_response())
}

#[derive(Deserialize)]
struct ApiLogin {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct SessionInfo {
    user: User,
    csrf_token: String,
}

async fn api_login(
    State(state): State<AppState>,
    jar: CookieJar,
    addr: ClientAddr,
    ApiJson(body): ApiJson<ApiLogin>,
) -> Result<Response, ApiError> {
    let known = jar.get(KNOWN_DEVICE_COOKIE).map(|c| c.value().to_owned());
    let (user, session, known) = sign_in(
        &state,
        &body.username,
        body.password,
        addr,
        known.as_deref(),
    )
    .await?;
    if let Some(old) = jar.get(SESSION_COOKIE) {
        state.store.end_session(old.value()).await?;
    }
    let jar = jar
        .add(super::session_cookie(&state, &session, user.role))
        .add(super::known_device_cookie(&state, known));
    let info = SessionInfo {
        user,
        csrf_token: session.csrf_token,
    };
    Ok((jar, Json(info)).into_response())
}

async fn api_logout(
    State(state): State<AppState>,
    _actor: Actor,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        state.store.end_session(c.value()).await?;
    }
    Ok((super::remove_session_cookie(jar), StatusCode::NO_CONTENT).into_response())
}

async fn api_me(actor: Actor) -> Json<SessionInfo> {
    Json(SessionInfo {
        user: actor.user,
        csrf_token: actor.csrf_token,
    })
}
