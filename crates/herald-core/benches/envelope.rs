//! Envelope encode + decode against plain serde_json of the same struct.
//! `cargo bench -p herald-core --bench envelope`

// A bench that cannot encode should stop loudly.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use herald_core::{Envelope, Event};
use serde::{Deserialize, Serialize};
use std::hint::black_box;

/// A typical domain event: a dozen fields, nested lines.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct OrderCreated {
    order_id: String,
    customer_id: String,
    currency: String,
    total_cents: i64,
    tax_cents: i64,
    shipping_cents: i64,
    coupon: Option<String>,
    express: bool,
    lines: Vec<Line>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct Line {
    sku: String,
    quantity: u32,
    unit_cents: i64,
}

impl Event for OrderCreated {
    const NAME: &'static str = "order.created";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}

fn sample() -> OrderCreated {
    OrderCreated {
        order_id: "0190f5a4-7b2c-7cc0-8a1e-3c1b2d3e4f50".into(),
        customer_id: "customer-4711".into(),
        currency: "EUR".into(),
        total_cents: 12_990,
        tax_cents: 2_074,
        shipping_cents: 490,
        coupon: Some("WINTER10".into()),
        express: false,
        lines: (0..3)
            .map(|i| Line {
                sku: format!("SKU-{i:05}"),
                quantity: i + 1,
                unit_cents: 1_999,
            })
            .collect(),
    }
}

/// The same fields as herald's envelope, with plain `#[derive]`d serde: what a hand-written
/// envelope would cost.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PlainEnvelope {
    event_id: uuid::Uuid,
    event_type: String,
    schema_version: u32,
    aggregate_id: String,
    partition_key: String,
    timestamp: chrono::DateTime<chrono::Utc>,
    correlation_id: uuid::Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    causation_id: Option<uuid::Uuid>,
    idempotency_key: String,
    data: OrderCreated,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    headers: std::collections::BTreeMap<String, String>,
}

fn bench(c: &mut Criterion) {
    let event = sample();
    let envelope = Envelope::new(event.clone());
    let mut g = c.benchmark_group("encode+decode");
    g.bench_function("serde_json of the event alone", |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(black_box(&event)).unwrap();
            let back: OrderCreated = serde_json::from_slice(&bytes).unwrap();
            black_box(back)
        })
    });
    let m = &envelope.meta;
    let plain = PlainEnvelope {
        event_id: m.event_id,
        event_type: m.event_type.clone(),
        schema_version: m.schema_version,
        aggregate_id: m.aggregate_id.clone(),
        partition_key: m.partition_key.clone(),
        timestamp: m.timestamp,
        correlation_id: m.correlation_id,
        causation_id: m.causation_id,
        idempotency_key: m.idempotency_key.clone(),
        data: event.clone(),
        headers: m.headers.clone(),
    };
    g.bench_function("serde_json of a plain envelope struct (baseline)", |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(black_box(&plain)).unwrap();
            let back: PlainEnvelope = serde_json::from_slice(&bytes).unwrap();
            black_box(back)
        })
    });
    g.bench_function("herald envelope", |b| {
        b.iter(|| {
            let bytes = black_box(&envelope).encode().unwrap();
            let back = Envelope::<OrderCreated>::decode(&bytes).unwrap();
            black_box(back)
        })
    });
    g.bench_function("herald envelope incl. Envelope::new", |b| {
        b.iter(|| {
            let bytes = Envelope::new(black_box(&event).clone()).encode().unwrap();
            let back = Envelope::<OrderCreated>::decode(&bytes).unwrap();
            black_box(back)
        })
    });
    g.finish();

    // The cost of the optional validation (feature `validation`): what a worker adds per
    // message with `validate_payloads(true)`, next to the decode it guards.
    let bytes = envelope.encode().unwrap();
    let mut g = c.benchmark_group("receive");
    g.bench_function("decode", |b| {
        b.iter(|| black_box(Envelope::<OrderCreated>::decode(black_box(&bytes)).unwrap()))
    });
    g.bench_function("validate + decode", |b| {
        b.iter(|| {
            let raw = herald_core::RawEnvelope::parse(black_box(&bytes)).unwrap();
            herald_core::validation::validate_raw::<OrderCreated>(raw.data.get(), 1).unwrap();
            black_box(raw.decode::<OrderCreated>().unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
