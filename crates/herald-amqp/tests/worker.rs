//! The worker's guarantees over the real RabbitMQ beyond the conformance suite: a handler
//! that outlives its lease is not run twice by a second worker, and `run_until_idle` stops
//! once the queue is drained.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use herald_amqp::{Queue, Topology};
use herald_core::{Context, Handler, HandlerError, Worker};

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
