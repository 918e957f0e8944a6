//! The HTTP application: its state, its route table, and how it is served.
//!
//! [`router`] builds the whole app for in-process tests; [`run`] serves it on
//! a listener until a shutdown future resolves, so tests bind `127.0.0.1:0`
//! and `main` binds the configured address. Every route is declared through
//! [`Routes`], which records it in a table; [`route_table`] exposes that table
//! so the authorization matrix test can insist that every route is covered.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodFilter, on};
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::rate_limit::LoginLimiter;
use crate::auth::{self, MaybeActor};
use crate::config::Settings;
use crate::store::Store;
use crate::{accounts, partnerships, schools, web};

/// Room events waiting for [`run`] to start storing them.
type PendingEvents = Arc<
    std::sync::Mutex<
        Option<tokio::sync::mpsc::UnboundedReceiver<mentorbridge_signalling::hub::RoomEvent>>,
    >,
>;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Configuration.
    pub settings: Arc<Settings>,
    /// Failed sign-in counts.
    pub login_limiter: Arc<LoginLimiter>,
    /// The signalling rooms (served at `/ws`).
    pub hub: mentorbridge_signalling::hub::Hub,
    /// Signs join tokens (the hub checks them with the same secret).
    pub join_key: Arc<mentorbridge_signalling::token::TokenKey>,
    /// The far end of the pre-call check.
    pub precall: mentorbridge_signalling::precall::PrecallPeer,
    room_events: PendingEvents,
}

impl AppState {
    /// State over an open store.
    pub fn new(store: Store, settings: Settings) -> Self {
        use mentorbridge_signalling::hub::{Config, Hub, NoFilter};
        use mentorbridge_signalling::token::TokenKey;
        // Two rustls back-ends are linked (ring, and aws-lc-rs through a
        // dependency); WebRTC's DTLS needs one named for the process. Only
        // the first call takes effect.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let secret = settings.secret_key.expose().as_bytes().to_vec();
        // The school-managed word filter comes with the safeguarding work;
        // until then every message is kept in the chat log.
        let hub = Hub::new(
            TokenKey::new(&secret),
            Config::default(),
            Box::new(settings.ice.clone()),
            Box::new(NoFilter),
            tx,
        );
        // Twenty checks at once, a minute each: a class setting up.
        let precall = mentorbridge_signalling::precall::PrecallPeer::new(
            &mentorbridge_signalling::hub::IceProvider::servers(&settings.ice, uuid::Uuid::nil()),
            20,
            std::time::Duration::from_secs(60),
        );
        AppState {
            store,
            settings: Arc::new(settings),
            login_limiter: Arc::new(LoginLimiter::default()),
            hub,
            join_key: Arc::new(TokenKey::new(&secret)),
            precall,
            room_events: Arc::new(std::sync::Mutex::new(Some(rx))),
        }
    }
}

/// One route as declared: its method and path pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RouteSpec {
    /// The HTTP method.
    pub method: Method,
    /// The axum path pattern, e.g. `/api/schools/{school_id}/staff`.
    pub path: &'static str,
}

/// A router that remembers every route added to it.
pub struct Routes {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Routes {
    fn new() -> Self {
        Routes {
            router: Router::new(),
            specs: Vec::new(),
        }
    }

    fn add<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("unsupported method {method} for {path}"));
        self.router = self.router.route(path, on(filter, handler));
        self.specs.push(RouteSpec { method, path });
        self
    }

    /// Adds a GET route.
    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::GET, path, h)
    }

    /// Adds a POST route.
    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::POST, path, h)
    }

    /// Adds a PUT route.
    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::PUT, path, h)
    }

    /// Adds a DELETE route.
    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::DELETE, path, h)
    }
}

fn all_routes() -> Routes {
    let routes = Routes::new()
        .get("/healthz", healthz)
        .get("/readyz", readyz)
        .get("/", root)
        .get("/static/{file}", web::static_file);
    let routes = auth::http::routes(routes);
    let routes = schools::http::routes(routes);
    let routes = accounts::http::routes(routes);
    let routes = crate::home::routes(routes);
    let routes = crate::calendar::http::routes(routes);
    let routes = crate::rosters::http::routes(routes);
    let routes = crate::referrals::http::routes(routes);
    let routes = crate::referrals::http::page_routes(routes);
    let routes = crate::mentors::http::routes(routes);
    let routes = crate::mentors::http::page_routes(routes);
    let routes = crate::matching::http::routes(routes);
    let routes = crate::booking::http::routes(routes);
    let routes = crate::booking::pages::page_routes(routes);
    let routes = crate::attendance::http::routes(routes);
    partnerships::http::routes(routes)
}

/// Every route the app serves.
pub fn route_table() -> Vec<RouteSpec> {
    all_routes().specs
}

/// The whole application, ready to serve or to call in-process.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    all_routes()
        .router
        .route(
            "/ws",
            axum::routing::get(crate::attendance::http::websocket),
        )
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
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .with_state(state)
}

/// Serves the app on `listener` until `shutdown` resolves, then finishes the
/// requests in flight. With a mail server configured, it also sends the
/// invite outbox meanwhile.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = match &state.settings.tls {
        Some(files) => Some(crate::tls::server_config(files).map_err(std::io::Error::other)?),
        None => None,
    };
    let mailer = match &state.settings.mail {
        Some(mail) => {
            let mailer = crate::invites::mail::Mailer::new(mail, &state.settings.base_url())
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            // Stopping mid-send is safe: the message's lease runs out and
            // it is sent again (calendars match it by UID and SEQUENCE).
            Some(tokio::spawn(mailer.run(state.store.clone())))
        }
        None => None,
    };
    let mut tasks: Vec<tokio::task::JoinHandle<()>> = mailer.into_iter().collect();
    let pending = state
        .room_events
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(events) = pending {
        tasks.push(tokio::spawn(crate::attendance::record_events(
            state.store.clone(),
            events,
        )));
    }
    tasks.push(tokio::spawn(crate::attendance::settle_forever(
        state.store.clone(),
    )));
    tasks.push(tokio::spawn(
        state
            .hub
            .clone()
            .sweep_forever(std::time::Duration::from_secs(1)),
    ));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    use axum::serve::ListenerExt;
    let served = match tls {
        Some(config) => {
            // `tap_io` lends the TLS listener axum's client-address plumbing.
            let listener = crate::tls::TlsListener::new(listener, config)?.tap_io(|_| {});
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            // Signalling messages are small and each one matters now: no Nagle.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    for task in tasks {
        task.abort();
    }
    served
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
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
