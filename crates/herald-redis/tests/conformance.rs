//! herald-redis's streams transport passes the transport conformance suite against the real
//! Redis (127.0.0.1:6379, or `HERALD_REDIS_URL`). Each case gets its own stream (and group).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{connect, unique};
use herald_core::testing::transport::{Capability, Features, TransportUnderTest};
use herald_core::{DeadLetters, Publisher, Subscriber, TransportError, async_trait};
use herald_redis::streams::RedisStreams;

/// The payload limit the cases check (the publisher refuses above it).
const MAX_PAYLOAD: usize = 1 << 20;
/// Short, so that a dropped subscriber's entries come back within the case.
const VISIBILITY: Duration = Duration::from_secs(1);

struct Streams {
    redis: RedisStreams,
}

#[async_trait]
impl TransportUnderTest for Streams {
    async fn fresh_source(&self, case: &str) -> String {
        unique(case)
    }

    async fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(self.redis.publisher().max_payload(MAX_PAYLOAD))
    }

    async fn subscriber(&self, source: &str) -> Box<dyn Subscriber> {
        Box::new(
            self.redis
                .subscriber(source, "conformance")
                .visibility_timeout(VISIBILITY)
                .claim_interval(Duration::from_millis(100))
                .build()
                .await
                .expect("subscriber"),
        )
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(self.redis.dead_letters())
    }

    async fn unreachable_publisher(
        &self,
        timeout: Duration,
    ) -> Result<Arc<dyn Publisher>, TransportError> {
        let redis = RedisStreams::connect_timeout("redis://127.0.0.1:1", timeout).await?;
        Ok(Arc::new(redis.publisher()))
    }
}

async fn redis_streams() -> Streams {
    Streams {
        redis: connect().await,
    }
}

fn features() -> Features {
    Features {
        name: "redis streams",
        // One stream is one ordered log; the worker's ordered_by_key keeps each key in order.
        order_per_key: Capability::Supported,
        // The retry set is polled every 100 ms; the moved entry wakes the blocked read.
        retry_delay_slack: Duration::from_millis(500),
        // Taken over once idle past the visibility timeout, looked for every 100 ms.
        redelivery_after: VISIBILITY + Duration::from_secs(2),
        max_payload: Some(MAX_PAYLOAD),
        replay: Capability::Supported,
        unreachable_broker: Capability::Supported,
        quirks: &[],
    }
}

herald_core::transport_conformance!(redis_streams, features);
