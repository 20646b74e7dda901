//! A worker process killed with SIGKILL in the middle of 1,000 messages, then restarted:
//! every message is processed, and with the PostgreSQL transactional handler there are
//! exactly 1,000 effect rows. Real RabbitMQ and PostgreSQL; the worker is the example
//! `crash_worker` (tests/fixtures/crash_worker.rs, an example target so `cargo test` builds it).

mod common;

use std::process::{Child, Command, Stdio};

use herald_core::testing::{example_binary, kill_mid_stream_and_restart};
use std::time::Duration;

use common::*;
use herald_amqp::{Queue, Topology};
use herald_postgres::testing::{TestDatabase, claims_settled, count_effects, create_effects_table};

const MESSAGES: u64 = 1_000;

fn spawn_worker(queue: &str, db_url: &str) -> Child {
    Command::new(example_binary("crash_worker"))
        .env("HERALD_AMQP_URL", amqp_url())
        .env("HERALD_CRASH_QUEUE", queue)
        .env("HERALD_CRASH_DB_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn crash_worker")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_and_restarted_processes_every_message_exactly_once() {
    let db = TestDatabase::create().await;
    create_effects_table(&db.pool).await;
    let queue = unique("crash");
    let _cleanup = Cleanup::default()
        .queue(&queue)
        .retry(&queue, Duration::from_millis(500));
    let amqp = connect(Topology::new().queue(Queue::new(&queue))).await;
    for seq in 0..MESSAGES {
        send_to_queue(&amqp, &queue, ping(seq)).await;
    }
    assert_eq!(u64::from(ready(&queue).await), MESSAGES);

    let (_, second) = kill_mid_stream_and_restart(
        || spawn_worker(&queue, &db.url),
        || async { count_effects(&db.pool).await.1 as u64 },
        300,
        MESSAGES,
        Duration::ZERO,
    )
    .await;
    // Let redelivered duplicates (claims of the killed worker expire after 3 s) come
    // through, then look again: still one effect per message, and nothing left over.
    let mut settled = false;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if ready(&queue).await == 0 && claims_settled(&db.pool, MESSAGES).await {
            settled = true;
            break;
        }
    }
    // Graceful stop: SIGTERM, then the worker drains and closes.
    let _ = second.terminate();
    assert!(settled, "every claim completed and the queue drained");
    assert_eq!(
        count_effects(&db.pool).await,
        (MESSAGES as i64, MESSAGES as i64),
        "exactly one effect row per message"
    );
    assert_eq!(ready(&queue).await, 0);
    amqp.close().await.expect("close");
    db.drop_database().await;
}
