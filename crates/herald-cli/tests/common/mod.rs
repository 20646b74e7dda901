//! Test support: the `herald` binary run as a process, schema directories in temporary
//! folders, temporary git repositories, and a real herald-registry on PostgreSQL.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::{Value, json};

/// Runs `herald` in `cwd` with `NO_COLOR` unset and no registry credentials inherited.
pub fn herald_in(cwd: &Path, args: &[&str]) -> Output {
    herald_env(cwd, args, &[])
}

pub fn herald_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.current_dir(cwd)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("HERALD_REGISTRY_TOKEN")
        .env_remove("HERALD_REGISTRY_USER")
        .env_remove("HERALD_REGISTRY_PASSWORD")
        .env_remove("HERALD_REGISTRY_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run herald")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `herald <args> --broker <broker>` (the `dlq` commands) without colour: its exit
/// code and both streams, stdout first.
pub fn herald_broker(broker: &str, args: &[&str]) -> (i32, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--broker", broker]);
    let out = herald_env(Path::new("."), &all, &[("NO_COLOR", "1")]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    (out.status.code().unwrap_or(-1), text)
}

/// Both streams, for assertion messages.
pub fn both(o: &Output) -> String {
    format!("--- stdout\n{}--- stderr\n{}", stdout(o), stderr(o))
}

/// Writes `<root>/<event>/v<version>.json` as `herald::schemas::export` does.
pub fn put(root: &Path, event: &str, version: u32, schema: &Value) -> PathBuf {
    let dir = root.join(event);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join(format!("v{version}.json"));
    let mut text = serde_json::to_string_pretty(schema).expect("json");
    text.push('\n');
    std::fs::write(&path, text).expect("write schema");
    path
}

/// An order event, v1: `order_id` and `amount` (a string).
pub fn order_v1() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "OrderCreated",
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "amount": {"type": "string"}
        },
        "required": ["order_id", "amount"],
        "additionalProperties": false
    })
}

/// v2, compatible at BACKWARD: an optional `note`.
pub fn order_v2_compatible() -> Value {
    let mut v = order_v1();
    v["properties"]["note"] = json!({"type": "string"});
    v
}

/// v2, breaking: `amount` becomes an integer.
pub fn order_v2_breaking() -> Value {
    let mut v = order_v1();
    v["properties"]["amount"] = json!({"type": "integer"});
    v
}

pub fn payment_v1() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "PaymentRequested",
        "type": "object",
        "properties": {"payment_id": {"type": "string"}},
        "required": ["payment_id"]
    })
}

/// A temporary git repository with its own identity, so commits work anywhere.
pub struct GitRepo {
    pub dir: tempfile::TempDir,
}

impl GitRepo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Self { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn schemas(&self) -> PathBuf {
        self.path().join("schemas")
    }

    pub fn git(&self, args: &[&str]) -> String {
        let o = Command::new("git")
            .current_dir(self.path())
            .args([
                "-c",
                "user.name=herald test",
                "-c",
                "user.email=test@herald.invalid",
            ])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "core.hooksPath=/dev/null",
            ])
            .args(args)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .expect("run git");
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    pub fn commit_all(&self, message: &str) {
        self.git(&["add", "."]);
        self.git(&["commit", "-q", "-m", message]);
    }
}

// ---------------------------------------------------------------------------------------
// A real herald-registry on PostgreSQL, served in-process through its library router.

/// The PostgreSQL server (a fresh database is created on it for each registry).
pub fn pg_admin_url() -> String {
    std::env::var("HERALD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("herald_cli_test_{}_{nanos}_{n}", std::process::id())
}

/// herald-registry on a fresh PostgreSQL database, on a free loopback port. Dropping it stops
/// the server and drops the database.
pub struct Registry {
    pub url: String,
    runtime: tokio::runtime::Runtime,
    db_name: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Registry {
    pub fn start() -> Self {
        Self::start_with(herald_registry::Settings::default())
    }

    /// With credentials (`role:user:secret` lines).
    pub fn start_with_auth(entries: &str) -> Self {
        let creds = herald_registry::auth::Credentials::parse(entries).expect("credentials");
        Self::start_with(herald_registry::Settings {
            auth: Some(Arc::new(creds)),
            ..herald_registry::Settings::default()
        })
    }

    pub fn start_with(settings: herald_registry::Settings) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let db_name = unique_name();
        let admin = pg_admin_url();
        let url = runtime.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable at {admin}: {e}\n\
                     These tests need the real PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres).\n\
                     Start it with `scripts/services` (or set HERALD_TEST_POSTGRES_URL)."
                )
            });
            sqlx::query(&format!("CREATE DATABASE {db_name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let _ = conn.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{db_name}")
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let base = runtime.block_on(async {
            let store = herald_registry::store::connect(&url, 4)
                .await
                .expect("open the registry store on PostgreSQL");
            let app = herald_registry::router(herald_registry::AppState::new(store, settings));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
            format!("http://{addr}")
        });
        Self {
            url: base,
            runtime,
            db_name,
            shutdown: Some(tx),
        }
    }

    /// A client of this registry (with these credentials).
    pub fn client(&self) -> herald_registry::client::RegistryClient {
        herald_registry::client::RegistryClient::new(&self.url).expect("client")
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Registers a schema directly (not through the CLI).
    pub fn register(&self, subject: &str, schema: &Value) -> i64 {
        let client = self.client();
        self.block_on(client.register(subject, &schema.to_string(), &[]))
            .expect("register")
    }

    pub fn set_level(&self, subject: &str, level: &str) {
        let client = self.client();
        self.block_on(client.set_compatibility_level(Some(subject), level))
            .expect("set level");
    }

    pub fn versions(&self, subject: &str) -> Vec<i32> {
        let client = self.client();
        let mut out = Vec::new();
        let Ok(latest) = self.block_on(client.latest(subject)) else {
            return out;
        };
        for n in 1..=latest.version {
            if self
                .block_on(client.version(subject, &n.to_string()))
                .is_ok()
            {
                out.push(n);
            }
        }
        out
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let name = self.db_name.clone();
        self.runtime.block_on(async move {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        });
    }
}

/// A loopback URL nothing listens on.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
