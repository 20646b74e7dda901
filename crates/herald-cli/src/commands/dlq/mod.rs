//! `herald dlq list|replay`: dead letters on a broker. RabbitMQ for now (`amqp://` URLs);
//! Kafka and SQS will add their own URL schemes here.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use herald_amqp::dlq::{DeadLetterEntry, Selection};
use herald_amqp::{Amqp, AmqpConfig};

use crate::registry_conn::redact_url;

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List the dead letters of a queue with their reasons, oldest first. Changes nothing.
    List(DlqArgs),
    /// Move dead letters back to the queue they came from, as first attempts.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct DlqArgs {
    /// The consumer queue whose dead letters to read (its `<queue>.dlq`).
    pub queue: String,
    /// The broker (`amqp://user:password@127.0.0.1:5672/%2f`).
    #[arg(
        long,
        env = "HERALD_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f",
        hide_env_values = true
    )]
    pub broker: String,
    /// Only dead letters of this event type.
    #[arg(long)]
    pub event_type: Option<String>,
    /// Only dead letters whose reason contains this text.
    #[arg(long)]
    pub reason: Option<String>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub dlq: DlqArgs,
    /// Say what would be moved, and move nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl DlqArgs {
    fn selection(&self) -> Selection {
        let mut s = Selection::all();
        if let Some(t) = &self.event_type {
            s = s.event_type(t.clone());
        }
        if let Some(r) = &self.reason {
            s = s.reason_contains(r.clone());
        }
        if let Some(n) = self.limit {
            s = s.limit(n);
        }
        s
    }
}

pub fn run(cmd: DlqCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let args = match &cmd {
            DlqCommand::List(a) => a,
            DlqCommand::Replay(r) => &r.dlq,
        };
        let amqp = Amqp::connect(
            AmqpConfig::new(args.broker.clone()).connect_timeout(Duration::from_secs(5)),
        )
        .await
        .with_context(|| format!("cannot reach the broker at {}", redact_url(&args.broker)))?;
        let result = match &cmd {
            DlqCommand::List(a) => list(&amqp, a).await,
            DlqCommand::Replay(r) => replay(&amqp, r).await,
        };
        let _ = amqp.close().await;
        result
    })
}

async fn list(amqp: &Amqp, args: &DlqArgs) -> anyhow::Result<ExitCode> {
    let entries = herald_amqp::dlq::list(amqp, &args.queue, &args.selection())
        .await
        .with_context(|| format!("reading the dead letters of `{}`", args.queue))?;
    for entry in &entries {
        print_entry(entry);
    }
    println!("{} dead letter(s) in {}.dlq", entries.len(), args.queue);
    Ok(ExitCode::SUCCESS)
}

async fn replay(amqp: &Amqp, args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let report =
        herald_amqp::dlq::replay(amqp, &args.dlq.queue, &args.dlq.selection(), args.dry_run)
            .await
            .with_context(|| format!("replaying the dead letters of `{}`", args.dlq.queue))?;
    for entry in &report.selected {
        print_entry(entry);
    }
    if report.dry_run {
        println!(
            "dry run: would replay {} dead letter(s); nothing moved",
            report.selected.len()
        );
    } else {
        println!(
            "replayed {} dead letter(s) to their origin queue",
            report.replayed
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_entry(e: &DeadLetterEntry) {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!(
        "{} {} (origin {}): {}\n    handler {}, attempts {}, first failure {}, last failure {}",
        or_dash(&e.event_type),
        or_dash(&e.event_id),
        e.origin,
        or_dash(&e.reason),
        or_dash(&e.handler),
        e.attempts.map_or_else(|| "-".into(), |a| a.to_string()),
        or_dash(&e.first_failure_at),
        or_dash(&e.last_failure_at),
    );
}
