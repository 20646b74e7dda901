//! A worker process killed with SIGKILL in the middle of 1,000 messages, then restarted:
//! every message is processed, and with the PostgreSQL transactional handler there are
//! exactly 1,000 effect rows. Real SQS API (moto) and PostgreSQL; the worker is
//! `sqs_crash_worker` (tests/fixtures/sqs_crash_worker.rs, an example target so that
//! `cargo test` builds it; named apart from the other crates' crash workers, since the
//! examples of one workspace share a directory).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use common::{endpoint, queue, sqs};
use herald_core::dead_letters::{DeadLetters, Selection};
use herald_core::testing::{example_binary, kill_mid_stream_and_restart};
use herald_core::{Envelope, Event, Producer};
use herald_postgres::testing::{
    Ping, TestDatabase, claims_settled, count_effects, create_effects_table,
};
use herald_sqs::{QueueOptions, Sqs};

const MESSAGES: u64 = 1_000;

fn spawn_worker(queue: &str, db_url: &str) -> Child {
    Command::new(example_binary("sqs_crash_worker"))
        .env("HERALD_SQS_ENDPOINT", endpoint())
        .env("HERALD_CRASH_QUEUE", queue)
        .env("HERALD_CRASH_DB_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn sqs_crash_worker")
}

/// Messages in the queue, visible or in flight (SQS's approximate counts; exact on moto).
async fn in_queue(sqs: &Sqs, queue: &str) -> u64 {
    let url = sqs.queue_url(queue).await.expect("url");
    let attributes = sqs
        .client()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .unwrap_or_default();
    attributes
        .values()
        .map(|n| n.parse::<u64>().expect("a count"))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_and_restarted_processes_every_message_exactly_once() {
    let db = TestDatabase::create().await;
    create_effects_table(&db.pool).await;
    let sqs = sqs();
    let queue = queue(&sqs, "crash", &QueueOptions::default()).await;
    let producer = Producer::new(sqs.publisher()).route(Ping::NAME, &queue);
    let batch: Vec<_> = (0..MESSAGES)
        .map(|seq| {
            producer
                .message(&Envelope::new(Ping::new(seq)))
                .expect("encode")
        })
        .collect();
    sqs.publisher()
        .publish_batch(&batch)
        .await
        .expect("publish 1,000");
    assert_eq!(in_queue(&sqs, &queue).await, MESSAGES);

    // What the killed worker held comes back once its visibility (3 s) ends.
    let (_, second) = kill_mid_stream_and_restart(
        || spawn_worker(&queue, &db.url),
        || async { count_effects(&db.pool).await.1 as u64 },
        300,
        MESSAGES,
        Duration::ZERO,
    )
    .await;
    // Let redelivered duplicates (the killed worker's claims expire after 3 s) come
    // through, then look again: still one effect per message, and nothing left over.
    let mut settled = false;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if in_queue(&sqs, &queue).await == 0 && claims_settled(&db.pool, MESSAGES).await {
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
    assert_eq!(in_queue(&sqs, &queue).await, 0);
    let dead = sqs
        .dead_letters()
        .list(&queue, &Selection::all())
        .await
        .expect("list");
    assert!(dead.is_empty(), "nothing dead-lettered: {dead:?}");
    db.drop_database().await;
}
