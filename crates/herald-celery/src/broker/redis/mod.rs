//! The Redis broker as kombu lays it out: one list per queue (and per priority step),
//! LPUSH to publish, pop from the right, ack emulation in `unacked`/`unacked_index` with
//! the visibility-timeout restore.

mod envelope;
mod unacked;

use std::collections::VecDeque;
use std::time::Duration;

use crate::redis_conn::{self, Conn};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Acker, Delivery};
use crate::CeleryError;
use crate::protocol::TaskMessage;

/// kombu's separator between a queue name and its priority step.
const PRIORITY_SEP: &str = "\x06\x16";

/// kombu's Redis transport options, with kombu's defaults.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// A message unacked this long is put back on its queue by any worker (default 1 h).
    /// Use the value every other client of the broker uses: the shortest one wins. An
    /// ETA further away than this is delivered again and again (kombu's caveat).
    pub visibility_timeout: Duration,
    /// kombu's `priority_steps`: priorities map to the largest step at or below them.
    pub priority_steps: Vec<u8>,
    /// How often this consumer scans for messages past the visibility timeout.
    pub restore_interval: Duration,
    /// How long one BRPOP waits before the consumer looks around (closing, restores).
    pub brpop_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            visibility_timeout: Duration::from_secs(3600),
            priority_steps: vec![0, 3, 6, 9],
            restore_interval: Duration::from_secs(10),
            brpop_timeout: Duration::from_secs(1),
        }
    }
}

/// The list a message of `priority` goes to: the queue itself for step 0, else
/// `queue\x06\x16<step>`. On Redis, 0 is the highest priority.
pub(crate) fn list_for_priority(options: &RedisOptions, queue: &str, priority: u64) -> String {
    let p = priority.min(9) as u8;
    let step = options
        .priority_steps
        .iter()
        .copied()
        .filter(|s| *s <= p)
        .max()
        .unwrap_or(0);
    if step == 0 {
        queue.to_owned()
    } else {
        format!("{queue}{PRIORITY_SEP}{step}")
    }
}

/// A connection to a Redis broker; clones share it.
#[derive(Clone)]
pub struct RedisBroker {
    client: redis::Client,
    /// The database of the URL: fanout channels (events) are named after it.
    db: i64,
    conn: Conn,
    options: RedisOptions,
}

impl std::fmt::Debug for RedisBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBroker")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn url_error(url: &str, e: impl std::fmt::Display) -> CeleryError {
    CeleryError::Url {
        url: herald_core::redact_url(url),
        reason: e.to_string(),
    }
}

impl RedisBroker {
    pub async fn connect(url: &str, options: RedisOptions) -> Result<Self, CeleryError> {
        let client = redis::Client::open(url).map_err(|e| url_error(url, e))?;
        let conn = redis_conn::connect(&client, Duration::from_secs(10)).await?;
        let db = url::Url::parse(url)
            .ok()
            .and_then(|u| u.path().trim_start_matches('/').parse().ok())
            .unwrap_or(0);
        Ok(RedisBroker {
            client,
            db,
            conn,
            options,
        })
    }

    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// A connection for other uses (events, tests).
    pub fn connection(&self) -> Conn {
        self.conn.clone()
    }

    pub async fn publish(&self, queue: &str, message: &TaskMessage) -> Result<(), CeleryError> {
        let tag = uuid::Uuid::new_v4().to_string();
        let raw = envelope::encode(queue, message, &tag);
        let list = list_for_priority(&self.options, queue, u64::from(message.properties.priority));
        let mut conn = self.conn.clone();
        redis::cmd("LPUSH")
            .arg(list)
            .arg(raw)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// kombu's fanout: PUBLISH the envelope on `/<db>.celeryev/<routing key>`.
    pub async fn publish_event(
        &self,
        routing_key: &str,
        event: &serde_json::Value,
        hostname: &str,
    ) -> Result<(), CeleryError> {
        let raw = envelope::encode_event(routing_key, event, hostname);
        let channel = format!("/{}.celeryev/{routing_key}", self.db);
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(raw)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Puts back every message past the visibility timeout (as any consumer does on a
    /// timer); returns how many.
    pub async fn restore_visible(&self) -> Result<usize, CeleryError> {
        unacked::restore_visible(&mut self.conn.clone(), &self.options).await
    }

    pub async fn consumer(&self, queue: &str, prefetch: u16) -> Result<RedisConsumer, CeleryError> {
        // BRPOP blocks its connection: a connection of its own, with no response timeout
        // shorter than the BRPOP's.
        let blocking = redis_conn::connect(
            &self.client,
            self.options.brpop_timeout + Duration::from_secs(10),
        )
        .await?;
        let lists = self
            .options
            .priority_steps
            .iter()
            .map(|s| {
                (
                    list_for_priority(&self.options, queue, u64::from(*s)),
                    queue.to_owned(),
                )
            })
            .collect();
        Ok(RedisConsumer {
            broker: self.clone(),
            blocking,
            lists,
            prefetch: usize::from(prefetch.max(1)),
            buffer: VecDeque::new(),
            last_restore: None,
            closed: false,
        })
    }
}

/// Pops messages of one queue, highest priority first, taking up to `prefetch` at once.
pub struct RedisConsumer {
    broker: RedisBroker,
    blocking: Conn,
    /// (list, queue) in the order they are popped.
    lists: Vec<(String, String)>,
    prefetch: usize,
    buffer: VecDeque<(String, String)>,
    last_restore: Option<Instant>,
    closed: bool,
}

impl std::fmt::Debug for RedisConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConsumer")
            .field("lists", &self.lists)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl RedisConsumer {
    fn delivery(&self, queue: String, raw: String) -> Delivery {
        let tag = envelope::delivery_tag(&raw);
        Delivery {
            message: envelope::decode(&raw),
            queue,
            acker: Acker::Redis(RedisAcker {
                conn: self.broker.conn.clone(),
                options: self.broker.options.clone(),
                tag,
            }),
        }
    }

    async fn maybe_restore(&mut self) {
        let due = self
            .last_restore
            .is_none_or(|t| t.elapsed() >= self.broker.options.restore_interval);
        if due {
            self.last_restore = Some(Instant::now());
            if let Err(e) = self.broker.restore_visible().await {
                tracing::warn!(error = %e, "restoring unacked messages failed; trying again later");
            }
        }
    }

    /// Stopping is checked between BRPOPs (at most `brpop_timeout` apart): a BRPOP
    /// dropped midway could lose the message it popped.
    pub async fn recv(
        &mut self,
        stop: &CancellationToken,
    ) -> Result<Option<Delivery>, CeleryError> {
        loop {
            if self.closed || stop.is_cancelled() {
                return Ok(None);
            }
            self.maybe_restore().await;
            if let Some((queue, raw)) = self.buffer.pop_front() {
                return Ok(Some(self.delivery(queue, raw)));
            }
            let mut conn = self.broker.conn.clone();
            let batch = unacked::pop_batch(&mut conn, &self.lists, self.prefetch).await?;
            if !batch.is_empty() {
                self.buffer.extend(batch);
                continue;
            }
            let mut cmd = redis::cmd("BRPOP");
            for (list, _) in &self.lists {
                cmd.arg(list);
            }
            cmd.arg(self.broker.options.brpop_timeout.as_secs_f64());
            let popped: Option<(String, String)> = cmd.query_async(&mut self.blocking).await?;
            if let Some((list, raw)) = popped {
                let queue = list
                    .split(PRIORITY_SEP)
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                if let Some(tag) = envelope::delivery_tag(&raw) {
                    unacked::record(&mut conn, &tag, &queue, &raw).await?;
                }
                return Ok(Some(self.delivery(queue, raw)));
            }
        }
    }

    /// Stops; messages taken ahead go back to the front of their queue.
    pub async fn close(&mut self) -> Result<(), CeleryError> {
        self.closed = true;
        let mut conn = self.broker.conn.clone();
        while let Some((_, raw)) = self.buffer.pop_back() {
            if let Some(tag) = envelope::delivery_tag(&raw) {
                unacked::restore(&mut conn, &self.broker.options, &tag, false).await?;
            }
        }
        Ok(())
    }
}

/// Settles one Redis delivery through the `unacked` bookkeeping.
pub struct RedisAcker {
    conn: Conn,
    options: RedisOptions,
    /// None: the envelope had no delivery tag, so it was never recorded.
    tag: Option<String>,
}

impl std::fmt::Debug for RedisAcker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAcker")
            .field("tag", &self.tag)
            .finish_non_exhaustive()
    }
}

impl RedisAcker {
    pub async fn ack(mut self) -> Result<(), CeleryError> {
        match &self.tag {
            Some(tag) => unacked::forget(&mut self.conn, tag).await,
            None => Ok(()),
        }
    }

    /// With requeue the message goes to the back of its queue (kombu's reject).
    pub async fn reject(mut self, requeue: bool) -> Result<(), CeleryError> {
        match (&self.tag, requeue) {
            (Some(tag), true) => unacked::restore(&mut self.conn, &self.options, tag, true)
                .await
                .map(drop),
            (Some(tag), false) => unacked::forget(&mut self.conn, tag).await,
            (None, _) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_map_to_kombus_lists() {
        let o = RedisOptions::default();
        assert_eq!(list_for_priority(&o, "q", 0), "q");
        assert_eq!(list_for_priority(&o, "q", 2), "q");
        assert_eq!(list_for_priority(&o, "q", 3), "q\x06\x163");
        assert_eq!(list_for_priority(&o, "q", 8), "q\x06\x166");
        assert_eq!(list_for_priority(&o, "q", 200), "q\x06\x169");
    }
}
