//! After the shutdown deadline, handing back is bounded too: a store (or broker) that no
//! longer answers cannot hold the worker; what was not settled is redelivered.

mod support;

use std::sync::Arc;
use std::time::Duration;

use herald_core::memory::{MemoryBroker, MemoryConfig};
use herald_core::{
    Claim, IdempotencyStore, LeaseToken, MemoryIdempotencyStore, StoreError, Worker, async_trait,
};
use support::{QUEUE, Scripted, order, publish, start, until};

/// The in-memory store, except that releasing a key never answers (a store that hangs).
struct HangsOnRelease(MemoryIdempotencyStore);

#[async_trait]
impl IdempotencyStore for HangsOnRelease {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.0.claim(key, lease).await
    }
    async fn complete(
        &self,
        key: &str,
        token: &LeaseToken,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.0.complete(key, token, ttl).await
    }
    async fn release(&self, _key: &str, _token: &LeaseToken) -> Result<(), StoreError> {
        std::future::pending().await
    }
    async fn renew(
        &self,
        key: &str,
        token: &LeaseToken,
        lease: Duration,
    ) -> Result<(), StoreError> {
        self.0.renew(key, token, lease).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_store_that_hangs_while_handing_back_does_not_hold_the_shutdown() {
    let broker = MemoryBroker::with_config(MemoryConfig {
        visibility_timeout: Duration::from_secs(10),
    });
    let h = Scripted {
        work: Duration::from_secs(3600),
        ..Default::default()
    };
    let deadline = Duration::from_secs(2);
    let w = start(
        &broker,
        Worker::builder()
            .handler(h.clone())
            .idempotency_store(Arc::new(HangsOnRelease(MemoryIdempotencyStore::new())))
            .concurrency(2)
            .shutdown_timeout(deadline),
    );
    publish(&broker, order("o-1", "c")).await;
    publish(&broker, order("o-2", "c")).await;
    until("both running", || {
        h.running.load(std::sync::atomic::Ordering::SeqCst) == 2
    })
    .await;
    let stopping = tokio::time::Instant::now();
    let report = tokio::time::timeout(Duration::from_secs(60), w.stop())
        .await
        .expect("the shutdown is bounded");
    let took = stopping.elapsed();
    assert!(
        took < deadline + Duration::from_secs(2),
        "shut down in {took:?}"
    );
    assert!(!report.drained);
    assert_eq!(report.handed_back, 2, "abandoned unsettled: handed back");
    // Unsettled, so the broker delivers them again.
    assert_eq!(broker.stats(QUEUE).in_flight, 2);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let mut again = broker.subscribe(QUEUE);
    let d = herald_core::Subscriber::recv(&mut again).await.unwrap();
    assert!(d.is_some(), "redelivered after the visibility timeout");
}
