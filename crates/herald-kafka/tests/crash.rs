//! A worker process killed with SIGKILL in the middle of 1,000 events, then restarted: no
//! event is lost, and the events the first worker finished but had not committed are
//! skipped by the Redis idempotency store. Real broker (tansu) and Redis; the worker is
//! `kafka_crash_worker` (tests/fixtures/kafka_crash_worker.rs, an example target so `cargo
//! test` builds it).

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};

use herald_core::testing::{example_binary, kill_mid_stream_and_restart};
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

    // The restarted worker joins once the dead member's session (6 s) has expired. Kafka
    // would also take it sooner, rebalancing when the dead member misses the rejoin;
    // tansu instead forms the new generation with the dead member as its leader and
    // hands the newcomer no partitions (see the crate README).
    let (after_kill, second) = kill_mid_stream_and_restart(
        || spawn_worker(&topic, &group, &hash),
        || {
            let mut redis = redis.clone();
            let hash = hash.clone();
            async move { effects(&mut redis, &hash).await.len() as u64 }
        },
        300,
        u64::from(EVENTS),
        Duration::from_secs(7),
    )
    .await;
    let (committed, _) = committed_and_ends(&group, &topic);
    let committed: i64 = committed.values().sum();
    eprintln!("killed at {after_kill} effects; {committed} offsets committed");
    // Graceful stop: SIGTERM; the worker commits what finished and prints its counters.
    let output = second.terminate();
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
