//! In-memory end to end: publish, worker, idempotency claim/complete, a no-op handler.
//! Reports events/s at concurrency 1 and 64.
//! `cargo bench -p herald-core --bench memory_pipeline`

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use herald_core::memory::MemoryBroker;
use herald_core::{Context, Event, Handler, HandlerError, Producer, Worker, async_trait};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct Ping {
    id: u64,
    body: String,
}

impl Event for Ping {
    const NAME: &'static str = "ping";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        self.id.to_string()
    }
}

struct Noop;

#[async_trait]
impl Handler for Noop {
    type Event = Ping;
    fn name(&self) -> &'static str {
        "noop"
    }
    async fn handle(&self, _event: Ping, _ctx: &Context) -> Result<(), HandlerError> {
        Ok(())
    }
}

const BATCH: u64 = 2_000;

/// Publishes BATCH events and runs a worker until all are processed; returns the time.
async fn run(concurrency: usize) -> Duration {
    let broker = MemoryBroker::new();
    let producer = Producer::new(broker.clone());
    let worker = Worker::builder()
        .handler(Noop)
        .concurrency(concurrency)
        .build();
    let metrics = worker.metrics();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sub = broker.subscribe("ping");
    let started = Instant::now();
    let handle = tokio::spawn(worker.run(sub, async {
        let _ = stopped.await;
    }));
    for id in 0..BATCH {
        producer
            .publish(Ping {
                id,
                body: "x".repeat(64),
            })
            .await
            .expect("publish");
    }
    while metrics.snapshot().processed < BATCH {
        tokio::task::yield_now().await;
    }
    let took = started.elapsed();
    let _ = stop.send(());
    let _ = handle.await;
    took
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("memory end-to-end");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(10);
    for concurrency in [1usize, 64] {
        g.bench_function(format!("concurrency {concurrency}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| rt.block_on(run(concurrency)))
                    .sum::<Duration>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
