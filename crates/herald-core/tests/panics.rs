//! A panicking handler releases its claim, so the retry can take the key (retries and dead
//! letters of panicking handlers are cases of the transport conformance suite).

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_core::memory::MemoryBroker;
use herald_core::{Context, Handler, HandlerError, Jitter, RetryPolicy, Worker, async_trait};
use support::{OrderPlaced, order, publish, start, until};

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
