//! Worker events, so `celery events` and Flower see a Rust worker: one JSON event per
//! message on the `celeryev` exchange (a PUBLISH on `/<db>.celeryev/<routing key>` on
//! Redis, the topic exchange `celeryev` on RabbitMQ), routing key = type with `-` -> `.`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use crate::broker::Broker;

/// How often a worker with events on sends `worker-heartbeat`.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(2);

/// Sends the events of one worker.
#[derive(Debug)]
pub struct Events {
    broker: Broker,
    hostname: String,
    clock: AtomicU64,
}

impl Events {
    pub fn new(broker: Broker, hostname: String) -> Self {
        Events {
            broker,
            hostname,
            clock: AtomicU64::new(0),
        }
    }

    fn event(&self, kind: &str, fields: Map<String, Value>) -> Value {
        let mut e = fields;
        let now = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
        e.insert("type".into(), json!(kind));
        e.insert("hostname".into(), json!(self.hostname));
        // Hours west of UTC; herald's times are UTC.
        e.insert("utcoffset".into(), json!(0));
        e.insert("pid".into(), json!(std::process::id()));
        e.insert(
            "clock".into(),
            json!(self.clock.fetch_add(1, Ordering::Relaxed) + 1),
        );
        e.insert("timestamp".into(), json!(now));
        Value::Object(e)
    }

    /// Sends one event; a failure is logged, never fatal.
    pub async fn send(&self, kind: &str, fields: Value) {
        let fields = match fields {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let event = self.event(kind, fields);
        let routing_key = kind.replace('-', ".");
        if let Err(e) = self
            .broker
            .publish_event(&routing_key, &event, &self.hostname)
            .await
        {
            tracing::warn!(kind, error = %e, "sending a worker event failed");
        }
    }

    /// `worker-online` / `worker-offline` / `worker-heartbeat` (every 2 s: monitors take a
    /// worker for gone after two missed beats).
    pub async fn worker(&self, kind: &str, active: u64, processed: u64) {
        self.send(
            kind,
            json!({"freq": HEARTBEAT.as_secs_f64(), "active": active, "processed": processed,
                   "loadavg": [0.0, 0.0, 0.0],
                   "sw_ident": "herald-celery", "sw_ver": env!("CARGO_PKG_VERSION"),
                   "sw_sys": std::env::consts::OS}),
        )
        .await;
    }
}
