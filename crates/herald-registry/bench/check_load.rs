//! `GET /schemas/ids/{id}` latency while 8 clients post the largest allowed transitive
//! compatibility check in a loop, as a ratio to the same GET on the idle server, measured in
//! the same process, idle and loaded phases alternating. The target is a p99 under
//! 50 ms under that load: reported, not asserted.
//!
//! `cargo bench -p herald-registry --bench check_load` (PostgreSQL on 127.0.0.1:5432 and
//! SQLite). Environment: `HERALD_BENCH_ROUNDS` (idle/loaded pairs, default 3),
//! `HERALD_BENCH_SECONDS` (per phase, default 4), `HERALD_BENCH_VERSIONS` (versions the check
//! reads, default 8), `HERALD_BENCH_SCHEMA_BYTES` (default: the server's limit, 1 MiB),
//! `HERALD_BENCH_STORES` (default `sqlite,postgres`).
//!
//! The server runs on its own runtime (as many workers as CPUs, checks bounded by the
//! default `max_concurrent_checks`); the clients on another.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::Backend;
use herald_registry::Settings;
use serde_json::{Value, json};

const CLIENTS: usize = 8;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An object schema of `props` properties; `tag` changes descriptions only, so every tag is
/// compatible with every other in both directions.
fn wide(props: usize, tag: &str) -> Value {
    let mut p = serde_json::Map::new();
    for i in 0..props {
        p.insert(
            format!("field_{i:06}"),
            json!({"type": "object", "description": format!("{tag} {i}"),
                   "properties": {"a": {"type": "string"}, "b": {"type": "integer", "minimum": 0}},
                   "required": ["a"]}),
        );
    }
    json!({"type": "object", "title": tag, "properties": p})
}

/// Properties of the widest such schema under `bytes` (tags up to 16 characters).
fn widest_props(bytes: usize) -> usize {
    let tag = "x".repeat(16);
    let (mut lo, mut hi) = (1, 2);
    while wide(hi, &tag).to_string().len() < bytes {
        (lo, hi) = (hi, hi * 2);
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if wide(mid, &tag).to_string().len() < bytes {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

fn body(schema: &Value) -> String {
    json!({"schemaType": "JSON", "schema": schema.to_string()}).to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

struct Phase {
    latencies: Vec<Duration>,
    /// GETs that started while every check permit was taken.
    saturated: usize,
}

async fn post(http: &reqwest::Client, url: &str, body: &str) -> reqwest::Response {
    http.post(url)
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request")
}

async fn probe(
    http: &reqwest::Client,
    url: &str,
    secs: u64,
    checks: &herald_registry::checks::Checks,
) -> Phase {
    let mut phase = Phase {
        latencies: Vec::new(),
        saturated: 0,
    };
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if checks.in_flight() == checks.limit() {
            phase.saturated += 1;
        }
        let t = Instant::now();
        let r = http.get(url).send().await.expect("GET");
        assert_eq!(r.status(), 200);
        r.bytes().await.expect("body");
        phase.latencies.push(t.elapsed());
    }
    phase
}

fn run(backend: Backend, client_rt: &tokio::runtime::Runtime) {
    let rounds = env("HERALD_BENCH_ROUNDS", 3);
    let secs = env("HERALD_BENCH_SECONDS", 4) as u64;
    let versions = env("HERALD_BENCH_VERSIONS", 8);
    let settings = Settings::default();
    let bytes = env(
        "HERALD_BENCH_SCHEMA_BYTES",
        settings.limits.max_schema_bytes,
    );
    let props = widest_props(bytes);

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("server runtime");
    let (db, server) = server_rt.block_on(async {
        let db = common::TestDb::new(backend).await;
        let server = common::serve(db.open().await, settings).await;
        (db, server)
    });
    let checks = server.state.checks.clone();
    let base = server.base.clone();
    let name = format!("{backend:?}").to_lowercase();

    client_rt.block_on(async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        let put = |path: &str, body: Value| {
            http.put(format!("{base}{path}"))
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(body.to_string())
                .send()
        };
        put("/config/big", json!({"compatibility": "NONE"}))
            .await
            .expect("config");
        let mut id = 0;
        for v in 0..versions {
            let r = post(
                &http,
                &format!("{base}/subjects/big/versions"),
                &body(&wide(props, &format!("{:>16}", format!("v{v}")))),
            )
            .await;
            assert_eq!(r.status(), 200);
            let reply: Value = r.json().await.expect("json");
            id = reply["id"].as_i64().expect("id");
        }
        put("/config/big", json!({"compatibility": "FULL_TRANSITIVE"}))
            .await
            .expect("config");
        let get_url = format!("{base}/schemas/ids/{id}");
        let check_url = format!("{base}/compatibility/subjects/big/versions");

        let (mut idle, mut loaded) = (Vec::new(), Vec::new());
        let (mut saturated, mut loaded_gets, mut checks_done) = (0, 0, 0);
        println!(
            "{name}: {CLIENTS} clients posting FULL_TRANSITIVE checks of a {} KiB schema against {versions} versions; {} checks at once",
            wide(props, &"x".repeat(16)).to_string().len() / 1024,
            checks.limit()
        );
        for round in 0..rounds {
            // Idle: nothing in flight.
            while checks.in_flight() > 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let p = probe(&http, &get_url, secs, &checks).await;
            idle.extend(p.latencies);

            let stop = Arc::new(AtomicBool::new(false));
            let mut clients = Vec::new();
            for c in 0..CLIENTS {
                let (http, url, stop) = (http.clone(), check_url.clone(), stop.clone());
                let check = body(&wide(props, &format!("{:>16}", format!("c{c} r{round}"))));
                clients.push(tokio::spawn(async move {
                    let mut answered = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let r = post(&http, &url, &check).await;
                        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
                        answered += 1;
                    }
                    answered
                }));
            }
            while checks.in_flight() < checks.limit() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let done_before = checks.finished();
            let p = probe(&http, &get_url, secs, &checks).await;
            checks_done += checks.finished() - done_before;
            saturated += p.saturated;
            loaded_gets += p.latencies.len();
            loaded.extend(p.latencies);
            stop.store(true, Ordering::Relaxed);
            for c in clients {
                c.await.expect("client");
            }
        }
        idle.sort();
        loaded.sort();
        let (p99_idle, p99_loaded) = (percentile(&idle, 0.99), percentile(&loaded, 0.99));
        println!(
            "{name}: idle   {:>6} GETs  p50 {:>10}  p99 {:>10}",
            idle.len(),
            ms(percentile(&idle, 0.5)),
            ms(p99_idle)
        );
        println!(
            "{name}: loaded {:>6} GETs  p50 {:>10}  p99 {:>10}  ({saturated} of {loaded_gets} sent with every check slot taken; {checks_done} checks done meanwhile)",
            loaded.len(),
            ms(percentile(&loaded, 0.5)),
            ms(p99_loaded)
        );
        println!(
            "{name}: p99 loaded / p99 idle = {:.2}; target p99 under load < 50 ms: {}",
            p99_loaded.as_secs_f64() / p99_idle.as_secs_f64().max(1e-9),
            if p99_loaded < Duration::from_millis(50) {
                "met"
            } else {
                "NOT met"
            }
        );
    });
    drop(server);
    drop(db);
    server_rt.shutdown_timeout(Duration::from_secs(5));
}

fn main() {
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    let stores = std::env::var("HERALD_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());
    for store in stores.split(',') {
        match store.trim() {
            "sqlite" => run(Backend::Sqlite, &client_rt),
            "postgres" => run(Backend::Postgres, &client_rt),
            other => panic!("unknown store {other} (sqlite, postgres)"),
        }
    }
}
