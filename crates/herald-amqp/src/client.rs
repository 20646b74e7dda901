//! The connection: established with backoff, topology declared at each (re)connect, and
//! re-established in the background when it breaks.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::sync::{Mutex, watch};
use tokio::time::Instant;

use crate::AmqpError;
use crate::publisher::{AmqpPublisher, RoutingKeySource};
use crate::subscriber::AmqpSubscriber;
use crate::topology::Topology;

/// How long [`Amqp::close`] waits for the broker to answer.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// What publishing does while the broker is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutagePolicy {
    /// Fail at once with a connection error (the caller decides: retry, outbox, 503).
    FailFast,
    /// Wait up to this long for the connection to come back, then publish (or fail).
    Wait(Duration),
}

/// How reconnection backs off: exponential between `min_delay` and `max_delay`, with
/// jitter so that many clients do not reconnect in step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReconnectPolicy {
    pub min_delay: Duration,
    pub max_delay: Duration,
    pub factor: f32,
    pub jitter: bool,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            factor: 2.0,
            jitter: true,
        }
    }
}

impl ReconnectPolicy {
    fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        let mut b = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.factor)
            .without_max_times();
        if self.jitter {
            b = b.with_jitter();
        }
        b.build()
    }
}

/// Settings of an [`Amqp`] client.
#[derive(Debug, Clone)]
pub struct AmqpConfig {
    /// `amqp://user:pass@host:port/vhost` (`amqps://` for TLS).
    pub url: String,
    /// Shown in the management UI.
    pub connection_name: String,
    /// Declared at connect and at every reconnect.
    pub topology: Topology,
    /// What `publish` does during an outage (default: wait up to 30 s).
    pub publish_outage: OutagePolicy,
    pub reconnect: ReconnectPolicy,
    /// How long [`Amqp::connect`] keeps trying before it gives up (default 30 s).
    pub connect_timeout: Duration,
    /// The largest payload `publish` sends (default 128 MiB, RabbitMQ's default
    /// `max_message_size`). A larger one is refused before sending: the broker would close
    /// the channel over it.
    pub max_payload: usize,
}

impl AmqpConfig {
    pub fn new(url: impl Into<String>) -> Self {
        AmqpConfig {
            url: url.into(),
            connection_name: "herald".to_owned(),
            topology: Topology::default(),
            publish_outage: OutagePolicy::Wait(Duration::from_secs(30)),
            reconnect: ReconnectPolicy::default(),
            connect_timeout: Duration::from_secs(30),
            max_payload: 128 << 20,
        }
    }

    pub fn topology(mut self, topology: Topology) -> Self {
        self.topology = topology;
        self
    }

    pub fn publish_outage(mut self, policy: OutagePolicy) -> Self {
        self.publish_outage = policy;
        self
    }

    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    pub fn connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the largest payload `publish` sends (match the broker's `max_message_size`).
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }
}

#[derive(Clone)]
pub(crate) enum Link {
    Up {
        generation: u64,
        conn: Arc<Connection>,
    },
    Down {
        generation: u64,
    },
    Closed,
}

pub(crate) struct Inner {
    pub(crate) config: AmqpConfig,
    link: watch::Sender<Link>,
    reconnecting: AtomicBool,
    last_generation: AtomicU64,
    /// Why the last connection attempt failed, for the errors callers see.
    last_error: std::sync::Mutex<Option<String>>,
    /// The confirm channel herald itself publishes on (retries, dead letters, replays).
    internal: Mutex<Option<(u64, Channel)>>,
}

/// A RabbitMQ client: one connection, re-established on loss, with the topology declared
/// on each connect. Cheap to clone. Makes [`AmqpPublisher`]s and [`AmqpSubscriber`]s.
///
/// ```no_run
/// # async fn demo() -> Result<(), herald_amqp::AmqpError> {
/// use herald_amqp::{Amqp, AmqpConfig, Exchange, Queue, Topology};
/// let topology = Topology::new()
///     .exchange(Exchange::topic("orders"))
///     .queue(Queue::new("billing").bind("orders", "order.*"));
/// let amqp = Amqp::connect(AmqpConfig::new("amqp://127.0.0.1:5672/%2f").topology(topology)).await?;
/// let producer = herald_core::Producer::new(amqp.publisher()).route("order.created", "orders");
/// let subscriber = amqp.subscriber("billing").prefetch(32);
/// # let _ = (producer, subscriber); Ok(()) }
/// ```
#[derive(Clone)]
pub struct Amqp {
    pub(crate) inner: Arc<Inner>,
}

impl Amqp {
    /// Connects (retrying with backoff up to `connect_timeout`) and declares the topology.
    pub async fn connect(config: AmqpConfig) -> Result<Amqp, AmqpError> {
        let timeout = config.connect_timeout;
        let amqp = Amqp {
            inner: Arc::new(Inner {
                config,
                link: watch::Sender::new(Link::Down { generation: 0 }),
                reconnecting: AtomicBool::new(false),
                last_generation: AtomicU64::new(0),
                last_error: std::sync::Mutex::new(None),
                internal: Mutex::new(None),
            }),
        };
        if let Err(e) = amqp.connection(Some(timeout)).await {
            // Stop the background attempts: nobody holds this client.
            amqp.inner.link.send_replace(Link::Closed);
            return Err(e);
        }
        Ok(amqp)
    }

    pub fn config(&self) -> &AmqpConfig {
        &self.inner.config
    }

    /// A publisher with the configured outage policy; routing keys are event types.
    pub fn publisher(&self) -> AmqpPublisher {
        AmqpPublisher::new(
            self.clone(),
            self.inner.config.publish_outage,
            RoutingKeySource::EventType,
        )
    }

    /// A consumer of `queue` (prefetch 32 unless set).
    pub fn subscriber(&self, queue: impl Into<String>) -> AmqpSubscriber {
        AmqpSubscriber::new(self.clone(), queue.into())
    }

    /// How many times the connection was re-established since [`Amqp::connect`].
    pub fn reconnects(&self) -> u64 {
        let generation = match &*self.inner.link.borrow() {
            Link::Up { generation, .. } | Link::Down { generation } => *generation,
            Link::Closed => {
                return self
                    .inner
                    .last_generation
                    .load(Ordering::Acquire)
                    .saturating_sub(1);
            }
        };
        generation.saturating_sub(1)
    }

    /// Whether the connection is up now.
    pub fn is_connected(&self) -> bool {
        matches!(&*self.inner.link.borrow(), Link::Up { conn, .. } if conn.status().connected())
    }

    /// Closes the connection; publishers and subscribers fail with `Closed` afterwards.
    /// Unacked deliveries go back to their queues.
    pub async fn close(&self) -> Result<(), AmqpError> {
        let previous = self.inner.link.send_replace(Link::Closed);
        let Link::Up { conn, .. } = previous else {
            return Ok(());
        };
        // A channel closing at the same moment (a subscriber's, after its last delivery
        // was settled) makes the close fail once; try again shortly.
        let close = async {
            let mut attempts = 0;
            loop {
                if !conn.status().connected() {
                    return Ok(());
                }
                match conn.close(200, "herald: closing".into()).await {
                    Ok(()) => return Ok(()),
                    Err(e) if attempts >= 5 => return Err(e.into()),
                    Err(_) => {
                        attempts += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        };
        // The close waits for the broker's answer, which a broker that hangs (or a
        // connection lapin lost track of) never gives; the socket goes with `conn` anyway.
        tokio::time::timeout(CLOSE_TIMEOUT, close)
            .await
            .unwrap_or_else(|_| {
                Err(AmqpError::Unavailable(format!(
                    "RabbitMQ did not answer the close within {CLOSE_TIMEOUT:?}; the connection was dropped"
                )))
            })
    }

    /// The connection, reconnecting if needed. `wait`: `None` waits as long as it takes,
    /// `Some(d)` at most `d` (zero: fail at once when down).
    pub(crate) async fn connection(
        &self,
        wait: Option<Duration>,
    ) -> Result<(u64, Arc<Connection>), AmqpError> {
        let deadline = wait.map(|d| Instant::now() + d);
        let mut rx = self.inner.link.subscribe();
        loop {
            let link = rx.borrow_and_update().clone();
            match link {
                Link::Closed => return Err(AmqpError::Closed),
                Link::Up { generation, conn } => {
                    if conn.status().connected() {
                        return Ok((generation, conn));
                    }
                    self.connection_lost(generation);
                }
                Link::Down { .. } => self.start_reconnecting(),
            }
            match deadline {
                None => {
                    if rx.changed().await.is_err() {
                        return Err(AmqpError::Closed);
                    }
                }
                Some(deadline) => match tokio::time::timeout_at(deadline, rx.changed()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return Err(AmqpError::Closed),
                    Err(_) => {
                        let last = self
                            .inner
                            .last_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .clone()
                            .unwrap_or_else(|| "no attempt finished yet".to_owned());
                        return Err(AmqpError::Unavailable(format!(
                            "not connected to {} (reconnecting; last attempt: {last})",
                            herald_core::redact_url(&self.inner.config.url)
                        )));
                    }
                },
            }
        }
    }

    /// Reports that an operation on connection `generation` failed; when the connection is
    /// indeed down, reconnects in the background.
    pub(crate) fn connection_lost(&self, generation: u64) {
        let replaced = self.inner.link.send_if_modified(|link| match link {
            // Only a connection that lapin sees as broken is replaced: a failed channel on
            // a healthy connection is the channel's business.
            Link::Up {
                generation: g,
                conn,
            } if *g == generation && !conn.status().connected() => {
                *link = Link::Down { generation };
                true
            }
            _ => false,
        });
        if replaced {
            tracing::warn!(generation, "connection to RabbitMQ lost; reconnecting");
        }
        if !matches!(&*self.inner.link.borrow(), Link::Up { .. } | Link::Closed) {
            self.start_reconnecting();
        }
    }

    fn start_reconnecting(&self) {
        if self.inner.reconnecting.swap(true, Ordering::AcqRel) {
            return;
        }
        let amqp = self.clone();
        tokio::spawn(async move {
            amqp.reconnect_loop().await;
            amqp.inner.reconnecting.store(false, Ordering::Release);
        });
    }

    async fn reconnect_loop(&self) {
        let mut delays = self.inner.config.reconnect.delays();
        loop {
            let generation = match &*self.inner.link.borrow() {
                Link::Closed => return,
                Link::Up { conn, .. } if conn.status().connected() => return,
                Link::Up { generation, .. } | Link::Down { generation } => *generation,
            };
            match self.open().await {
                Ok(conn) => {
                    let conn = Arc::new(conn);
                    let next = generation + 1;
                    let installed = self.inner.link.send_if_modified(|link| {
                        if matches!(link, Link::Closed) {
                            return false;
                        }
                        *link = Link::Up {
                            generation: next,
                            conn: conn.clone(),
                        };
                        true
                    });
                    if installed {
                        self.inner.last_generation.store(next, Ordering::Release);
                        tracing::info!(
                            generation = next,
                            "connected to RabbitMQ; topology declared"
                        );
                    } else {
                        let _ = conn.close(200, "herald: closed meanwhile".into()).await;
                    }
                    return;
                }
                Err(e) => {
                    *self
                        .inner
                        .last_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    let wait = delays
                        .next()
                        .unwrap_or(self.inner.config.reconnect.max_delay);
                    tracing::warn!(error = %e, ?wait, "connecting to RabbitMQ failed; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One connection attempt: connect, declare the topology.
    async fn open(&self) -> Result<Connection, AmqpError> {
        let config = &self.inner.config;
        let props = ConnectionProperties::default()
            .with_connection_name(config.connection_name.clone().into());
        let conn = Connection::connect(&config.url, props).await?;
        let channel = conn.create_channel().await?;
        if let Err(e) = config.topology.declare(&channel).await {
            let _ = conn
                .close(200, "herald: topology declaration failed".into())
                .await;
            return Err(AmqpError::Topology(e.to_string()));
        }
        let _ = channel.close(200, "herald: topology declared".into()).await;
        Ok(conn)
    }

    /// A new channel on the current connection.
    pub(crate) async fn channel(
        &self,
        wait: Option<Duration>,
    ) -> Result<(u64, Channel), AmqpError> {
        let (generation, conn) = self.connection(wait).await?;
        match conn.create_channel().await {
            Ok(ch) => Ok((generation, ch)),
            Err(e) => {
                if !conn.status().connected() {
                    self.connection_lost(generation);
                }
                Err(e.into())
            }
        }
    }

    /// The shared confirm channel for herald's own publishes (retries, dead letters).
    pub(crate) async fn internal_channel(
        &self,
        wait: Option<Duration>,
    ) -> Result<(u64, Channel), AmqpError> {
        let mut slot = self.inner.internal.lock().await;
        if let Some((generation, ch)) = &*slot
            && ch.status().connected()
            && self.current_generation() == Some(*generation)
        {
            return Ok((*generation, ch.clone()));
        }
        let (generation, ch) = self.channel(wait).await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        *slot = Some((generation, ch.clone()));
        Ok((generation, ch))
    }

    pub(crate) fn current_generation(&self) -> Option<u64> {
        match &*self.inner.link.borrow() {
            Link::Up { generation, conn } if conn.status().connected() => Some(*generation),
            _ => None,
        }
    }

    /// Declares the topology again (for example after adding to it with another client).
    pub async fn declare(&self, topology: &Topology) -> Result<(), AmqpError> {
        let (_, channel) = self
            .channel(Some(self.inner.config.connect_timeout))
            .await?;
        let result = topology.declare(&channel).await;
        let _ = channel.close(200, "herald: declared".into()).await;
        result.map_err(|e| AmqpError::Topology(e.to_string()))
    }
}

impl fmt::Debug for Amqp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Amqp")
            .field("url", &herald_core::redact_url(&self.inner.config.url))
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delays_grow_and_stay_capped() {
        let policy = ReconnectPolicy {
            jitter: false,
            ..ReconnectPolicy::default()
        };
        let delays: Vec<Duration> = policy.delays().take(10).collect();
        let ms: Vec<u128> = delays.iter().map(Duration::as_millis).collect();
        assert_eq!(&ms[..4], [100, 200, 400, 800]);
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(10)));
        assert_eq!(ms[9], 10_000);
    }
}
