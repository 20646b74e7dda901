//! A Rust Celery worker with the tasks `tasks.add(x, y)`, `tasks.mul(x, y)`,
//! `tasks.fail(message)` (FAILURE `ValueError([message])`), `tasks.sleep(seconds)`, and
//! two more for the interop tests: `tasks.echo(*args, **kwargs)` -> `{args, kwargs}` and
//! `tasks.flaky(times)`, which asks for a retry (1 s) until it has been retried `times`
//! times, then returns the retry count.
//!
//! `cargo run -p herald-celery --example worker -- --broker redis://127.0.0.1:6379/0
//!  --backend redis://127.0.0.1:6379/1 [--queue NAME] [--concurrency N]`

use std::time::Duration;

use clap::Parser;
use herald_celery::{Broker, RedisBackend, RedisOptions, Task, TaskError, TaskRequest, Worker};
use serde_json::{Number, Value, json};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
struct Args {
    /// `redis://host:port/db` or `amqp://user:pass@host:port/vhost`.
    #[arg(long)]
    broker: String,
    /// The Redis result backend, `redis://host:port/db`.
    #[arg(long)]
    backend: String,
    #[arg(long, default_value = "celery")]
    queue: String,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Messages taken ahead (default 4 × concurrency).
    #[arg(long)]
    prefetch: Option<u16>,
    /// Redis: seconds before an unacked message is delivered again (kombu's default 3600).
    #[arg(long, default_value_t = 3600.0)]
    visibility_timeout: f64,
    /// Send task events (`celery worker -E`).
    #[arg(long)]
    events: bool,
    /// The node name (default `herald@<host>`).
    #[arg(long)]
    hostname: Option<String>,
}

/// Python's `x + y` on JSON numbers: integers stay integers.
fn arith(
    x: &Number,
    y: &Number,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> Value {
    match (x.as_i64(), y.as_i64()) {
        (Some(a), Some(b)) if int(a, b).is_some() => json!(int(a, b)),
        _ => json!(float(
            x.as_f64().unwrap_or(f64::NAN),
            y.as_f64().unwrap_or(f64::NAN)
        )),
    }
}

fn binary(
    name: &'static str,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> Task {
    Task::new(name, move |r: TaskRequest| async move {
        r.check_arguments(&["x", "y"])?;
        let x: Number = r.arg(0, "x")?;
        let y: Number = r.arg(1, "y")?;
        Ok(arith(&x, &y, int, float))
    })
}

fn tasks() -> Vec<Task> {
    vec![
        binary("tasks.add", i64::checked_add, |a, b| a + b),
        binary("tasks.mul", i64::checked_mul, |a, b| a * b),
        Task::new("tasks.fail", |r: TaskRequest| async move {
            r.check_arguments(&["message"])?;
            let message: String = r.arg(0, "message")?;
            Err::<(), _>(TaskError::failure("ValueError", message))
        }),
        Task::new("tasks.sleep", |r: TaskRequest| async move {
            r.check_arguments(&["seconds"])?;
            let seconds: f64 = r.arg(0, "seconds")?;
            if !(0.0..=86_400.0).contains(&seconds) {
                return Err(TaskError::failure(
                    "ValueError",
                    format!("bad duration {seconds}"),
                ));
            }
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            Ok(seconds)
        }),
        Task::new("tasks.echo", |r: TaskRequest| async move {
            Ok(json!({"args": r.args, "kwargs": r.kwargs}))
        }),
        Task::new("tasks.flaky", |r: TaskRequest| async move {
            r.check_arguments(&["times"])?;
            let times: u32 = r.arg(0, "times")?;
            if r.retries() < times {
                return Err(TaskError::retry_in(Duration::from_secs(1)));
            }
            Ok(r.retries())
        })
        .configure(|o| o.max_retries = Some(10)),
    ]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let options = RedisOptions {
        visibility_timeout: Duration::from_secs_f64(args.visibility_timeout),
        ..RedisOptions::default()
    };
    let broker = Broker::connect_with(&args.broker, options).await?;
    let backend = RedisBackend::connect(&args.backend).await?;
    let mut builder = Worker::builder(broker, Some(backend))
        .queue(&args.queue)
        .concurrency(args.concurrency)
        .events(args.events);
    if let Some(p) = args.prefetch {
        builder = builder.prefetch(p);
    }
    if let Some(h) = args.hostname {
        builder = builder.hostname(h);
    }
    for task in tasks() {
        builder = builder.task(task);
    }
    let worker = builder.build()?;
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            stop.cancel();
        }
    });
    let stats = worker.run(stop).await?;
    tracing::info!(?stats, "worker stopped");
    Ok(())
}
