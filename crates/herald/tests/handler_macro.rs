//! `#[herald::handler]`: the generated type's policy, keys and error mapping, checked
//! directly and through a real `MemoryBroker` + `Worker` run.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald::memory::MemoryBroker;
use herald::{
    Context, Envelope, ErrorKind, Event, Handler, HandlerError, Jitter, Producer, RetryPolicy,
    Worker, headers,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "payment.requested", version = 1)]
struct PaymentRequested {
    #[event(aggregate_id)]
    payment_id: String,
    /// What the handler does with it: "ok", "declined", "fraud", "flaky" (fails once),
    /// "down" (always fails).
    scenario: String,
    amount_cents: i64,
}

#[derive(Debug)]
enum PaymentError {
    CardDeclined { code: u16 },
    Fraud(String),
    Timeout,
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentError::CardDeclined { code } => write!(f, "card declined ({code})"),
            PaymentError::Fraud(why) => write!(f, "fraud suspected: {why}"),
            PaymentError::Timeout => f.write_str("payment provider timed out"),
        }
    }
}

impl std::error::Error for PaymentError {}

/// Every call of a handler: (payment id, attempt).
#[derive(Default, Clone)]
struct Calls(Arc<Mutex<Vec<(String, u32)>>>);

impl Calls {
    fn record(&self, ctx: &Context, id: &str) {
        self.0
            .lock()
            .expect("not poisoned")
            .push((id.to_owned(), ctx.attempt()));
    }

    fn attempts_of(&self, id: &str) -> Vec<u32> {
        let calls = self.0.lock().expect("not poisoned");
        calls
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, a)| *a)
            .collect()
    }
}

#[herald::handler(
    name = "billing.charge",
    max_attempts = 3,
    initial_delay = "5ms",
    multiplier = 2.0,
    max_delay = "20ms",
    jitter = "none",
    lease = "30s",
    completed_ttl = "1h",
    permanent(PaymentError::CardDeclined { .. } | PaymentError::Fraud(_)),
)]
async fn charge_payment(
    event: PaymentRequested,
    ctx: &herald::Context,
) -> Result<(), PaymentError> {
    if let Some(calls) = ctx.extension::<Calls>() {
        calls.record(ctx, &event.payment_id);
    }
    match event.scenario.as_str() {
        "declined" => Err(PaymentError::CardDeclined { code: 51 }),
        "fraud" => Err(PaymentError::Fraud("velocity".into())),
        "flaky" if ctx.attempt() < 2 => Err(PaymentError::Timeout),
        "down" => Err(PaymentError::Timeout),
        _ => Ok(()),
    }
}

/// Defaults everywhere; returns `HandlerError` itself, which passes through.
#[herald::handler]
async fn audit_payment(event: PaymentRequested, _ctx: &Context) -> Result<(), HandlerError> {
    if event.scenario == "declined" {
        return Err(HandlerError::permanent(PaymentError::CardDeclined {
            code: 1,
        }));
    }
    if event.scenario == "down" {
        Err(PaymentError::Timeout)?;
    }
    Ok(())
}

/// Idempotency keyed on event fields, partial retry policy.
#[herald::handler(idempotency_key = [payment_id, amount_cents], max_attempts = 1, struct_name = RefundOnce)]
pub(crate) async fn refund(_event: PaymentRequested, ctx: &Context) -> Result<(), PaymentError> {
    if let Some(calls) = ctx.extension::<Calls>() {
        calls.record(ctx, "refund");
    }
    Ok(())
}

/// Idempotency keyed by a closure over the envelope.
#[herald::handler(idempotency_key = |envelope| format!("payment/{}", envelope.data.payment_id))]
async fn notify(_event: PaymentRequested, _ctx: &Context) -> Result<(), PaymentError> {
    Ok(())
}

fn payment(id: &str, scenario: &str) -> PaymentRequested {
    PaymentRequested {
        payment_id: id.into(),
        scenario: scenario.into(),
        amount_cents: 4200,
    }
}

fn context_for(event: &PaymentRequested, attempt: u32) -> Context {
    Context::new(Envelope::new(event.clone()).meta, attempt, "test")
}

#[test]
fn names_and_policies_come_from_the_arguments() {
    assert_eq!(ChargePayment.name(), "billing.charge");
    assert_eq!(
        ChargePayment.retry_policy(),
        RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(5),
            multiplier: 2.0,
            max_delay: Duration::from_millis(20),
            jitter: Jitter::None,
        }
    );
    assert_eq!(ChargePayment.lease(), Duration::from_secs(30));
    assert_eq!(ChargePayment.completed_ttl(), Duration::from_secs(3600));

    // Defaults: the fn's name and the trait's defaults.
    assert_eq!(AuditPayment.name(), "audit_payment");
    assert_eq!(AuditPayment.retry_policy(), RetryPolicy::default());
    assert_eq!(AuditPayment.lease(), Duration::from_secs(60));

    // Keys left out keep the default policy's values.
    assert_eq!(
        RefundOnce.retry_policy(),
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    );
    assert_eq!(RefundOnce.name(), "refund");
}

#[test]
fn idempotency_keys_from_fields_or_a_closure() {
    let envelope = Envelope::new(payment("p-1", "ok"));
    assert_eq!(RefundOnce.idempotency_key(&envelope), "v2:p-1:4200");
    assert_eq!(Notify.idempotency_key(&envelope), "payment/p-1");
    // Without the key, the envelope's (here: the event id) is used.
    assert_eq!(
        ChargePayment.idempotency_key(&envelope),
        envelope.meta.event_id.to_string()
    );
}

#[tokio::test]
async fn errors_matching_permanent_are_permanent_and_the_rest_retryable() {
    let kind = |r: Result<(), HandlerError>| r.map_err(|e| e.kind());
    let handle = |scenario: &'static str| async move {
        let event = payment("p", scenario);
        let ctx = context_for(&event, 1);
        ChargePayment.handle(event, &ctx).await
    };
    assert_eq!(kind(handle("ok").await), Ok(()));
    assert_eq!(kind(handle("declined").await), Err(ErrorKind::Permanent));
    assert_eq!(kind(handle("fraud").await), Err(ErrorKind::Permanent));
    assert_eq!(kind(handle("down").await), Err(ErrorKind::Retryable));
    let error = handle("declined").await.expect_err("declined");
    assert_eq!(error.to_string(), "permanent: card declined (51)");

    // The fn itself is still there and callable.
    let event = payment("p", "down");
    let ctx = context_for(&event, 1);
    assert!(matches!(
        charge_payment(event, &ctx).await,
        Err(PaymentError::Timeout)
    ));

    // HandlerError passes through as the fn made it.
    let event = payment("p", "declined");
    let ctx = context_for(&event, 1);
    assert_eq!(
        kind(AuditPayment.handle(event, &ctx).await),
        Err(ErrorKind::Permanent)
    );
    let event = payment("p", "down");
    let ctx = context_for(&event, 1);
    assert_eq!(
        kind(AuditPayment.handle(event, &ctx).await),
        Err(ErrorKind::Retryable)
    );
}

/// Runs `handler` over `queue` until the queue is idle, then shuts the worker down.
async fn run_until_idle<H: Handler>(
    broker: &MemoryBroker,
    queue: &str,
    handler: H,
    calls: &Calls,
) -> herald::WorkerStats {
    let worker = Worker::builder()
        .handler(handler)
        .extension(calls.clone())
        .concurrency(4)
        .build();
    let metrics = worker.metrics();
    let report = tokio::time::timeout(
        Duration::from_secs(10),
        worker.run_until_idle(broker.subscribe(queue), Duration::from_millis(200)),
    )
    .await
    .expect("the queue drains");
    assert!(report.drained);
    let s = broker.stats(queue);
    assert_eq!(s.ready + s.delayed + s.in_flight, 0, "{s:?}");
    metrics.snapshot()
}

#[tokio::test]
async fn the_generated_handler_runs_in_a_worker_with_its_policy() {
    let broker = MemoryBroker::new();
    let producer = Producer::new(broker.clone());
    for (id, scenario) in [
        ("ok", "ok"),
        ("declined", "declined"),
        ("flaky", "flaky"),
        ("down", "down"),
    ] {
        producer
            .publish(payment(id, scenario))
            .await
            .expect("published");
    }
    let calls = Calls::default();
    let stats = run_until_idle(&broker, "payment.requested", ChargePayment, &calls).await;

    assert_eq!(calls.attempts_of("ok"), [1]);
    // Permanent: dead-lettered after one attempt, no retry.
    assert_eq!(calls.attempts_of("declined"), [1]);
    // Retryable: retried, then succeeded.
    assert_eq!(calls.attempts_of("flaky"), [1, 2]);
    // Retryable every time: max_attempts = 3, then dead-lettered.
    assert_eq!(calls.attempts_of("down"), [1, 2, 3]);

    assert_eq!(stats.processed, 2);
    assert_eq!(stats.retried, 3);
    assert_eq!(stats.dead_lettered, 2);

    let dead: BTreeMap<String, BTreeMap<String, String>> = broker
        .dead_letters("payment.requested")
        .into_iter()
        .map(|record| {
            let event = Envelope::<PaymentRequested>::decode(&record.payload).expect("intact");
            let mut h: BTreeMap<String, String> = record.headers.into_iter().collect();
            h.insert("reason".into(), record.reason);
            (event.data.payment_id, h)
        })
        .collect();
    assert_eq!(dead.keys().collect::<Vec<_>>(), ["declined", "down"]);
    let declined = &dead["declined"];
    assert_eq!(declined[headers::PERMANENT], "true");
    assert_eq!(declined[headers::ATTEMPTS], "1");
    assert_eq!(declined[headers::HANDLER], "billing.charge");
    assert!(
        declined["reason"].contains("card declined (51)"),
        "{declined:?}"
    );
    let down = &dead["down"];
    assert_eq!(down[headers::PERMANENT], "false");
    assert_eq!(down[headers::ATTEMPTS], "3");
    assert!(
        down["reason"].contains("retries exhausted after 3 attempts"),
        "{down:?}"
    );
}

#[tokio::test]
async fn a_field_built_idempotency_key_skips_duplicates_in_a_worker() {
    let broker = MemoryBroker::new();
    let producer = Producer::new(broker.clone());
    // Three events, two of them the same payment: different event ids, same key.
    producer
        .publish(payment("p-1", "ok"))
        .await
        .expect("published");
    producer
        .publish(payment("p-1", "ok"))
        .await
        .expect("published");
    producer
        .publish(payment("p-2", "ok"))
        .await
        .expect("published");
    let calls = Calls::default();
    let stats = run_until_idle(&broker, "payment.requested", RefundOnce, &calls).await;
    assert_eq!(calls.attempts_of("refund").len(), 2);
    assert_eq!(stats.processed, 2);
    assert_eq!(stats.duplicates_skipped, 1);
}

/// Keyed on two text fields that may hold the separator.
#[herald::handler(idempotency_key = [payment_id, scenario], max_attempts = 1, struct_name = KeyedBySeparator)]
async fn keyed_by_separator(event: PaymentRequested, ctx: &Context) -> Result<(), PaymentError> {
    if let Some(calls) = ctx.extension::<Calls>() {
        calls.record(ctx, &event.payment_id);
    }
    Ok(())
}

#[tokio::test]
async fn composite_keys_whose_fields_hold_the_separator_do_not_collide() {
    let first = payment("a:b", "c");
    let second = payment("a", "b:c");
    let (k1, k2) = (
        KeyedBySeparator.idempotency_key(&Envelope::new(first.clone())),
        KeyedBySeparator.idempotency_key(&Envelope::new(second.clone())),
    );
    assert_ne!(k1, k2);
    assert_eq!((k1.as_str(), k2.as_str()), ("v2:a%3Ab:c", "v2:a:b%3Ac"));

    let broker = MemoryBroker::new();
    let producer = Producer::new(broker.clone());
    producer.publish(first).await.expect("published");
    producer.publish(second).await.expect("published");
    let calls = Calls::default();
    let stats = run_until_idle(&broker, "payment.requested", KeyedBySeparator, &calls).await;
    assert_eq!(
        (stats.processed, stats.duplicates_skipped),
        (2, 0),
        "neither event is taken for the other's duplicate"
    );
    assert_eq!(calls.attempts_of("a:b"), [1]);
    assert_eq!(calls.attempts_of("a"), [1]);
}
