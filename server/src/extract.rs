//! Request extractors whose rejections speak the app's error format.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error, PageError};
use crate::state::AppState;

/// A JSON body; a malformed one is a 400 naming what serde could not read
/// (the field and the position).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError(json_error(rejection))),
        }
    }
}

fn json_error(rejection: JsonRejection) -> Error {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            Error::Malformed("send the body as JSON with `Content-Type: application/json`".into())
        }
        other => Error::Malformed(other.body_text()),
    }
}

/// An urlencoded form body; a malformed one is a 400 page saying what is missing.
#[derive(Debug)]
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(PageForm(value)),
            Err(rejection) => Err(PageError(form_error(rejection))),
        }
    }
}

fn form_error(rejection: FormRejection) -> Error {
    Error::Malformed(rejection.body_text())
}

/// The client's address, when the server knows it (not for in-process
/// calls). Behind a reverse proxy named in the settings, it is the address
/// the proxy saw: the right-most `X-Forwarded-For` entry that is not itself
/// a trusted proxy (entries further left are the client's to forge).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip());
        let trusted = &state.settings.trusted_proxies;
        let Some(peer) = peer.filter(|p| trusted.contains(p)) else {
            return Ok(ClientAddr(peer));
        };
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        let client = forwarded
            .into_iter()
            .rev()
            .find(|a| !trusted.contains(a))
            .unwrap_or(peer);
        Ok(ClientAddr(Some(client)))
    }
}
