//! Sends one task and prints its result as JSON on stdout (waits up to 30 s). A FAILURE
//! or REVOKED prints the exception object and exits with status 1.
//!
//! `cargo run -p herald-celery --example send -- --broker URL --backend URL
//!  [--queue NAME] TASK_NAME 'ARGS_JSON' ['KWARGS_JSON']`

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use herald_celery::{Client, ResultError};
use serde_json::{Map, Value, json};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    broker: String,
    #[arg(long)]
    backend: String,
    #[arg(long, default_value = "celery")]
    queue: String,
    /// The task's registered name, e.g. `tasks.add`.
    task: String,
    /// Positional arguments, a JSON array.
    args: String,
    /// Keyword arguments, a JSON object.
    kwargs: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let a = Args::parse();
    let args: Vec<Value> = serde_json::from_str(&a.args)
        .map_err(|e| anyhow::anyhow!("ARGS_JSON must be a JSON array: {e}"))?;
    let kwargs: Map<String, Value> = match &a.kwargs {
        Some(k) => serde_json::from_str(k)
            .map_err(|e| anyhow::anyhow!("KWARGS_JSON must be a JSON object: {e}"))?,
        None => Map::new(),
    };
    let client = Client::connect(&a.broker, Some(&a.backend)).await?;
    let result = client
        .send_task(&a.task)
        .args(args)?
        .kwargs(kwargs)?
        .queue(&a.queue)
        .send()
        .await?;
    match result.get(Duration::from_secs(30)).await {
        Ok(value) => {
            println!("{value}");
            Ok(ExitCode::SUCCESS)
        }
        Err(ResultError::Failed(exc) | ResultError::Revoked(exc)) => {
            println!("{}", json!(exc));
            eprintln!("task {} failed: {exc}", result.id);
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}
