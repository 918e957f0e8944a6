//! What every handler can reach ([`AppState`]), and the table every route
//! is declared in ([`Routes`]).
//!
//! Domains import this module and nothing of the app's assembly, so the
//! dependency runs one way: `app` builds on the domains, the domains build on
//! `state`. The table records each route as it is added, so the authorization
//! matrix test can insist that every route the app serves is covered.

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};
use mentorbridge_signalling::hub::Hub;
use mentorbridge_signalling::precall::PrecallPeer;
use mentorbridge_signalling::token::TokenKey;

use crate::auth::rate_limit::LoginLimiter;
use crate::config::Settings;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Configuration.
    pub settings: Arc<Settings>,
    /// Failed sign-in counts.
    pub login_limiter: Arc<LoginLimiter>,
    /// Reads and writes the cookies that mark a browser as known for the
    /// people who signed in on it.
    pub known_devices: crate::auth::rate_limit::KnownDevices,
    /// The server's connection counts (see [`crate::net`]).
    pub gate: Arc<crate::net::Gate>,
    /// Relay credentials minted for each person's pre-call checks.
    pub precall_ice_limiter: Arc<crate::auth::rate_limit::PerPerson>,
    /// Codes checked on the public certificate page, per address.
    pub certificate_checks: Arc<crate::auth::rate_limit::PerAddress>,
    /// The signalling rooms (served at `/ws`).
    pub hub: Hub,
    /// Signs join tokens (the hub checks them with the same secret).
    pub join_key: Arc<TokenKey>,
    /// The far end of the pre-call check.
    pub precall: PrecallPeer,
    /// Every school's message rules in memory, shared with the hub's chat
    /// filter.
    pub moderator: Arc<crate::safeguarding::Moderator>,
}

/// The calls side of the state, built at start-up by
/// [`crate::app::start_signalling`].
#[derive(Clone, Debug)]
pub struct Signalling {
    /// The signalling rooms.
    pub hub: Hub,
    /// Signs join tokens with the hub's secret.
    pub join_key: Arc<TokenKey>,
    /// The far end of the pre-call check.
    pub precall: PrecallPeer,
    /// The message rules the hub's chat filter reads.
    pub moderator: Arc<crate::safeguarding::Moderator>,
}

impl AppState {
    /// State over an open store and started signalling.
    pub fn new(store: Store, settings: Settings, signalling: Signalling) -> Self {
        let known_devices =
            crate::auth::rate_limit::KnownDevices::new(settings.secret_key.expose().as_bytes());
        let gate = crate::net::Gate::new(settings.net_limits);
        AppState {
            store,
            known_devices,
            settings: Arc::new(settings),
            login_limiter: Arc::new(LoginLimiter::default()),
            gate,
            precall_ice_limiter: Arc::new(crate::auth::rate_limit::PerPerson::new(
                crate::attendance::PRECALL_CHECKS_PER_TEN_MINUTES,
                std::time::Duration::from_secs(600),
            )),
            certificate_checks: Arc::new(crate::auth::rate_limit::PerAddress::new(
                crate::certificates::CHECKS_PER_TEN_MINUTES,
                std::time::Duration::from_secs(600),
            )),
            hub: signalling.hub,
            join_key: signalling.join_key,
            precall: signalling.precall,
            moderator: signalling.moderator,
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
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Routes {
    /// Every route declared so far.
    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    /// The router behind the table.
    pub fn into_router(self) -> Router<AppState> {
        self.router
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
