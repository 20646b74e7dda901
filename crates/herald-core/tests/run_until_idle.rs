//! `Worker::run_until_idle`: process what is there, retries included, and stop.

mod support;

use std::time::Duration;

use herald_core::memory::MemoryBroker;
use herald_core::{Jitter, RetryPolicy, Worker};
use support::{QUEUE, Scripted, order, publish};

#[tokio::test(start_paused = true)]
async fn runs_until_nothing_arrives_and_nothing_runs_then_shuts_down() {
    let broker = MemoryBroker::new();
    for i in 0..20 {
        publish(&broker, order(&format!("o-{i}"), "c")).await;
    }
    // Two failures of one run: retried 100 ms then 200 ms later, well within the idle time.
    let h = Scripted {
        fail_times: 2,
        work: Duration::from_millis(50),
        policy: Some(RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(100),
            multiplier: 2.0,
            max_delay: Duration::from_secs(1),
            jitter: Jitter::None,
        }),
        ..Default::default()
    };
    let worker = Worker::builder().handler(h.clone()).concurrency(4).build();
    let metrics = worker.metrics();
    let started = tokio::time::Instant::now();
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        worker.run_until_idle(broker.subscribe(QUEUE), Duration::from_millis(500)),
    )
    .await
    .expect("returns once idle");
    assert!(report.drained);
    let s = metrics.snapshot();
    assert_eq!((s.processed, s.retried), (20, 2));
    let q = broker.stats(QUEUE);
    assert_eq!((q.ready, q.delayed, q.in_flight, q.dead), (0, 0, 0, 0));
    // Idle means idle_for after the last activity, not sooner and not much later.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(500 + 300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn a_long_handler_is_not_mistaken_for_idle() {
    let broker = MemoryBroker::new();
    publish(&broker, order("o-1", "c")).await;
    let h = Scripted {
        work: Duration::from_secs(5),
        ..Default::default()
    };
    let worker = Worker::builder().handler(h.clone()).build();
    let metrics = worker.metrics();
    let report = worker
        .run_until_idle(broker.subscribe(QUEUE), Duration::from_millis(100))
        .await;
    assert!(report.drained);
    assert_eq!(metrics.snapshot().processed, 1);
}
