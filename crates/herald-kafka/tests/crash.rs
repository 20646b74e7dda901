//! A worker process killed with SIGKILL in the middle of 1,000 events, then restarted: no
//! event is lost, and the events the first worker finished but had not committed are
//! skipped by the Redis idempotency store. Real broker (tansu) and Redis; the worker is
//! the example `kafka_crash_worker` (built by `cargo test`, which builds the examples).

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};

use herald_core::testing::{Reaper, example_binary};
use std::time::Duration;

use common::*;
use redis::AsyncCommands;

const EVENTS: u32 = 1_000;

fn spawn_worker(topic: &str, group: &str, hash: &str) -> Child {
    Command::new(example_binary("kafka_crash_worker"))
        .env("HERALD_KAFKA_BROKERS", brokers())
        .env("HERALD_CRASH_TOPIC", topic)
        .env("HERALD_CRASH_GROUP", group)
        .env("HERALD_CRASH_EFFECTS", hash)
        // HERALD_CRASH_LOG and HERALD_KAFKA_DEBUG (librdkafka's `debug`) to look inside.
        .env(
            "RUST_LOG",
            std::env::var("HERALD_CRASH_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env(
            "HERALD_KAFKA_DEBUG",
            std::env::var("HERALD_KAFKA_DEBUG").unwrap_or_default(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn kafka_crash_worker")
}

async fn effects(redis: &mut redis::aio::ConnectionManager, hash: &str) -> HashMap<u32, u32> {
    redis.hgetall(hash).await.expect("HGETALL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_and_restarted_loses_no_event() {
    let mut redis = redis::Client::open("redis://127.0.0.1:6379")
        .expect("redis url")
        .get_connection_manager()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot reach Redis on 127.0.0.1:6379 ({e}): start it with `scripts/services`")
        });
    let topic = topic("crash", 4).await;
    let group = unique("group");
    let hash = unique("effects");
    let producer = producer(&topic);
    for seq in 0..EVENTS {
        producer
            .publish(Step {
                key: format!("key-{}", seq % 50),
                seq,
            })
            .await
            .expect("publish");
    }

    let mut first = Reaper::new(spawn_worker(&topic, &group, &hash));
    for _ in 0..2400 {
        if effects(&mut redis, &hash).await.len() >= 300 {
            break;
        }
        if let Ok(Some(status)) = first.child().try_wait() {
            panic!("kafka_crash_worker exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    first.child().kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    let status = first.child().wait().expect("wait");
    assert!(!status.success(), "killed, not exited: {status}");
    let after_kill = effects(&mut redis, &hash).await.len();
    assert!(
        after_kill >= 300 && after_kill < EVENTS as usize,
        "the kill must land mid-stream: {after_kill} events had effects"
    );
    let (committed, _) = committed_and_ends(&group, &topic);
    let committed: i64 = committed.values().sum();
    eprintln!("killed at {after_kill} effects; {committed} offsets committed");

    // The restarted worker joins once the dead member's session (6 s) has expired. Kafka
    // would also take it sooner, rebalancing when the dead member misses the rejoin;
    // tansu instead forms the new generation with the dead member as its leader and
    // hands the newcomer no partitions (see the crate README).
    tokio::time::sleep(Duration::from_secs(7)).await;
    let mut second = Reaper::new(spawn_worker(&topic, &group, &hash));
    let mut done = HashMap::new();
    for _ in 0..2400 {
        done = effects(&mut redis, &hash).await;
        if done.len() == EVENTS as usize {
            break;
        }
        if let Ok(Some(status)) = second.child().try_wait() {
            panic!("kafka_crash_worker exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done.len(), EVENTS as usize, "every event processed");
    // Graceful stop: SIGTERM; the worker commits what finished and prints its counters.
    let pid = second.child().id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let output = second
        .0
        .take()
        .expect("child")
        .wait_with_output()
        .expect("wait");
    assert!(output.status.success(), "clean exit after SIGTERM");
    let stats: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the worker's counters");
    eprintln!("second worker: {stats}");

    let done = effects(&mut redis, &hash).await;
    let twice: Vec<_> = done.iter().filter(|(_, n)| **n > 1).collect();
    // Only handlers running at the kill can have run twice (their claims expired
    // unfinished); the worker runs 8 at a time.
    assert!(
        twice.len() <= 8,
        "effects more than once: {twice:?} (only those running at the kill may repeat)"
    );
    // Everything the first worker finished after its last commit came again and was
    // skipped as a duplicate, not run again.
    let redelivered = (after_kill as i64 - committed).max(0) as u64;
    let skipped = stats["duplicates_skipped"].as_u64().expect("count");
    assert!(
        skipped + 8 >= redelivered,
        "{redelivered} finished-but-uncommitted events came again; {skipped} were skipped"
    );
    let (committed, ends) = committed_and_ends(&group, &topic);
    assert_eq!(committed, ends, "all committed after the graceful stop");
    let _: () = redis.del(&hash).await.expect("DEL");
}
