//! The subscriber's two tasks. The reader: `XREADGROUP ... BLOCK` on a connection of its own
//! (a blocking read holds up every command queued behind it on a connection), only when the
//! channel has room for a whole batch, so read entries are handed out, not held. The
//! maintenance task, on the shared connection: moves due retries back, takes over entries
//! idle past the visibility timeout (`XAUTOCLAIM`), keeps this consumer's in-flight entries
//! claimed, and updates the lag gauges.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use herald_core::{Delivery, TransportError};
use redis::Value;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::acker::Shared;
use super::fields::{self, text};
use super::subscriber::{create_group, delivery};
use super::{lag, millis, transport};

type Tx = mpsc::Sender<Result<Delivery, TransportError>>;

pub(crate) struct Reader {
    pub conn: ConnectionManager,
    pub shared: Arc<Shared>,
    pub streams: Vec<String>,
    pub consumer: String,
    pub batch: usize,
    pub block: Duration,
    pub start: &'static str,
    pub tx: Tx,
    pub stop: CancellationToken,
}

impl Reader {
    pub(crate) async fn run(mut self) {
        let mut failures = 0u32;
        let tx = self.tx.clone();
        loop {
            let permits = tokio::select! {
                () = self.stop.cancelled() => return,
                p = tx.reserve_many(self.batch) => match p {
                    Ok(p) => p,
                    Err(_) => return, // the subscriber is gone
                },
            };
            // Not raced with `stop`: entries Redis hands out must reach the channel.
            match self.read().await {
                Ok(read) => {
                    failures = 0;
                    for (permit, (stream, entry)) in permits.zip(read) {
                        permit.send(Ok(delivery(&self.shared, &stream, entry, 1)));
                    }
                }
                Err(e) => {
                    if e.code() == Some("NOGROUP") {
                        // The stream or group went away (a Redis without persistence
                        // restarted, or someone deleted it): make it again and go on.
                        tracing::warn!(error = %e, "consumer group missing; creating it again");
                        for s in &self.streams {
                            let _ = create_group(
                                &mut self.shared.conn.clone(),
                                s,
                                &self.shared.group,
                                self.start,
                            )
                            .await;
                        }
                        continue;
                    }
                    failures = failures.saturating_add(1);
                    if let Some(permit) = permits.into_iter().next() {
                        permit.send(Err(transport(e)));
                    }
                    let wait = Duration::from_millis(50 * 2u64.pow(failures.min(5)));
                    tokio::select! {
                        () = self.stop.cancelled() => return,
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }

    /// One `XREADGROUP` of new entries of every stream: (stream, entry) in order.
    async fn read(&mut self) -> Result<Vec<(String, fields::Entry)>, redis::RedisError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&self.shared.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(self.batch)
            .arg("BLOCK")
            .arg(millis(self.block))
            .arg("STREAMS")
            .arg(&self.streams);
        for _ in &self.streams {
            cmd.arg(">");
        }
        let reply: Value = cmd.query_async(&mut self.conn).await?;
        Ok(fields::read_reply(reply)
            .into_iter()
            .flat_map(|(stream, entries)| entries.into_iter().map(move |e| (stream.clone(), e)))
            .collect())
    }
}

pub(crate) struct Maintenance {
    pub shared: Arc<Shared>,
    pub streams: Vec<String>,
    pub consumer: String,
    pub visibility_timeout: Duration,
    pub claim_interval: Duration,
    pub retry_poll: Duration,
    pub lag_interval: Duration,
    pub tx: Tx,
    /// Closing: take no more work (no claims, no moves); keep in-flight entries claimed.
    pub stop_taking: CancellationToken,
    /// Dropped: stop everything.
    pub stop_all: CancellationToken,
}

/// Moves at most this many due retries per stream and tick.
const MOVE_LIMIT: usize = 1000;

impl Maintenance {
    pub(crate) async fn run(self) {
        let tick = |every: Duration| {
            let mut t = tokio::time::interval(every.max(Duration::from_millis(10)));
            t.set_missed_tick_behavior(MissedTickBehavior::Delay);
            t
        };
        let mut moves = tick(self.retry_poll);
        let mut claims = tick(self.claim_interval);
        let mut lags = tick(self.lag_interval);
        let mut keep = tick(self.visibility_timeout / 3);
        let mut cursors: HashMap<String, String> = HashMap::new();
        let mut conn = self.shared.conn.clone();
        loop {
            let taking = !self.stop_taking.is_cancelled();
            tokio::select! {
                () = self.stop_all.cancelled() => return,
                () = self.stop_taking.cancelled(), if taking => {}
                _ = moves.tick(), if taking => {
                    for s in &self.streams {
                        if let Err(e) = self.shared.scripts.move_due(&mut conn, s, MOVE_LIMIT).await {
                            tracing::warn!(stream = %s, error = %e, "moving due retries failed");
                        }
                    }
                }
                _ = claims.tick(), if taking => {
                    for s in &self.streams {
                        let cursor = cursors.entry(s.clone()).or_insert_with(|| "0-0".to_owned());
                        match self.claim(&mut conn, s, cursor).await {
                            Ok(claimed) => {
                                for d in claimed {
                                    tokio::select! {
                                        () = self.stop_all.cancelled() => return,
                                        sent = self.tx.send(Ok(d)) => if sent.is_err() { return },
                                    }
                                }
                            }
                            Err(e) => tracing::warn!(stream = %s, error = %e, "taking over idle entries failed"),
                        }
                    }
                }
                _ = lags.tick() => {
                    for s in &self.streams {
                        if let Err(e) = lag::read(&mut conn, s, &self.shared.group).await {
                            tracing::debug!(stream = %s, error = %e, "reading the consumer lag failed");
                        }
                    }
                }
                _ = keep.tick() => {
                    if let Err(e) = self.keep_claimed(&mut conn).await {
                        tracing::warn!(error = %e, "keeping in-flight entries claimed failed");
                    }
                }
            }
        }
    }

    /// `XAUTOCLAIM` entries idle past the visibility timeout (as many as the channel has room
    /// for), with their delivery counts from `XPENDING`.
    async fn claim(
        &self,
        conn: &mut ConnectionManager,
        stream: &str,
        cursor: &mut String,
    ) -> Result<Vec<Delivery>, TransportError> {
        let room = self.tx.capacity();
        if room == 0 {
            return Ok(Vec::new());
        }
        let reply: Vec<Value> = redis::cmd("XAUTOCLAIM")
            .arg(stream)
            .arg(&self.shared.group)
            .arg(&self.consumer)
            .arg(millis(self.visibility_timeout))
            .arg(cursor.as_str())
            .arg("COUNT")
            .arg(room)
            .query_async(conn)
            .await
            .map_err(transport)?;
        let mut reply = reply.into_iter();
        *cursor = reply.next().map_or_else(|| "0-0".to_owned(), text);
        let entries = reply.next().map(fields::entries).unwrap_or_default();
        if let Some(Value::Array(deleted)) = reply.next()
            && !deleted.is_empty()
        {
            tracing::error!(
                stream,
                count = deleted.len(),
                "pending entries were deleted (trimmed?) before they were acked: lost"
            );
        }
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return Ok(Vec::new());
        };
        let counts = self
            .delivery_counts(conn, stream, &first.id, &last.id, entries.len())
            .await?;
        tracing::info!(
            stream,
            count = entries.len(),
            "took over entries idle past the visibility timeout"
        );
        Ok(entries
            .into_iter()
            .map(|e| {
                let delivered = counts.get(&e.id).copied().unwrap_or(2);
                delivery(&self.shared, stream, e, delivered)
            })
            .collect())
    }

    /// How often each of this consumer's pending entries between `first` and `last` was
    /// delivered (`XPENDING`).
    async fn delivery_counts(
        &self,
        conn: &mut ConnectionManager,
        stream: &str,
        first: &str,
        last: &str,
        count: usize,
    ) -> Result<HashMap<String, u64>, TransportError> {
        let rows: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
            .arg(stream)
            .arg(&self.shared.group)
            .arg(first)
            .arg(last)
            .arg(count)
            .arg(&self.consumer)
            .query_async(conn)
            .await
            .map_err(transport)?;
        Ok(rows.into_iter().map(|(id, _, _, n)| (id, n)).collect())
    }

    /// Resets the idle time of the entries being handled here (`XCLAIM ... JUSTID`, which
    /// does not count a delivery), so no other consumer takes them over.
    async fn keep_claimed(&self, conn: &mut ConnectionManager) -> Result<(), TransportError> {
        for (stream, ids) in self.shared.in_flight() {
            for chunk in ids.chunks(500) {
                let _: Vec<String> = redis::cmd("XCLAIM")
                    .arg(&stream)
                    .arg(&self.shared.group)
                    .arg(&self.consumer)
                    .arg(0)
                    .arg(chunk)
                    .arg("JUSTID")
                    .query_async(conn)
                    .await
                    .map_err(transport)?;
            }
        }
        Ok(())
    }
}
