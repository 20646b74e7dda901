//! The README's "Running handlers": a worker with every setting, over any transport.

use std::sync::Arc;
use std::time::Duration;

use herald::{IdempotencyStore, Producer, ShutdownReport, Subscriber, Worker};

use crate::orders::{ChargeCard, Gateway, RequestPayment};

/// Runs the order handlers until Ctrl-C.
#[rustfmt::skip] // the README's layout
pub async fn run(
    subscriber: impl Subscriber,
    store: Arc<dyn IdempotencyStore>,
    producer: Producer,
    gateway: Gateway,
) -> ShutdownReport {
    let worker = Worker::builder()
        .handler(RequestPayment)
        .handler(ChargeCard)
        .idempotency_store(store)          // in-memory by default; Redis or PostgreSQL in production
        .producer(producer)                // for ctx.publish
        .extension(gateway)                // shared values: ctx.extension::<Gateway>()
        .concurrency(64)
        .ordered_by_key(true)              // one at a time per partition key, in arrival order
        .shutdown_timeout(Duration::from_secs(30))
        .build();
    let report = worker.run(subscriber, tokio::signal::ctrl_c()).await;
    if !report.drained {
        eprintln!("{} deliveries handed back to the broker", report.handed_back);
    }
    report
}

/// Runs the order handlers until the queue has been idle for a second: a batch job.
#[rustfmt::skip] // the README's layout
pub async fn run_batch(subscriber: impl Subscriber) -> ShutdownReport {
    let worker = Worker::builder()
        .handler(RequestPayment)
        .handler(ChargeCard)
        .build();
    let metrics = worker.metrics();
    let report = worker.run_until_idle(subscriber, Duration::from_secs(1)).await;
    eprintln!("{} processed", metrics.snapshot().processed);
    report
}
