//! The binary: plain logs into a pipe, `/metrics`, `hash-password`, and the start-up rules
//! from its flags.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

const BIN: &str = env!("CARGO_BIN_EXE_herald-registry");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server on a fresh SQLite file with `extra` flags, stderr to a pipe; waits
/// until `/health` answers.
async fn start(dir: &tempfile::TempDir, port: u16, extra: &[&str]) -> Proc {
    let db = format!("sqlite://{}", dir.path().join("registry.db").display());
    let child = Command::new(BIN)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &db,
        ])
        .args(extra)
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let proc = Proc(child);
    let start = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/health")).await
            && r.status() == 200
        {
            return proc;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Everything the process wrote to stdout and stderr, once stopped.
fn output(mut proc: Proc) -> String {
    let _ = proc.0.kill();
    let _ = proc.0.wait();
    let mut text = String::new();
    if let Some(mut out) = proc.0.stdout.take() {
        out.read_to_string(&mut text).expect("stdout");
    }
    if let Some(mut err) = proc.0.stderr.take() {
        err.read_to_string(&mut text).expect("stderr");
    }
    text
}

fn hash_password(password: &str) -> String {
    let mut child = Command::new(BIN)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    writeln!(child.stdin.take().expect("stdin"), "{password}").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn logs_into_a_pipe_have_no_colours() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let proc = start(&dir, port, &[]).await;
    // A request logs too (the trace layer), and a 404 logs at least the start-up line.
    let _ = reqwest::get(format!("http://127.0.0.1:{port}/nowhere")).await;
    let text = output(proc);
    assert!(text.contains("herald-registry serving"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "ANSI escape in piped output: {text:?}"
    );
}

#[tokio::test]
async fn metrics_show_the_requests_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let _proc = start(&dir, port, &[]).await;
    let subjects = reqwest::get(format!("http://127.0.0.1:{port}/subjects"))
        .await
        .expect("request");
    assert_eq!(subjects.status(), 200);
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("request");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("body");
    assert!(
        text.contains(
            r#"herald_registry_http_requests_total{method="GET",route="/subjects",status="200"}"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn hashed_password_from_the_subcommand_logs_in() {
    let phc = hash_password("s3cret, with: colon");
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(!phc.contains("s3cret"));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("registry.keys");
    std::fs::write(&file, format!("# operators\nuser:admin:boss:{phc}\n")).expect("write");
    let port = free_port();
    let _proc = start(&dir, port, &["--auth-file", file.to_str().expect("path")]).await;
    let auth = |pw: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("boss:{pw}"))
        )
    };
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/config");
    let ok = http
        .get(&url)
        .header("authorization", auth("s3cret, with: colon"))
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
    let bad = http
        .get(&url)
        .header("authorization", auth("s3cret"))
        .send()
        .await
        .expect("get");
    assert_eq!(bad.status(), 401);
}

#[test]
fn refuses_credentials_over_plain_http_off_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("never-created.db");
    let child = Command::new(BIN)
        .args(["--listen", "0.0.0.0:0", "--database-url"])
        .arg(format!("sqlite://{}", db.display()))
        .env("HERALD_REGISTRY_AUTH", "key:read:k:read-key-0123456789")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let mut proc = Proc(child);
    // A server that starts instead of refusing would never exit: bound the wait.
    let start = Instant::now();
    let status = loop {
        if let Some(status) = proc.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still serving: it should have refused"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    proc.0
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    assert!(stderr.contains("--allow-plaintext"), "{stderr}");
    assert!(!db.exists());
}
