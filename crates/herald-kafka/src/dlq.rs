//! Dead-letter tools: list the dead letters of a topic (its `<topic>.dlq`) with their
//! reasons, replay them to the topic they came from, or purge them (the library side of
//! `herald dlq list|replay|purge`).
//!
//! A topic is a log: a replay cannot take a record out. The consumer group
//! `herald-dlq-replay` keeps the position up to which dead letters were replayed, so
//! `list` shows what waits and a second `replay` does not send the same ones again. A
//! replay with a selection moves that position only over the leading run of records it
//! replayed: a record it skipped stays pending, and so do the selected records after it,
//! which a later replay sends again (the idempotency store absorbs that duplicate).
//!
//! A purge cannot delete records either: it moves the same position past the dead letters
//! it purges, so `list` and `replay` no longer see them (they stay in the log until its
//! retention removes them), under the same rule: a dead letter behind one the selection
//! left is kept, and reported as such.

use std::time::{Duration, Instant};

pub use herald_core::dead_letters::{DeadLetterEntry, PurgeReport, ReplayReport, Selection};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::record::{headers_of, key_of};
use crate::{KafkaConfig, KafkaError, KafkaPublisher, topics};

/// The consumer group that remembers what was replayed.
pub const REPLAY_GROUP: &str = "herald-dlq-replay";

/// How long reading the dead-letter topic may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long reading waits for more once past the high watermarks.
const TAIL_WAIT: Duration = Duration::from_millis(500);

/// A dead letter and where it sits in the dead-letter topic.
struct Record {
    partition: i32,
    offset: i64,
    key: Option<String>,
    entry: DeadLetterEntry,
}

/// Lists the dead letters of `topic` not replayed yet that `selection` takes, oldest
/// first per partition. Changes nothing.
pub async fn list(
    config: &KafkaConfig,
    topic: &str,
    selection: &Selection,
) -> Result<Vec<DeadLetterEntry>, KafkaError> {
    let (config, dlq) = (config.clone(), topics::dlq_topic(topic));
    let (_, records) = run_blocking(move || read_pending(&config, &dlq)).await?;
    Ok(records
        .into_iter()
        .map(|r| r.entry)
        .filter(|e| selection.matches(e))
        .take(selection.limit.unwrap_or(usize::MAX))
        .collect())
}

/// Sends the selected dead letters of `topic` back to the topic they came from, as
/// first attempts (the failure headers removed), each acknowledged by the broker before
/// the replay position moves past it. With `dry_run`, only says what it would send.
pub async fn replay(
    config: &KafkaConfig,
    topic: &str,
    selection: &Selection,
    dry_run: bool,
) -> Result<ReplayReport, KafkaError> {
    let publisher = KafkaPublisher::new(config)?;
    let dlq = topics::dlq_topic(topic);
    // Read with the replay group's consumer, which then commits the new position.
    let (consumer, records) = run_blocking({
        let (config, dlq) = (config.clone(), dlq.clone());
        move || read_pending(&config, &dlq)
    })
    .await?;
    let mut report = ReplayReport {
        dry_run,
        ..ReplayReport::default()
    };
    // Per partition: the position moves while records were replayed without a gap.
    let mut blocked: std::collections::HashSet<i32> = std::collections::HashSet::new();
    let mut commits: std::collections::BTreeMap<i32, i64> = std::collections::BTreeMap::new();
    for r in records {
        let take = selection.matches(&r.entry)
            && selection.limit.is_none_or(|l| report.selected.len() < l);
        if !take {
            blocked.insert(r.partition);
            continue;
        }
        if !dry_run {
            publisher
                .send(
                    &r.entry.origin,
                    r.key.as_deref(),
                    &r.entry.replay_headers(),
                    &r.entry.payload,
                )
                .await?;
            report.replayed += 1;
            if !blocked.contains(&r.partition) {
                commits.insert(r.partition, r.offset + 1);
            }
        }
        report.selected.push(r.entry);
    }
    commit_positions(consumer, dlq, commits).await?;
    Ok(report)
}

/// Moves the replay position past the dead letters of `topic` that `selection` takes, so
/// `list` and `replay` no longer show them: a purge (records cannot be deleted from a log).
/// A selected dead letter behind one the selection leaves stays, in `kept`. With `dry_run`,
/// only says what it would purge.
pub async fn purge(
    config: &KafkaConfig,
    topic: &str,
    selection: &Selection,
    dry_run: bool,
) -> Result<PurgeReport, KafkaError> {
    let dlq = topics::dlq_topic(topic);
    let (consumer, records) = run_blocking({
        let (config, dlq) = (config.clone(), dlq.clone());
        move || read_pending(&config, &dlq)
    })
    .await?;
    let mut report = PurgeReport {
        dry_run,
        ..PurgeReport::default()
    };
    let mut blocked: std::collections::HashSet<i32> = std::collections::HashSet::new();
    let mut commits: std::collections::BTreeMap<i32, i64> = std::collections::BTreeMap::new();
    let mut taken = 0usize;
    for r in records {
        let take = selection.matches(&r.entry) && selection.limit.is_none_or(|l| taken < l);
        if !take {
            blocked.insert(r.partition);
            continue;
        }
        taken += 1;
        if blocked.contains(&r.partition) {
            report.kept.push(r.entry);
        } else {
            commits.insert(r.partition, r.offset + 1);
            report.purged.push(r.entry);
        }
    }
    if !dry_run {
        commit_positions(consumer, dlq, commits).await?;
    }
    Ok(report)
}

/// Commits the replay group's new position in each partition of `dlq`.
async fn commit_positions(
    consumer: BaseConsumer,
    dlq: String,
    commits: std::collections::BTreeMap<i32, i64>,
) -> Result<(), KafkaError> {
    if commits.is_empty() {
        return Ok(());
    }
    run_blocking(move || {
        let mut list = TopicPartitionList::new();
        for (partition, pos) in commits {
            list.add_partition_offset(&dlq, partition, Offset::Offset(pos))?;
        }
        consumer.commit(&list, CommitMode::Sync)?;
        Ok(())
    })
    .await
}

fn replay_consumer(config: &KafkaConfig) -> Result<BaseConsumer, KafkaError> {
    config
        .client_config(&[
            ("group.id", REPLAY_GROUP.into()),
            ("enable.auto.commit", "false".into()),
            ("enable.auto.offset.store", "false".into()),
            ("auto.offset.reset", "earliest".into()),
        ])
        .create()
        .map_err(|e| KafkaError::Config(e.to_string()))
}

/// Assigns every partition of `dlq` at the replay group's committed position.
fn assign_pending(consumer: &BaseConsumer, dlq: &str) -> Result<(), KafkaError> {
    let metadata = consumer.fetch_metadata(Some(dlq), READ_TIMEOUT)?;
    let mut list = TopicPartitionList::new();
    for t in metadata.topics() {
        if let Some(e) = t.error() {
            return Err(KafkaError::Config(format!(
                "dead-letter topic `{dlq}`: {}",
                rdkafka::types::RDKafkaErrorCode::from(e)
            )));
        }
        for p in t.partitions() {
            list.add_partition(dlq, p.id());
        }
    }
    let committed = consumer.committed_offsets(list, READ_TIMEOUT)?;
    let mut start = TopicPartitionList::new();
    for e in committed.elements() {
        let offset = match e.offset() {
            Offset::Offset(o) => Offset::Offset(o),
            _ => Offset::Beginning,
        };
        start.add_partition_offset(dlq, e.partition(), offset)?;
    }
    consumer.assign(&start)?;
    Ok(())
}

/// Reads the assigned partitions to their ends: past their high watermarks (as they were
/// at the start), then until nothing more comes for a moment, since some Kafka-API brokers
/// (tansu) report a high watermark short of the last batch's end.
fn drain(consumer: &BaseConsumer, dlq: &str) -> Result<Vec<Record>, KafkaError> {
    let assignment = consumer.assignment()?;
    let mut ends = std::collections::HashMap::new();
    for e in assignment.elements() {
        let (_, high) = consumer.fetch_watermarks(dlq, e.partition(), READ_TIMEOUT)?;
        ends.insert(e.partition(), high);
    }
    let mut next: std::collections::HashMap<i32, i64> = std::collections::HashMap::new();
    let committed = consumer.committed(READ_TIMEOUT)?;
    for e in committed.elements() {
        if let Offset::Offset(o) = e.offset() {
            next.insert(e.partition(), o);
        }
    }
    let reached = |next: &std::collections::HashMap<i32, i64>| {
        ends.iter()
            .all(|(p, high)| next.get(p).copied().unwrap_or(0) >= *high)
    };
    let origin = dlq.strip_suffix(".dlq").unwrap_or(dlq);
    let mut out = Vec::new();
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut idle_since = Instant::now();
    while !(reached(&next) && idle_since.elapsed() >= TAIL_WAIT) {
        if Instant::now() > deadline {
            return Err(KafkaError::Config(format!(
                "reading `{dlq}` did not reach its end within {READ_TIMEOUT:?}"
            )));
        }
        match consumer.poll(Duration::from_millis(50)) {
            None => {}
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(m)) => {
                idle_since = Instant::now();
                next.insert(m.partition(), m.offset() + 1);
                let headers = headers_of(&m);
                out.push(Record {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: key_of(&m),
                    entry: DeadLetterEntry::from_headers(
                        origin,
                        headers,
                        m.payload().unwrap_or_default().to_vec(),
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// The dead letters of `dlq` past the replay group's position, with the group's consumer
/// (which commits a new position after a replay or purge).
fn read_pending(
    config: &KafkaConfig,
    dlq: &str,
) -> Result<(BaseConsumer, Vec<Record>), KafkaError> {
    let consumer = replay_consumer(config)?;
    assign_pending(&consumer, dlq)?;
    let records = drain(&consumer, dlq)?;
    Ok((consumer, records))
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KafkaError> + Send + 'static,
) -> Result<T, KafkaError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| KafkaError::Config(format!("the blocking task failed: {e}")))?
}

/// The same tools behind the interface every transport offers; the configuration says
/// which brokers hold the dead-letter topics.
#[async_trait::async_trait]
impl herald_core::DeadLetters for KafkaConfig {
    async fn list(
        &self,
        source: &str,
        selection: &Selection,
    ) -> Result<Vec<DeadLetterEntry>, herald_core::TransportError> {
        Ok(list(self, source, selection).await?)
    }

    async fn replay(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<ReplayReport, herald_core::TransportError> {
        Ok(replay(self, source, selection, dry_run).await?)
    }

    async fn purge(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<PurgeReport, herald_core::TransportError> {
        Ok(purge(self, source, selection, dry_run).await?)
    }
}
