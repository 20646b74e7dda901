//! The subscriber: its options, the consumer group, and handing out what the reader and
//! the maintenance task (reader.rs) find.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Delivery, Subscriber, TransportError};
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::acker::{RedisAcker, Shared};
use super::reader::{Maintenance, Reader};
use super::retry::RetryScripts;
use super::{RedisStreams, names, transport};

/// Where a consumer group created by the subscriber starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StartFrom {
    /// Every entry already in the stream (`0`): nothing published before the first worker
    /// started is missed. The default.
    #[default]
    Beginning,
    /// Only entries added after the group was created (`$`).
    New,
}

/// Options of a [`RedisStreamsSubscriber`]; from [`RedisStreams::subscriber`].
#[derive(Debug, Clone)]
pub struct RedisStreamsSubscriberBuilder {
    redis: RedisStreams,
    stream: String,
    group: String,
    consumer: Option<String>,
    visibility_timeout: Duration,
    claim_interval: Option<Duration>,
    block: Duration,
    batch: usize,
    shards: u32,
    start: StartFrom,
    retry_poll: Duration,
    lag_interval: Duration,
}

impl RedisStreamsSubscriberBuilder {
    pub(crate) fn new(redis: RedisStreams, stream: String, group: String) -> Self {
        RedisStreamsSubscriberBuilder {
            redis,
            stream,
            group,
            consumer: None,
            visibility_timeout: Duration::from_secs(30),
            claim_interval: None,
            block: Duration::from_secs(1),
            batch: 64,
            shards: 1,
            start: StartFrom::default(),
            retry_poll: Duration::from_millis(100),
            lag_interval: Duration::from_secs(5),
        }
    }

    /// This consumer's name in the group (default: unique per subscriber). Names must differ
    /// between live consumers of a group.
    pub fn consumer(mut self, name: impl Into<String>) -> Self {
        self.consumer = Some(name.into());
        self
    }

    /// How long an entry stays with a consumer that neither settles it nor is alive to keep
    /// it claimed, before another consumer takes it over (`XAUTOCLAIM` min-idle; default
    /// 30 s). A live subscriber keeps its in-flight entries claimed however long the handler
    /// takes.
    pub fn visibility_timeout(mut self, timeout: Duration) -> Self {
        self.visibility_timeout = timeout;
        self
    }

    /// How often to look for entries to take over (default a quarter of the visibility
    /// timeout, between 50 ms and 5 s).
    pub fn claim_interval(mut self, interval: Duration) -> Self {
        self.claim_interval = Some(interval);
        self
    }

    /// How long one `XREADGROUP` waits for new entries (default 1 s); closing waits for the
    /// read under way.
    pub fn block(mut self, block: Duration) -> Self {
        self.block = block;
        self
    }

    /// Entries read at a time (default 64).
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Reads the `n` streams `<stream>.0` .. `<stream>.<n-1>` a publisher with the same
    /// [`shards`](super::RedisStreamsPublisher::shards) writes.
    pub fn shards(mut self, n: u32) -> Self {
        self.shards = n.max(1);
        self
    }

    /// Where a group created now starts (an existing group keeps its position).
    pub fn start_from(mut self, start: StartFrom) -> Self {
        self.start = start;
        self
    }

    /// How often due retries are moved back into the stream (default 100 ms): a retry
    /// arrives up to this much after its delay.
    pub fn retry_poll_interval(mut self, interval: Duration) -> Self {
        self.retry_poll = interval;
        self
    }

    /// How often the lag gauges are updated (default 5 s).
    pub fn lag_interval(mut self, interval: Duration) -> Self {
        self.lag_interval = interval;
        self
    }

    /// Creates the consumer group on each stream if missing (and the stream with it),
    /// then starts reading.
    pub async fn build(self) -> Result<RedisStreamsSubscriber, TransportError> {
        let streams = names::streams_of(&self.stream, self.shards);
        let mut conn = self.redis.connection();
        let start = match self.start {
            StartFrom::Beginning => "0",
            StartFrom::New => "$",
        };
        for s in &streams {
            create_group(&mut conn, s, &self.group, start).await?;
        }
        let consumer = self
            .consumer
            .unwrap_or_else(|| format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple()));
        let shared = Arc::new(Shared {
            conn: conn.clone(),
            base: self.stream.clone(),
            group: self.group.clone(),
            scripts: RetryScripts::default(),
            in_flight: Default::default(),
        });
        let blocking = self.redis.dedicated(self.block).await?;
        let (tx, rx) = mpsc::channel(self.batch * 2);
        let stop_taking = CancellationToken::new();
        let stop_all = CancellationToken::new();
        let reader = tokio::spawn(
            Reader {
                conn: blocking,
                shared: shared.clone(),
                streams: streams.clone(),
                consumer: consumer.clone(),
                batch: self.batch,
                block: self.block,
                start,
                tx: tx.clone(),
                stop: stop_taking.clone(),
            }
            .run(),
        );
        let claim_interval = self.claim_interval.unwrap_or_else(|| {
            (self.visibility_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5))
        });
        tokio::spawn(
            Maintenance {
                shared: shared.clone(),
                streams: streams.clone(),
                consumer: consumer.clone(),
                visibility_timeout: self.visibility_timeout,
                claim_interval,
                retry_poll: self.retry_poll,
                lag_interval: self.lag_interval,
                tx,
                stop_taking: stop_taking.clone(),
                stop_all: stop_all.clone(),
            }
            .run(),
        );
        tracing::debug!(stream = %self.stream, group = %self.group, %consumer, "subscribed");
        Ok(RedisStreamsSubscriber {
            rx,
            shared,
            consumer,
            streams,
            stop_taking,
            reader: Some(reader),
            _stop_all: stop_all.drop_guard(),
        })
    }
}

/// `XGROUP CREATE <stream> <group> <start> MKSTREAM`; a group that exists already is fine.
pub(crate) async fn create_group(
    conn: &mut ConnectionManager,
    stream: &str,
    group: &str,
    start: &str,
) -> Result<(), TransportError> {
    let created: Result<(), redis::RedisError> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg(start)
        .arg("MKSTREAM")
        .query_async(conn)
        .await;
    match created {
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        other => other.map_err(transport),
    }
}

/// Consumes a Redis stream (or its shards) as one consumer of a consumer group. Dropped
/// without closing, it stops at once and its unsettled entries stay pending, to be taken
/// over by another consumer after the visibility timeout.
pub struct RedisStreamsSubscriber {
    rx: mpsc::Receiver<Result<Delivery, TransportError>>,
    shared: Arc<Shared>,
    consumer: String,
    streams: Vec<String>,
    stop_taking: CancellationToken,
    reader: Option<JoinHandle<()>>,
    _stop_all: DropGuard,
}

impl RedisStreamsSubscriber {
    /// This consumer's name in the group.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The streams it reads.
    pub fn streams(&self) -> &[String] {
        &self.streams
    }
}

#[async_trait]
impl Subscriber for RedisStreamsSubscriber {
    async fn recv(&mut self) -> Result<Option<Delivery>, TransportError> {
        if self.reader.is_none() {
            return Ok(None);
        }
        // Cancel-safe: a delivery stays in the channel until taken.
        match self.rx.recv().await {
            Some(Ok(d)) => Ok(Some(d)),
            Some(Err(e)) => Err(e),
            None => Ok(None),
        }
    }

    /// Stops reading (after the read under way), and hands the deliveries read but not yet
    /// taken back to the stream at once (a requeue, not an attempt).
    async fn close(&mut self) -> Result<(), TransportError> {
        self.stop_taking.cancel();
        if let Some(reader) = self.reader.take() {
            let _ = reader.await;
        }
        self.rx.close();
        let mut first_error = None;
        while let Some(next) = self.rx.recv().await {
            if let Ok(delivery) = next
                && let Err(e) = delivery.requeue(Duration::ZERO).await
            {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for RedisStreamsSubscriber {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
    }
}

impl fmt::Debug for RedisStreamsSubscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreamsSubscriber")
            .field("group", &self.shared.group)
            .field("consumer", &self.consumer)
            .field("streams", &self.streams)
            .finish_non_exhaustive()
    }
}

/// A delivery of an entry read from `stream`, its attempt number from the delivery count
/// when herald's header is absent.
pub(crate) fn delivery(
    shared: &Arc<Shared>,
    stream: &str,
    entry: super::fields::Entry,
    delivered: u64,
) -> Delivery {
    let mut headers = entry.headers;
    if delivered > 1 && !headers.contains_key(herald_core::headers::ATTEMPT) {
        headers.insert(
            herald_core::headers::ATTEMPT.to_owned(),
            delivered.to_string(),
        );
    }
    shared.track(stream, &entry.id);
    let acker = RedisAcker {
        shared: shared.clone(),
        stream: stream.to_owned(),
        id: entry.id,
        key: entry.key.clone().unwrap_or_default(),
        headers: headers.clone(),
        payload: entry.payload.clone(),
    };
    Delivery::new(
        herald_core::IncomingMessage {
            source: stream.to_owned(),
            key: entry.key,
            headers,
            payload: entry.payload,
        },
        acker,
    )
}
