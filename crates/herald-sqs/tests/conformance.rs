//! herald-sqs passes the transport conformance suite against a real SQS API (moto's server
//! on 127.0.0.1:4566, or `HERALD_SQS_ENDPOINT`). Each case gets its own standard queue and
//! DLQ, with a short visibility timeout so a dead consumer's messages come back soon.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{queue, sqs};
use herald_core::testing::transport::{Capability, Features, TransportUnderTest};
use herald_core::{DeadLetters, Publisher, Subscriber, TransportError, async_trait};
use herald_sqs::{MAX_MESSAGE_BYTES, QueueOptions, Sqs};

/// The subscribers' visibility timeout: what a dropped or crashed consumer's messages wait
/// at most before another consumer gets them.
const VISIBILITY: Duration = Duration::from_secs(2);

/// SQS counts message attributes against its size limit. The case's messages have no
/// headers and the key `k`, which travels as the attribute `herald-partition-key` (name,
/// type `String` and value: 27 bytes), so their payload can take 256 KiB less that.
const MAX_PAYLOAD: usize =
    MAX_MESSAGE_BYTES - "herald-partition-key".len() - "String".len() - "k".len();

struct Moto {
    sqs: Sqs,
}

#[async_trait]
impl TransportUnderTest for Moto {
    async fn fresh_source(&self, case: &str) -> String {
        let options = QueueOptions {
            visibility_timeout: VISIBILITY,
            ..QueueOptions::default()
        };
        queue(&self.sqs, case, &options).await
    }

    async fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(self.sqs.publisher())
    }

    async fn subscriber(&self, source: &str) -> Box<dyn Subscriber> {
        Box::new(
            self.sqs
                .subscriber(source)
                // One receive at a time: moto's concurrent receives now and then hand one
                // message to both (see `quirks`), which would blur the cases' exact counts.
                .pollers(1)
                .wait_time(Duration::from_secs(1))
                .visibility_timeout(VISIBILITY)
                .build()
                .await
                .expect("subscriber"),
        )
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(self.sqs.dead_letters())
    }

    async fn unreachable_publisher(
        &self,
        timeout: Duration,
    ) -> Result<Arc<dyn Publisher>, TransportError> {
        // A loopback port nothing listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let sqs = Sqs::local(&format!("http://127.0.0.1:{port}"), timeout);
        Ok(Arc::new(sqs.publisher()))
    }
}

async fn moto() -> Moto {
    Moto { sqs: sqs() }
}

fn features() -> Features {
    Features {
        name: "sqs (moto)",
        order_per_key: Capability::Unsupported(
            "standard queues do not order; FIFO groups do, tested in tests/sqs.rs",
        ),
        // A retry's delay is a visibility timeout in whole seconds (700 ms waits 1 s), and
        // moto's long poll looks again for messages whose visibility ended once a second.
        retry_delay_slack: Duration::from_millis(2500),
        // Dropped deliveries are made visible at once; a receive abandoned by a dropped
        // subscriber holds what it took for the visibility timeout.
        redelivery_after: VISIBILITY * 2,
        max_payload: Some(MAX_PAYLOAD),
        replay: Capability::Supported,
        unreachable_broker: Capability::Supported,
        quirks: &[
            "moto answers StartMessageMoveTask with 500: replaying a whole DLQ takes the \
             one-by-one way there (herald falls back to it)",
            "moto deletes with a stale receipt handle; herald does not rely on it (the \
             heartbeat keeps a receipt valid while its delivery is unsettled)",
            "moto's long poll notices a message whose visibility ended only once a second",
            "moto checks only the body against MaximumMessageSize; herald counts the \
             attributes too, as SQS does",
            "moto's receives running at once now and then return the same message: the \
             suite's subscribers poll one receive at a time",
        ],
    }
}

herald_core::transport_conformance!(moto, features);
