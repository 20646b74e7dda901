//! Cases about the flow of work: order per key, the concurrency bound, a consumer that
//! dies holding messages, and graceful shutdown.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::delivery::{IDLE_LIMIT, next_delivery};
use super::{Features, TransportUnderTest, note};
use crate::testing::transport::Capability;
use crate::testing::transport::harness::{RunningWorker, publish_probes};
use crate::testing::transport::probe::{Behaviour, Probe, ProbeHandler, quick_retries};
use crate::{IdempotencyStore, MemoryIdempotencyStore};

/// 20 keys x 50 steps, published interleaved and handled with concurrency 16: each key's
/// events are handled in publish order, while keys run in parallel.
pub async fn order_per_key<T: TransportUnderTest>(transport: &T, features: &Features) {
    if let Capability::Unsupported(why) = features.order_per_key {
        note(features, why);
        return;
    }
    const KEYS: u32 = 20;
    const STEPS: u32 = 50;
    let source = transport.fresh_source("order-per-key").await;
    let handler = ProbeHandler::new("conformance-order", quick_retries(3), |probe, _| {
        // A little work, varied per key, so keys overtake each other.
        Behaviour::Work(Duration::from_millis(u64::from(probe.id % 3)))
    });
    let log = handler.log();
    let worker = RunningWorker::start(transport, &source, handler, |w| {
        w.concurrency(16).ordered_by_key(true)
    })
    .await;
    let probes = (0..STEPS).flat_map(|step| {
        (0..KEYS).map(move |k| Probe::new(step * KEYS + k, format!("key-{k:02}"), step))
    });
    publish_probes(transport, &source, probes).await;
    worker
        .wait_for_stats("every event handled", IDLE_LIMIT * 2, |s| {
            s.processed == u64::from(KEYS * STEPS)
        })
        .await;
    let mut per_key: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for seen in log.seen() {
        per_key
            .entry(seen.probe.key.clone())
            .or_default()
            .push(seen.probe.step);
    }
    assert_eq!(per_key.len(), KEYS as usize);
    for (key, steps) in &per_key {
        assert_eq!(
            steps,
            &(0..STEPS).collect::<Vec<_>>(),
            "{}: the steps of {key} in the order they ran",
            features.name
        );
    }
    assert!(
        log.max_running() > 1,
        "keys must run in parallel (at most {} ran at once)",
        log.max_running()
    );
    worker.stop().await;
}

/// With concurrency 4, never more than 4 handlers run at once, and the bound is used.
pub async fn concurrency_is_bounded<T: TransportUnderTest>(transport: &T, _features: &Features) {
    let source = transport.fresh_source("concurrency").await;
    let handler = ProbeHandler::new("conformance-concurrency", quick_retries(3), |_, _| {
        Behaviour::Work(Duration::from_millis(150))
    });
    let log = handler.log();
    publish_probes(
        transport,
        &source,
        (0..24).map(|i| Probe::new(i, format!("key-{i}"), 0)),
    )
    .await;
    let worker = RunningWorker::start(transport, &source, handler, |w| w.concurrency(4)).await;
    worker
        .wait_for_stats("all 24 handled", IDLE_LIMIT, |s| s.processed == 24)
        .await;
    assert!(
        log.max_running() <= 4,
        "{} handlers ran at once with concurrency 4",
        log.max_running()
    );
    assert!(
        log.max_running() >= 2,
        "24 waiting events and concurrency 4, yet at most {} ran at once",
        log.max_running()
    );
    worker.stop().await;
}

/// A consumer that takes messages and dies without settling them (its deliveries and
/// subscriber dropped, as in a crash) loses nothing: every event it held comes back to a
/// live worker within the transport's redelivery time and is handled.
pub async fn a_dead_consumers_messages_come_back<T: TransportUnderTest>(
    transport: &T,
    features: &Features,
) {
    const N: u32 = 20;
    let source = transport.fresh_source("dead-consumer").await;
    publish_probes(
        transport,
        &source,
        // One key each: a transport that keeps order per key hands out one event per key
        // at a time.
        (0..N).map(|i| Probe::new(i, format!("key-{i}"), 0)),
    )
    .await;

    // The doomed consumer takes some messages, acks two of them, and dies.
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryIdempotencyStore::new());
    let mut doomed = transport.subscriber(&source).await;
    let mut held = Vec::new();
    for n in 0..6 {
        held.push(
            next_delivery(
                &mut *doomed,
                &format!("delivery {n} for the doomed consumer"),
            )
            .await,
        );
    }
    let mut acked = BTreeSet::new();
    for delivery in held.drain(..2) {
        let envelope = crate::RawEnvelope::parse(&delivery.message.payload).expect("envelope");
        let probe: Probe = serde_json::from_str(envelope.data.get()).expect("probe");
        acked.insert(probe.id);
        delivery.ack().await.expect("ack");
    }
    drop(held);
    drop(doomed);

    let handler = ProbeHandler::succeeding();
    let log = handler.log();
    let worker = RunningWorker::start(transport, &source, handler, |w| {
        w.idempotency_store(store.clone())
    })
    .await;
    let everything: BTreeSet<u32> = (0..N).collect();
    log.wait_until(
        "every event not acked by the dead consumer",
        features.redelivery_after + IDLE_LIMIT,
        |seen| {
            let handled: BTreeSet<u32> = seen.iter().map(|s| s.probe.id).collect();
            handled.union(&acked).copied().collect::<BTreeSet<_>>() == everything
        },
    )
    .await;
    worker.stop().await;
}

/// Shutdown stops taking work and lets in-flight handlers finish within the deadline; one
/// that does not finish is handed back (not an attempt) and a later worker handles it, along
/// with everything not yet taken.
pub async fn shutdown_drains_then_hands_back<T: TransportUnderTest>(
    transport: &T,
    features: &Features,
) {
    let source = transport.fresh_source("shutdown").await;
    // Probe 0 works briefly, probe 1 longer than the deadline; the rest wait behind them.
    let first = ProbeHandler::new(
        "conformance-shutdown",
        quick_retries(3),
        |probe, _| match probe.id {
            0 => Behaviour::Work(Duration::from_millis(300)),
            _ => Behaviour::Work(Duration::from_secs(60)),
        },
    );
    let first_log = first.log();
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryIdempotencyStore::new());
    publish_probes(
        transport,
        &source,
        [Probe::new(0, "a", 0), Probe::new(1, "b", 0)],
    )
    .await;
    let worker = RunningWorker::start(transport, &source, first, |w| {
        w.concurrency(2)
            .shutdown_timeout(Duration::from_secs(2))
            .idempotency_store(store.clone())
    })
    .await;
    first_log
        .wait_until("both events running", IDLE_LIMIT, |seen| seen.len() == 2)
        .await;
    let report = worker.stop().await;
    assert!(!report.drained, "probe 1 outlives the deadline");
    assert_eq!(report.handed_back, 1, "probe 1 is handed back: {report:?}");
    publish_probes(transport, &source, (2..6).map(|i| Probe::new(i, "c", i))).await;

    let second = ProbeHandler::succeeding();
    let second_log = second.log();
    let worker = RunningWorker::start(transport, &source, second, |w| {
        w.idempotency_store(store.clone())
    })
    .await;
    second_log
        .wait_until(
            "the handed-back event and the rest",
            features.redelivery_after + IDLE_LIMIT,
            |seen| {
                let ids: BTreeSet<u32> = seen.iter().map(|s| s.probe.id).collect();
                (1..6).all(|i| ids.contains(&i))
            },
        )
        .await;
    let handed_back = second_log.runs_of(1);
    assert_eq!(
        handed_back[0].attempt, 1,
        "a handed-back delivery is not counted as an attempt"
    );
    assert!(
        second_log.runs_of(0).is_empty(),
        "probe 0 finished before shutdown and must not run again"
    );
    // A worker with nothing in flight drains at once.
    let report = worker.stop().await;
    assert!(report.drained && report.handed_back == 0, "{report:?}");
}
