//! Shared by the interop tests: the brokers, unique queue names, Python Celery workers
//! and producers, and the Rust example worker, each a child process killed on drop.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use herald_celery::Client;
use herald_core::testing::{Reaper, example_binary};

pub const BACKEND: &str = "redis://127.0.0.1:6379/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Redis,
    Amqp,
}

impl Kind {
    pub fn broker(self) -> &'static str {
        match self {
            Kind::Redis => "redis://127.0.0.1:6379/0",
            Kind::Amqp => "amqp://guest:guest@127.0.0.1:5672//",
        }
    }
}

/// A queue name no other test uses.
pub fn queue(name: &str) -> String {
    format!("hc-{name}-{}", uuid::Uuid::new_v4().simple())
}

fn python_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

/// A log file for a child's stderr, read back by tests that look for a log line.
pub fn log_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{name}-{}.log", uuid::Uuid::new_v4().simple()))
}

/// A Python Celery worker (solo pool: one process, so the kill on drop leaves nothing)
/// consuming `queue`.
pub fn python_worker(kind: Kind, queue: &str) -> Reaper {
    let child = Command::new("python3")
        .args([
            "-m", "celery", "-A", "tasks", "worker", "-P", "solo", "-Q", queue,
        ])
        .args([
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ])
        .args(["-n", &format!("py-{queue}@%h"), "-l", "warning"])
        .current_dir(python_dir())
        .env("CELERY_BROKER", kind.broker())
        .env("CELERY_BACKEND", BACKEND)
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 -m celery (scripts/services installs celery[redis])");
    Reaper::new(child)
}

/// The Rust example worker on `queue`, its log written to `log` when given.
pub fn rust_worker(kind: Kind, queue: &str, extra: &[&str], log: Option<&PathBuf>) -> Reaper {
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
        None => Stdio::inherit(),
    };
    let child = Command::new(example_binary("worker"))
        .args([
            "--broker",
            kind.broker(),
            "--backend",
            BACKEND,
            "--queue",
            queue,
        ])
        .args(extra)
        .env("RUST_LOG", "info")
        .stderr(stderr)
        .spawn()
        .expect("the example worker");
    Reaper::new(child)
}

/// Runs Python code with the tasks module's `app` and Celery's canvas in scope, the
/// broker of `kind`; returns what it printed, trimmed. Panics with its stderr if it
/// failed.
pub async fn python(kind: Kind, code: &str) -> String {
    let code = code.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["90", "python3", "client.py", &code])
            .current_dir(python_dir())
            .env("CELERY_BROKER", kind.broker())
            .env("CELERY_BACKEND", BACKEND)
            .output()
            .expect("python3")
    })
    .await
    .expect("python thread");
    assert!(
        out.status.success(),
        "python failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Python's output parsed as JSON.
pub async fn python_json(kind: Kind, code: &str) -> serde_json::Value {
    let out = python(kind, code).await;
    serde_json::from_str(out.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("python printed no JSON ({e}): {out}"))
}

pub async fn client(kind: Kind) -> Client {
    Client::connect(kind.broker(), Some(BACKEND))
        .await
        .expect("broker and backend")
}

/// Bounds a wait for a result, against hangs.
pub const WAIT: Duration = Duration::from_secs(60);

/// Reads a log file until `needle` appears (bounded).
pub async fn wait_for_log(path: &PathBuf, needle: &str) -> String {
    for _ in 0..200 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "`{needle}` not in {}:\n{}",
        path.display(),
        std::fs::read_to_string(path).unwrap_or_default()
    );
}
