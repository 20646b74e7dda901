//! Dead letters in the stream `<stream>.dlq`: each entry is the original message (payload,
//! key) with the failure headers. Replay moves an entry back to its origin stream and deletes
//! it from the dead-letter stream in one script, so two replays at once cannot both send it.

use std::fmt;

use async_trait::async_trait;
use herald_core::dead_letters::{DeadLetterEntry, PurgeReport, ReplayReport, Selection};
use herald_core::{DeadLetters, TransportError};
use redis::aio::ConnectionManager;
use redis::{Script, Value};

use super::fields::{self, Entry};
use super::{names, transport};

// Replay one: only if this call deleted the dead letter does it add the message back.
// KEYS: dead-letter stream, origin stream. ARGV: entry id, fields...
const REPLAY: &str = r"
if redis.call('XDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
  return 1
end
return 0
";

/// Entries read per `XRANGE`.
const PAGE: usize = 500;

/// [`DeadLetters`] on Redis streams: `source` is the stream consumed (for sharded streams,
/// the name without the shard number).
#[derive(Clone)]
pub struct RedisDeadLetters {
    conn: ConnectionManager,
    replay: Script,
}

impl RedisDeadLetters {
    pub(crate) fn new(conn: ConnectionManager) -> Self {
        RedisDeadLetters {
            conn,
            replay: Script::new(REPLAY),
        }
    }

    /// The selected dead letters with their entries, oldest first.
    async fn select(
        &self,
        source: &str,
        selection: &Selection,
    ) -> Result<Vec<(Entry, DeadLetterEntry)>, TransportError> {
        let dlq = names::dlq_stream(source);
        let mut conn = self.conn.clone();
        let mut selected = Vec::new();
        let mut start = "-".to_owned();
        loop {
            let page: Value = redis::cmd("XRANGE")
                .arg(&dlq)
                .arg(&start)
                .arg("+")
                .arg("COUNT")
                .arg(PAGE)
                .query_async(&mut conn)
                .await
                .map_err(transport)?;
            let entries = fields::entries(page);
            let full = entries.len() == PAGE;
            for entry in entries {
                start = format!("({}", entry.id);
                let dead = DeadLetterEntry::from_headers(
                    source,
                    entry.headers.clone(),
                    entry.payload.clone(),
                );
                if selection.matches(&dead) {
                    selected.push((entry, dead));
                    if selection.limit.is_some_and(|n| selected.len() >= n) {
                        return Ok(selected);
                    }
                }
            }
            if !full {
                return Ok(selected);
            }
        }
    }
}

#[async_trait]
impl DeadLetters for RedisDeadLetters {
    async fn list(
        &self,
        source: &str,
        selection: &Selection,
    ) -> Result<Vec<DeadLetterEntry>, TransportError> {
        Ok(self
            .select(source, selection)
            .await?
            .into_iter()
            .map(|(_, d)| d)
            .collect())
    }

    async fn replay(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<ReplayReport, TransportError> {
        let chosen = self.select(source, selection).await?;
        let mut report = ReplayReport {
            dry_run,
            ..ReplayReport::default()
        };
        let dlq = names::dlq_stream(source);
        let mut conn = self.conn.clone();
        for (entry, dead) in chosen {
            if !dry_run {
                let mut invocation = self.replay.key(&dlq);
                invocation.key(&dead.origin).arg(&entry.id);
                fields::each_arg(
                    entry.key.as_deref().unwrap_or_default(),
                    &dead.replay_headers(),
                    &entry.payload,
                    |a| {
                        invocation.arg(a);
                    },
                );
                let moved: i64 = invocation
                    .invoke_async(&mut conn)
                    .await
                    .map_err(transport)?;
                if moved != 1 {
                    continue; // replayed or purged by someone else meanwhile
                }
                report.replayed += 1;
            }
            report.selected.push(dead);
        }
        Ok(report)
    }

    async fn purge(
        &self,
        source: &str,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<PurgeReport, TransportError> {
        let chosen = self.select(source, selection).await?;
        let mut report = PurgeReport {
            dry_run,
            ..PurgeReport::default()
        };
        let dlq = names::dlq_stream(source);
        let mut conn = self.conn.clone();
        for (entry, dead) in chosen {
            if !dry_run {
                let deleted: i64 = redis::cmd("XDEL")
                    .arg(&dlq)
                    .arg(&entry.id)
                    .query_async(&mut conn)
                    .await
                    .map_err(transport)?;
                if deleted != 1 {
                    continue;
                }
            }
            report.purged.push(dead);
        }
        Ok(report)
    }
}

impl fmt::Debug for RedisDeadLetters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisDeadLetters").finish_non_exhaustive()
    }
}
