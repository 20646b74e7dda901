//! The conformance suite fails a transport that breaks its contract: the in-memory broker
//! with one fault built in per test, each caught by the case that covers it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_core::memory::{MemoryBroker, MemoryConfig};
use herald_core::testing::transport::{self, Capability, Features, TransportUnderTest};
use herald_core::{
    Acknowledger, DeadLetter, DeadLetters, Delivery, OutgoingMessage, Publisher, Retry, Subscriber,
    TransportError, async_trait,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Header values that are not ASCII are dropped on the way.
    DropsUnicodeHeaders,
    /// Payloads over the limit are cut to it instead of refused.
    Truncates,
    /// A retry is delivered at once, whatever the delay.
    RetriesAtOnce,
    /// A dead letter loses the failure headers.
    ForgetsWhyItFailed,
    /// A delivery dropped unsettled is taken as acked: a crashed consumer loses it.
    LosesUnsettled,
    /// What is ready at once is delivered newest first.
    Reverses,
}

const LIMIT: usize = 1024;

#[derive(Clone)]
struct Faulty {
    broker: MemoryBroker,
    fault: Fault,
}

#[async_trait]
impl Publisher for Faulty {
    async fn publish(&self, mut message: OutgoingMessage) -> Result<(), TransportError> {
        match self.fault {
            Fault::DropsUnicodeHeaders => message.headers.retain(|_, v| v.is_ascii()),
            Fault::Truncates => message.payload.truncate(LIMIT),
            _ => {}
        }
        self.broker.publish(message).await
    }
}

struct FaultySubscriber {
    inner: Box<dyn Subscriber>,
    fault: Fault,
    held: Vec<Delivery>,
}

#[async_trait]
impl Subscriber for FaultySubscriber {
    async fn recv(&mut self) -> Result<Option<Delivery>, TransportError> {
        if let Some(held) = self.held.pop() {
            return Ok(Some(held));
        }
        let Some(delivery) = self.inner.recv().await? else {
            return Ok(None);
        };
        if self.fault == Fault::Reverses {
            self.held.push(delivery);
            while let Ok(Ok(Some(next))) =
                tokio::time::timeout(Duration::from_millis(20), self.inner.recv()).await
            {
                self.held.push(next);
            }
            return Ok(self.held.pop());
        }
        let message = delivery.message.clone();
        Ok(Some(Delivery::new(
            message,
            FaultyAcker {
                inner: Mutex::new(Some(delivery)),
                fault: self.fault,
            },
        )))
    }
}

struct FaultyAcker {
    inner: Mutex<Option<Delivery>>,
    fault: Fault,
}

impl FaultyAcker {
    fn take(&self) -> Delivery {
        self.inner
            .lock()
            .expect("lock")
            .take()
            .expect("settled once")
    }
}

impl Drop for FaultyAcker {
    fn drop(&mut self) {
        if let Some(delivery) = self.inner.lock().expect("lock").take()
            && self.fault == Fault::LosesUnsettled
        {
            tokio::spawn(delivery.ack());
        }
    }
}

#[async_trait]
impl Acknowledger for FaultyAcker {
    async fn ack(self: Box<Self>) -> Result<(), TransportError> {
        self.take().ack().await
    }

    async fn retry(self: Box<Self>, mut retry: Retry) -> Result<(), TransportError> {
        if self.fault == Fault::RetriesAtOnce {
            retry.delay = Duration::ZERO;
        }
        self.take().retry(retry).await
    }

    async fn requeue(self: Box<Self>, delay: Duration) -> Result<(), TransportError> {
        self.take().requeue(delay).await
    }

    async fn dead_letter(self: Box<Self>, mut dead: DeadLetter) -> Result<(), TransportError> {
        if self.fault == Fault::ForgetsWhyItFailed {
            dead.headers
                .retain(|name, _| !name.starts_with("herald-") || name.starts_with("herald-event"));
        }
        self.take().dead_letter(dead).await
    }
}

#[async_trait]
impl TransportUnderTest for Faulty {
    async fn fresh_source(&self, case: &str) -> String {
        format!("self-test.{case}.{}", uuid::Uuid::now_v7().simple())
    }

    async fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(self.clone())
    }

    async fn subscriber(&self, source: &str) -> Box<dyn Subscriber> {
        Box::new(FaultySubscriber {
            inner: Box::new(self.broker.subscribe(source)),
            fault: self.fault,
            held: Vec::new(),
        })
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(self.broker.clone())
    }

    async fn unreachable_publisher(
        &self,
        _timeout: Duration,
    ) -> Result<Arc<dyn Publisher>, TransportError> {
        unreachable!("declared Unsupported")
    }
}

fn faulty(fault: Fault) -> (Faulty, Features) {
    let transport = Faulty {
        broker: MemoryBroker::with_config(MemoryConfig {
            visibility_timeout: Duration::from_secs(1),
        }),
        fault,
    };
    let features = Features {
        name: "faulty memory",
        order_per_key: Capability::Supported,
        retry_delay_slack: Duration::from_millis(200),
        redelivery_after: Duration::from_secs(1),
        max_payload: Some(LIMIT),
        replay: Capability::Supported,
        unreachable_broker: Capability::Unsupported("in-process"),
        quirks: &[],
    };
    (transport, features)
}

#[tokio::test]
#[should_panic(expected = "header `x-conformance-unicode` must arrive byte for byte")]
async fn round_trip_catches_mangled_headers() {
    let (t, f) = faulty(Fault::DropsUnicodeHeaders);
    transport::round_trip(&t, &f).await;
}

#[tokio::test]
#[should_panic(expected = "was accepted")]
async fn the_payload_case_catches_truncation() {
    let (t, f) = faulty(Fault::Truncates);
    transport::payload_over_the_limit_is_refused(&t, &f).await;
}

#[tokio::test]
#[should_panic(expected = "before the policy's")]
async fn the_retry_case_catches_a_retry_that_does_not_wait() {
    let (t, f) = faulty(Fault::RetriesAtOnce);
    transport::retry_waits_the_policy_delay(&t, &f).await;
}

#[tokio::test]
#[should_panic(expected = "herald-handler of")]
async fn the_dead_letter_case_catches_lost_failure_headers() {
    let (t, f) = faulty(Fault::ForgetsWhyItFailed);
    transport::dead_letters_carry_the_failure_and_replay_once(&t, &f).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "every event not acked by the dead consumer")]
async fn the_crash_case_catches_lost_unsettled_deliveries() {
    let (t, f) = faulty(Fault::LosesUnsettled);
    transport::a_dead_consumers_messages_come_back(&t, &f).await;
}

#[tokio::test]
#[should_panic(expected = "in the order they ran")]
async fn the_order_case_catches_reordered_deliveries() {
    let (t, f) = faulty(Fault::Reverses);
    transport::order_per_key(&t, &f).await;
}
