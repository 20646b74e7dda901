//! Publishing: one `XADD` per message, the envelope as the entry's fields.

use std::fmt;

use async_trait::async_trait;
use herald_core::{OutgoingMessage, Publisher, TransportError};
use redis::aio::ConnectionManager;

use super::{fields, names, transport};

/// The default largest payload: 16 MiB. Redis takes up to 512 MiB in one string, but a
/// message that large blocks the server while it is copied and holds up every reader.
pub const DEFAULT_MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// Publishes to Redis streams with `XADD`; `publish` returns once Redis has added the entry.
/// The destination is the stream (`<stream>.<i>` by the key's hash with [`Self::shards`]).
#[derive(Clone)]
pub struct RedisStreamsPublisher {
    conn: ConnectionManager,
    max_len: Option<usize>,
    max_payload: usize,
    shards: u32,
}

impl RedisStreamsPublisher {
    pub(crate) fn new(conn: ConnectionManager) -> Self {
        RedisStreamsPublisher {
            conn,
            max_len: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
            shards: 1,
        }
    }

    /// Trims each stream to about `max_len` entries on every publish (`MAXLEN ~`). Off by
    /// default: trimming deletes the oldest entries whether or not every consumer group has
    /// read and acked them, so a slow or stopped consumer loses messages.
    pub fn trim_to(mut self, max_len: usize) -> Self {
        self.max_len = Some(max_len);
        self
    }

    /// The largest payload in bytes (default [`DEFAULT_MAX_PAYLOAD`]); a larger one is an
    /// error before anything is sent.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// Splits each destination over `n` streams `<stream>.0` .. `<stream>.<n-1>` by the hash
    /// of the message's key, so that a subscriber reading them in order sees each key in
    /// order (see the crate README). Subscribers must use the same `n`.
    pub fn shards(mut self, n: u32) -> Self {
        self.shards = n.max(1);
        self
    }

    /// The stream a message goes to.
    pub fn stream_of(&self, message: &OutgoingMessage) -> String {
        if self.shards <= 1 {
            message.destination.clone()
        } else {
            names::shard_stream(&message.destination, &message.key, self.shards)
        }
    }
}

#[async_trait]
impl Publisher for RedisStreamsPublisher {
    async fn publish(&self, message: OutgoingMessage) -> Result<(), TransportError> {
        if message.payload.len() > self.max_payload {
            return Err(TransportError::Rejected(format!(
                "payload of {} bytes is over the maximum of {} bytes for stream `{}`; nothing was sent",
                message.payload.len(),
                self.max_payload,
                message.destination
            )));
        }
        let mut cmd = redis::cmd("XADD");
        cmd.arg(self.stream_of(&message));
        if let Some(max_len) = self.max_len {
            cmd.arg("MAXLEN").arg("~").arg(max_len);
        }
        cmd.arg("*");
        fields::each_arg(&message.key, &message.headers, &message.payload, |a| {
            cmd.arg(a);
        });
        let _id: String = cmd
            .query_async(&mut self.conn.clone())
            .await
            .map_err(transport)?;
        Ok(())
    }
}

impl fmt::Debug for RedisStreamsPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreamsPublisher")
            .field("max_len", &self.max_len)
            .field("max_payload", &self.max_payload)
            .field("shards", &self.shards)
            .finish_non_exhaustive()
    }
}
