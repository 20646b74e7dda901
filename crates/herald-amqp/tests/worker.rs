//! The worker's guarantees over the real RabbitMQ: a panicking handler is settled like any
//! failure, a handler that outlives its lease is not run twice by a second worker, and
//! `run_until_idle` stops once the queue is drained.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use herald_amqp::dlq::{self, Selection};
use herald_amqp::{Queue, Topology};
use herald_core::{Context, Handler, HandlerError, Jitter, RetryPolicy, Worker};

const WAIT: Duration = Duration::from_secs(60);

fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_delay: Duration::from_millis(100),
        multiplier: 1.0,
        max_delay: Duration::from_millis(100),
        jitter: Jitter::None,
    }
}

#[tokio::test]
async fn a_handler_panicking_twice_is_retried_and_processed_once() {
    let queue = unique("panic-twice");
    let _cleanup = Cleanup::default()
        .queue(&queue)
        .retry(&queue, Duration::from_millis(100));
    let amqp = connect(Topology::new().queue(Queue::new(&queue))).await;
    let recorder = Recorder::new(|ping, attempt| {
        if attempt < 3 {
            panic!("ping {} blew up on attempt {attempt}", ping.seq);
        }
        Ok(())
    })
    .policy(quick_retries(3));
    send_to_queue(&amqp, &queue, ping(1)).await;
    let worker = Worker::builder().handler(recorder.clone()).build();
    let metrics = worker.metrics();
    let report = tokio::time::timeout(
        WAIT,
        worker.run_until_idle(amqp.subscriber(&queue), Duration::from_secs(1)),
    )
    .await
    .expect("the queue drains");
    assert!(report.drained);
    let s = metrics.snapshot();
    assert_eq!(
        (s.processed, s.retried, s.panicked, s.dead_lettered),
        (1, 2, 2, 0)
    );
    let attempts: Vec<u32> = recorder.calls().iter().map(|c| c.attempt).collect();
    assert_eq!(attempts, [1, 2, 3]);
    assert_eq!(ready(&queue).await, 0);
    assert_eq!(ready(&herald_amqp::dead_letter_queue(&queue)).await, 0);
    amqp.close().await.expect("close");
}

#[tokio::test]
async fn a_handler_that_always_panics_is_dead_lettered_and_the_next_message_runs() {
    let queue = unique("panic-always");
    let _cleanup = Cleanup::default()
        .queue(&queue)
        .retry(&queue, Duration::from_millis(100));
    let amqp = connect(Topology::new().queue(Queue::new(&queue))).await;
    let recorder = Recorder::new(|ping, _| {
        if ping.seq == 1 {
            panic!("ping 1 always blows up");
        }
        Ok(())
    })
    .policy(quick_retries(2));
    // Both sent to the queue with the same routing key: one key, in order.
    send_to_queue(&amqp, &queue, ping(1)).await;
    send_to_queue(&amqp, &queue, ping(2)).await;
    let worker = Worker::builder()
        .handler(recorder.clone())
        .ordered_by_key(true)
        .build();
    let metrics = worker.metrics();
    let report = tokio::time::timeout(
        WAIT,
        worker.run_until_idle(amqp.subscriber(&queue), Duration::from_secs(1)),
    )
    .await
    .expect("the queue drains");
    assert!(report.drained);
    let s = metrics.snapshot();
    assert_eq!((s.processed, s.dead_lettered, s.panicked), (1, 1, 2));
    assert_eq!(recorder.seqs(), [1, 1, 2], "the next message was processed");

    let dead = dlq::list(&amqp, &queue, &Selection::all())
        .await
        .expect("list");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].attempts, Some(2));
    assert_eq!(
        dead[0].reason.as_deref(),
        Some("retries exhausted after 2 attempts: panic: ping 1 always blows up")
    );
    assert_eq!(ready(&queue).await, 0);
    amqp.close().await.expect("close");
}

const LEASE: Duration = Duration::from_secs(1);

/// Runs three times its lease, then counts its effect.
#[derive(Clone, Default)]
struct Slow {
    effects: Arc<Mutex<HashMap<u64, u32>>>,
}

#[herald_core::async_trait]
impl Handler for Slow {
    type Event = Ping;

    fn name(&self) -> &'static str {
        "slow"
    }

    fn lease(&self) -> Duration {
        LEASE
    }

    async fn handle(&self, ping: Ping, _ctx: &Context) -> Result<(), HandlerError> {
        tokio::time::sleep(LEASE * 3).await;
        *self
            .effects
            .lock()
            .expect("lock")
            .entry(ping.seq)
            .or_default() += 1;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_and_a_handler_three_times_its_lease_run_each_event_once() {
    const EVENTS: u64 = 200;
    let queue = unique("lease");
    let requeue_delay = Duration::from_millis(500);
    let _cleanup = Cleanup::default()
        .queue(&queue)
        .retry(&queue, requeue_delay);
    let amqp = connect(Topology::new().queue(Queue::new(&queue))).await;
    let store = Arc::new(
        herald_redis::RedisIdempotencyStore::connect("redis://127.0.0.1:6379")
            .await
            .expect("Redis on 127.0.0.1:6379 (scripts/services)")
            .with_prefix(format!("{queue}:")),
    );
    // Each event twice (as a redelivery would be), so both workers see most of them.
    let duplicates = (0..EVENTS).map(|seq| {
        let envelope = herald_core::Envelope::new(ping(seq));
        let amqp = &amqp;
        let queue = &queue;
        async move {
            for _ in 0..2 {
                send_envelope_to_queue(amqp, queue, &envelope).await;
            }
        }
    });
    futures::future::join_all(duplicates).await;

    let slow = Slow::default();
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let worker = Worker::builder()
                .handler(slow.clone())
                .idempotency_store(store.clone())
                .concurrency(64)
                .in_progress_delay(requeue_delay)
                .build();
            let metrics = worker.metrics();
            let subscriber = amqp.subscriber(&queue).prefetch(64);
            let run = tokio::spawn(worker.run_until_idle(subscriber, Duration::from_secs(5)));
            (run, metrics)
        })
        .collect();
    let (mut processed, mut skipped) = (0, 0);
    for (run, metrics) in runs {
        let report = tokio::time::timeout(Duration::from_secs(180), run)
            .await
            .expect("the queue drains")
            .expect("worker");
        assert!(report.drained);
        let s = metrics.snapshot();
        processed += s.processed;
        skipped += s.duplicates_skipped;
    }
    let effects = slow.effects.lock().expect("lock").clone();
    let not_once: Vec<_> = effects.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        not_once.is_empty(),
        "effects not exactly once: {not_once:?}"
    );
    assert_eq!(effects.len() as u64, EVENTS);
    assert_eq!((processed, skipped), (EVENTS, EVENTS));
    assert_eq!(ready(&queue).await, 0);
    amqp.close().await.expect("close");
}
