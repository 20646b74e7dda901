//! The Redis Streams transport (feature `streams`).
//!
//! - publish: `XADD <stream> [MAXLEN ~ n] * payload <bytes> key <key> h:<header> <value> ...`;
//! - consume: one consumer group per subscriber name, `XREADGROUP ... BLOCK`, `XACK` when the
//!   worker acks; a dead consumer's entries are taken over with `XAUTOCLAIM` after the
//!   visibility timeout, their delivery count giving the attempt number;
//! - retry and requeue: the message goes into the sorted set `<stream>.retry` (scored by its
//!   due time) and the entry is acked, in one script; a mover script puts due messages back
//!   with `XADD`;
//! - dead letters: the stream `<stream>.dlq`, listed, replayed and purged by
//!   [`RedisDeadLetters`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), herald_core::TransportError> {
//! use herald_redis::streams::RedisStreams;
//! let redis = RedisStreams::connect("redis://127.0.0.1:6379").await?;
//! let publisher = redis.publisher();
//! let subscriber = redis.subscriber("orders", "billing").build().await?;
//! # let _ = (publisher, subscriber); Ok(()) }
//! ```

mod acker;
mod dlq;
mod fields;
mod lag;
mod names;
mod publisher;
mod reader;
mod retry;
mod subscriber;

use std::fmt;
use std::time::Duration;

use herald_core::TransportError;
use redis::Client;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use dlq::RedisDeadLetters;
pub use lag::GroupLag;
pub use names::{dlq_stream, retry_set, shard_stream};
pub use publisher::{DEFAULT_MAX_PAYLOAD, RedisStreamsPublisher};
pub use subscriber::{RedisStreamsSubscriber, RedisStreamsSubscriberBuilder, StartFrom};

/// A connection to Redis for the streams transport: makes publishers, subscribers and the
/// dead-letter tools. Cheap to clone; clones share one multiplexed connection that
/// reconnects on its own (each subscriber opens one more, for its blocking reads).
#[derive(Clone)]
pub struct RedisStreams {
    client: Client,
    conn: ConnectionManager,
    timeout: Duration,
}

impl RedisStreams {
    /// Connects to `url` (`redis://host:port/db`), giving up after 5 s.
    pub async fn connect(url: &str) -> Result<Self, TransportError> {
        Self::connect_timeout(url, Duration::from_secs(5)).await
    }

    /// Connects to `url`; connecting, and later each command, gives up after `timeout`.
    pub async fn connect_timeout(url: &str, timeout: Duration) -> Result<Self, TransportError> {
        let client = Client::open(url).map_err(|e| {
            TransportError::Connection(format!("redis at {}: {e}", herald_core::redact_url(url)))
        })?;
        let conn = ConnectionManager::new_with_config(client.clone(), manager_config(timeout))
            .await
            .map_err(|e| {
                TransportError::Connection(format!(
                    "redis at {}: {e}",
                    herald_core::redact_url(url)
                ))
            })?;
        Ok(RedisStreams {
            client,
            conn,
            timeout,
        })
    }

    /// A publisher on this connection.
    pub fn publisher(&self) -> RedisStreamsPublisher {
        RedisStreamsPublisher::new(self.conn.clone())
    }

    /// A subscriber of `stream` in consumer group `group` (created on build if missing).
    pub fn subscriber(
        &self,
        stream: impl Into<String>,
        group: impl Into<String>,
    ) -> RedisStreamsSubscriberBuilder {
        RedisStreamsSubscriberBuilder::new(self.clone(), stream.into(), group.into())
    }

    /// The dead-letter tools (`<stream>.dlq`).
    pub fn dead_letters(&self) -> RedisDeadLetters {
        RedisDeadLetters::new(self.conn.clone())
    }

    /// The lag and pending count of `group` on `stream` (`XINFO GROUPS`); also sets the
    /// gauges `herald_redis_consumer_lag{stream,group}` and
    /// `herald_redis_consumer_pending{stream,group}`.
    pub async fn lag(&self, stream: &str, group: &str) -> Result<GroupLag, TransportError> {
        lag::read(&mut self.conn.clone(), stream, group).await
    }

    /// The shared connection, for commands of the application's own.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// A new connection of its own (a subscriber's blocking reads must not hold up the
    /// shared one), waiting at most `block` longer than the usual timeout for an answer.
    async fn dedicated(&self, block: Duration) -> Result<ConnectionManager, TransportError> {
        ConnectionManager::new_with_config(
            self.client.clone(),
            manager_config(self.timeout).set_response_timeout(Some(self.timeout + block)),
        )
        .await
        .map_err(transport)
    }
}

impl fmt::Debug for RedisStreams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreams")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    // A few quick attempts at start-up, so an unreachable Redis is an error now rather than
    // a long wait; once connected, the manager reconnects on its own.
    ConnectionManagerConfig::new()
        .set_number_of_retries(2)
        .set_max_delay(timeout)
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
}

/// A Redis error as a transport error: unreachable or dropped is `Connection`.
pub(crate) fn transport(e: redis::RedisError) -> TransportError {
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() {
        TransportError::Connection(format!("redis: {e}"))
    } else {
        TransportError::Other(format!("redis: {e}"))
    }
}

/// Milliseconds, at least 1 (Redis refuses 0 for BLOCK-like and PX-like arguments).
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}
