//! herald's Redis idempotency store.
//!
//! A key's value says who holds it: `held:<token>` while a worker runs its handler (with the
//! lease as the key's expiry), `done` once the handler succeeded (with the completed TTL).
//! The claim is one `SET key held:<token> NX PX lease`; complete and release are scripts that
//! compare the token and change the key in one step, so a worker whose lease expired and was
//! taken over can neither complete, release nor renew the new holder's claim.
//!
//! ```no_run
//! # async fn demo() -> Result<(), herald_redis::RedisStoreError> {
//! use std::sync::Arc;
//! let store = herald_redis::RedisIdempotencyStore::connect("redis://127.0.0.1:6379")
//!     .await?
//!     .with_prefix("orders:");
//! let worker = herald_core::Worker::builder().idempotency_store(Arc::new(store));
//! # let _ = worker; Ok(()) }
//! ```
//!
//! With the `streams` feature, [`streams`] is a transport on Redis Streams: consumer groups,
//! a retry set moved back by a script, a dead-letter stream (see the crate README).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Claim, IdempotencyStore, LeaseToken, StoreError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

#[cfg(feature = "streams")]
pub mod streams;
#[cfg(feature = "streams")]
pub use streams::{
    RedisDeadLetters, RedisStreams, RedisStreamsPublisher, RedisStreamsSubscriber,
    RedisStreamsSubscriberBuilder,
};

/// The prefix of a held key's value; the lease token follows.
const HELD: &str = "held:";

// Claim: take the key if nobody has it, otherwise say whether it is done or held. One
// script, so the answer describes the same state the SET NX saw.
const CLAIM: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == 'done' then
  return 2
end
return 3
";

// Complete: only the holder's token turns a held key into a done one.
const COMPLETE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
  return 1
end
return 0
";

// Release: only the holder's token deletes a held key.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

// Renew: only the holder's token extends the key's expiry to a new lease.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

/// Connecting to Redis failed.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct RedisStoreError(#[from] redis::RedisError);

/// An [`IdempotencyStore`] in Redis. Cheap to clone: clones share one multiplexed connection
/// that reconnects on its own.
#[derive(Clone)]
pub struct RedisIdempotencyStore {
    conn: ConnectionManager,
    prefix: String,
    claim: Script,
    complete: Script,
    release: Script,
    renew: Script,
}

impl RedisIdempotencyStore {
    /// Connects to `url` (`redis://host:port/db`). Keys are prefixed with `herald:idem:`.
    pub async fn connect(url: &str) -> Result<Self, RedisStoreError> {
        let client = Client::open(url)?;
        // A few quick attempts at start-up, so an unreachable Redis is an error now rather
        // than a long wait; once connected, the manager reconnects on its own.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self::from_connection(conn))
    }

    /// Uses an existing connection manager (shared with the application).
    pub fn from_connection(conn: ConnectionManager) -> Self {
        RedisIdempotencyStore {
            conn,
            prefix: "herald:idem:".to_owned(),
            claim: Script::new(CLAIM),
            complete: Script::new(COMPLETE),
            release: Script::new(RELEASE),
            renew: Script::new(RENEW),
        }
    }

    /// Sets the prefix of every key (default `herald:idem:`), to share one Redis between
    /// applications or environments.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The prefix of every key.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn backend(e: redis::RedisError) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Milliseconds for PX, at least 1 (Redis refuses 0).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl IdempotencyStore for RedisIdempotencyStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let token = LeaseToken::generate();
        let mut conn = self.conn.clone();
        let answer: i64 = self
            .claim
            .key(self.key(key))
            .arg(format!("{HELD}{}", token.0))
            .arg(millis(lease))
            .invoke_async(&mut conn)
            .await
            .map_err(backend)?;
        match answer {
            1 => Ok(Claim::Acquired(token)),
            2 => Ok(Claim::Done),
            3 => Ok(Claim::InProgress),
            other => Err(StoreError::Backend(format!(
                "claim script answered {other}"
            ))),
        }
    }

    async fn complete(
        &self,
        key: &str,
        token: &LeaseToken,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.with_token(&self.complete, key, token, Some(ttl)).await
    }

    async fn release(&self, key: &str, token: &LeaseToken) -> Result<(), StoreError> {
        self.with_token(&self.release, key, token, None).await
    }

    async fn renew(
        &self,
        key: &str,
        token: &LeaseToken,
        lease: Duration,
    ) -> Result<(), StoreError> {
        self.with_token(&self.renew, key, token, Some(lease)).await
    }
}

impl fmt::Debug for RedisIdempotencyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisIdempotencyStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisIdempotencyStore {
    /// Runs one of the scripts that act only while `token` holds `key` (with a duration in
    /// milliseconds if given); an answer other than 1 means the lease was lost.
    async fn with_token(
        &self,
        script: &redis::Script,
        key: &str,
        token: &LeaseToken,
        duration: Option<Duration>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let mut invocation = script.key(self.key(key));
        invocation.arg(format!("{HELD}{}", token.0));
        if let Some(d) = duration {
            invocation.arg(millis(d));
        }
        let changed: i64 = invocation.invoke_async(&mut conn).await.map_err(backend)?;
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::LeaseLost(key.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_agree_on_the_done_value() {
        // The scripts spell the done value out; they must agree on it.
        assert!(CLAIM.contains("'done'"));
        assert!(COMPLETE.contains("'done'"));
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_millis(1500)), 1500);
    }
}
