//! The in-memory transport passes the transport conformance suite, like every broker.

use std::sync::Arc;
use std::time::Duration;

use herald_core::memory::{MemoryBroker, MemoryConfig};
use herald_core::testing::transport::{Capability, Features, TransportUnderTest};
use herald_core::{DeadLetters, Publisher, Subscriber, TransportError, async_trait};

/// How long an unsettled delivery stays invisible (short, so the crash case is quick).
const VISIBILITY: Duration = Duration::from_secs(2);

struct Memory(MemoryBroker);

#[async_trait]
impl TransportUnderTest for Memory {
    async fn fresh_source(&self, case: &str) -> String {
        format!("conformance.{case}.{}", uuid::Uuid::now_v7().simple())
    }

    async fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(self.0.clone())
    }

    async fn subscriber(&self, source: &str) -> Box<dyn Subscriber> {
        Box::new(self.0.subscribe(source))
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(self.0.clone())
    }

    async fn unreachable_publisher(
        &self,
        _timeout: Duration,
    ) -> Result<Arc<dyn Publisher>, TransportError> {
        unreachable!("declared Unsupported in the features")
    }
}

async fn memory() -> Memory {
    Memory(MemoryBroker::with_config(MemoryConfig {
        visibility_timeout: VISIBILITY,
    }))
}

fn features() -> Features {
    Features {
        name: "memory",
        order_per_key: Capability::Supported,
        retry_delay_slack: Duration::from_millis(200),
        redelivery_after: VISIBILITY,
        max_payload: None,
        replay: Capability::Supported,
        unreachable_broker: Capability::Unsupported(
            "the in-memory broker lives in the process: there is no broker to lose",
        ),
        quirks: &[],
    }
}

herald_core::transport_conformance!(memory, features);
