//! The app assembled and served: start-up's steps, the whole route table,
//! [`router`] for in-process tests and [`run`] for a real listener.
//!
//! Start-up is a sequence of named steps, each called by `main` (and by the
//! test harness) in turn: [`install_crypto_provider`], [`start_signalling`],
//! [`AppState::new`], then [`run`], which starts the background tasks
//! ([`Background`]), serves until the shutdown future resolves, finishes the
//! requests in flight and stops the tasks. Nothing starts as a side effect of
//! building the state.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mentorbridge_signalling::hub::{Config, Hub, IceProvider, RoomEvent};
use mentorbridge_signalling::precall::PrecallPeer;
use mentorbridge_signalling::token::TokenKey;
use tokio::net::TcpListener;
use tokio::sync::mpsc::Receiver;
use tokio::task::JoinHandle;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{self, MaybeActor};
use crate::config::Settings;
use crate::people::{accounts, partnerships, schools};
use crate::state::{AppState, RouteSpec, Routes, Signalling};
use crate::web;

/// The room events the hub emits, for [`Background`] to store as attendance.
pub type RoomEvents = Receiver<RoomEvent>;

/// Names one rustls crypto provider for the process. Two back-ends are linked
/// (ring, and aws-lc-rs through a dependency), and WebRTC's DTLS needs one
/// named; only the first call takes effect, so calling it again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the signalling hub, the key that signs its join tokens, and the
/// pre-call peer; returns them with the hub's room events.
pub fn start_signalling(settings: &Settings) -> (Signalling, RoomEvents) {
    // Bounded: when storing falls behind, the hub holds the calls' sign-ins
    // and leaves back rather than dropping events (a school's lesson start
    // is a few hundred joins at once).
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let secret = settings.secret_key.expose().as_bytes().to_vec();
    // The chat filter is the thread's moderation, on the rules the
    // moderator holds for each call's two schools.
    let moderator = Arc::new(crate::safeguarding::Moderator::default());
    let hub = Hub::new(
        TokenKey::new(&secret),
        Config {
            allowed_origins: allowed_origins(settings),
            ..Config::default()
        },
        Box::new(settings.ice.clone()),
        Box::new(crate::safeguarding::CallFilter(moderator.clone())),
        tx,
    );
    // Twenty checks at once, a minute each: a class setting up.
    let precall = PrecallPeer::new(
        &IceProvider::servers(&settings.ice, uuid::Uuid::nil()),
        20,
        std::time::Duration::from_secs(60),
    );
    let signalling = Signalling {
        hub,
        join_key: Arc::new(TokenKey::new(&secret)),
        precall,
        moderator,
    };
    (signalling, rx)
}

/// The pages' own origin, the only one whose pages may open the signalling
/// socket (a page elsewhere could otherwise use a visitor's join token).
/// Served on a loopback address, `localhost` is the same server.
fn allowed_origins(settings: &Settings) -> Vec<String> {
    let base = settings.base_url();
    let origin = match base.parse::<axum::http::Uri>() {
        Ok(uri) => match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
            _ => base,
        },
        Err(_) => base,
    };
    let mut origins = vec![origin];
    if settings.bind.ip().is_loopback() {
        let scheme = if settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        origins.push(format!("{scheme}://localhost:{}", settings.bind.port()));
    }
    origins
}

/// The tasks that run beside the server: storing room events as attendance,
/// settling sessions whose rooms have closed, sweeping the hub, and (with a
/// mail server configured) sending the invite outbox. Each is supervised: a
/// panic is logged and the task started again, so one bad row cannot stop
/// every school's invites or attendance until a restart.
pub struct Background {
    /// Storing room events: it ends by itself once the hub has let go of
    /// the events and every one is stored.
    events: JoinHandle<()>,
    others: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts every background task.
    pub fn start(state: &AppState, events: RoomEvents) -> std::io::Result<Self> {
        let mut tasks = Vec::new();
        if let Some(mail) = &state.settings.mail {
            let mailer = crate::invites::mail::Mailer::new(mail, &state.settings.base_url())
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let mailer = Arc::new(mailer);
            let store = state.store.clone();
            // Stopping mid-send is safe: the message's lease runs out and
            // it is sent again (calendars match it by UID and SEQUENCE).
            tasks.push(tokio::spawn(supervised("sending mail", move || {
                let (mailer, store) = (mailer.clone(), store.clone());
                async move { mailer.run(&store).await }
            })));
        }
        let events = Arc::new(tokio::sync::Mutex::new(events));
        let (store, moderator) = (state.store.clone(), state.moderator.clone());
        let events = tokio::spawn(supervised("storing room events", move || {
            let (store, moderator, events) = (store.clone(), moderator.clone(), events.clone());
            async move {
                let mut events = events.lock().await;
                crate::attendance::record_events(store, moderator, &mut events).await;
            }
        }));
        let store = state.store.clone();
        tasks.push(tokio::spawn(supervised("settling sessions", move || {
            crate::attendance::settle_forever(store.clone())
        })));
        let hub = state.hub.clone();
        tasks.push(tokio::spawn(supervised("sweeping calls", move || {
            hub.clone().sweep_forever(std::time::Duration::from_secs(1))
        })));
        Ok(Background {
            events,
            others: tasks,
        })
    }

    /// Waits (for at most `wait`) until every room event is stored, then
    /// stops the other tasks. Call it once the hub has shut down.
    pub async fn finish(self, wait: std::time::Duration) {
        let mut events = self.events;
        if tokio::time::timeout(wait, &mut events).await.is_err() {
            tracing::error!(
                "room events were still arriving at shutdown; some attendance may be missing"
            );
            events.abort();
        }
        for task in self.others {
            task.abort();
        }
    }
}

/// Runs the task `start` makes until it returns; when it panics, logs the
/// panic and starts it again a second later (not at once, so a panic on
/// every try does not spin a core).
pub async fn supervised<F, Fut>(name: &'static str, mut start: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    use futures_util::FutureExt;
    loop {
        match std::panic::AssertUnwindSafe(start()).catch_unwind().await {
            Ok(()) => return,
            Err(panic) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(task = name, panic = %why, "a background task panicked; starting it again");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

fn all_routes() -> Routes {
    let routes = Routes::default()
        .get("/healthz", healthz)
        .get("/readyz", readyz)
        .get("/", root)
        .get("/static/{file}", web::static_file);
    let routes = auth::http::routes(routes);
    let routes = schools::http::routes(routes);
    let routes = schools::pages::routes(routes);
    let routes = accounts::http::routes(routes);
    let routes = accounts::pages::routes(routes);
    let routes = crate::home::routes(routes);
    let routes = crate::calendar::http::routes(routes);
    let routes = crate::calendar::pages::routes(routes);
    let routes = crate::people::rosters::http::routes(routes);
    let routes = crate::people::referrals::http::routes(routes);
    let routes = crate::people::referrals::pages::routes(routes);
    let routes = crate::people::mentors::http::routes(routes);
    let routes = crate::people::mentors::pages::routes(routes);
    let routes = crate::matching::http::routes(routes);
    let routes = crate::matching::pages::routes(routes);
    let routes = crate::booking::http::routes(routes);
    let routes = crate::invites::http::routes(routes);
    let routes = crate::booking::pages::page_routes(routes);
    let routes = crate::attendance::http::routes(routes);
    let routes = crate::attendance::pages::routes(routes);
    let routes = crate::messaging::http::routes(routes);
    let routes = crate::messaging::pages::routes(routes);
    let routes = crate::safeguarding::http::routes(routes);
    let routes = crate::safeguarding::pages::routes(routes);
    let routes = crate::record::http::routes(routes);
    let routes = crate::record::pages::routes(routes);
    let routes = crate::certificates::http::routes(routes);
    let routes = crate::certificates::pages::routes(routes);
    let routes = crate::people::groups::http::routes(routes);
    let routes = crate::people::groups::pages::routes(routes);
    let routes = crate::reports::http::routes(routes);
    let routes = crate::reports::pages::routes(routes);
    let routes = partnerships::http::routes(routes);
    partnerships::pages::routes(routes)
}

/// Every route the app serves.
pub fn route_table() -> Vec<RouteSpec> {
    all_routes().specs().to_vec()
}

/// The whole application, ready to serve or to call in-process.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    // Over https, browsers are told to come back only over https.
    let hsts = state
        .settings
        .secure_cookies()
        .then(|| HeaderValue::from_static("max-age=31536000"));
    all_routes()
        .into_router()
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::csrf_guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_owned();
                // The path pattern, not the path: ids stay out of the logs,
                // and the query string (which may hold a token) never enters.
                tracing::info_span!("request", method = %req.method(), %route, %id, user = tracing::field::Empty)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &Response| hsts.clone(),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .with_state(state)
}

/// Serves the app on `listener` until `shutdown` resolves; the
/// [`Background`] tasks run meanwhile. Then, in order:
/// 1. no new connection is accepted, and the requests in flight finish
///    (for at most ten seconds); at the same time every call is told the
///    server is going (`1001 Going Away`) and its members are recorded as
///    having left;
/// 2. every room event still on its way is stored, so no attendance is
///    lost;
/// 3. the other background tasks stop.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    events: RoomEvents,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Read the certificate before anything starts, so a wrong file stops start-up.
    let tls = match &state.settings.tls {
        Some(files) => Some(tokio_rustls::TlsAcceptor::from(
            crate::tls::server_config(files).map_err(std::io::Error::other)?,
        )),
        None => None,
    };
    let background = Background::start(&state, events)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stopping| *stopping).await;
    };
    let hub = state.hub.clone();
    let calls = {
        let stopped = stopped(stop_rx.clone());
        async move {
            stopped.await;
            hub.shutdown(std::time::Duration::from_secs(5)).await;
        }
    };
    let gate = state.gate.clone();
    let (served, ()) = tokio::join!(
        crate::net::serve(listener, tls, router(state), gate, stopped(stop_rx)),
        calls
    );
    background.finish(std::time::Duration::from_secs(10)).await;
    served
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state
        .store
        .ping(std::time::Duration::from_millis(800))
        .await
    {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn root(MaybeActor(actor): MaybeActor) -> Redirect {
    match actor {
        Some(_) => Redirect::to("/home"),
        None => Redirect::to("/login"),
    }
}

async fn not_found(req: Request) -> Response {
    let err = crate::error::Error::NotFound("page");
    if req.uri().path().starts_with("/api/") {
        crate::error::ApiError(err).into_response()
    } else {
        crate::error::PageError(err).into_response()
    }
}
