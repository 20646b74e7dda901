//! Shared by the streams tests against the real Redis (127.0.0.1:6379, or `HERALD_REDIS_URL`).
#![allow(dead_code)]

use std::time::Duration;

use herald_core::{Delivery, Headers, OutgoingMessage, Subscriber};
use herald_redis::streams::RedisStreams;

/// A bound against hangs for one delivery.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn redis_url() -> String {
    std::env::var("HERALD_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A stream name no other test (or run) uses.
pub fn unique(what: &str) -> String {
    format!(
        "herald-test.{what}.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub async fn connect() -> RedisStreams {
    connect_to(&redis_url()).await
}

pub async fn connect_to(url: &str) -> RedisStreams {
    RedisStreams::connect(url).await.unwrap_or_else(|e| {
        panic!("cannot reach Redis at {url} ({e}): start it with `scripts/services` (or set HERALD_REDIS_URL)")
    })
}

pub fn message(stream: &str, key: &str, n: u64) -> OutgoingMessage {
    let mut headers = Headers::new();
    headers.insert("herald-event-id".into(), format!("id-{n}"));
    headers.insert("herald-event-type".into(), "test.ping".into());
    OutgoingMessage {
        destination: stream.to_owned(),
        key: key.to_owned(),
        headers,
        payload: format!("{{\"n\":{n}}}").into_bytes(),
    }
}

/// The next delivery, failing after `within` (a bound against hangs).
pub async fn next(sub: &mut impl Subscriber, within: Duration) -> Delivery {
    tokio::time::timeout(within, sub.recv())
        .await
        .expect("a delivery in time")
        .expect("recv")
        .expect("not closed")
}

/// Nothing arrives during `wait`.
pub async fn nothing_for(sub: &mut impl Subscriber, wait: Duration) {
    if let Ok(got) = tokio::time::timeout(wait, sub.recv()).await {
        panic!("expected nothing, got {got:?}");
    }
}

pub async fn cmd<T: redis::FromRedisValue>(redis: &RedisStreams, cmd: &mut redis::Cmd) -> T {
    cmd.query_async(&mut redis.connection())
        .await
        .expect("redis command")
}

pub async fn xlen(redis: &RedisStreams, stream: &str) -> u64 {
    cmd(redis, redis::cmd("XLEN").arg(stream)).await
}

/// Deletes every key of a test's stream (`<stream>*`: shards, retry set, DLQ) at its end.
pub async fn forget(redis: &RedisStreams, stream: &str) {
    let found: Vec<String> = cmd(redis, redis::cmd("KEYS").arg(format!("{stream}*"))).await;
    if !found.is_empty() {
        let _: i64 = cmd(redis, redis::cmd("DEL").arg(&found)).await;
    }
}
