//! The HTTP side of a connection: the listening socket, and the upgrade
//! of `GET /ws` to a websocket (RFC 6455, section 4.2).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};

use super::serve;
use crate::hub::Hub;

/// The connections waiting to be accepted, at most.
pub const BACKLOG: u32 = 1024;

/// A listening socket for the server, with room for a whole school's
/// iPads connecting at once. (Bound the usual way, the queue here holds
/// 128; when it is full a connection attempt is dropped and the iPad
/// tries again only a second later.)
pub fn listener(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Why a request is not a websocket upgrade we take.
fn not_upgrade(what: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        format!("expected a websocket upgrade: {what}"),
    )
        .into_response()
}

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// An axum handler for `GET /ws`: checks the upgrade (RFC 6455 section
/// 4.2), answers `101 Switching Protocols` and serves the connection.
pub async fn handler(State(hub): State<Hub>, mut request: Request) -> Response {
    if hub.is_shutting_down() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the signalling server is shutting down",
        )
            .into_response();
    }
    let headers = request.headers();
    if !header_has(headers, header::CONNECTION, "upgrade") {
        return not_upgrade("Connection must include `upgrade`");
    }
    if !header_has(headers, header::UPGRADE, "websocket") {
        return not_upgrade("Upgrade must be `websocket`");
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return (
            StatusCode::UPGRADE_REQUIRED,
            [(header::SEC_WEBSOCKET_VERSION, "13")],
            "expected a websocket upgrade: Sec-WebSocket-Version must be 13",
        )
            .into_response();
    }
    if !origin_allowed(headers, &hub.config().allowed_origins) {
        return (
            StatusCode::FORBIDDEN,
            "this page's origin may not open the signalling socket",
        )
            .into_response();
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return not_upgrade("Sec-WebSocket-Key is missing");
    };
    if base64::engine::general_purpose::STANDARD
        .decode(key.as_bytes())
        .map_or(true, |k| k.len() != 16)
    {
        return not_upgrade("Sec-WebSocket-Key must be 16 bytes in base64");
    }
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let Some(pending) = hub.reserve_pending(address) else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "too many connections are waiting to sign in; try again in a moment",
        )
            .into_response();
    };
    let accept = accept_key(key.as_bytes());
    let Some(on_upgrade) = request
        .extensions_mut()
        .remove::<hyper::upgrade::OnUpgrade>()
    else {
        return not_upgrade("this connection cannot be upgraded");
    };
    // The upgrade completes once the response below is out. This task
    // waits for it, then hands the connection to a task of its own that
    // holds nothing else (awaited here, it would carry this task's state
    // too, and take a larger size class).
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            tokio::spawn(serve(hub, TokioIo::new(upgraded), pending));
        }
    });
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [
            (header::CONNECTION, HeaderValue::from_static("upgrade")),
            (header::UPGRADE, HeaderValue::from_static("websocket")),
            (header::SEC_WEBSOCKET_ACCEPT, accept),
        ],
    )
        .into_response()
}

/// Whether the request's `Origin` (if any) is one of `allowed` (all are,
/// if `allowed` is empty). Browsers always send `Origin` on a websocket
/// upgrade; its scheme and host are lower case, but a port or a host
/// could be written otherwise in the configuration, so case is ignored.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let origin = origin.as_bytes();
    allowed.iter().any(|a| {
        a.trim_end_matches('/')
            .as_bytes()
            .eq_ignore_ascii_case(origin)
    })
}

/// `Sec-WebSocket-Accept` for a client's key.
pub(super) fn accept_key(key: &[u8]) -> HeaderValue {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let encoded = base64::engine::general_purpose::STANDARD.encode(sha.finalize());
    // Base64 is always a valid header value.
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static(""))
}
