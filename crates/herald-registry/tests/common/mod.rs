//! Test support: a fresh database per test on PostgreSQL (127.0.0.1:5432) or SQLite (a temp
//! file), and the registry served on a free loopback port.
#![allow(dead_code)]

use std::sync::Arc;

use herald_registry::{AppState, Settings, Store, router, store};
use reqwest::Method;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for the life of the value.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the one test-database helper of the workspace (`HERALD_POSTGRES_URL`).
    _pg: Option<herald_postgres::testing::TestDatabase>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("registry.db").display());
                Self {
                    url,
                    backend,
                    _dir: Some(dir),
                    _pg: None,
                }
            }
            Backend::Postgres => {
                let pg = herald_postgres::testing::TestDatabase::empty().await;
                Self {
                    url: pg.url.clone(),
                    backend,
                    _dir: None,
                    _pg: Some(pg),
                }
            }
        }
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        store::connect(&self.url, 16).await.expect("open store")
    }
}

/// The registry served on a free loopback port.
pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(store: Arc<dyn Store>, settings: Settings) -> TestServer {
    let state = AppState::new(store, settings);
    let app = router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    TestServer {
        base: format!("http://{addr}"),
        state,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("client"),
        task,
    }
}

/// A fresh database of `backend` and a server on it.
pub async fn start(backend: Backend) -> (TestDb, TestServer) {
    start_with(backend, Settings::default()).await
}

pub async fn start_with(backend: Backend, settings: Settings) -> (TestDb, TestServer) {
    let db = TestDb::new(backend).await;
    let store = db.open().await;
    let server = serve(store, settings).await;
    (db, server)
}

/// A response: status, JSON body (Null if not JSON), content type.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub content_type: String,
}

impl TestServer {
    pub async fn call(&self, method: Method, path: &str, body: Option<&str>) -> Resp {
        self.call_with(method, path, body, None).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        auth: Option<&str>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", "application/vnd.schemaregistry.v1+json");
        if let Some(b) = body {
            req = req.body(b.to_owned());
        }
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            content_type,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.call(Method::POST, path, Some(&body.to_string())).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.call(Method::PUT, path, Some(&body.to_string())).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.call(Method::DELETE, path, None).await
    }

    /// Registers `schema` (a JSON value, sent as text) under `subject`; returns the response.
    pub async fn register(&self, subject: &str, schema: &Value) -> Resp {
        self.post(
            &format!("/subjects/{subject}/versions"),
            &serde_json::json!({"schemaType": "JSON", "schema": schema.to_string()}),
        )
        .await
    }

    /// Registers and returns the id, failing the test otherwise.
    pub async fn register_ok(&self, subject: &str, schema: &Value) -> i64 {
        let r = self.register(subject, schema).await;
        assert_eq!(r.status, 200, "register {subject}: {}", r.text);
        r.body["id"].as_i64().expect("id")
    }
}

/// Asserts a Confluent error: HTTP status, error_code, and exactly the two fields.
#[track_caller]
pub fn assert_error(r: &Resp, status: u16, code: u64) {
    assert_eq!(r.status, status, "status of {}", r.text);
    assert_eq!(
        r.body["error_code"].as_u64(),
        Some(code),
        "error_code of {}",
        r.text
    );
    let obj = r.body.as_object().expect("error body is an object");
    assert!(obj["message"].is_string(), "{}", r.text);
    assert_eq!(
        obj.len(),
        2,
        "error body has exactly error_code and message: {}",
        r.text
    );
    assert!(
        r.content_type
            .starts_with("application/vnd.schemaregistry.v1+json"),
        "content type {}",
        r.content_type
    );
}

/// Keys of a JSON object, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// Runs each listed async test body (taking a `Backend`) once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() { super::$name($crate::common::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() { super::$name($crate::common::Backend::Postgres).await }
            )*
        }
    };
}
