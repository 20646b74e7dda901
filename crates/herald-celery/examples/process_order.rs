//! A Rust worker for a task Python already sends: `tasks.process_order(order_id, note=None)`,
//! retried with exponential backoff while the payment gateway is down, as the Python task
//! declared it (`autoretry_for`, `retry_backoff`, `retry_backoff_max`, `retry_jitter`).
//!
//! `cargo run -p herald-celery --example process_order` (Redis on 127.0.0.1:6379), then
//! from Python: `app.send_task('tasks.process_order', args=['o-1']).get()`.

use herald::task;
use herald_celery::{Broker, RedisBackend, TaskError, TaskRequest, Worker};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

#[derive(Serialize)]
struct Receipt {
    order_id: String,
    attempts: u32,
}

#[task(
    name = "tasks.process_order",
    autoretry_for = ["ConnectionError"],
    retry_backoff = true,
    retry_backoff_max = 600,
    retry_jitter = true,
    max_retries = 5,
    acks_late = true
)]
async fn process_order(
    order_id: String,
    note: Option<String>,
    req: &TaskRequest,
) -> Result<Receipt, TaskError> {
    charge(&order_id, note.as_deref()).await?;
    Ok(Receipt {
        order_id,
        attempts: req.retries() + 1,
    })
}

async fn worker() -> Result<(), herald_celery::CeleryError> {
    let broker = Broker::connect("redis://127.0.0.1:6379/0").await?;
    let backend = RedisBackend::connect("redis://127.0.0.1:6379/1").await?;
    let worker = Worker::builder(broker, Some(backend))
        .queue("celery")
        .concurrency(16)
        .task(ProcessOrder)
        .build()?;
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
        }
    });
    worker.run(stop).await?;
    Ok(())
}

/// Stands in for the payment gateway: a `ConnectionError` is retried by the task's
/// `autoretry_for`; any other failure is final.
async fn charge(order_id: &str, note: Option<&str>) -> Result<(), TaskError> {
    if order_id.is_empty() {
        return Err(TaskError::failure("ValueError", "an order id is required"));
    }
    println!("charged {order_id} ({})", note.unwrap_or("no note"));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), herald_celery::CeleryError> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    worker().await
}
