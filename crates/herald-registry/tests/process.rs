//! The binary: refusing to serve anonymously off loopback, and several processes over one
//! PostgreSQL database behaving as one registry.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, TestDb};
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Proc {
    child: Child,
    base: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn spawn_registry(db_url: &str, extra: &[&str]) -> Proc {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_herald-registry"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            db_url,
        ])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn herald-registry");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/health")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "registry did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Proc { child, base }
}

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .header("content-type", "application/vnd.schemaregistry.v1+json");
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("text");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Polls `probe` until it holds, failing after a second: what one process writes, the
/// others' caches must drop within that (NOTIFY).
async fn within_a_second<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !probe().await {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "after 1 s, still not: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn is_compatible(base: &str, subject: &str, schema: &Value) -> bool {
    let body = json!({"schemaType": "JSON", "schema": schema.to_string()});
    let (st, r) = call(
        reqwest::Method::POST,
        format!("{base}/compatibility/subjects/{subject}/versions/latest"),
        Some(body),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    r["is_compatible"].as_bool().expect("is_compatible")
}

#[test]
fn refuses_anonymous_on_a_public_address() {
    let out = Command::new(env!("CARGO_BIN_EXE_herald-registry"))
        .args([
            "--listen",
            "0.0.0.0:0",
            "--database-url",
            "sqlite://unused-never-created.db",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--allow-anonymous"), "{stderr}");
    assert!(!std::path::Path::new("unused-never-created.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_over_one_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let a = spawn_registry(&db.url, &[]).await;
    let b = spawn_registry(&db.url, &[]).await;
    use reqwest::Method as M;
    let schema = |f: &str| json!({"schemaType": "JSON", "schema": json!({"type": "object", "properties": {f: {"type": "string"}}}).to_string()});

    // Ids and versions are shared.
    let (_, r) = call(
        M::PUT,
        format!("{}/config/mp", a.base),
        Some(json!({"compatibility": "NONE"})),
    )
    .await;
    assert_eq!(r["compatibility"], "NONE");
    let (st, r) = call(
        M::POST,
        format!("{}/subjects/mp/versions", a.base),
        Some(schema("a")),
    )
    .await;
    assert_eq!(st, 200);
    let id1 = r["id"].as_i64().expect("id");
    let (_, r) = call(
        M::POST,
        format!("{}/subjects/mp/versions", b.base),
        Some(schema("b")),
    )
    .await;
    let id2 = r["id"].as_i64().expect("id");
    assert!(id2 > id1);
    let (_, r) = call(
        M::POST,
        format!("{}/subjects/mp/versions", b.base),
        Some(schema("a")),
    )
    .await;
    assert_eq!(
        r["id"].as_i64(),
        Some(id1),
        "same content, same id, from the other process"
    );
    let (_, r) = call(M::GET, format!("{}/subjects/mp/versions", a.base), None).await;
    assert_eq!(r, json!([1, 2]));
    // Concurrent registrations through both processes: consecutive versions.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let base = if i % 2 == 0 {
            a.base.clone()
        } else {
            b.base.clone()
        };
        let body = schema(&format!("c{i}"));
        tasks.push(tokio::spawn(async move {
            call(M::POST, format!("{base}/subjects/mp/versions"), Some(body)).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task").0, 200);
    }
    let (_, r) = call(M::GET, format!("{}/subjects/mp/versions", b.base), None).await;
    assert_eq!(r, json!((1..=22).collect::<Vec<i64>>()));

    // Config and mode: the endpoints read the database, so the other process answers with
    // the change at once; its checks and writes read through caches, within a second.
    call(
        M::PUT,
        format!("{}/config", a.base),
        Some(json!({"compatibility": "FULL"})),
    )
    .await;
    let (_, r) = call(M::GET, format!("{}/config", b.base), None).await;
    assert_eq!(r, json!({"compatibilityLevel": "FULL"}));
    let breaking = json!({"type": "string"});
    assert!(
        is_compatible(&b.base, "mp", &breaking).await,
        "mp is at NONE"
    );
    call(
        M::PUT,
        format!("{}/config/mp", a.base),
        Some(json!({"compatibility": "BACKWARD"})),
    )
    .await;
    within_a_second("B checks mp at A's BACKWARD", || async {
        !is_compatible(&b.base, "mp", &breaking).await
    })
    .await;
    call(
        M::PUT,
        format!("{}/config", a.base),
        Some(json!({"compatibility": "NONE"})),
    )
    .await;
    call(M::DELETE, format!("{}/config/mp", a.base), None).await;
    within_a_second(
        "B checks mp at the global NONE once A deleted mp's",
        || async { is_compatible(&b.base, "mp", &breaking).await },
    )
    .await;
    call(
        M::PUT,
        format!("{}/mode/mp", b.base),
        Some(json!({"mode": "READONLY"})),
    )
    .await;
    within_a_second("A refuses writes to mp, READONLY at B", || async {
        let (st, r) = call(
            M::POST,
            format!("{}/subjects/mp/versions", a.base),
            Some(schema("z")),
        )
        .await;
        (st, r["error_code"].as_i64()) == (422, Some(42205))
    })
    .await;
    call(M::DELETE, format!("{}/mode/mp", a.base), None).await;
    within_a_second("B accepts writes to mp again", || async {
        let (st, _) = call(
            M::POST,
            format!("{}/subjects/mp/versions", b.base),
            Some(schema("after-readonly")),
        )
        .await;
        st == 200
    })
    .await;
    call(
        M::PUT,
        format!("{}/mode?force=true", a.base),
        Some(json!({"mode": "IMPORT"})),
    )
    .await;
    within_a_second("B wants ids in IMPORT mode", || async {
        let (st, r) = call(
            M::POST,
            format!("{}/subjects/mp/versions", b.base),
            Some(schema("no-id")),
        )
        .await;
        (st, r["error_code"].as_i64()) == (422, Some(42205))
    })
    .await;
    call(M::DELETE, format!("{}/mode", a.base), None).await;

    // Lookups and the latest version: B reads (and caches) them, A deletes and registers.
    let lookup_a = || async {
        call(
            M::POST,
            format!("{}/subjects/mp", b.base),
            Some(schema("a")),
        )
        .await
    };
    let (st, r) = lookup_a().await;
    assert_eq!((st, r["version"].as_i64()), (200, Some(1)), "{r}");
    let (st, _) = call(
        M::DELETE,
        format!("{}/subjects/mp/versions/1", a.base),
        None,
    )
    .await;
    assert_eq!(st, 200);
    within_a_second("B's lookup misses the version A deleted", || async {
        lookup_a().await.1["error_code"] == 40403
    })
    .await;
    let latest = || async {
        call(
            M::GET,
            format!("{}/subjects/mp/versions/latest", b.base),
            None,
        )
        .await
        .1["version"]
            .as_i64()
    };
    let before = latest().await.expect("latest");
    call(
        M::PUT,
        format!("{}/config", a.base),
        Some(json!({"compatibility": "BACKWARD"})),
    )
    .await;
    within_a_second("B checks at A's global BACKWARD", || async {
        !is_compatible(&b.base, "mp", &breaking).await
    })
    .await;
    // A registers a string schema (mp at NONE for that); B's latest and checks follow.
    call(
        M::PUT,
        format!("{}/config/mp", a.base),
        Some(json!({"compatibility": "NONE"})),
    )
    .await;
    let (st, _) = call(
        M::POST,
        format!("{}/subjects/mp/versions", a.base),
        Some(json!({"schemaType": "JSON", "schema": breaking.to_string()})),
    )
    .await;
    assert_eq!(st, 200);
    call(M::DELETE, format!("{}/config/mp", a.base), None).await;
    within_a_second("B sees A's new latest version", || async {
        latest().await == Some(before + 1)
    })
    .await;
    within_a_second("B checks against A's new latest", || async {
        is_compatible(&b.base, "mp", &json!({"type": ["string", "null"]})).await
    })
    .await;

    // B caches id1; A deletes it permanently; B stops serving it within a second (NOTIFY).
    let (st, _) = call(M::GET, format!("{}/schemas/ids/{id1}", b.base), None).await;
    assert_eq!(st, 200);
    call(M::DELETE, format!("{}/subjects/mp", a.base), None).await;
    let (st, _) = call(
        M::DELETE,
        format!("{}/subjects/mp?permanent=true", a.base),
        None,
    )
    .await;
    assert_eq!(st, 200);
    let start = Instant::now();
    loop {
        let (st, r) = call(M::GET, format!("{}/schemas/ids/{id1}", b.base), None).await;
        if st == 404 {
            assert_eq!(r["error_code"], 40403);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "B still serves a deleted id after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
