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
    /// Extends the claim of `token` on `key` to `lease` from now; `LeaseLost` when the token
    /// no longer holds it (expired and taken over, completed or released). The worker
    /// calls it every third of the lease while the handler runs.
    async fn renew(&self, key: &str, token: &LeaseToken, lease: Duration)
    -> Result<(), StoreError>;
}

#[derive(Debug)]
enum Entry {
    Held { token: LeaseToken, until: Instant },
    Done { until: Instant },
}

/// Operations between two purges of expired entries, at least; see [`Entries::tick`].
const PURGE_EVERY: usize = 1024;

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<String, Entry>,
    /// Operations since the last purge.
    ops: usize,
}

impl Entries {
    /// Counts an operation, and purges once the operations since the last purge reach half
    /// the entries (or [`PURGE_EVERY`]): each purge's scan is paid for by as many operations
    /// as it looks at, and expired entries never outnumber the live ones by much.
    fn tick(&mut self, now: Instant) {
        self.ops += 1;
        if self.ops >= PURGE_EVERY.max(self.map.len() / 2) {
            self.purge(now);
        }
    }

    fn purge(&mut self, now: Instant) {
        self.ops = 0;
        self.map.retain(|_, e| match e {
            Entry::Held { until, .. } | Entry::Done { until } => *until > now,
        });
    }
}

/// The in-process store: for tests, examples and single-process workers. Expired entries
/// are purged as it goes (every so many operations), so memory follows the live keys.
#[derive(Debug, Default)]
pub struct MemoryIdempotencyStore {
    entries: Mutex<Entries>,
}

impl MemoryIdempotencyStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops expired entries now (the store also does it on its own as it is used).
    pub fn purge_expired(&self) {
        self.lock().purge(Instant::now());
    }

    /// How many entries the store keeps, expired ones not yet purged included.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether the store keeps no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding this lock cannot leave an entry half-written.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let now = Instant::now();
        let mut guard = self.lock();
        guard.tick(now);
        let entries = &mut guard.map;
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
        let mut guard = self.lock();
        guard.tick(Instant::now());
        let entries = &mut guard.map;
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
        let mut guard = self.lock();
        guard.tick(Instant::now());
        let entries = &mut guard.map;
        match entries.get(key) {
            Some(Entry::Held { token: held, .. }) if held == token => {
                entries.remove(key);
                Ok(())
            }
            _ => Err(StoreError::LeaseLost(key.to_owned())),
        }
    }

    async fn renew(
        &self,
        key: &str,
        token: &LeaseToken,
        lease: Duration,
    ) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut guard = self.lock();
        guard.tick(now);
        match guard.map.get_mut(key) {
            // As `complete`: a lapsed lease nobody took over is still the holder's.
            Some(Entry::Held { token: held, until }) if held == token => {
                *until = now + lease;
                Ok(())
            }
            _ => Err(StoreError::LeaseLost(key.to_owned())),
        }
    }
}

/// The idempotency key of an event or handler keyed by several fields (`idempotency_key =
/// [a, b]`): `v2:` then each part with `%` and `:` percent-escaped, joined by `:`. So
/// `("a:b", "c")` and `("a", "b:c")` give different keys (`v2:a%3Ab:c`, `v2:a:b%3Ac`).
/// Version 1 joined the parts unescaped; its stored keys do not match these.
pub fn composite_key(parts: &[&dyn std::fmt::Display]) -> String {
    let mut key = String::from("v2");
    for part in parts {
        key.push(':');
        for c in part.to_string().chars() {
            match c {
                '%' => key.push_str("%25"),
                ':' => key.push_str("%3A"),
                c => key.push(c),
            }
        }
    }
    key
}

/// The key a worker claims for `handler` and an event's idempotency key; the PostgreSQL
/// transactional form marks the same key processed.
pub fn claim_key(handler: &str, idempotency_key: &str) -> String {
    format!("{handler}:{idempotency_key}")
}
