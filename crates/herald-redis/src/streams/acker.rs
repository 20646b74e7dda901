//! Settling one entry: `XACK` on ack; retry and requeue through the retry set (which acks
//! the entry in the same script); dead letter with `XADD <stream>.dlq` + `XACK` in one
//! MULTI. An entry dropped unsettled stays pending and is reclaimed after the visibility
//! timeout.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Acknowledger, DeadLetter, Headers, Retry, TransportError, headers};
use redis::aio::ConnectionManager;

use super::retry::{RetryScripts, Scheduled};
use super::{fields, names, transport};

/// What the ackers of one subscriber share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub conn: ConnectionManager,
    /// The stream the subscriber was asked for (its dead letters go to `<base>.dlq`).
    pub base: String,
    pub group: String,
    pub scripts: RetryScripts,
    /// Entries handed out and not settled yet, per stream: kept claimed (their idle time
    /// reset) so that a handler slower than the visibility timeout is not reclaimed.
    pub in_flight: Mutex<HashMap<String, HashSet<String>>>,
}

impl Shared {
    pub(crate) fn track(&self, stream: &str, id: &str) {
        lock(&self.in_flight)
            .entry(stream.to_owned())
            .or_default()
            .insert(id.to_owned());
    }

    fn untrack(&self, stream: &str, id: &str) {
        if let Some(ids) = lock(&self.in_flight).get_mut(stream) {
            ids.remove(id);
        }
    }

    /// The in-flight entries, per stream.
    pub(crate) fn in_flight(&self) -> Vec<(String, Vec<String>)> {
        lock(&self.in_flight)
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(s, ids)| (s.clone(), ids.iter().cloned().collect()))
            .collect()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Settles one delivered entry.
pub(crate) struct RedisAcker {
    pub shared: Arc<Shared>,
    pub stream: String,
    pub id: String,
    pub key: String,
    /// The headers as delivered (with the attempt from the delivery count).
    pub headers: Headers,
    pub payload: Vec<u8>,
}

impl RedisAcker {
    async fn schedule(&self, delay: Duration, headers: &Headers) -> Result<(), TransportError> {
        self.shared
            .scripts
            .schedule(
                &mut self.shared.conn.clone(),
                Scheduled {
                    stream: &self.stream,
                    group: &self.shared.group,
                    entry_id: &self.id,
                    delay,
                    key: &self.key,
                    headers,
                    payload: &self.payload,
                },
            )
            .await
    }
}

#[async_trait]
impl Acknowledger for RedisAcker {
    async fn ack(self: Box<Self>) -> Result<(), TransportError> {
        let _: i64 = redis::cmd("XACK")
            .arg(&self.stream)
            .arg(&self.shared.group)
            .arg(&self.id)
            .query_async(&mut self.shared.conn.clone())
            .await
            .map_err(transport)?;
        Ok(())
    }

    async fn retry(self: Box<Self>, retry: Retry) -> Result<(), TransportError> {
        self.schedule(retry.delay, &retry.headers).await
    }

    async fn requeue(self: Box<Self>, delay: Duration) -> Result<(), TransportError> {
        self.schedule(delay, &self.headers).await
    }

    async fn dead_letter(self: Box<Self>, dead_letter: DeadLetter) -> Result<(), TransportError> {
        let mut headers = dead_letter.headers;
        headers
            .entry(headers::ERROR.to_owned())
            .or_insert(dead_letter.reason);
        headers
            .entry(headers::ORIGIN.to_owned())
            .or_insert_with(|| self.stream.clone());
        let mut add = redis::cmd("XADD");
        add.arg(names::dlq_stream(&self.shared.base)).arg("*");
        fields::each_arg(&self.key, &headers, &self.payload, |a| {
            add.arg(a);
        });
        let mut ack = redis::cmd("XACK");
        ack.arg(&self.stream).arg(&self.shared.group).arg(&self.id);
        let _: () = redis::pipe()
            .atomic()
            .add_command(add)
            .ignore()
            .add_command(ack)
            .ignore()
            .query_async(&mut self.shared.conn.clone())
            .await
            .map_err(transport)?;
        Ok(())
    }
}

impl Drop for RedisAcker {
    // Settled or dropped, the entry is no longer this process's to keep claimed.
    fn drop(&mut self) {
        self.shared.untrack(&self.stream, &self.id);
    }
}
