//! [`PgIdempotencyStore`]: claims and completes on `herald_idempotency_keys`, batched.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Claim, IdempotencyStore, LeaseToken, StoreError};
use sqlx::PgPool;

use crate::batch::Batcher;

/// Claims (or completes) that go in one statement at most; more wait for the next one.
const DEFAULT_MAX_BATCH: usize = 256;
/// Statements of each kind running at once.
const DEFAULT_PARALLEL_BATCHES: usize = 2;

/// An [`IdempotencyStore`] on the table `herald_idempotency_keys` (see [`crate::migrate`]).
///
/// Claims and completes are batched: those made while one statement runs go together in
/// the next (one round trip and one commit for all of them; an idle store sends one at
/// once). Each caller still waits for its own row's outcome, committed: a complete returns
/// once it is durable, before the worker acks the message.
#[derive(Clone)]
pub struct PgIdempotencyStore {
    pool: PgPool,
    max_batch: usize,
    parallel_batches: usize,
    /// Started on first use, on the runtime of that use.
    batches: Arc<OnceLock<Batches>>,
}

struct Batches {
    claims: Batcher<ClaimRequest, Claim>,
    completes: Batcher<CompleteRequest, ()>,
}

struct ClaimRequest {
    key: String,
    lease: Duration,
}

struct CompleteRequest {
    key: String,
    token: String,
    ttl: Duration,
}

impl PgIdempotencyStore {
    pub fn new(pool: PgPool) -> Self {
        PgIdempotencyStore {
            pool,
            max_batch: DEFAULT_MAX_BATCH,
            parallel_batches: DEFAULT_PARALLEL_BATCHES,
            batches: Arc::default(),
        }
    }

    /// The most claims (or completes) one statement carries (default 256). With 1, each is
    /// its own statement, [`Self::parallel_batches`] of them at once.
    pub fn max_batch(mut self, n: usize) -> Self {
        self.max_batch = n.max(1);
        self.batches = Arc::default();
        self
    }

    /// How many claim (and complete) statements may run at once (default 2): the next batch
    /// fills while one commits.
    pub fn parallel_batches(mut self, n: usize) -> Self {
        self.parallel_batches = n.max(1);
        self.batches = Arc::default();
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn batches(&self) -> &Batches {
        self.batches.get_or_init(|| {
            let pool = self.pool.clone();
            let claims = Batcher::spawn(self.max_batch, self.parallel_batches, move |batch| {
                let pool = pool.clone();
                async move { claim_batch(&pool, batch).await }
            });
            let pool = self.pool.clone();
            let completes = Batcher::spawn(self.max_batch, self.parallel_batches, move |batch| {
                let pool = pool.clone();
                async move { complete_batch(&pool, batch).await }
            });
            Batches { claims, completes }
        })
    }
}

impl std::fmt::Debug for PgIdempotencyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgIdempotencyStore")
            .field("max_batch", &self.max_batch)
            .field("parallel_batches", &self.parallel_batches)
            .finish_non_exhaustive()
    }
}

fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

// Insert a held row for each key, or take over one whose lease or TTL has run out. For a
// key not taken, report whether the row seen is done. A row that the statement's snapshot
// cannot see was claimed by a concurrent transaction a moment ago: that is "in progress".
//
// Keys are unique in a batch (ON CONFLICT cannot touch a row twice) and inserted in key
// order, so two batches that share keys lock them in the same order.
//
// The claim commits asynchronously (`synchronous_commit` off for this statement's own
// transaction): it saves a WAL flush, and a claim lost to a database crash only lets
// another worker take the key again, as an expired lease would (the transactional form's
// processed row, and COMPLETE here, stay synchronous).
const CLAIM: &str = "
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
input AS (
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::float8[]) AS i(key, token, secs)
),
claimed AS (
    INSERT INTO herald_idempotency_keys AS k (key, token, done, lease_until, expires_at)
    SELECT key, token, FALSE, now() + make_interval(secs => secs),
           now() + make_interval(secs => secs)
      FROM input ORDER BY key
    ON CONFLICT (key) DO UPDATE
        SET token = EXCLUDED.token,
            done = FALSE,
            lease_until = EXCLUDED.lease_until,
            expires_at = EXCLUDED.expires_at
        WHERE k.expires_at <= now()
    RETURNING k.key
)
SELECT i.key,
       EXISTS (SELECT 1 FROM claimed c WHERE c.key = i.key) AS acquired,
       COALESCE((SELECT done AND expires_at > now()
                 FROM herald_idempotency_keys k WHERE k.key = i.key), FALSE) AS done
  FROM input i, async_commit";

// The holder's token turns its claim into a done key (even after the lease ran out, as
// long as nobody took the key over meanwhile). Returns the (key, token) pairs that held.
const COMPLETE: &str = "
UPDATE herald_idempotency_keys AS k
   SET done = TRUE, token = NULL, lease_until = NULL,
       expires_at = now() + make_interval(secs => b.secs)
  FROM UNNEST($1::text[], $2::text[], $3::float8[]) AS b(key, token, secs)
 WHERE k.key = b.key AND k.token = b.token AND NOT k.done
RETURNING b.key, b.token";

// As COMPLETE, the holder's token extends its lease (even one that ran out, as long as
// nobody took the key over meanwhile).
const RENEW: &str = "
UPDATE herald_idempotency_keys
   SET lease_until = now() + make_interval(secs => $3),
       expires_at = now() + make_interval(secs => $3)
 WHERE key = $1 AND token = $2 AND NOT done";

const RELEASE: &str = "
DELETE FROM herald_idempotency_keys WHERE key = $1 AND token = $2 AND NOT done";

/// Runs a batch statement, again if PostgreSQL chose it as a deadlock's victim (batches from
/// several processes can wait on each other's rows; the statement changed nothing then).
async fn retry_deadlock<T, F, Fut>(run: F) -> Result<T, sqlx::Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let mut tries = 0;
    loop {
        match run().await {
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("40P01") && tries < 3 => {
                tries += 1;
                tracing::debug!(
                    tries,
                    "idempotency batch was a deadlock victim; running it again"
                );
            }
            other => return other,
        }
    }
}

/// The same error for every request of a batch whose statement failed.
fn failed<I, O>(batch: &[I], e: &sqlx::Error) -> Vec<Result<O, StoreError>> {
    let message = e.to_string();
    batch
        .iter()
        .map(|_| Err(StoreError::Backend(message.clone())))
        .collect()
}

async fn claim_batch(pool: &PgPool, batch: Vec<ClaimRequest>) -> Vec<Result<Claim, StoreError>> {
    // One row per key: the first request of a key is sent, with its token.
    let mut first: HashMap<&str, usize> = HashMap::new();
    let (mut keys, mut tokens, mut secs) = (Vec::new(), Vec::new(), Vec::new());
    for (i, request) in batch.iter().enumerate() {
        if let std::collections::hash_map::Entry::Vacant(slot) = first.entry(&request.key) {
            slot.insert(i);
            keys.push(request.key.clone());
            tokens.push(LeaseToken::generate().0);
            secs.push(request.lease.as_secs_f64());
        }
    }
    let rows: Result<Vec<(String, bool, bool)>, _> = retry_deadlock(|| {
        sqlx::query_as(CLAIM)
            .bind(&keys)
            .bind(&tokens)
            .bind(&secs)
            .fetch_all(pool)
    })
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return failed(&batch, &e),
    };
    let token_of: HashMap<&str, &str> = keys
        .iter()
        .map(String::as_str)
        .zip(tokens.iter().map(String::as_str))
        .collect();
    let outcome: HashMap<String, Claim> = rows
        .into_iter()
        .map(|(key, acquired, done)| {
            let claim = match (acquired, done) {
                (true, _) => Claim::Acquired(LeaseToken(token_of[key.as_str()].to_owned())),
                (false, true) => Claim::Done,
                (false, false) => Claim::InProgress,
            };
            (key, claim)
        })
        .collect();
    batch
        .iter()
        .enumerate()
        .map(|(i, request)| match outcome.get(&request.key) {
            None => Err(StoreError::Backend(format!(
                "claim of `{}` got no answer from the batch",
                request.key
            ))),
            // A later request for a key this batch acquired finds it held.
            Some(Claim::Acquired(_)) if first[request.key.as_str()] != i => Ok(Claim::InProgress),
            Some(claim) => Ok(claim.clone()),
        })
        .collect()
}

async fn complete_batch(pool: &PgPool, batch: Vec<CompleteRequest>) -> Vec<Result<(), StoreError>> {
    let keys: Vec<&str> = batch.iter().map(|r| r.key.as_str()).collect();
    let tokens: Vec<&str> = batch.iter().map(|r| r.token.as_str()).collect();
    let secs: Vec<f64> = batch.iter().map(|r| r.ttl.as_secs_f64()).collect();
    let rows: Result<Vec<(String, String)>, _> = retry_deadlock(|| {
        sqlx::query_as(COMPLETE)
            .bind(&keys)
            .bind(&tokens)
            .bind(&secs)
            .fetch_all(pool)
    })
    .await;
    match rows {
        Ok(rows) => {
            let held: std::collections::HashSet<(String, String)> = rows.into_iter().collect();
            batch
                .into_iter()
                .map(|r| {
                    if held.contains(&(r.key.clone(), r.token)) {
                        Ok(())
                    } else {
                        Err(StoreError::LeaseLost(r.key))
                    }
                })
                .collect()
        }
        Err(e) => failed(&batch, &e),
    }
}

#[async_trait]
impl IdempotencyStore for PgIdempotencyStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.batches()
            .claims
            .call(ClaimRequest {
                key: key.to_owned(),
                lease,
            })
            .await
    }

    async fn complete(
        &self,
        key: &str,
        token: &LeaseToken,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.batches()
            .completes
            .call(CompleteRequest {
                key: key.to_owned(),
                token: token.0.clone(),
                ttl,
            })
            .await
    }

    async fn release(&self, key: &str, token: &LeaseToken) -> Result<(), StoreError> {
        self.with_token(RELEASE, key, token, None).await
    }

    async fn renew(
        &self,
        key: &str,
        token: &LeaseToken,
        lease: Duration,
    ) -> Result<(), StoreError> {
        self.with_token(RENEW, key, token, Some(lease)).await
    }
}

impl PgIdempotencyStore {
    /// Runs one of the statements that act only while `token` holds `key` (`$1` key, `$2`
    /// token, `$3` seconds if given); no row changed means the lease was lost.
    async fn with_token(
        &self,
        sql: &'static str,
        key: &str,
        token: &LeaseToken,
        secs: Option<Duration>,
    ) -> Result<(), StoreError> {
        let mut query = sqlx::query(sql).bind(key).bind(&token.0);
        if let Some(d) = secs {
            query = query.bind(d.as_secs_f64());
        }
        let changed = query
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::LeaseLost(key.to_owned()))
        }
    }
}
