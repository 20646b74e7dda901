//! Throughput on Redis, results ignored: the Rust worker against Python Celery's worker
//! (prefork, concurrency 2) on the same Redis, same run, alternating rounds, each round
//! draining the same number of `tasks.add` messages enqueued beforehand; and the Rust
//! producer's enqueue rate against Python's `apply_async`.
//!
//! `cargo bench -p herald-celery --bench celery_throughput` (needs Redis and Python
//! Celery: `scripts/services`). HC_BENCH_TASKS (default 20000) and HC_BENCH_ROUNDS
//! (default 3) change the size.
//!
//! A round enqueues into a staging list while the worker idles on its queue, then
//! RENAMEs the list onto the queue: the clock runs from the RENAME until the queue is
//! empty and nothing is left unacked, so worker start-up is not counted.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use herald_celery::{Broker, Client, Task, TaskRequest, Worker};
use herald_core::testing::Reaper;
use redis::aio::MultiplexedConnection;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// A database of its own: `unacked` then holds only this benchmark's messages.
const BROKER: &str = "redis://127.0.0.1:6379/3";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn python_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

async fn conn() -> MultiplexedConnection {
    redis::Client::open(BROKER)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis")
}

/// Enqueues `n` add tasks (results ignored) on `list` with the Rust producer,
/// `in_flight` sends at a time; returns tasks/s.
async fn rust_enqueue(client: &Client, list: &str, n: usize, in_flight: usize) -> f64 {
    let start = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| async move {
            client
                .send_task("tasks.add")
                .args((i, 1))
                .expect("args")
                .ignore_result(true)
                .queue(list)
                .send()
                .await
                .expect("enqueue");
        })
        .buffer_unordered(in_flight)
        .collect::<Vec<()>>()
        .await;
    n as f64 / start.elapsed().as_secs_f64()
}

/// The same with Python's `apply_async`, timed in Python; returns tasks/s.
fn python_enqueue(list: &str, n: usize) -> f64 {
    let code = format!(
        "import time\nfrom tasks import add\nt = time.perf_counter()\n\
         for i in range({n}): add.apply_async((i, 1), queue='{list}', ignore_result=True)\n\
         print({n} / (time.perf_counter() - t))"
    );
    let out = Command::new("python3")
        .args(["client.py", &code])
        .current_dir(python_dir())
        .env("CELERY_BROKER", BROKER)
        .env("CELERY_BACKEND", BROKER)
        .stderr(Stdio::null())
        .output()
        .expect("python3");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("python enqueue failed: {out:?}"))
}

/// Moves the staged messages onto the queue and times until all are taken and acked.
async fn drain(conn: &mut MultiplexedConnection, staging: &str, queue: &str, n: usize) -> f64 {
    let start = Instant::now();
    redis::cmd("RENAME")
        .arg(staging)
        .arg(queue)
        .query_async::<()>(conn)
        .await
        .expect("rename");
    loop {
        let (left, unacked): (usize, usize) = redis::pipe()
            .llen(queue)
            .hlen("unacked")
            .query_async(conn)
            .await
            .expect("llen");
        if left == 0 && unacked == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "not drained in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn delete(conn: &mut MultiplexedConnection, key: &str) {
    redis::cmd("DEL")
        .arg(key)
        .query_async::<()>(conn)
        .await
        .expect("del");
}

fn add_task() -> Task {
    Task::new("tasks.add", |r: TaskRequest| async move {
        let x: i64 = r.arg(0, "x")?;
        let y: i64 = r.arg(1, "y")?;
        Ok(Value::from(x + y))
    })
}

async fn rust_round(client: &Client, n: usize) -> f64 {
    let queue = format!("hc-bench-rs-{}", uuid::Uuid::new_v4().simple());
    let staging = format!("{queue}-staging");
    rust_enqueue(client, &staging, n, 64).await;
    // Messages name their queue in delivery_info; these are all ours, renamed as a whole.
    let broker = Broker::connect(BROKER).await.expect("broker");
    let worker = Worker::builder(broker, None)
        .queue(&queue)
        .concurrency(8)
        .prefetch(256)
        .task(add_task())
        .build()
        .expect("worker");
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let stop = stop.clone();
        async move { worker.run(stop).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rate = drain(&mut conn().await, &staging, &queue, n).await;
    stop.cancel();
    let stats = running.await.expect("join").expect("run");
    assert_eq!(stats.succeeded as usize, n, "every task ran");
    rate
}

fn wait_ready(log: &PathBuf) {
    for _ in 0..600 {
        if std::fs::read_to_string(log).is_ok_and(|t| t.contains(" ready.")) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "the Python worker did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

async fn python_round(client: &Client, n: usize) -> f64 {
    let queue = format!("hc-bench-py-{}", uuid::Uuid::new_v4().simple());
    let staging = format!("{queue}-staging");
    rust_enqueue(client, &staging, n, 64).await;
    let log = std::env::temp_dir().join(format!("{queue}.log"));
    let worker = Reaper::new(
        Command::new("python3")
            .args([
                "-m", "celery", "-A", "tasks", "worker", "-P", "prefork", "-c", "2",
            ])
            .args(["-Q", &queue, "-n", &format!("{queue}@%h"), "-l", "info"])
            .args([
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ])
            .current_dir(python_dir())
            .env("CELERY_BROKER", BROKER)
            .env("CELERY_BACKEND", BROKER)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).expect("log")))
            .spawn()
            .expect("python3 -m celery"),
    );
    wait_ready(&log);
    let rate = drain(&mut conn().await, &staging, &queue, n).await;
    // A warm shutdown lets prefork reap its children (a SIGKILL would orphan them).
    let pid = worker.0.as_ref().map(std::process::Child::id).expect("pid");
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let mut worker = worker;
    let _ = worker.child().wait();
    let _ = std::fs::remove_file(&log);
    rate
}

fn summary(name: &str, rates: &[f64]) -> f64 {
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = rates.iter().copied().fold(0.0, f64::max);
    let sd = (rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / rates.len() as f64).sqrt();
    let each: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "{name:<30} mean {mean:>8.0}/s  sd {sd:>6.0}  min {min:>8.0}  max {max:>8.0}  [{}]",
        each.join(", ")
    );
    mean
}

#[tokio::main]
async fn main() {
    let n = env_or("HC_BENCH_TASKS", 20_000);
    let rounds = env_or("HC_BENCH_ROUNDS", 3);
    let client = Client::connect(BROKER, None).await.expect("redis");
    let mut conn = conn().await;
    println!("{n} tasks.add per round, {rounds} rounds each, alternating; Redis {BROKER}");

    let (mut rust_seq, mut rust_in, mut py_in) = (Vec::new(), Vec::new(), Vec::new());
    let list = format!("hc-bench-enqueue-{}", uuid::Uuid::new_v4().simple());
    for _ in 0..rounds {
        rust_seq.push(rust_enqueue(&client, &list, n, 1).await);
        delete(&mut conn, &list).await;
        rust_in.push(rust_enqueue(&client, &list, n, 64).await);
        delete(&mut conn, &list).await;
        py_in.push(python_enqueue(&list, n));
        delete(&mut conn, &list).await;
    }
    let (mut rust_w, mut py_w) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        rust_w.push(rust_round(&client, n).await);
        py_w.push(python_round(&client, n).await);
    }
    let rs = summary("enqueue: Rust, one at a time", &rust_seq);
    let ri = summary("enqueue: Rust, 64 in flight", &rust_in);
    let pi = summary("enqueue: Python apply_async", &py_in);
    let rw = summary("worker: Rust", &rust_w);
    let pw = summary("worker: Python prefork -c 2", &py_w);
    println!(
        "enqueue Rust/Python: {:.1}x one at a time, {:.1}x 64 in flight; worker Rust/Python: {:.1}x",
        rs / pi,
        ri / pi,
        rw / pw
    );
}
