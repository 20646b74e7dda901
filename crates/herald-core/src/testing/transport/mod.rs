//! One conformance suite that every transport passes (Watermill's `TestPubSub` is the model):
//! the same cases, with the same handlers and assertions, against memory, RabbitMQ, Kafka,
//! Redis Streams, SQS, ... each on its real broker.
//!
//! A transport implements [`TransportUnderTest`] (fresh queues, publishers, subscribers, its
//! dead letters) and declares what it guarantees in [`Features`]; then one line in its tests
//! runs every case as its own test:
//!
//! ```ignore
//! herald_core::transport_conformance!(my_transport, my_features);
//! // async fn my_transport() -> impl TransportUnderTest;  fn my_features() -> Features
//! ```
//!
//! What a transport cannot do is a [`Capability::Unsupported`] with the sentence that says
//! why; the case prints it and checks what still holds, it is never skipped without a word.

mod cases;
mod harness;
mod probe;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use self::cases::*;
pub use self::harness::{RunningWorker, publish_probes};
pub use self::probe::{Behaviour, Log, Probe, ProbeHandler, Seen, quick_retries};
use crate::{DeadLetters, Publisher, Subscriber, TransportError};

/// A transport on its real broker, as the suite drives it.
#[async_trait]
pub trait TransportUnderTest: Send + Sync + 'static {
    /// A fresh, empty queue (topic, stream) for one case, its topology created: a name no
    /// other case or run uses. Events published to it with [`Publisher::publish`]
    /// (destination = this name) reach its subscribers.
    async fn fresh_source(&self, case: &str) -> String;

    /// A publisher on the broker.
    async fn publisher(&self) -> Arc<dyn Publisher>;

    /// A new subscriber on `source`. Two subscribers on one source compete for its
    /// messages (one consumer group); a message left unsettled by a dropped subscriber comes
    /// back to a live one after at most [`Features::redelivery_after`].
    async fn subscriber(&self, source: &str) -> Box<dyn Subscriber>;

    /// The transport's dead-letter tools.
    fn dead_letters(&self) -> Arc<dyn DeadLetters>;

    /// A publisher for an address where no broker listens, configured to give up after
    /// `timeout`. `Err` if the transport refuses to build one without a broker (that error
    /// must then name the cause).
    async fn unreachable_publisher(
        &self,
        timeout: Duration,
    ) -> Result<Arc<dyn Publisher>, TransportError>;
}

/// Whether a transport does something, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Supported,
    /// Not done by this transport; the sentence says why (printed by the case).
    Unsupported(&'static str),
}

/// What a transport guarantees, declared once and checked by the cases.
#[derive(Debug, Clone)]
pub struct Features {
    /// The transport's name in messages ("memory", "rabbitmq", "kafka (tansu)", ...).
    pub name: &'static str,
    /// Events of one key handled in publish order while other keys run in parallel (with
    /// the worker's `ordered_by_key`, or the subscriber's own order per key).
    pub order_per_key: Capability,
    /// A retry is delivered no sooner than the policy's delay and at most this much later
    /// (the broker's timer granularity, a retry consumer's poll interval).
    pub retry_delay_slack: Duration,
    /// A message left unsettled by a dropped subscriber (a crashed worker) comes back to a
    /// live subscriber within this time (visibility timeout, claim idle time, session
    /// timeout and rebalance, channel close).
    pub redelivery_after: Duration,
    /// The largest payload the transport takes (`None`: no limit herald knows of). Above
    /// it, publish must fail with an error; nothing is truncated.
    pub max_payload: Option<usize>,
    /// Dead letters can be replayed to their origin.
    pub replay: Capability,
    /// Publishing can meet a broker that is not there (an in-process transport cannot).
    pub unreachable_broker: Capability,
    /// Known broker quirks the cases allow for, each with its sentence (tansu skips the
    /// rest of a batch on a mid-batch fetch, moto deletes with a stale receipt handle).
    pub quirks: &'static [&'static str],
}

/// Checks that a publisher's error about an unreachable broker says so: a
/// [`TransportError::Connection`] whose text names the cause.
fn publisher_error(features: &Features, error: &TransportError) {
    let text = error.to_string();
    assert!(
        matches!(error, TransportError::Connection(cause) if !cause.trim().is_empty()),
        "{}: an unreachable broker must be a connection error naming the cause, got {error:?}",
        features.name
    );
    eprintln!("{}: unreachable broker: {text}", features.name);
}

/// Runs every case of the suite as its own test: `transport` is an `async fn() -> impl
/// TransportUnderTest` (called once per case, each on fresh queues), `features` a
/// `fn() -> Features`. The calling crate needs `tokio` (with `macros` and `rt-multi-thread`).
#[macro_export]
macro_rules! transport_conformance {
    ($transport:path, $features:path) => {
        $crate::transport_conformance!(@cases $transport, $features;
            round_trip,
            duplicate_is_skipped,
            payload_over_the_limit_is_refused,
            unreachable_broker_is_an_error,
            retry_waits_the_policy_delay,
            dead_letters_carry_the_failure_and_replay_once,
            a_panicking_handler_is_a_failure,
            order_per_key,
            concurrency_is_bounded,
            a_dead_consumers_messages_come_back,
            shutdown_drains_then_hands_back
        );
    };
    (@cases $transport:path, $features:path; $($case:ident),+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let transport = $transport().await;
                $crate::testing::transport::$case(&transport, &$features()).await;
            }
        )+
    };
}
