//! A panicking handler over Kafka is settled like any failure: retried, then dead-lettered
//! with `panic: <message>`; its offset is committed and its key and partition move on.

mod common;

use std::time::Duration;

use common::*;
use herald_core::Worker;
use herald_kafka::dlq::{self, Selection};
use herald_kafka::{KafkaSubscriber, RetryStrategy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_steps_are_retried_or_dead_lettered_and_their_keys_go_on() {
    let topic = topic("panic", 2).await;
    let probe = Probe::new();
    {
        let mut panicky = probe.panicky.lock().expect("lock");
        panicky.insert(("key-0".into(), 1), u32::MAX);
        panicky.insert(("key-1".into(), 1), 2);
    }
    let producer = producer(&topic);
    for key in ["key-0", "key-1"] {
        for seq in 0..4 {
            producer
                .publish(Step {
                    key: key.into(),
                    seq,
                })
                .await
                .expect("publish");
        }
    }
    let group = unique("group");
    let subscriber = KafkaSubscriber::builder(&config(), &group)
        .topic(&topic)
        // Retried in place: the key waits, so its next step runs only once this one settled.
        .retry_strategy(RetryStrategy::BlockKey)
        .build()
        .expect("subscriber");
    let worker = Worker::builder()
        .handler(Record::new(3))
        .extension(probe.clone())
        .build();
    let metrics = worker.metrics();
    let (stop, run) = spawn_worker(worker, subscriber);
    wait_for(
        Duration::from_secs(60),
        "seven steps and a dead letter",
        || probe.done_count() == 7 && metrics.snapshot().dead_lettered == 1,
    )
    .await;
    stop.send(()).ok();
    let report = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("shuts down")
        .expect("worker");
    assert!(report.drained);

    let done = probe.done.lock().expect("lock").clone();
    assert_eq!(
        done["key-0"],
        [0, 2, 3],
        "the key went on after the dead letter"
    );
    assert_eq!(done["key-1"], [0, 1, 2, 3], "processed once, in order");
    let s = metrics.snapshot();
    assert_eq!((s.panicked, s.dead_lettered), (3 + 2, 1));

    let dead = dlq::list(&config(), &topic, &Selection::all())
        .await
        .expect("list");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(
        dead[0].reason.as_deref(),
        Some("retries exhausted after 3 attempts: panic: step key-0/1 blew up")
    );
    let (committed, ends) = committed_and_ends(&group, &topic);
    assert_eq!(
        committed, ends,
        "every offset committed, the panicking ones too"
    );
}
