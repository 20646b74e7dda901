//! `/health`, Prometheus `/metrics`, and the request metrics middleware.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::AppState;
use crate::extract::Vnd;
use crate::store::Store;

/// `/health`, always served without credentials (probes).
pub fn health_router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// `/metrics`, behind credentials unless `Settings::public_metrics`.
pub fn metrics_router() -> Router<AppState> {
    Router::new().route("/metrics", get(prometheus))
}

/// How often histogram samples are folded into their summaries.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// herald-registry's recorder, once [`install_metrics`] has run: `Some` if it was
/// installed, `None` if another recorder held the process-wide slot.
static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs herald-registry's Prometheus recorder as the process-wide `metrics` recorder and
/// starts the thread that folds histogram samples (for the life of the process), so that
/// `/metrics` has something to render. [`Server::bind`](crate::Server::bind) (and so
/// [`serve`](crate::serve) and the binary) calls it; an application that serves
/// [`router`](crate::router) itself calls it once at start-up. Later calls do nothing.
///
/// Returns `false` when another recorder was installed first: `/metrics` then answers 503.
pub fn install_metrics() -> bool {
    RECORDER
        .get_or_init(|| {
            let handle = PrometheusBuilder::new().install_recorder().ok()?;
            // `install_recorder` leaves upkeep to us: without it every histogram sample is
            // kept until `/metrics` is scraped, and memory grows with every request.
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            Some(handle)
        })
        .is_some()
}

/// 200 when the store answers, 500 with 50001 otherwise.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Object)))]
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    match state.store.health().await {
        Ok(()) => {
            Vnd(serde_json::json!({"status": "UP", "store": state.store.backend()})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text")))]
pub(crate) async fn prometheus(State(state): State<AppState>) -> Response {
    metrics::gauge!("herald_registry_schema_cache_entries")
        .set(state.store.caches().schemas.len() as f64);
    match RECORDER.get().and_then(Option::as_ref) {
        Some(h) => {
            let mut resp = h.render().into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            resp
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder not installed: serve through herald_registry::serve or Server, or call herald_registry::install_metrics() at start-up",
        )
            .into_response(),
    }
}

/// The method as a label, without allocating for the usual ones.
fn method_label(method: &Method) -> metrics::SharedString {
    match *method {
        Method::GET => "GET".into(),
        Method::POST => "POST".into(),
        Method::PUT => "PUT".into(),
        Method::DELETE => "DELETE".into(),
        _ => method.to_string().into(),
    }
}

/// Counts requests by route and status and times them.
pub async fn track(req: Request, next: Next) -> Response {
    // One allocation for the route, shared by both metrics.
    let route: metrics::SharedString = match req.extensions().get::<MatchedPath>() {
        Some(p) => Arc::<str>::from(p.as_str()).into(),
        None => "unmatched".into(),
    };
    let method = method_label(req.method());
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("herald_registry_http_requests_total", "method" => method, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("herald_registry_http_request_duration_seconds", "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}
