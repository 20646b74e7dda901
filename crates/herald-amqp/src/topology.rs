//! Exchanges, queues and bindings declared from code, idempotently, at every (re)connect.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

/// The kind of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeType {
    /// To the queues whose binding key equals the routing key.
    Direct,
    /// To the queues whose binding pattern (`*` one word, `#` any words) matches.
    Topic,
    /// To every bound queue.
    Fanout,
}

/// A durable exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub name: String,
    pub kind: ExchangeType,
}

impl Exchange {
    pub fn direct(name: impl Into<String>) -> Self {
        Exchange {
            name: name.into(),
            kind: ExchangeType::Direct,
        }
    }

    pub fn topic(name: impl Into<String>) -> Self {
        Exchange {
            name: name.into(),
            kind: ExchangeType::Topic,
        }
    }

    pub fn fanout(name: impl Into<String>) -> Self {
        Exchange {
            name: name.into(),
            kind: ExchangeType::Fanout,
        }
    }
}

/// Classic or quorum queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueType {
    #[default]
    Classic,
    /// Replicated (Raft); what RabbitMQ recommends for durable work queues.
    Quorum,
}

/// What a full queue (`x-max-length`) does with one more message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Drops (dead-letters, with herald's dead-letter exchange) the oldest message.
    DropHead,
    /// Refuses the new message: the publisher's confirm is a nack, so `publish` fails.
    RejectPublish,
    /// Refuses the new message and dead-letters it (classic queues only).
    RejectPublishDlx,
}

impl Overflow {
    fn as_str(self) -> &'static str {
        match self {
            Overflow::DropHead => "drop-head",
            Overflow::RejectPublish => "reject-publish",
            Overflow::RejectPublishDlx => "reject-publish-dlx",
        }
    }
}

/// A durable consumer queue, with its dead-letter exchange and queue.
///
/// For a queue `q`, herald declares:
/// - `q` itself, with `x-dead-letter-exchange = q.dlx` so that messages the broker drops
///   (overflow, expiry, reject) are dead-lettered rather than lost;
/// - `q.dlx`, a direct exchange, and `q.dlq`, bound to it with the key `q`: where the
///   worker puts messages that failed for good, with headers that say why;
/// - on demand, `q.retry.<ms>` queues: a message waits there `ms` milliseconds (the
///   queue's TTL) and is then dead-lettered back to `q` (never requeued in a hot loop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub name: String,
    pub kind: QueueType,
    pub max_length: Option<u32>,
    pub overflow: Option<Overflow>,
    pub dead_letter: bool,
    /// (exchange, binding key or pattern).
    pub bindings: Vec<(String, String)>,
}

impl Queue {
    pub fn new(name: impl Into<String>) -> Self {
        Queue {
            name: name.into(),
            kind: QueueType::Classic,
            max_length: None,
            overflow: None,
            dead_letter: true,
            bindings: Vec::new(),
        }
    }

    pub fn quorum(mut self) -> Self {
        self.kind = QueueType::Quorum;
        self
    }

    /// Bounds the queue to `max` messages, with `overflow` deciding what happens past it.
    pub fn max_length(mut self, max: u32, overflow: Overflow) -> Self {
        self.max_length = Some(max);
        self.overflow = Some(overflow);
        self
    }

    /// Binds the queue to `exchange` with a routing key (direct), a pattern (topic) or
    /// anything (fanout).
    pub fn bind(mut self, exchange: impl Into<String>, key: impl Into<String>) -> Self {
        self.bindings.push((exchange.into(), key.into()));
        self
    }

    /// Declares no dead-letter exchange and queue (then dead-lettering a message fails,
    /// and the message stays in the queue).
    pub fn without_dead_letter_queue(mut self) -> Self {
        self.dead_letter = false;
        self
    }

    fn arguments(&self) -> FieldTable {
        let mut args = FieldTable::default();
        if self.kind == QueueType::Quorum {
            args.insert("x-queue-type".into(), string("quorum"));
        }
        if let Some(max) = self.max_length {
            args.insert(
                "x-max-length".into(),
                AMQPValue::LongLongInt(i64::from(max)),
            );
        }
        if let Some(overflow) = self.overflow {
            args.insert("x-overflow".into(), string(overflow.as_str()));
        }
        if self.dead_letter {
            args.insert(
                "x-dead-letter-exchange".into(),
                string(&dead_letter_exchange(&self.name)),
            );
            args.insert("x-dead-letter-routing-key".into(), string(&self.name));
        }
        args
    }
}

/// Everything to declare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    pub exchanges: Vec<Exchange>,
    pub queues: Vec<Queue>,
}

impl Topology {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn exchange(mut self, exchange: Exchange) -> Self {
        self.exchanges.push(exchange);
        self
    }

    pub fn queue(mut self, queue: Queue) -> Self {
        self.queues.push(queue);
        self
    }

    /// Declares everything (a no-op for what exists with the same settings; a channel
    /// error for what exists with other settings).
    pub async fn declare(&self, channel: &Channel) -> Result<(), lapin::Error> {
        for exchange in &self.exchanges {
            let kind = match exchange.kind {
                ExchangeType::Direct => ExchangeKind::Direct,
                ExchangeType::Topic => ExchangeKind::Topic,
                ExchangeType::Fanout => ExchangeKind::Fanout,
            };
            declare_exchange(channel, &exchange.name, kind).await?;
        }
        for queue in &self.queues {
            if queue.dead_letter {
                let dlx = dead_letter_exchange(&queue.name);
                let dlq = dead_letter_queue(&queue.name);
                declare_exchange(channel, &dlx, ExchangeKind::Direct).await?;
                let mut args = FieldTable::default();
                if queue.kind == QueueType::Quorum {
                    args.insert("x-queue-type".into(), string("quorum"));
                }
                declare_queue(channel, &dlq, args).await?;
                channel
                    .queue_bind(
                        dlq.as_str().into(),
                        dlx.as_str().into(),
                        queue.name.as_str().into(),
                        QueueBindOptions::default(),
                        FieldTable::default(),
                    )
                    .await?;
            }
            declare_queue(channel, &queue.name, queue.arguments()).await?;
            for (exchange, key) in &queue.bindings {
                channel
                    .queue_bind(
                        queue.name.as_str().into(),
                        exchange.as_str().into(),
                        key.as_str().into(),
                        QueueBindOptions::default(),
                        FieldTable::default(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

fn string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

async fn declare_exchange(
    channel: &Channel,
    name: &str,
    kind: ExchangeKind,
) -> Result<(), lapin::Error> {
    channel
        .exchange_declare(
            ShortString::from(name),
            kind,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
}

async fn declare_queue(
    channel: &Channel,
    name: &str,
    args: FieldTable,
) -> Result<(), lapin::Error> {
    channel
        .queue_declare(
            ShortString::from(name),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            args,
        )
        .await
        .map(|_| ())
}

/// The dead-letter exchange of `queue`.
pub fn dead_letter_exchange(queue: &str) -> String {
    format!("{queue}.dlx")
}

/// The dead-letter queue of `queue`.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dlq")
}

/// The delay a retry of `delay` really waits: rounded down to two significant digits of
/// milliseconds, so that jittered delays share a bounded set of retry queues (at most 90
/// per decade) and never wait longer than the policy asked.
pub fn retry_delay(delay: Duration) -> Duration {
    let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX).max(1);
    let mut scale = 1;
    while ms / scale >= 100 {
        scale *= 10;
    }
    Duration::from_millis(ms / scale * scale)
}

/// The retry queue of `queue` for `delay` (after [`retry_delay`]).
pub fn retry_queue(queue: &str, delay: Duration) -> String {
    format!("{queue}.retry.{}", retry_delay(delay).as_millis())
}

/// Declares the retry queue of `queue` for `delay`: messages wait its TTL, then are
/// dead-lettered through the default exchange back to `queue`. It deletes itself when
/// unused for a while; it is redeclared (which renews that) before each use.
pub(crate) async fn declare_retry_queue(
    channel: &Channel,
    queue: &str,
    delay: Duration,
) -> Result<String, lapin::Error> {
    let delay = retry_delay(delay);
    let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    let name = retry_queue(queue, delay);
    let mut args = FieldTable::default();
    args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ms));
    args.insert("x-dead-letter-exchange".into(), string(""));
    args.insert("x-dead-letter-routing-key".into(), string(queue));
    // Well past the TTL, so the queue never expires with a message still waiting in it.
    args.insert(
        "x-expires".into(),
        AMQPValue::LongLongInt(ms.saturating_mul(2).saturating_add(600_000)),
    );
    declare_queue(channel, &name, args).await?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_round_down_to_two_significant_digits() {
        let ms = |m| retry_delay(Duration::from_millis(m)).as_millis();
        assert_eq!(ms(0), 1);
        assert_eq!(ms(7), 7);
        assert_eq!(ms(57), 57);
        assert_eq!(ms(100), 100);
        assert_eq!(ms(1234), 1200);
        assert_eq!(ms(99_999), 99_000);
        assert_eq!(ms(300_000), 300_000);
        for m in [1u64, 9, 10, 99, 101, 999, 1001, 123_456, 9_999_999] {
            let d = ms(m) as u64;
            assert!(d <= m && d * 100 >= m * 90, "{m} -> {d}");
        }
        assert_eq!(
            retry_queue("orders", Duration::from_millis(1234)),
            "orders.retry.1200"
        );
    }

    #[test]
    fn queue_arguments_carry_length_overflow_and_dead_lettering() {
        let q = Queue::new("billing")
            .quorum()
            .max_length(10, Overflow::RejectPublish);
        let args = q.arguments();
        let keys: Vec<&str> = args.inner().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "x-dead-letter-exchange",
                "x-dead-letter-routing-key",
                "x-max-length",
                "x-overflow",
                "x-queue-type"
            ]
        );
        let bare = Queue::new("plain").without_dead_letter_queue();
        assert!(bare.arguments().inner().is_empty());
    }
}
