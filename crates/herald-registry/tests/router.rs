//! Building routers has no process-wide side effect: no global `metrics` recorder, no
//! thread. Its own test binary, because serving (in the other tests) installs the recorder.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Backend, TestDb};
use herald_registry::{AppState, Settings, router};
use metrics_exporter_prometheus::PrometheusBuilder;
use tower::ServiceExt;

async fn status_of(app: axum::Router, path: &str) -> StatusCode {
    let request = Request::get(path).body(Body::empty()).expect("request");
    app.oneshot(request).await.expect("infallible").status()
}

#[tokio::test]
async fn building_routers_installs_no_global_recorder() {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.open().await;
    let first = router(AppState::new(store.clone(), Settings::default()));
    let second = router(AppState::new(store, Settings::default()));

    assert_eq!(status_of(first.clone(), "/subjects").await, StatusCode::OK);
    assert_eq!(status_of(second, "/subjects").await, StatusCode::OK);
    // Nothing to render until the application installs the recorder.
    assert_eq!(
        status_of(first, "/metrics").await,
        StatusCode::SERVICE_UNAVAILABLE
    );

    // The process-wide slot is still free.
    metrics::set_global_recorder(PrometheusBuilder::new().build_recorder())
        .expect("building a router must not install a global metrics recorder");
}
