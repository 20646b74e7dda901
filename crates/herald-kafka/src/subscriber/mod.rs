//! Consuming through the [`herald_core::Worker`]: a consumer group, offsets committed
//! past contiguous completions only, per-key order with parallel keys, retry topics and
//! a DLQ, rebalances and shutdown that commit what finished.

mod acker;
mod context;
mod poller;
mod state;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Delivery, Subscriber, TransportError};
use rdkafka::consumer::Consumer;

use self::acker::{KafkaAcker, Sink};
use self::context::{HeraldConsumer, HeraldContext};
use self::poller::Poller;
pub use self::state::Ordering;
use self::state::Shared;
use crate::{KafkaConfig, KafkaError, KafkaPublisher, topics};

/// What happens to later events of a key while one of its events waits to be retried:
/// the trade-off between order and throughput.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryStrategy {
    /// A failed event moves to the retry topics (`<topic>.retry.<n>`, due time in a
    /// header) and the key's later events go on: the partition never stalls, but a
    /// retried event is processed after events of its key that came later (the default).
    #[default]
    Topics,
    /// A failed event waits in this consumer and is retried in place; its key's later
    /// events wait behind it, other keys go on. Order per key holds across retries; the
    /// partition's committed offset stays before the waiting event until it is settled.
    BlockKey,
}

/// A [`Subscriber`] on Kafka topics, in a consumer group.
///
/// Run it with a [`herald_core::Worker`]; the worker's concurrency is the number of
/// events processed at once across partitions, and order per key is kept here (see
/// [`Ordering`]), so the worker's own `ordered_by_key` is not needed.
pub struct KafkaSubscriber {
    shared: Arc<Shared>,
    sink: Arc<Sink>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Builds a [`KafkaSubscriber`].
#[derive(Debug)]
pub struct KafkaSubscriberBuilder {
    config: KafkaConfig,
    group: String,
    topics: Vec<String>,
    retry_topics: u32,
    strategy: RetryStrategy,
    ordering: Ordering,
    max_in_flight: usize,
    commit_interval: Duration,
    close_timeout: Duration,
    revoke_grace: Duration,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    publisher: Option<KafkaPublisher>,
}

/// The consumer lag per partition, as last reported by the client's statistics.
#[derive(Clone)]
pub struct Lag(Arc<Shared>);

impl Lag {
    /// `(topic, partition) -> events not yet committed`.
    pub fn get(&self) -> BTreeMap<(String, i32), i64> {
        self.0.lag.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn total(&self) -> i64 {
        self.get().values().sum()
    }
}

impl KafkaSubscriber {
    pub fn builder(config: &KafkaConfig, group: impl Into<String>) -> KafkaSubscriberBuilder {
        KafkaSubscriberBuilder {
            config: config.clone(),
            group: group.into(),
            topics: Vec::new(),
            retry_topics: 3,
            strategy: RetryStrategy::default(),
            ordering: Ordering::default(),
            max_in_flight: 10_000,
            commit_interval: Duration::from_millis(200),
            close_timeout: Duration::from_secs(5),
            revoke_grace: Duration::from_secs(10),
            session_timeout: Duration::from_secs(10),
            rebalance_timeout: Duration::from_secs(30),
            publisher: None,
        }
    }

    /// The consumer lag (also the gauge `herald_kafka_consumer_lag{topic,partition}`).
    pub fn lag(&self) -> Lag {
        Lag(self.shared.clone())
    }
}

impl KafkaSubscriberBuilder {
    /// A topic to consume (call again for more).
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topics.push(topic.into());
        self
    }

    /// How many retry topics each topic has (default 3): attempt `n` failing goes to
    /// `<topic>.retry.<n>`, the last one taking every later attempt. 0 retries in place.
    pub fn retry_topics(mut self, n: u32) -> Self {
        self.retry_topics = n;
        self
    }

    pub fn retry_strategy(mut self, s: RetryStrategy) -> Self {
        self.strategy = s;
        self
    }

    pub fn ordering(mut self, o: Ordering) -> Self {
        self.ordering = o;
        self
    }

    /// Events received and not settled, beyond which fetching pauses until half of them
    /// are settled (default 10,000). A pause drops what librdkafka had prefetched, so a
    /// small limit costs throughput.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// How often finished offsets are committed (default 200 ms).
    pub fn commit_interval(mut self, d: Duration) -> Self {
        self.commit_interval = d;
        self
    }

    /// How long shutdown waits for the broker to accept the last offset commit (default
    /// 5 s). A broker that is gone or hangs does not hold the shutdown longer: what was not
    /// committed is delivered again to the group's next consumer, never lost. Leaving the
    /// group afterwards is bounded by librdkafka (about the session timeout).
    pub fn close_timeout(mut self, d: Duration) -> Self {
        self.close_timeout = d;
        self
    }

    /// How long a rebalance waits for running handlers of revoked partitions, so their
    /// offsets are committed before another member takes over (default 10 s).
    pub fn revoke_grace(mut self, d: Duration) -> Self {
        self.revoke_grace = d;
        self
    }

    /// `session.timeout.ms` (default 10 s): how soon the group notices a dead member.
    pub fn session_timeout(mut self, d: Duration) -> Self {
        self.session_timeout = d;
        self
    }

    /// How long a rebalance waits for the group's members to rejoin
    /// (`max.poll.interval.ms`, default 30 s, Kafka's default being 5 minutes). This
    /// consumer polls all the time whatever its handlers do, so only the revoke grace
    /// counts against it; a short one lets a group get over a dead member sooner on
    /// brokers that wait for it (tansu does).
    pub fn rebalance_timeout(mut self, d: Duration) -> Self {
        self.rebalance_timeout = d;
        self
    }

    /// The publisher retries and dead letters are produced with (default: a new one
    /// with the same configuration).
    pub fn publisher(mut self, p: KafkaPublisher) -> Self {
        self.publisher = Some(p);
        self
    }

    /// The topics this subscriber reads: each topic and, with retry topics, those too.
    pub fn subscribed_topics(&self) -> Vec<String> {
        let mut all = self.topics.clone();
        if self.strategy == RetryStrategy::Topics {
            for t in &self.topics {
                all.extend((1..=self.retry_topics).map(|n| topics::retry_topic(t, n)));
            }
        }
        all
    }

    pub fn build(self) -> Result<KafkaSubscriber, KafkaError> {
        if self.topics.is_empty() {
            return Err(KafkaError::Config("no topic to consume".into()));
        }
        let shared = Shared::new(self.ordering);
        let context = HeraldContext {
            shared: shared.clone(),
            revoke_grace: self.revoke_grace,
            rebalanced: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            commits_answered: AtomicU64::new(0),
        };
        let consumer: HeraldConsumer = self
            .config
            .client_config(&[
                ("group.id", self.group.clone()),
                ("enable.auto.commit", "false".into()),
                ("enable.auto.offset.store", "false".into()),
                ("auto.offset.reset", "earliest".into()),
                (
                    "session.timeout.ms",
                    self.session_timeout.as_millis().to_string(),
                ),
                (
                    "max.poll.interval.ms",
                    self.rebalance_timeout
                        .max(self.revoke_grace + Duration::from_secs(5))
                        .as_millis()
                        .to_string(),
                ),
                ("statistics.interval.ms", "1000".into()),
                // A resume after back-pressure waits for the next fetch; Kafka's 500 ms
                // default would stall the partitions that long each time.
                ("fetch.wait.max.ms", "100".into()),
            ])
            .create_with_context(context)
            .map_err(|e| KafkaError::Config(e.to_string()))?;
        let subscribed = self.subscribed_topics();
        let names: Vec<&str> = subscribed.iter().map(String::as_str).collect();
        consumer.subscribe(&names)?;
        let publisher = match self.publisher {
            Some(p) => p,
            None => KafkaPublisher::new(&self.config)?,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let poller = Poller::new(
            consumer,
            shared.clone(),
            stop.clone(),
            self.max_in_flight,
            self.commit_interval,
            self.close_timeout,
        );
        let thread = std::thread::Builder::new()
            .name(format!("herald-kafka-poll-{}", self.group))
            .spawn(move || poller.run())
            .map_err(|e| KafkaError::Config(format!("starting the poll thread: {e}")))?;
        Ok(KafkaSubscriber {
            shared,
            sink: Arc::new(Sink {
                publisher,
                strategy: self.strategy,
                retry_topics: self.retry_topics,
            }),
            stop,
            thread: Some(thread),
        })
    }
}

#[async_trait]
impl Subscriber for KafkaSubscriber {
    async fn recv(&mut self) -> Result<Option<Delivery>, TransportError> {
        loop {
            let notified = self.shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(p) = self.shared.take() {
                let acker = KafkaAcker {
                    shared: self.shared.clone(),
                    sink: self.sink.clone(),
                    tp: p.tp,
                    epoch: p.epoch,
                    offset: p.offset,
                    gate: p.gate,
                    key: p.message.key.clone(),
                    headers: p.message.headers.clone(),
                    payload: p.message.payload.clone(),
                    schema_id: p.schema_id,
                };
                return Ok(Some(Delivery::new(p.message, acker)));
            }
            if self.shared.is_closed() {
                return Ok(None);
            }
            if self.thread.as_ref().is_some_and(JoinHandle::is_finished) {
                return Err(TransportError::Closed);
            }
            notified.await;
        }
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        self.shared.close();
        Ok(())
    }
}

impl Drop for KafkaSubscriber {
    /// Commits what finished and leaves the group (waits for the poll thread).
    fn drop(&mut self) {
        self.shared.close();
        self.stop.store(true, AtomicOrdering::SeqCst);
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("the Kafka poll thread panicked");
        }
    }
}

impl std::fmt::Debug for Lag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Lag").field(&self.get()).finish()
    }
}

impl std::fmt::Debug for KafkaSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSubscriber").finish_non_exhaustive()
    }
}
