//! Contract test suites that every implementation runs against its real backend
//! (the in-memory store here; Redis and PostgreSQL in their crates), and helpers for tests
//! that run a worker as a separate process.

mod process;
pub mod transport;

pub use process::{Reaper, example_binary, kill_mid_stream_and_restart, terminated};

/// Waits until `done` holds (checked every 50 ms), at most `limit`; panics saying `what`.
pub async fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `worker` on `subscriber` in a task; send on the returned sender to shut it down.
pub fn spawn_worker<S: crate::Subscriber>(
    worker: crate::Worker,
    subscriber: S,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<crate::ShutdownReport>,
) {
    let (stop, signal) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(worker.run(subscriber, async move {
        let _ = signal.await;
    }));
    (stop, run)
}

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::{Claim, IdempotencyStore, LeaseToken, StoreError};

fn fresh_key(clause: &str) -> String {
    format!("herald-contract:{clause}:{}", Uuid::now_v7())
}

async fn acquire(store: &dyn IdempotencyStore, key: &str, lease: Duration) -> LeaseToken {
    match store.claim(key, lease).await {
        Ok(Claim::Acquired(token)) => token,
        other => panic!("claim of a fresh key `{key}` must be Acquired, got {other:?}"),
    }
}

/// Runs every clause of the idempotency contract; panics naming the clause that failed.
/// Uses fresh keys, so it can run against a shared store. Takes about a second: lease and
/// TTL expiry are observed in real time, as a crashed worker would see them.
pub async fn idempotency_store_contract<S: IdempotencyStore>(store: Arc<S>) {
    let store: Arc<dyn IdempotencyStore> = store;
    let long = Duration::from_secs(60);

    // A held key is in progress for everyone else.
    let key = fresh_key("held");
    let token = acquire(&*store, &key, long).await;
    assert_eq!(
        store.claim(&key, long).await.ok(),
        Some(Claim::InProgress),
        "a key held by a live lease must be InProgress"
    );

    // Completing marks it done; it stays done.
    store
        .complete(&key, &token, long)
        .await
        .expect("the holder completes its key");
    for _ in 0..2 {
        assert_eq!(
            store.claim(&key, long).await.ok(),
            Some(Claim::Done),
            "a completed key must be Done"
        );
    }

    // Releasing gives the key back, so a failed handler's message runs again.
    let key = fresh_key("release");
    let token = acquire(&*store, &key, long).await;
    store
        .release(&key, &token)
        .await
        .expect("the holder releases its key");
    let again = acquire(&*store, &key, long).await;
    assert_ne!(again, token, "a new claim gets a new token");

    // Only the holder's token completes or releases.
    let key = fresh_key("foreign-token");
    let _token = acquire(&*store, &key, long).await;
    let stranger = LeaseToken::generate();
    assert!(
        matches!(
            store.complete(&key, &stranger, long).await,
            Err(StoreError::LeaseLost(_))
        ),
        "complete with a foreign token must be LeaseLost"
    );
    assert!(
        matches!(
            store.release(&key, &stranger).await,
            Err(StoreError::LeaseLost(_))
        ),
        "release with a foreign token must be LeaseLost"
    );
    assert_eq!(
        store.claim(&key, long).await.ok(),
        Some(Claim::InProgress),
        "a foreign token must not have changed the key"
    );

    // A crashed worker's lease expires; its late completion is refused.
    let key = fresh_key("expiry");
    let short = Duration::from_millis(300);
    let crashed = acquire(&*store, &key, short).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let taker = acquire(&*store, &key, long).await;
    assert!(
        matches!(
            store.complete(&key, &crashed, long).await,
            Err(StoreError::LeaseLost(_))
        ),
        "the expired holder's completion must be LeaseLost"
    );
    store
        .complete(&key, &taker, long)
        .await
        .expect("the new holder completes");

    // Renewing extends the holder's lease past its first end.
    let key = fresh_key("renew");
    let token = acquire(&*store, &key, short).await;
    store
        .renew(&key, &token, long)
        .await
        .expect("the holder renews its key");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        store.claim(&key, long).await.ok(),
        Some(Claim::InProgress),
        "a renewed lease must outlive its first end"
    );
    assert!(
        matches!(
            store.renew(&key, &stranger, long).await,
            Err(StoreError::LeaseLost(_))
        ),
        "renew with a foreign token must be LeaseLost"
    );
    store
        .complete(&key, &token, long)
        .await
        .expect("the renewed holder completes");
    assert!(
        matches!(
            store.renew(&key, &token, long).await,
            Err(StoreError::LeaseLost(_))
        ),
        "renewing a completed key must be LeaseLost"
    );

    // A holder whose lease ran out and was taken over cannot renew: it must stop.
    let key = fresh_key("renew-taken-over");
    let late = acquire(&*store, &key, short).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let taker = acquire(&*store, &key, long).await;
    assert!(
        matches!(
            store.renew(&key, &late, long).await,
            Err(StoreError::LeaseLost(_))
        ),
        "the taken-over holder's renewal must be LeaseLost"
    );
    store
        .release(&key, &taker)
        .await
        .expect("the new holder still holds it");
    assert!(
        matches!(
            store.renew(&key, &taker, long).await,
            Err(StoreError::LeaseLost(_))
        ),
        "renewing a released key must be LeaseLost"
    );

    // Done keys are forgotten after their TTL.
    let key = fresh_key("ttl");
    let token = acquire(&*store, &key, long).await;
    store
        .complete(&key, &token, Duration::from_millis(300))
        .await
        .expect("complete");
    tokio::time::sleep(Duration::from_millis(700)).await;
    acquire(&*store, &key, long).await;

    // Concurrent claims: exactly one wins.
    let key = fresh_key("race");
    let claims = futures::future::join_all((0..32).map(|_| {
        let store = store.clone();
        let key = key.clone();
        tokio::spawn(async move { store.claim(&key, long).await })
    }))
    .await;
    let acquired = claims
        .into_iter()
        .map(|r| r.expect("claim task").expect("claim"))
        .filter(|c| matches!(c, Claim::Acquired(_)))
        .count();
    assert_eq!(acquired, 1, "32 concurrent claims: exactly one Acquired");

    // Many claims and completes at once (a store may send them together): each gets its
    // own key's outcome, and a foreign token among them changes nothing of its key.
    let keys: Vec<String> = (0..64).map(|i| fresh_key(&format!("burst-{i}"))).collect();
    let tokens = futures::future::join_all(keys.iter().map(|key| {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move { acquire(&*store, &key, long).await })
    }))
    .await;
    let completes = futures::future::join_all(keys.iter().zip(tokens).enumerate().map(
        |(i, (key, token))| {
            let (store, key) = (store.clone(), key.clone());
            let token = token.expect("claim task");
            let token = if i % 8 == 0 {
                LeaseToken::generate()
            } else {
                token
            };
            tokio::spawn(async move { store.complete(&key, &token, long).await })
        },
    ))
    .await;
    for (i, outcome) in completes.into_iter().enumerate() {
        let outcome = outcome.expect("complete task");
        if i % 8 == 0 {
            assert!(
                matches!(outcome, Err(StoreError::LeaseLost(_))),
                "a burst's complete with a foreign token must be LeaseLost, got {outcome:?}"
            );
        } else {
            assert!(
                outcome.is_ok(),
                "a burst's holder completes, got {outcome:?}"
            );
        }
    }
    let again = futures::future::join_all(keys.iter().map(|key| {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move { store.claim(&key, long).await })
    }))
    .await;
    for (i, claim) in again.into_iter().enumerate() {
        let expected = if i % 8 == 0 {
            Claim::InProgress
        } else {
            Claim::Done
        };
        assert_eq!(
            claim.expect("claim task").ok(),
            Some(expected),
            "after a burst, key {i}: completed keys are Done, the others still held"
        );
    }
}
