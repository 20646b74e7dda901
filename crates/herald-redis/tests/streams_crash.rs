//! A worker process killed with SIGKILL in the middle of 1,000 events on a Redis stream,
//! then restarted: every event is processed, and with the PostgreSQL transactional handler
//! there are exactly 1,000 effect rows. Real Redis and PostgreSQL; the worker is
//! `redis_crash_worker` (tests/fixtures/redis_crash_worker.rs, an example target so that
//! `cargo test -p herald-redis --features streams` builds it).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use herald_core::testing::{example_binary, kill_mid_stream_and_restart};
use herald_core::{Event, Producer};
use herald_postgres::testing::{
    Ping, TestDatabase, claims_settled, count_effects, create_effects_table,
};

const EVENTS: u64 = 1_000;

fn spawn_worker(stream: &str, db_url: &str) -> Child {
    Command::new(example_binary("redis_crash_worker"))
        .env("HERALD_REDIS_URL", redis_url())
        .env("HERALD_CRASH_STREAM", stream)
        .env("HERALD_CRASH_DB_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn redis_crash_worker")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_and_restarted_processes_every_event_exactly_once() {
    let db = TestDatabase::create().await;
    create_effects_table(&db.pool).await;
    let redis = connect().await;
    let stream = unique("crash");
    let producer = Producer::new(redis.publisher()).route(Ping::NAME, &stream);
    for seq in 0..EVENTS {
        producer.publish(Ping::new(seq)).await.expect("publish");
    }
    assert_eq!(xlen(&redis, &stream).await, EVENTS);

    // Kill the first worker once a good part of the stream is through; the second takes over
    // the killed one's pending entries and reads the rest.
    let (after_kill, second) = kill_mid_stream_and_restart(
        || spawn_worker(&stream, &db.url),
        || async { count_effects(&db.pool).await.1 as u64 },
        300,
        EVENTS,
        Duration::ZERO,
    )
    .await;
    eprintln!("killed the first worker at {after_kill} effects");

    // Then every entry is acked and every claim completed.
    let mut settled = false;
    for _ in 0..1200 {
        let done = count_effects(&db.pool).await;
        let lag = redis.lag(&stream, "crash").await.expect("lag");
        let claims = claims_settled(&db.pool, EVENTS).await;
        let retrying: u64 = cmd(&redis, redis::cmd("ZCARD").arg(format!("{stream}.retry"))).await;
        if done.1 == EVENTS as i64
            && lag.pending == 0
            && lag.lag == Some(0)
            && claims
            && retrying == 0
        {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = second.terminate();
    assert!(
        settled,
        "every entry acked, every claim completed: {:?}",
        count_effects(&db.pool).await
    );
    assert_eq!(
        count_effects(&db.pool).await,
        (EVENTS as i64, EVENTS as i64),
        "exactly one effect row per event"
    );
    let dead = xlen(&redis, &format!("{stream}.dlq")).await;
    assert_eq!(dead, 0, "nothing dead-lettered");
    forget(&redis, &stream).await;
    db.drop_database().await;
}
