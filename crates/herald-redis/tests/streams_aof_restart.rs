//! A private Redis with the append-only file on (`--appendfsync always`) is killed and
//! restarted under a live subscriber: nothing acked before the restart comes back, what was
//! pending comes back (as a further attempt), and the rest arrives once. The server is a
//! `redis-server` of its own on a free port, in a temporary directory.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use herald_core::testing::Reaper;
use herald_core::{Publisher, Subscriber};

const EVENTS: u64 = 100;

fn start_redis(dir: &Path, port: u16) -> Child {
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("redis-server is installed (scripts/services installs it)")
}

async fn wait_until_up(url: &str) {
    let client = redis::Client::open(url).expect("url");
    for _ in 0..200 {
        if let Ok(mut c) = client.get_multiplexed_async_connection().await
            && redis::cmd("PING")
                .query_async::<String>(&mut c)
                .await
                .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the private redis-server at {url} did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_with_aof_acked_entries_stay_acked_and_pending_ones_come_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let mut server = Reaper::new(start_redis(dir.path(), port));
    wait_until_up(&url).await;

    let redis = connect_to(&url).await;
    let stream = unique("aof");
    let build = |batch: usize| {
        redis
            .subscriber(&stream, "g")
            .visibility_timeout(Duration::from_millis(500))
            .claim_interval(Duration::from_millis(100))
            .batch(batch)
            .build()
    };
    let mut crashed = build(10).await.expect("first subscriber");
    let mut live = build(1).await.expect("second subscriber");
    for n in 0..EVENTS {
        redis
            .publisher()
            .publish(message(&stream, "k", n))
            .await
            .expect("publish");
    }
    // Ten delivered to a consumer that dies without settling them.
    let mut pending = BTreeSet::new();
    for _ in 0..10 {
        pending.insert(next(&mut crashed, WAIT).await.message.headers["herald-event-id"].clone());
    }
    drop(crashed);
    // Forty acked.
    let mut acked = BTreeSet::new();
    for _ in 0..40 {
        let d = next(&mut live, WAIT).await;
        acked.insert(d.message.headers["herald-event-id"].clone());
        d.ack().await.expect("ack");
    }

    // Kill the server (no chance to save anything more) and start it again on its files.
    server.child().kill().expect("SIGKILL");
    server.child().wait().expect("reap");
    let mut restarted = Reaper::new(start_redis(dir.path(), port));
    wait_until_up(&url).await;

    // The live subscriber reconnects on its own and gets everything not acked.
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut attempts = HashMap::new();
    while seen.len() < (EVENTS as usize - acked.len()) {
        let d = match tokio::time::timeout(Duration::from_secs(30), live.recv()).await {
            Ok(Ok(Some(d))) => d,
            Ok(Ok(None)) => panic!("closed"),
            Ok(Err(_)) => continue, // the connection broke with the server; it reconnects
            Err(_) => panic!(
                "stuck with {} of {} back",
                seen.len(),
                EVENTS as usize - acked.len()
            ),
        };
        let id = d.message.headers["herald-event-id"].clone();
        assert!(
            !acked.contains(&id),
            "{id} was acked before the restart, yet came back"
        );
        *seen.entry(id.clone()).or_default() += 1;
        attempts.insert(id, d.message.attempt());
        d.ack().await.expect("ack after the restart");
    }
    for id in &pending {
        assert!(seen.contains_key(id), "pending {id} came back");
        assert!(
            attempts[id] >= 2,
            "{id} was delivered before: attempt {}",
            attempts[id]
        );
    }
    nothing_for(&mut live, Duration::from_millis(1500)).await;
    let lag = redis.lag(&stream, "g").await.expect("lag");
    assert_eq!((lag.lag, lag.pending), (Some(0), 0));
    drop(live);
    restarted.child().kill().expect("stop the private server");
}
