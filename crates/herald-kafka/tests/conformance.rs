//! herald-kafka passes the transport conformance suite against the real Kafka-API broker
//! (tansu on 127.0.0.1:9092, or `HERALD_KAFKA_BROKERS`). Each case gets its own topic (with
//! its retry topics and DLQ) and its own consumer group.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{config, topic, unique};
use herald_core::testing::transport::{Capability, Features, TransportUnderTest};
use herald_core::{DeadLetters, Publisher, Subscriber, TransportError, async_trait};
use herald_kafka::{KafkaConfig, KafkaPublisher, KafkaSubscriber};

/// The payload limit the cases check (the publisher refuses above it).
const MAX_PAYLOAD: usize = 256 << 10;

/// Partitions per case topic: enough for keys to run in parallel.
const PARTITIONS: i32 = 4;

#[derive(Default)]
struct Kafka {
    /// The consumer group of each source: subscribers of one source compete.
    groups: Mutex<HashMap<String, String>>,
}

#[async_trait]
impl TransportUnderTest for Kafka {
    async fn fresh_source(&self, case: &str) -> String {
        let topic = topic(case, PARTITIONS).await;
        self.groups
            .lock()
            .expect("groups")
            .insert(topic.clone(), unique("group"));
        topic
    }

    async fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(
            KafkaPublisher::builder(&config())
                .max_payload(MAX_PAYLOAD)
                .build()
                .expect("publisher"),
        )
    }

    async fn subscriber(&self, source: &str) -> Box<dyn Subscriber> {
        let group = self.groups.lock().expect("groups")[source].clone();
        Box::new(
            KafkaSubscriber::builder(&config(), group)
                .topic(source)
                .session_timeout(Duration::from_secs(6))
                .build()
                .expect("subscriber"),
        )
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(config())
    }

    async fn unreachable_publisher(
        &self,
        timeout: Duration,
    ) -> Result<Arc<dyn Publisher>, TransportError> {
        // A loopback port nothing listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let publisher = KafkaPublisher::builder(&KafkaConfig::new(format!("127.0.0.1:{port}")))
            .delivery_timeout(timeout)
            .build()?;
        Ok(Arc::new(publisher))
    }
}

async fn kafka() -> Kafka {
    Kafka::default()
}

fn features() -> Features {
    Features {
        name: "kafka (tansu)",
        // Kept by the subscriber: one event per key in flight, keys in parallel.
        order_per_key: Capability::Supported,
        // A retry waits in `<topic>.retry.<n>` until its due time; the retry topic's
        // consumer polls, and a fetch on tansu answers within its wait time.
        retry_delay_slack: Duration::from_secs(3),
        // A dropped subscriber leaves the group; the next one is assigned the partitions and
        // reads from the last committed offsets.
        redelivery_after: Duration::from_secs(15),
        max_payload: Some(MAX_PAYLOAD),
        replay: Capability::Supported,
        unreachable_broker: Capability::Supported,
        quirks: &[
            "tansu answers a fetch from inside a record batch with nothing of that batch: \
             the tests' producer sends one record per batch (see the crate README)",
        ],
    }
}

herald_core::transport_conformance!(kafka, features);
