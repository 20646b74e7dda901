use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use uuid::Uuid;

/// Proof of a claim: only its holder may complete or release the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseToken(pub String);

impl LeaseToken {
    pub fn generate() -> Self {
        LeaseToken(Uuid::new_v4().simple().to_string())
    }
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the key until the lease ends: run the handler.
    Acquired(LeaseToken),
    /// Another worker holds it now: redeliver later (not an attempt).
    InProgress,
    /// Already processed: skip and ack.
    Done,
}

/// The idempotency store failed; the message must not be acked or dropped because of it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The token no longer holds the key (the lease expired and another worker claimed it).
    #[error("lease lost on key `{0}`")]
    LeaseLost(String),
    #[error("idempotency store: {0}")]
    Backend(String),
}

/// Claim / complete / release with a lease. A key is marked done only after its handler
/// succeeded; a failed handler releases it, and a crashed worker's lease expires.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `key` for `lease`, unless it is done or held by a live lease.
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError>;
    /// Marks `key` done for `ttl`, if `token` still holds it.
    async fn complete(
        &self,
        key: &str,
        token: &LeaseToken,
        ttl: Duration,
    ) -> Result<(), StoreError>;
    /// Gives `key` up so it can be claimed again, if `token` still holds it.
    async fn release(&self, key: &str, token: &LeaseToken) -> Result<(), StoreError>;
}

#[derive(Debug)]
enum Entry {
    Held { token: LeaseToken, until: Instant },
    Done { until: Instant },
}

/// The in-process store: for tests, examples and single-process workers.
#[derive(Debug, Default)]
pub struct MemoryIdempotencyStore {
    entries: Mutex<HashMap<String, Entry>>,
}

impl MemoryIdempotencyStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops expired entries; call now and then in a long-lived process.
    pub fn purge_expired(&self) {
        let now = Instant::now();
        self.lock().retain(|_, e| match e {
            Entry::Held { until, .. } | Entry::Done { until } => *until > now,
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding this lock cannot leave an entry half-written.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let now = Instant::now();
        let mut entries = self.lock();
        match entries.get(key) {
            Some(Entry::Done { until }) if *until > now => return Ok(Claim::Done),
            Some(Entry::Held { until, .. }) if *until > now => return Ok(Claim::InProgress),
            _ => {}
        }
        let token = LeaseToken::generate();
        entries.insert(
            key.to_owned(),
            Entry::Held {
                token: token.clone(),
                until: now + lease,
            },
        );
        Ok(Claim::Acquired(token))
    }

    async fn complete(
        &self,
        key: &str,
        token: &LeaseToken,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some(Entry::Held { token: held, .. }) if held == token => {
                entries.insert(
                    key.to_owned(),
                    Entry::Done {
                        until: Instant::now() + ttl,
                    },
                );
                Ok(())
            }
            _ => Err(StoreError::LeaseLost(key.to_owned())),
        }
    }

    async fn release(&self, key: &str, token: &LeaseToken) -> Result<(), StoreError> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some(Entry::Held { token: held, .. }) if held == token => {
                entries.remove(key);
                Ok(())
            }
            _ => Err(StoreError::LeaseLost(key.to_owned())),
        }
    }
}
