//! The in-memory idempotency store forgets expired entries on its own.

use std::time::Duration;

use herald_core::{Claim, IdempotencyStore, MemoryIdempotencyStore};

#[tokio::test(start_paused = true)]
async fn expired_entries_are_purged_as_the_store_is_used() {
    let store = MemoryIdempotencyStore::new();
    let Claim::Acquired(kept) = store.claim("kept", Duration::from_secs(60)).await.unwrap() else {
        panic!("fresh key");
    };
    store
        .complete("kept", &kept, Duration::from_secs(3600))
        .await
        .unwrap();

    let mut largest = 0;
    for i in 0..20_000 {
        let key = format!("k-{i}");
        let Claim::Acquired(token) = store.claim(&key, Duration::from_secs(60)).await.unwrap()
        else {
            panic!("fresh key");
        };
        store
            .complete(&key, &token, Duration::from_millis(10))
            .await
            .unwrap();
        if i % 100 == 0 {
            tokio::time::advance(Duration::from_millis(20)).await;
        }
        largest = largest.max(store.len());
    }
    // At most about 100 live keys at a time; without purging, all 20,001 stay.
    assert!(largest < 2_000, "the store grew to {largest} entries");
    assert_eq!(
        store.claim("kept", Duration::from_secs(60)).await.unwrap(),
        Claim::Done,
        "live entries are kept"
    );
}
