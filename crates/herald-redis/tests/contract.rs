//! The idempotency contract against the real Redis (127.0.0.1:6379, or `HERALD_REDIS_URL`).

use std::sync::Arc;
use std::time::Duration;

use herald_core::{Claim, IdempotencyStore};
use herald_redis::RedisIdempotencyStore;

fn url() -> String {
    std::env::var("HERALD_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn store() -> RedisIdempotencyStore {
    let url = url();
    match tokio::time::timeout(
        Duration::from_secs(10),
        RedisIdempotencyStore::connect(&url),
    )
    .await
    {
        Ok(Ok(store)) => store,
        Ok(Err(e)) => panic!(
            "cannot reach Redis at {url} ({e}): start it with `scripts/services` (or set HERALD_REDIS_URL)"
        ),
        Err(_) => panic!(
            "no answer from Redis at {url} within 10 s: start it with `scripts/services` (or set HERALD_REDIS_URL)"
        ),
    }
}

#[tokio::test]
async fn redis_store_passes_the_idempotency_contract() {
    let store = store()
        .await
        .with_prefix(format!("herald-test:{}:", uuid::Uuid::now_v7()));
    herald_core::testing::idempotency_store_contract(Arc::new(store)).await;
}

#[tokio::test]
async fn keys_live_under_the_prefix_with_their_state_and_expiry() {
    let prefix = format!("herald-test:{}:", uuid::Uuid::now_v7());
    let store = store().await.with_prefix(prefix.clone());
    let client = redis::Client::open(url()).expect("url");
    let mut raw = client
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection");

    let Claim::Acquired(token) = store
        .claim("order-1", Duration::from_secs(30))
        .await
        .expect("claim")
    else {
        panic!("a fresh key is acquired");
    };
    let key = format!("{prefix}order-1");
    let value: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .expect("GET");
    assert_eq!(value, Some(format!("held:{}", token.0)));
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .expect("PTTL");
    assert!(
        pttl > 25_000 && pttl <= 30_000,
        "the lease is the key's expiry: {pttl}"
    );

    store
        .complete("order-1", &token, Duration::from_secs(3600))
        .await
        .expect("complete");
    let value: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .expect("GET");
    assert_eq!(value.as_deref(), Some("done"));
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .expect("PTTL");
    assert!(
        pttl > 3_500_000,
        "the done key keeps the completed TTL: {pttl}"
    );

    // A second completion by the same token is refused: the key is no longer held.
    assert!(
        store
            .complete("order-1", &token, Duration::from_secs(3600))
            .await
            .is_err()
    );
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .expect("DEL");
}

#[tokio::test]
async fn an_unreachable_redis_is_a_backend_error_not_a_claim() {
    // A port nothing listens on: connecting fails rather than pretending.
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        RedisIdempotencyStore::connect("redis://127.0.0.1:1"),
    )
    .await;
    assert!(
        matches!(result, Ok(Err(_))),
        "connecting to a closed port must fail"
    );
}
