//! herald-registry: a drop-in for the Confluent Schema Registry REST API for JSON Schema,
//! stored in PostgreSQL (production) or SQLite (embedded default).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use herald_registry::{AppState, ServeOptions, Settings, serve, store};
//! let store = store::connect("sqlite://registry.db", 8).await?;
//! let state = AppState::new(store, Settings::default());
//! // The start-up rules (no anonymous or plain-HTTP credentials off loopback unless told),
//! // TLS when configured, and client addresses for the failed-login limit.
//! let options = ServeOptions::new("127.0.0.1:8081".parse()?);
//! serve(state, options, std::future::pending()).await?;
//! # Ok(()) }
//! ```
//!
//! [`router`] gives the bare `axum::Router` for embedding; serve it with
//! `into_make_service_with_connect_info::<SocketAddr>()` to keep the failed-login limit, and
//! call [`install_metrics`] once at start-up for `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use herald_schema::{CompatibilityLevel, Policy};

pub mod auth;
mod bodies;
pub mod cache;
pub mod canonical;
pub mod checks;
mod compatibility;
mod config;
pub mod credentials;
pub mod error;
mod extract;
mod finish;
pub mod login_limit;
mod misc;
mod mode;
mod observe;
mod openapi;
mod registration;
mod schemas;
pub mod serve;
pub mod store;
mod subjects;

pub use cache::CachedStore;
pub use error::{Error, Result};
/// The Rust client (its own crate, so its users do not link the server).
pub use herald_registry_client as client;
/// Media type of every response (requests may also use `application/vnd.schemaregistry+json`
/// or `application/json`).
pub use herald_registry_client::CONTENT_TYPE;
pub use observe::install_metrics;
pub use serve::{ServeError, ServeOptions, Server, TlsFiles, serve};
pub use store::Store;

use crate::canonical::SchemaLimits;

/// Server settings that do not live in the database.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Level used when neither the subject nor the global config sets one.
    pub default_compatibility: CompatibilityLevel,
    pub default_policy: Policy,
    pub limits: SchemaLimits,
    /// Largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// Requests that take longer fail with 50002.
    pub request_timeout: Duration,
    /// `error_code` of an incompatible schema: 409 (historic, the default) or 40901.
    pub incompatible_error_code: u32,
    /// API keys and users; `None` serves anonymously.
    pub auth: Option<Arc<auth::Credentials>>,
    /// Serve `/metrics` without credentials even when `auth` is set.
    pub public_metrics: bool,
    /// Serve `/openapi.json` without credentials even when `auth` is set.
    pub public_openapi: bool,
    /// Failed logins allowed per client address.
    pub login_limit: login_limit::LoginLimitSettings,
    /// A compatibility check (or schema validation) that takes longer fails with 50002.
    pub check_timeout: Duration,
    /// Checks run at once on the blocking pool; more wait for a free slot (within their
    /// deadline). Keep it below the runtime's blocking threads.
    pub max_concurrent_checks: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            default_compatibility: CompatibilityLevel::Backward,
            default_policy: Policy::Strict,
            limits: SchemaLimits::default(),
            max_body_bytes: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            incompatible_error_code: 409,
            auth: None,
            public_metrics: false,
            public_openapi: false,
            login_limit: login_limit::LoginLimitSettings::default(),
            check_timeout: Duration::from_secs(10),
            max_concurrent_checks: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store, with the hot reads cached.
    pub store: Arc<CachedStore>,
    pub settings: Arc<Settings>,
    /// Failed logins by client address.
    pub(crate) logins: Arc<login_limit::LoginLimit>,
    /// Where checks run, and how many are running.
    pub checks: Arc<checks::Checks>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        Self {
            store: Arc::new(CachedStore::new(store)),
            logins: Arc::new(login_limit::LoginLimit::new(settings.login_limit)),
            checks: Arc::new(checks::Checks::new(
                settings.max_concurrent_checks,
                settings.check_timeout,
            )),
            settings: Arc::new(settings),
        }
    }
}

/// The whole HTTP API with its middleware (auth, limits, timeout, tracing, metrics).
///
/// Building a router changes nothing outside it: requests are counted through whatever
/// `metrics` recorder is current, and `/metrics` answers 503 until [`install_metrics`] has
/// run ([`Server::bind`] does it).
pub fn router(state: AppState) -> axum::Router {
    use axum::Router;
    use axum::error_handling::HandleErrorLayer;
    use axum::extract::DefaultBodyLimit;
    use axum::middleware;
    use tower::ServiceBuilder;

    let mut api = Router::new()
        .merge(subjects::router())
        .merge(schemas::router())
        .merge(compatibility::router())
        .merge(config::router())
        .merge(mode::router())
        .merge(misc::router());
    // Health stays open for probes; metrics and the API description only when told.
    let mut open = Router::new().merge(observe::health_router());
    if state.settings.public_metrics {
        open = open.merge(observe::metrics_router());
    } else {
        api = api.merge(observe::metrics_router());
    }
    if state.settings.public_openapi {
        open = open.merge(openapi::router());
    } else {
        api = api.merge(openapi::router());
    }
    // Served anonymously, the layer would let everything through at a cost on every request.
    if state.settings.auth.is_some() {
        api = api.route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_role,
        ));
    }

    let timeout = state.settings.request_timeout;
    Router::new()
        .merge(api)
        .merge(open)
        .fallback(|| async { Error::RouteNotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(
            ServiceBuilder::new()
                .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                    |_: Box<dyn std::any::Any + Send>| {
                        axum::response::IntoResponse::into_response(Error::Internal(
                            "handler panicked".to_owned(),
                        ))
                    },
                ))
                .layer(tower_http::trace::TraceLayer::new_for_http())
                .layer(middleware::from_fn(observe::track))
                .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                    Error::Timeout
                }))
                .layer(tower::timeout::TimeoutLayer::new(timeout))
                .layer(middleware::from_fn(finish::writes_run_to_completion)),
        )
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .with_state(state)
}
