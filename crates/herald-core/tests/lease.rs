//! The worker renews its claim while a handler runs, so a handler that outlives its lease
//! is not run a second time by another worker; a claim that is lost anyway cancels the
//! handler and hands its message back.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_core::memory::MemoryBroker;
use herald_core::{
    Claim, Context, Envelope, Handler, HandlerError, IdempotencyStore, MemoryIdempotencyStore,
    Producer, Worker, async_trait,
};
use support::{OrderPlaced, QUEUE, order, start, until};

const LEASE: Duration = Duration::from_millis(300);

/// Runs three times its lease, then counts its effect per order.
#[derive(Clone, Default)]
struct Slow {
    effects: Arc<Mutex<HashMap<String, u32>>>,
}

#[async_trait]
impl Handler for Slow {
    type Event = OrderPlaced;

    fn name(&self) -> &'static str {
        "slow"
    }

    fn lease(&self) -> Duration {
        LEASE
    }

    async fn handle(&self, event: OrderPlaced, ctx: &Context) -> Result<(), HandlerError> {
        assert!(
            ctx.lease_token().is_some(),
            "a worker sets the fencing token"
        );
        tokio::time::sleep(LEASE * 3).await;
        *self
            .effects
            .lock()
            .expect("lock")
            .entry(event.order_id)
            .or_default() += 1;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn two_workers_and_a_handler_three_times_its_lease_run_each_event_once() {
    let broker = MemoryBroker::new();
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryIdempotencyStore::new());
    let h = Slow::default();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            start(
                &broker,
                Worker::builder()
                    .handler(h.clone())
                    .idempotency_store(store.clone())
                    .concurrency(64)
                    .in_progress_delay(Duration::from_millis(200)),
            )
        })
        .collect();
    // Each event delivered twice (as a broker's redelivery would), so both workers see it.
    let producer = Producer::new(broker.clone());
    for i in 0..200 {
        let env = Envelope::new(order(&format!("o-{i}"), "c"));
        producer.publish_envelope(&env).await.unwrap();
        producer.publish_envelope(&env).await.unwrap();
    }
    until("every event processed", || {
        h.effects.lock().expect("lock").len() == 200 && {
            let s = broker.stats(QUEUE);
            s.ready + s.delayed + s.in_flight == 0
        }
    })
    .await;
    let (processed, skipped) = workers.iter().fold((0, 0), |(p, d), w| {
        let s = w.stats();
        (p + s.processed, d + s.duplicates_skipped)
    });
    for w in workers {
        w.stop().await;
    }
    let effects = h.effects.lock().expect("lock");
    let twice: Vec<_> = effects.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "effects not exactly once: {twice:?}");
    assert_eq!((processed, skipped), (200, 200));
}

/// Gives its claim away mid-run (as if the store lost it), then waits for the worker to
/// cancel it.
#[derive(Clone)]
struct Robbed {
    store: Arc<MemoryIdempotencyStore>,
    cancelled: Arc<AtomicBool>,
    runs: Arc<Mutex<Vec<u32>>>,
}

#[async_trait]
impl Handler for Robbed {
    type Event = OrderPlaced;

    fn name(&self) -> &'static str {
        "robbed"
    }

    fn lease(&self) -> Duration {
        LEASE
    }

    async fn handle(&self, _event: OrderPlaced, ctx: &Context) -> Result<(), HandlerError> {
        let first = {
            let mut runs = self.runs.lock().expect("lock");
            runs.push(ctx.attempt());
            runs.len() == 1
        };
        if first {
            let key = ctx.claimed_key().expect("claimed key");
            let token = ctx.lease_token().expect("lease token");
            self.store.release(key, token).await.expect("release");
            let thief = self
                .store
                .claim(key, Duration::from_secs(2))
                .await
                .expect("claim");
            assert!(matches!(thief, Claim::Acquired(_)));
            ctx.cancellation().cancelled().await;
            self.cancelled.store(true, Ordering::SeqCst);
            // Dropped by the worker right after the cancel: never reached.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_lost_claim_cancels_the_handler_and_hands_the_message_back_not_as_an_attempt() {
    let broker = MemoryBroker::new();
    let store = Arc::new(MemoryIdempotencyStore::new());
    let h = Robbed {
        store: store.clone(),
        cancelled: Arc::default(),
        runs: Arc::default(),
    };
    let w = start(
        &broker,
        Worker::builder()
            .handler(h.clone())
            .idempotency_store(store)
            .in_progress_delay(Duration::from_millis(500)),
    );
    support::publish(&broker, order("o-1", "c")).await;
    until("processed after the thief's lease ran out", || {
        w.stats().processed == 1
    })
    .await;
    let s = w.stats();
    assert_eq!(s.leases_lost, 1);
    assert_eq!((s.retried, s.dead_lettered), (0, 0));
    assert!(
        h.cancelled.load(Ordering::SeqCst),
        "the handler saw its cancellation"
    );
    assert_eq!(
        *h.runs.lock().expect("lock"),
        [1, 1],
        "not counted as an attempt"
    );
    w.stop().await;
}
