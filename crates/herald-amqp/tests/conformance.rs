//! herald-amqp passes the transport conformance suite against the real RabbitMQ
//! (127.0.0.1:5672, or `HERALD_AMQP_URL`). Each case gets a fanout exchange and a queue of
//! the same name, deleted with their dead-letter queue and exchange when the case ends.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Cleanup, config, connect_with, unique};
use herald_amqp::{Amqp, AmqpConfig, Exchange, OutagePolicy, Queue, Topology};
use herald_core::testing::transport::{Capability, Features, TransportUnderTest};
use herald_core::{DeadLetters, Publisher, Subscriber, TransportError, async_trait};

/// The payload limit the cases check (the client refuses above it; RabbitMQ's own
/// `max_message_size` is 128 MiB by default).
const MAX_PAYLOAD: usize = 1 << 20;

struct RabbitMq {
    amqp: Amqp,
    cleanup: Mutex<Cleanup>,
}

#[async_trait]
impl TransportUnderTest for RabbitMq {
    async fn fresh_source(&self, case: &str) -> String {
        let name = unique(case);
        let topology = Topology::new()
            .exchange(Exchange::fanout(&name))
            .queue(Queue::new(&name).bind(&name, ""));
        self.amqp
            .declare(&topology)
            .await
            .expect("declare the case's queue");
        let mut cleanup = self.cleanup.lock().expect("cleanup");
        *cleanup = std::mem::take(&mut *cleanup).queue(&name).exchange(&name);
        name
    }

    async fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(self.amqp.publisher())
    }

    async fn subscriber(&self, source: &str) -> Box<dyn Subscriber> {
        Box::new(self.amqp.subscriber(source))
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(self.amqp.clone())
    }

    async fn unreachable_publisher(
        &self,
        timeout: Duration,
    ) -> Result<Arc<dyn Publisher>, TransportError> {
        let config = AmqpConfig::new("amqp://guest:guest@127.0.0.1:1/%2f")
            .connect_timeout(timeout)
            .publish_outage(OutagePolicy::FailFast);
        let amqp = Amqp::connect(config).await?;
        Ok(Arc::new(amqp.publisher()))
    }
}

async fn rabbitmq() -> RabbitMq {
    RabbitMq {
        amqp: connect_with(config(Topology::new()).max_payload(MAX_PAYLOAD)).await,
        cleanup: Mutex::default(),
    }
}

fn features() -> Features {
    Features {
        name: "rabbitmq",
        order_per_key: Capability::Supported,
        // Retry queues' TTLs are rounded down to two significant digits of milliseconds;
        // expiry runs when the message reaches the head of its retry queue.
        retry_delay_slack: Duration::from_millis(700),
        // A dropped subscriber closes its channel once its deliveries are dropped: at once.
        redelivery_after: Duration::from_secs(5),
        max_payload: Some(MAX_PAYLOAD),
        replay: Capability::Supported,
        unreachable_broker: Capability::Supported,
        quirks: &[],
    }
}

herald_core::transport_conformance!(rabbitmq, features);
