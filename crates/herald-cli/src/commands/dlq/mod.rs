//! `herald dlq list|replay|purge`: dead letters on a broker, chosen by the URL scheme:
//! RabbitMQ (`amqp://`, the queue's `<queue>.dlq`), Kafka (`kafka://host:port,...`, the
//! topic's `<topic>.dlq`), Redis Streams (`redis://`, the stream's `<stream>.dlq`) and SQS
//! (`sqs://` for the standard AWS environment and profile chain, `sqs://host:port` for an
//! endpoint such as moto; the queue's `<queue>-dlq`), each behind its cargo feature.
//!
//! `purge` deletes on RabbitMQ (each selected message is acked). Kafka cannot delete records
//! from a topic: there `purge` moves the position that `list` and `replay` read from (the
//! `herald-dlq-replay` consumer group's) past the purged dead letters, which stay in the log
//! until its retention removes them; a selected one behind one the selection leaves cannot be
//! passed over, and is reported as kept.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use herald_core::dead_letters::{DeadLetterEntry, PurgeReport, ReplayReport, Selection};

mod broker;
mod list_format;

use broker::Broker;
use list_format::ListFormat;

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List the dead letters of a queue with their reasons, oldest first. Changes nothing.
    List(ListArgs),
    /// Move dead letters back to the queue they came from, as first attempts.
    Replay(ReplayArgs),
    /// Delete dead letters for good (needs --yes; try --dry-run first). On Kafka, which cannot
    /// delete records, they are skipped over instead: `list` and `replay` no longer see them.
    Purge(PurgeArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub dlq: DlqArgs,
    /// Output format: human, or json (each dead letter with its event id and type, aggregate
    /// id, reason, handler, attempts, failure times and payload).
    #[arg(long, value_enum, ignore_case = true, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    pub dlq: DlqArgs,
    /// Say what would be purged, and purge nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Confirm: purge what is selected. Without it (or --dry-run) nothing happens.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct DlqArgs {
    /// The consumer queue or topic whose dead letters to read (its `<queue>.dlq`).
    pub queue: String,
    /// The broker: `amqp://user:password@127.0.0.1:5672/%2f` (RabbitMQ),
    /// `kafka://127.0.0.1:9092` (Kafka; several brokers comma-separated),
    /// `redis://127.0.0.1:6379` (Redis Streams), `sqs://` (AWS's environment and profiles) or
    /// `sqs://127.0.0.1:4566` (an SQS endpoint).
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
    if let DlqCommand::Purge(p) = &cmd {
        anyhow::ensure!(
            p.dry_run || p.yes,
            "`herald dlq purge` deletes dead letters for good: see what it would delete with --dry-run, then run it again with --yes"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let args = match &cmd {
            DlqCommand::List(a) => &a.dlq,
            DlqCommand::Replay(r) => &r.dlq,
            DlqCommand::Purge(p) => &p.dlq,
        };
        let broker = Broker::connect(&args.broker).await?;
        let queue = &args.queue;
        let selection = args.selection();
        let result = match &cmd {
            DlqCommand::List(a) => broker
                .list(queue, &selection)
                .await
                .with_context(|| format!("reading the dead letters of `{queue}`"))
                .and_then(|entries| list_format::print(&entries, queue, a.format)),
            DlqCommand::Replay(r) => broker
                .replay(queue, &selection, r.dry_run)
                .await
                .with_context(|| format!("replaying the dead letters of `{queue}`"))
                .map(|report| print_report(&report)),
            DlqCommand::Purge(p) => broker
                .purge(queue, &selection, p.dry_run)
                .await
                .with_context(|| format!("purging the dead letters of `{queue}`"))
                .map(|report| print_purge(&report, queue, broker.is_kafka())),
        };
        broker.close().await;
        result.map(|()| ExitCode::SUCCESS)
    })
}

fn print_report(report: &ReplayReport) {
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
            "replayed {} dead letter(s) to where they came from",
            report.replayed
        );
    }
}

fn print_purge(report: &PurgeReport, queue: &str, kafka: bool) {
    for entry in &report.purged {
        print_entry(entry);
    }
    let n = report.purged.len();
    if report.dry_run {
        println!("dry run: would purge {n} dead letter(s) from {queue}.dlq; nothing deleted");
    } else if kafka {
        println!(
            "purged {n} dead letter(s) from {queue}.dlq: list and replay skip them now (Kafka cannot delete records; they stay in the topic until its retention removes them)"
        );
    } else {
        println!("purged {n} dead letter(s) from {queue}.dlq");
    }
    if !report.kept.is_empty() {
        println!(
            "kept {} selected dead letter(s) that sit behind dead letters not selected: on Kafka a purge skips a leading run only; purge or replay those first",
            report.kept.len()
        );
    }
}

pub(crate) fn print_entry(e: &DeadLetterEntry) {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!(
        "{} {} (origin {}): {}\n    aggregate {}, handler {}, attempts {}, first failure {}, last failure {}",
        or_dash(&e.event_type),
        or_dash(&e.event_id),
        e.origin,
        or_dash(&e.reason),
        or_dash(&e.aggregate_id()),
        or_dash(&e.handler),
        e.attempts.map_or_else(|| "-".into(), |a| a.to_string()),
        or_dash(&e.first_failure_at),
        or_dash(&e.last_failure_at),
    );
}
