//! The worker's own logic on the in-memory transport, beyond the transport conformance suite
//! (tests/conformance.rs): bad payloads, upcasting, in-progress duplicates, causation,
//! jitter, schema validation.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use herald_core::memory::MemoryBroker;
use herald_core::{
    Envelope, Event, Handler, IdempotencyStore, MemoryIdempotencyStore, Producer, Publisher,
    RetryPolicy, Worker, headers,
};
use support::{OrderPlacedV1, QUEUE, Scripted, order, publish, start, until};

#[tokio::test(start_paused = true)]
async fn malformed_payload_and_unknown_event_type_are_dead_lettered_not_crashed() {
    let broker = MemoryBroker::new();
    let h = Scripted::default();
    let w = start(&broker, Worker::builder().handler(h.clone()));
    broker
        .publish(herald_core::OutgoingMessage {
            destination: QUEUE.into(),
            key: "k".into(),
            headers: Default::default(),
            payload: b"{not json".to_vec(),
        })
        .await
        .unwrap();
    let invoice = Envelope::new(support::InvoiceSent {
        order_id: "o".into(),
    });
    Producer::new(broker.clone())
        .route("invoice.sent", QUEUE)
        .publish_envelope(&invoice)
        .await
        .unwrap();
    let mut wrong = serde_json::to_value(Envelope::new(order("o-2", "c"))).unwrap();
    wrong["data"]["total_cents"] = "a lot".into();
    broker
        .publish(herald_core::OutgoingMessage {
            destination: QUEUE.into(),
            key: "k".into(),
            headers: Default::default(),
            payload: serde_json::to_vec(&wrong).unwrap(),
        })
        .await
        .unwrap();
    until("three dead letters", || w.stats().dead_lettered == 3).await;
    // The worker still works.
    publish(&broker, order("o-3", "c")).await;
    until("processed", || w.stats().processed == 1).await;
    w.stop().await;
    let reasons: Vec<String> = broker
        .dead_letters(QUEUE)
        .into_iter()
        .map(|d| d.reason)
        .collect();
    assert!(reasons[0].starts_with("malformed envelope"), "{reasons:?}");
    assert_eq!(
        reasons[1],
        "no handler for event type `invoice.sent` in this worker"
    );
    assert!(
        reasons[2].contains("data does not match the type"),
        "{reasons:?}"
    );
    assert_eq!(h.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn older_version_is_upcast_before_the_handler_sees_it() {
    let broker = MemoryBroker::new();
    let h = Scripted::default();
    let w = start(&broker, Worker::builder().handler(h.clone()));
    Producer::new(broker.clone())
        .publish(OrderPlacedV1 {
            order_id: "legacy".into(),
            amount: 1.5,
        })
        .await
        .unwrap();
    until("processed", || w.stats().processed == 1).await;
    w.stop().await;
    assert_eq!(h.seen.lock().unwrap()[0].0, "legacy");
}

#[tokio::test(start_paused = true)]
async fn in_progress_duplicate_is_requeued_not_dropped_and_not_an_attempt() {
    let broker = MemoryBroker::new();
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryIdempotencyStore::new());
    let h = Scripted {
        work: Duration::from_secs(2),
        ..Default::default()
    };
    // Two workers share the store, as two processes would share Redis.
    let a = start(
        &broker,
        Worker::builder()
            .handler(h.clone())
            .idempotency_store(store.clone())
            .in_progress_delay(Duration::from_millis(500)),
    );
    let b = start(
        &broker,
        Worker::builder()
            .handler(h.clone())
            .idempotency_store(store.clone())
            .in_progress_delay(Duration::from_millis(500)),
    );
    let env = publish(&broker, order("o-1", "c")).await;
    Producer::new(broker.clone())
        .publish_envelope(&env)
        .await
        .unwrap();
    until("one processed, the other skipped", || {
        let (sa, sb) = (a.stats(), b.stats());
        sa.processed + sb.processed == 1 && sa.duplicates_skipped + sb.duplicates_skipped == 1
    })
    .await;
    let requeued = a.stats().requeued_in_progress + b.stats().requeued_in_progress;
    a.stop().await;
    b.stop().await;
    assert!(
        requeued >= 1,
        "the concurrent duplicate waited for the first"
    );
    assert_eq!(h.calls.load(Ordering::SeqCst), 1);
    let attempts: Vec<u32> = h.seen.lock().unwrap().iter().map(|s| s.1).collect();
    assert_eq!(attempts, [1]);
}

#[tokio::test(start_paused = true)]
async fn published_events_carry_correlation_and_causation() {
    let broker = MemoryBroker::new();
    let h = Scripted {
        publish_invoice: true,
        ..Default::default()
    };
    let w = start(
        &broker,
        Worker::builder()
            .handler(h.clone())
            .producer(Producer::new(broker.clone())),
    );
    let original = publish(&broker, order("o-1", "c")).await;
    until("processed", || w.stats().processed == 1).await;
    w.stop().await;
    let mut invoices = broker.subscribe(support::InvoiceSent::NAME);
    let delivery = herald_core::Subscriber::recv(&mut invoices)
        .await
        .unwrap()
        .unwrap();
    let invoice = Envelope::<support::InvoiceSent>::decode(&delivery.message.payload).unwrap();
    assert_eq!(invoice.meta.correlation_id, original.meta.correlation_id);
    assert_eq!(invoice.meta.causation_id, Some(original.meta.event_id));
    assert_eq!(
        delivery.message.headers[headers::CAUSATION_ID],
        original.meta.event_id.to_string()
    );
}

#[tokio::test(start_paused = true)]
async fn retry_policy_with_jitter_stays_within_bounds_end_to_end() {
    let broker = MemoryBroker::new();
    let policy = RetryPolicy {
        max_attempts: 4,
        initial_delay: Duration::from_millis(100),
        multiplier: 3.0,
        max_delay: Duration::from_millis(500),
        jitter: herald_core::Jitter::Full,
    };
    let h = Scripted {
        fail_times: u32::MAX,
        policy: Some(policy.clone()),
        ..Default::default()
    };
    let w = start(&broker, Worker::builder().handler(h.clone()));
    let started = tokio::time::Instant::now();
    publish(&broker, order("o-1", "c")).await;
    until("dead-lettered", || w.stats().dead_lettered == 1).await;
    w.stop().await;
    // Full jitter: each wait is in [0, base], bases 100, 300, 500 (capped).
    assert!(started.elapsed() <= Duration::from_millis(900 + 10));
    assert_eq!(h.calls.load(Ordering::SeqCst), 4);
    let _ = h.retry_policy();
}

#[tokio::test]
async fn memory_store_passes_the_idempotency_contract() {
    herald_core::testing::idempotency_store_contract(Arc::new(MemoryIdempotencyStore::new())).await;
}

#[tokio::test(start_paused = true)]
async fn schema_validation_dead_letters_a_foreign_producers_bad_payload_with_the_path() {
    let broker = MemoryBroker::new();
    let h = Scripted::default();
    let w = start(
        &broker,
        Worker::builder().handler(h.clone()).validate_payloads(true),
    );
    // What a producer in another language might send: a string where an integer belongs.
    let mut bad = serde_json::to_value(Envelope::new(order("o-1", "c"))).unwrap();
    bad["data"]["total_cents"] = "12.00".into();
    broker
        .publish(herald_core::OutgoingMessage {
            destination: QUEUE.into(),
            key: "c".into(),
            headers: Default::default(),
            payload: serde_json::to_vec(&bad).unwrap(),
        })
        .await
        .unwrap();
    publish(&broker, order("o-2", "c")).await;
    until("one dead, one processed", || {
        let s = w.stats();
        s.dead_lettered == 1 && s.processed == 1
    })
    .await;
    w.stop().await;
    let reason = &broker.dead_letters(QUEUE)[0].reason;
    assert!(
        reason.contains("does not match its JSON Schema"),
        "{reason}"
    );
    assert!(reason.contains("/total_cents"), "{reason}");
    assert_eq!(h.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn producer_rejects_invalid_data_before_sending_when_validating() {
    // A v1 amount that is NaN serializes as null, which the schema forbids.
    let broker = MemoryBroker::new();
    let producer = Producer::new(broker.clone()).validate_payloads(true);
    let err = producer
        .publish(OrderPlacedV1 {
            order_id: "o".into(),
            amount: f64::NAN,
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not match its JSON Schema"),
        "{err}"
    );
    assert_eq!(
        broker.stats(OrderPlacedV1::NAME).ready,
        0,
        "nothing was sent"
    );
}
