//! Events and handlers written by hand (herald-core's tests cannot use the derive macros,
//! which expand to paths of the `herald` facade).
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use herald_core::memory::MemoryBroker;
use herald_core::{
    Context, DecodeError, Envelope, Event, Handler, HandlerError, Producer, RetryPolicy,
    ShutdownReport, WorkerBuilder, WorkerStats, async_trait, decode_current, unknown_version,
};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderPlacedV1 {
    pub order_id: String,
    pub amount: f64,
}

impl Event for OrderPlacedV1 {
    const NAME: &'static str = "order.placed";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}

/// v2 stores cents instead of a float amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderPlaced {
    pub order_id: String,
    pub customer: String,
    pub total_cents: i64,
}

impl From<OrderPlacedV1> for OrderPlaced {
    fn from(v1: OrderPlacedV1) -> Self {
        OrderPlaced {
            order_id: v1.order_id,
            customer: "unknown".into(),
            total_cents: (v1.amount * 100.0).round() as i64,
        }
    }
}

impl Event for OrderPlaced {
    const NAME: &'static str = "order.placed";
    const VERSION: u32 = 2;
    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
    fn partition_key(&self) -> String {
        self.customer.clone()
    }
    fn known_versions() -> Vec<u32> {
        vec![1, 2]
    }
    fn decode_data(version: u32, data: &str) -> Result<Self, DecodeError> {
        match version {
            2 => decode_current(data),
            v if v < 2 => OrderPlacedV1::decode_data(v, data).map(Into::into),
            v => Err(unknown_version::<Self>(v)),
        }
    }
    fn schema_of_version(version: u32) -> Option<serde_json::Value> {
        match version {
            2 => Some(Self::schema()),
            v => OrderPlacedV1::schema_of_version(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InvoiceSent {
    pub order_id: String,
}

impl Event for InvoiceSent {
    const NAME: &'static str = "invoice.sent";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}

pub fn order(id: &str, customer: &str) -> OrderPlaced {
    OrderPlaced {
        order_id: id.into(),
        customer: customer.into(),
        total_cents: 1_000,
    }
}

/// A handler whose behaviour each test sets: fail the first `fail_times` attempts
/// (permanently if `permanent`), sleep `work`, record what it saw.
#[derive(Clone, Default)]
pub struct Scripted {
    pub fail_times: u32,
    pub permanent: bool,
    pub work: Duration,
    pub policy: Option<RetryPolicy>,
    pub calls: Arc<AtomicU32>,
    pub seen: Arc<std::sync::Mutex<Vec<(String, u32)>>>,
    pub running: Arc<AtomicU32>,
    pub max_running: Arc<AtomicU32>,
    pub publish_invoice: bool,
}

#[async_trait]
impl Handler for Scripted {
    type Event = OrderPlaced;

    fn name(&self) -> &'static str {
        "scripted"
    }

    fn retry_policy(&self) -> RetryPolicy {
        self.policy.clone().unwrap_or(RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(100),
            multiplier: 2.0,
            max_delay: Duration::from_secs(1),
            jitter: herald_core::Jitter::None,
        })
    }

    async fn handle(&self, event: OrderPlaced, ctx: &Context) -> Result<(), HandlerError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.seen
            .lock()
            .expect("seen lock")
            .push((event.order_id.clone(), ctx.attempt()));
        if !self.work.is_zero() {
            tokio::time::sleep(self.work).await;
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        if call <= self.fail_times {
            let err = std::io::Error::other(format!("attempt {} failed", ctx.attempt()));
            return Err(if self.permanent {
                HandlerError::permanent(err)
            } else {
                HandlerError::retryable(err)
            });
        }
        if self.publish_invoice {
            ctx.publish(InvoiceSent {
                order_id: event.order_id,
            })
            .await
            .map_err(HandlerError::retryable)?;
        }
        Ok(())
    }
}

pub const QUEUE: &str = "order.placed";

pub struct Running {
    pub stop: oneshot::Sender<()>,
    pub done: tokio::task::JoinHandle<ShutdownReport>,
    pub metrics: Arc<herald_core::WorkerMetrics>,
}

impl Running {
    pub async fn stop(self) -> ShutdownReport {
        let _ = self.stop.send(());
        self.done.await.expect("worker task")
    }
    pub fn stats(&self) -> WorkerStats {
        self.metrics.snapshot()
    }
}

pub fn start(broker: &MemoryBroker, builder: WorkerBuilder) -> Running {
    let worker = builder.build();
    let metrics = worker.metrics();
    let (stop, stopped) = oneshot::channel::<()>();
    let subscriber = broker.subscribe(QUEUE);
    let done = tokio::spawn(async move {
        worker
            .run(subscriber, async {
                let _ = stopped.await;
            })
            .await
    });
    Running {
        stop,
        done,
        metrics,
    }
}

/// Waits (in paused time, this costs nothing) until `f` holds, or fails after a minute.
pub async fn until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..60_000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("timed out waiting for: {what}");
}

pub async fn publish(broker: &MemoryBroker, event: OrderPlaced) -> Envelope<OrderPlaced> {
    let env = Envelope::new(event);
    Producer::new(broker.clone())
        .publish_envelope(&env)
        .await
        .expect("publish");
    env
}
