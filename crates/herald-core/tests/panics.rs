//! A panicking handler is a failure like any other: retried with the policy's backoff,
//! dead-lettered with `panic: <message>` once attempts run out, its claim released and its
//! key's queue moving on.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_core::memory::MemoryBroker;
use herald_core::{Context, Handler, HandlerError, Jitter, RetryPolicy, Worker, async_trait};
use support::{OrderPlaced, QUEUE, order, publish, start, until};

/// Panics on the first `n` runs of the orders named in `panics`; records what succeeded.
#[derive(Clone, Default)]
struct Panicky {
    panics: Arc<Mutex<HashMap<String, u32>>>,
    done: Arc<Mutex<Vec<(String, u32)>>>,
}

impl Panicky {
    fn panicking(orders: &[(&str, u32)]) -> Self {
        let p = Panicky::default();
        p.panics
            .lock()
            .expect("lock")
            .extend(orders.iter().map(|(o, n)| ((*o).to_owned(), *n)));
        p
    }

    fn done(&self) -> Vec<(String, u32)> {
        self.done.lock().expect("lock").clone()
    }
}

#[async_trait]
impl Handler for Panicky {
    type Event = OrderPlaced;

    fn name(&self) -> &'static str {
        "panicky"
    }

    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(100),
            multiplier: 2.0,
            max_delay: Duration::from_secs(1),
            jitter: Jitter::None,
        }
    }

    async fn handle(&self, event: OrderPlaced, ctx: &Context) -> Result<(), HandlerError> {
        let panic = {
            let mut panics = self.panics.lock().expect("lock");
            match panics.get_mut(&event.order_id) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            }
        };
        if panic {
            panic!("the gateway client blew up on {}", event.order_id);
        }
        self.done
            .lock()
            .expect("lock")
            .push((event.order_id, ctx.attempt()));
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_handler_that_panics_twice_is_retried_and_processed_once() {
    let broker = MemoryBroker::new();
    let h = Panicky::panicking(&[("o-1", 2)]);
    let w = start(&broker, Worker::builder().handler(h.clone()));
    let started = tokio::time::Instant::now();
    publish(&broker, order("o-1", "c")).await;
    until("processed", || w.stats().processed == 1).await;
    // The policy's backoff: 100 ms, then 200 ms.
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(w.stats().panicked, 2);
    assert!(w.stop().await.drained);
    assert_eq!(
        h.done(),
        [("o-1".to_owned(), 3)],
        "once, on the third attempt"
    );
    assert_eq!(
        w_stats_after(&broker),
        (0, 0, 0, 0),
        "nothing left in the queue"
    );
}

#[tokio::test(start_paused = true)]
async fn a_handler_that_always_panics_is_dead_lettered_and_its_key_moves_on() {
    let broker = MemoryBroker::new();
    let h = Panicky::panicking(&[("o-1", u32::MAX)]);
    let w = start(
        &broker,
        Worker::builder().handler(h.clone()).ordered_by_key(true),
    );
    // Same customer, so the same partition key: o-2 waits behind o-1's attempts.
    publish(&broker, order("o-1", "c-1")).await;
    publish(&broker, order("o-2", "c-1")).await;
    until("dead-lettered and the next processed", || {
        let s = w.stats();
        s.dead_lettered == 1 && s.processed == 1
    })
    .await;
    let s = w.stats();
    assert_eq!((s.retried, s.panicked), (2, 3));
    w.stop().await;

    let dead = broker.dead_letters(QUEUE);
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].reason,
        "retries exhausted after 3 attempts: panic: the gateway client blew up on o-1"
    );
    assert_eq!(dead[0].headers[herald_core::headers::ERROR], dead[0].reason);
    assert_eq!(h.done(), [("o-2".to_owned(), 1)]);
    assert_eq!(w_stats_after(&broker), (0, 0, 0, 1));
}

/// The claim was released after each panic: a second worker sharing the store is not
/// told the key is in progress.
#[tokio::test(start_paused = true)]
async fn a_panic_releases_the_claim() {
    let broker = MemoryBroker::new();
    let store = Arc::new(herald_core::MemoryIdempotencyStore::new());
    let h = Panicky::panicking(&[("o-1", 1)]);
    let w = start(
        &broker,
        Worker::builder()
            .handler(h.clone())
            .idempotency_store(store.clone()),
    );
    publish(&broker, order("o-1", "c")).await;
    until("processed", || w.stats().processed == 1).await;
    assert_eq!(
        w.stats().requeued_in_progress,
        0,
        "the retry found the key free"
    );
    assert!(w.stop().await.drained);
    assert_eq!(h.done(), [("o-1".to_owned(), 2)]);
}

fn w_stats_after(broker: &MemoryBroker) -> (usize, usize, usize, usize) {
    let s = broker.stats(QUEUE);
    (s.ready, s.delayed, s.in_flight, s.dead)
}
