//! The brokers: Redis as kombu lays it out, and RabbitMQ as Celery declares it. One enum
//! each for broker, consumer and acknowledger, so the worker and producer are written once.

mod amqp;
mod redis;

pub use self::amqp::{AmqpBroker, AmqpConsumer};
pub use self::redis::{RedisBroker, RedisConsumer, RedisOptions};

use tokio_util::sync::CancellationToken;

use crate::CeleryError;
use crate::protocol::{MalformedMessage, TaskMessage};

/// A connection to the broker, cheap to clone.
#[derive(Clone, Debug)]
pub enum Broker {
    Redis(Box<RedisBroker>),
    Amqp(AmqpBroker),
}

impl Broker {
    /// Connects to `redis://host:port/db` or `amqp://user:pass@host:port/vhost`, as Celery
    /// writes them (`amqp://guest:guest@127.0.0.1:5672//` is the vhost `/`).
    pub async fn connect(url: &str) -> Result<Broker, CeleryError> {
        Self::connect_with(url, RedisOptions::default()).await
    }

    /// As [`Broker::connect`], with kombu's Redis transport options.
    pub async fn connect_with(url: &str, options: RedisOptions) -> Result<Broker, CeleryError> {
        let scheme = url.split("://").next().unwrap_or_default();
        match scheme {
            "redis" => Ok(Broker::Redis(Box::new(
                RedisBroker::connect(url, options).await?,
            ))),
            "amqp" | "amqps" | "pyamqp" => Ok(Broker::Amqp(AmqpBroker::connect(url).await?)),
            _ => Err(CeleryError::Url {
                url: herald_core::redact_url(url),
                reason: "the scheme must be redis, amqp or amqps".to_owned(),
            }),
        }
    }

    /// Publishes one task message to `queue` (Celery's direct route: the default exchange,
    /// routing key = queue).
    pub async fn publish(&self, queue: &str, message: &TaskMessage) -> Result<(), CeleryError> {
        match self {
            Broker::Redis(b) => b.publish(queue, message).await,
            Broker::Amqp(b) => b.publish(queue, message).await,
        }
    }

    /// Starts consuming `queue`, with at most `prefetch` messages taken ahead.
    pub async fn consumer(&self, queue: &str, prefetch: u16) -> Result<Consumer, CeleryError> {
        match self {
            Broker::Redis(b) => Ok(Consumer::Redis(b.consumer(queue, prefetch).await?)),
            Broker::Amqp(b) => Ok(Consumer::Amqp(b.consumer(queue, prefetch).await?)),
        }
    }

    /// Sends one worker event (a JSON object) with routing key `task.succeeded` etc.
    pub async fn publish_event(
        &self,
        routing_key: &str,
        event: &serde_json::Value,
        hostname: &str,
    ) -> Result<(), CeleryError> {
        match self {
            Broker::Redis(b) => b.publish_event(routing_key, event, hostname).await,
            Broker::Amqp(b) => b.publish_event(routing_key, event, hostname).await,
        }
    }

    /// Declares `queue` as Celery does (RabbitMQ; nothing to do on Redis).
    pub async fn declare_queue(&self, queue: &str) -> Result<(), CeleryError> {
        match self {
            Broker::Redis(_) => Ok(()),
            Broker::Amqp(b) => b.declare_queue(queue).await,
        }
    }
}

/// Hands out deliveries of one queue.
#[derive(Debug)]
pub enum Consumer {
    Redis(RedisConsumer),
    Amqp(AmqpConsumer),
}

impl Consumer {
    /// The next delivery; `None` once closed or once `stop` is cancelled (no message is
    /// lost by stopping). A broker error is returned and the next call tries again.
    pub async fn recv(
        &mut self,
        stop: &CancellationToken,
    ) -> Result<Option<Delivery>, CeleryError> {
        match self {
            Consumer::Redis(c) => c.recv(stop).await,
            Consumer::Amqp(c) => c.recv(stop).await,
        }
    }

    /// Whether the consumer cannot go on and a new one is needed (a closed RabbitMQ
    /// channel; Redis connections heal by themselves).
    pub fn is_broken(&self) -> bool {
        match self {
            Consumer::Redis(_) => false,
            Consumer::Amqp(c) => c.is_broken(),
        }
    }

    /// Stops taking messages; those taken ahead and not handed out go back to the queue.
    pub async fn close(&mut self) -> Result<(), CeleryError> {
        match self {
            Consumer::Redis(c) => c.close().await,
            Consumer::Amqp(c) => c.close().await,
        }
    }
}

/// One message taken from the queue, to be acked or rejected exactly once.
#[derive(Debug)]
pub struct Delivery {
    pub message: Result<TaskMessage, MalformedMessage>,
    /// The queue it came from (retries go back there).
    pub queue: String,
    pub acker: Acker,
}

/// Settles a delivery.
#[derive(Debug)]
pub enum Acker {
    Redis(self::redis::RedisAcker),
    Amqp(self::amqp::AmqpAcker),
}

impl Acker {
    /// Done with it: the broker forgets it.
    pub async fn ack(self) -> Result<(), CeleryError> {
        match self {
            Acker::Redis(a) => a.ack().await,
            Acker::Amqp(a) => a.ack().await,
        }
    }

    /// Gives it back to the queue (`requeue`) or drops it.
    pub async fn reject(self, requeue: bool) -> Result<(), CeleryError> {
        match self {
            Acker::Redis(a) => a.reject(requeue).await,
            Acker::Amqp(a) => a.reject(requeue).await,
        }
    }
}
