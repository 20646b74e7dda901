//! Shared by the tests against the real RabbitMQ (127.0.0.1:5672, or `HERALD_AMQP_URL`).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_amqp::{Amqp, AmqpConfig, Topology};
use herald_core::{Context, Event, Handler, HandlerError, RetryPolicy};
use lapin::options::{ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use serde::{Deserialize, Serialize};

pub fn amqp_url() -> String {
    std::env::var("HERALD_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A name no other test (or run) uses.
pub fn unique(what: &str) -> String {
    format!(
        "herald-test.{what}.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub fn config(topology: Topology) -> AmqpConfig {
    AmqpConfig::new(amqp_url())
        .topology(topology)
        .connect_timeout(Duration::from_secs(10))
        .connection_name(unique("conn"))
}

pub async fn connect(topology: Topology) -> Amqp {
    connect_with(config(topology)).await
}

pub async fn connect_with(config: AmqpConfig) -> Amqp {
    match Amqp::connect(config).await {
        Ok(amqp) => amqp,
        Err(e) => panic!(
            "cannot reach RabbitMQ at {} ({e}): start it with `scripts/services` (or set HERALD_AMQP_URL)",
            amqp_url()
        ),
    }
}

/// A raw lapin channel, to look at queues the way the broker sees them.
pub async fn raw_channel() -> (lapin::Connection, lapin::Channel) {
    let conn = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| {
            panic!("cannot reach RabbitMQ ({e}): start it with `scripts/services`")
        });
    let channel = conn.create_channel().await.expect("channel");
    (conn, channel)
}

/// Messages ready in `queue` (passive declare).
pub async fn ready(queue: &str) -> u32 {
    let (conn, channel) = raw_channel().await;
    let q = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("queue exists");
    let _ = conn.close(200, "".into()).await;
    q.message_count()
}

/// Deletes queues and exchanges when dropped (also when the test panicked).
#[derive(Debug, Default)]
pub struct Cleanup {
    pub queues: Vec<String>,
    pub exchanges: Vec<String>,
}

impl Cleanup {
    /// The queue with its dead-letter queue and exchange.
    pub fn queue(mut self, queue: &str) -> Self {
        self.queues.push(queue.to_owned());
        self.queues.push(herald_amqp::dead_letter_queue(queue));
        self.exchanges
            .push(herald_amqp::dead_letter_exchange(queue));
        self
    }

    pub fn exchange(mut self, exchange: &str) -> Self {
        self.exchanges.push(exchange.to_owned());
        self
    }

    /// A retry queue for `delay` of `queue`.
    pub fn retry(mut self, queue: &str, delay: Duration) -> Self {
        self.queues.push(herald_amqp::retry_queue(queue, delay));
        self
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let queues = std::mem::take(&mut self.queues);
        let exchanges = std::mem::take(&mut self.exchanges);
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let Ok(conn) =
                    lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
                        .await
                else {
                    return;
                };
                for q in queues {
                    if let Ok(ch) = conn.create_channel().await {
                        let _ = ch
                            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                            .await;
                    }
                }
                for x in exchanges {
                    if let Ok(ch) = conn.create_channel().await {
                        let _ = ch
                            .exchange_delete(x.as_str().into(), ExchangeDeleteOptions::default())
                            .await;
                    }
                }
                let _ = conn.close(200, "".into()).await;
            });
        })
        .join();
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ping {
    pub seq: u64,
    pub note: String,
}

impl Event for Ping {
    const NAME: &'static str = "test.ping";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        format!("agg-{}", self.seq % 7)
    }
}

pub fn ping(seq: u64) -> Ping {
    Ping {
        seq,
        note: "x".repeat(64),
    }
}

/// One call of a handler: which event, which attempt, when.
#[derive(Debug, Clone)]
pub struct Call {
    pub seq: u64,
    pub attempt: u32,
    pub at: tokio::time::Instant,
}

type Decide = dyn Fn(&Ping, u32) -> Result<(), HandlerError> + Send + Sync;

/// A handler that records its calls and fails as `decide` says.
#[derive(Clone)]
pub struct Recorder {
    pub calls: Arc<Mutex<Vec<Call>>>,
    decide: Arc<Decide>,
    policy: RetryPolicy,
    pub delay: Duration,
}

impl Recorder {
    pub fn ok() -> Self {
        Self::new(|_, _| Ok(()))
    }

    pub fn new(
        decide: impl Fn(&Ping, u32) -> Result<(), HandlerError> + Send + Sync + 'static,
    ) -> Self {
        Recorder {
            calls: Arc::default(),
            decide: Arc::new(decide),
            policy: RetryPolicy::default(),
            delay: Duration::ZERO,
        }
    }

    pub fn policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn slow(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("calls").clone()
    }

    pub fn seqs(&self) -> Vec<u64> {
        let mut s: Vec<u64> = self.calls().iter().map(|c| c.seq).collect();
        s.sort_unstable();
        s
    }
}

#[herald_core::async_trait]
impl Handler for Recorder {
    type Event = Ping;

    fn name(&self) -> &'static str {
        "recorder"
    }

    fn retry_policy(&self) -> RetryPolicy {
        self.policy.clone()
    }

    async fn handle(&self, event: Ping, ctx: &Context) -> Result<(), HandlerError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.calls.lock().expect("calls").push(Call {
            seq: event.seq,
            attempt: ctx.attempt(),
            at: tokio::time::Instant::now(),
        });
        (self.decide)(&event, ctx.attempt())
    }
}

/// Waits until `done` holds, for at most `limit`; false if it never did.
pub async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    done()
}

pub fn failure(msg: &str) -> HandlerError {
    HandlerError::retryable(std::io::Error::other(msg.to_owned()))
}

/// Publishes `event` straight to `queue` (default exchange, routing key = queue name),
/// confirmed, as a herald envelope.
pub async fn send_to_queue(amqp: &Amqp, queue: &str, event: Ping) -> herald_core::EnvelopeMeta {
    let envelope = herald_core::Envelope::new(event);
    send_envelope_to_queue(amqp, queue, &envelope).await;
    envelope.meta
}

/// [`send_to_queue`] for an envelope already built (to send one event twice).
pub async fn send_envelope_to_queue(
    amqp: &Amqp,
    queue: &str,
    envelope: &herald_core::Envelope<Ping>,
) {
    use herald_core::Publisher;
    let message = herald_core::OutgoingMessage {
        destination: String::new(),
        key: queue.to_owned(),
        ..herald_core::Producer::new(amqp.publisher())
            .message(envelope)
            .expect("message")
    };
    amqp.publisher()
        .with_routing_key(herald_amqp::RoutingKeySource::MessageKey)
        .publish(message)
        .await
        .expect("confirmed publish");
}
