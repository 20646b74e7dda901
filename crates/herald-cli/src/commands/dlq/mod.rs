//! `herald dlq list|replay|purge`: dead letters on a broker, chosen by the URL scheme:
//! RabbitMQ (`amqp://`, the queue's `<queue>.dlq`), Kafka (`kafka://host:port,...`, the
//! topic's `<topic>.dlq`), Redis Streams (`redis://`, feature `redis`: the stream's
//! `<stream>.dlq`, whose entries `purge` deletes), and with the cargo feature `sqs`, SQS
//! (`sqs://` for the standard AWS environment and profile chain, `sqs://host:port` for an
//! endpoint such as moto; the queue's `<queue>-dlq`).
//!
//! `purge` deletes on RabbitMQ (each selected message is acked). Kafka cannot delete records
//! from a topic: there `purge` moves the position that `list` and `replay` read from (the
//! `herald-dlq-replay` consumer group's) past the purged dead letters, which stay in the log
//! until its retention removes them; a selected one behind one the selection leaves cannot be
//! passed over, and is reported as kept.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use herald_amqp::{Amqp, AmqpConfig};
#[cfg(feature = "redis")]
use herald_core::DeadLetters;
use herald_kafka::KafkaConfig;
use herald_kafka::dlq::{DeadLetterEntry, PurgeReport, ReplayReport, Selection};

use crate::registry_conn::redact_url;

mod list_format;

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
    /// `redis://127.0.0.1:6379` (Redis Streams), or with the `sqs` feature `sqs://` (AWS's
    /// environment and profiles) or `sqs://127.0.0.1:4566` (an endpoint).
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

/// The broker a URL names.
enum Broker {
    Amqp(Amqp),
    Kafka(KafkaConfig),
    #[cfg(feature = "sqs")]
    Sqs(herald_sqs::SqsDeadLetters),
    #[cfg(feature = "redis")]
    Redis(herald_redis::streams::RedisDeadLetters),
}

impl Broker {
    async fn connect(url: &str) -> anyhow::Result<Self> {
        if let Some(brokers) = url.strip_prefix("kafka://") {
            let brokers = brokers.trim_end_matches('/');
            anyhow::ensure!(!brokers.is_empty(), "no broker in `{url}`");
            return Ok(Broker::Kafka(
                KafkaConfig::new(brokers).client_id("herald-cli"),
            ));
        }
        if let Some(endpoint) = url.strip_prefix("sqs://") {
            return sqs_broker(endpoint.trim_end_matches('/')).await;
        }
        #[cfg(feature = "redis")]
        if url.starts_with("redis://") || url.starts_with("rediss://") {
            let redis = herald_redis::streams::RedisStreams::connect(url)
                .await
                .with_context(|| format!("cannot reach Redis at {}", redact_url(url)))?;
            return Ok(Broker::Redis(redis.dead_letters()));
        }
        anyhow::ensure!(
            url.starts_with("amqp://") || url.starts_with("amqps://"),
            "unknown broker URL `{}`: use amqp://... (RabbitMQ), kafka://host:port (Kafka) or redis://host:port (Redis Streams)",
            redact_url(url)
        );
        let amqp = Amqp::connect(AmqpConfig::new(url).connect_timeout(Duration::from_secs(5)))
            .await
            .with_context(|| format!("cannot reach the broker at {}", redact_url(url)))?;
        Ok(Broker::Amqp(amqp))
    }

    async fn list(
        &self,
        queue: &str,
        selection: &Selection,
    ) -> anyhow::Result<Vec<DeadLetterEntry>> {
        Ok(match self {
            Broker::Amqp(amqp) => herald_amqp::dlq::list(amqp, queue, selection).await?,
            Broker::Kafka(kafka) => herald_kafka::dlq::list(kafka, queue, selection).await?,
            #[cfg(feature = "sqs")]
            Broker::Sqs(sqs) => herald_core::DeadLetters::list(sqs, queue, selection).await?,
            #[cfg(feature = "redis")]
            Broker::Redis(redis) => DeadLetters::list(redis, queue, selection).await?,
        })
    }

    async fn replay(
        &self,
        queue: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> anyhow::Result<ReplayReport> {
        Ok(match self {
            Broker::Amqp(amqp) => herald_amqp::dlq::replay(amqp, queue, selection, dry_run).await?,
            Broker::Kafka(kafka) => {
                herald_kafka::dlq::replay(kafka, queue, selection, dry_run).await?
            }
            #[cfg(feature = "sqs")]
            Broker::Sqs(sqs) => {
                herald_core::DeadLetters::replay(sqs, queue, selection, dry_run).await?
            }
            #[cfg(feature = "redis")]
            Broker::Redis(redis) => DeadLetters::replay(redis, queue, selection, dry_run).await?,
        })
    }

    async fn purge(
        &self,
        queue: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> anyhow::Result<PurgeReport> {
        Ok(match self {
            Broker::Amqp(amqp) => herald_amqp::dlq::purge(amqp, queue, selection, dry_run).await?,
            Broker::Kafka(kafka) => {
                herald_kafka::dlq::purge(kafka, queue, selection, dry_run).await?
            }
            #[cfg(feature = "sqs")]
            Broker::Sqs(sqs) => {
                herald_core::DeadLetters::purge(sqs, queue, selection, dry_run).await?
            }
            #[cfg(feature = "redis")]
            Broker::Redis(redis) => DeadLetters::purge(redis, queue, selection, dry_run).await?,
        })
    }

    fn is_kafka(&self) -> bool {
        matches!(self, Broker::Kafka(_))
    }

    async fn close(self) {
        if let Broker::Amqp(amqp) = self {
            let _ = amqp.close().await;
        }
    }
}

#[cfg(feature = "sqs")]
async fn sqs_broker(endpoint: &str) -> anyhow::Result<Broker> {
    let sqs = if endpoint.is_empty() {
        herald_sqs::Sqs::from_env().await
    } else if endpoint.contains("://") {
        herald_sqs::Sqs::from_env_at(endpoint).await
    } else {
        herald_sqs::Sqs::from_env_at(&format!("http://{endpoint}")).await
    };
    Ok(Broker::Sqs(sqs.dead_letters()))
}

#[cfg(not(feature = "sqs"))]
async fn sqs_broker(_endpoint: &str) -> anyhow::Result<Broker> {
    anyhow::bail!("this herald was built without SQS: build it with `--features sqs`")
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
