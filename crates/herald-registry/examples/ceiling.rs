//! The ceiling for the registry benchmark: a trivial axum endpoint on the same runtime and
//! server as `herald-registry`, so `bench/run.sh` can report the registry's figures as a
//! fraction of what this machine serves at all.
//!
//! `cargo run --release -p herald-registry --example ceiling -- 127.0.0.1:18181`

use axum::Router;
use axum::http::header;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18181".to_owned());
    let app = Router::new().route(
        "/",
        get(|| async {
            (
                [(
                    header::CONTENT_TYPE,
                    "application/vnd.schemaregistry.v1+json",
                )],
                r#"{"schemaType":"JSON","schema":"{\"type\":\"object\"}"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
