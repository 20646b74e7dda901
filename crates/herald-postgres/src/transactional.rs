use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Context, Envelope, Event, Handler, HandlerError, RetryPolicy, StoreError};
use sqlx::{PgPool, Postgres, Transaction};

/// A handler whose effects are writes to PostgreSQL. It gets the transaction; wrap it in
/// [`Transactional`] to run it in a worker. The row that marks the message processed is
/// inserted in the same transaction, so the writes happen exactly once: a redelivered
/// message finds the row and is skipped, and a failed or crashed attempt leaves neither.
///
/// ```no_run
/// use herald_core::{Context, HandlerError};
/// use herald_postgres::TransactionalHandler;
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// # struct OrderPlaced { order_id: String, total_cents: i64 }
/// # impl herald_core::Event for OrderPlaced {
/// #     const NAME: &'static str = "order.placed";
/// #     const VERSION: u32 = 1;
/// #     fn aggregate_id(&self) -> String { self.order_id.clone() }
/// # }
///
/// struct RecordRevenue;
///
/// #[herald_core::async_trait]
/// impl TransactionalHandler for RecordRevenue {
///     type Event = OrderPlaced;
///     fn name(&self) -> &'static str { "record-revenue" }
///     async fn handle(
///         &self,
///         event: OrderPlaced,
///         _ctx: &Context,
///         tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
///     ) -> Result<(), HandlerError> {
///         sqlx::query("INSERT INTO revenue (order_id, cents) VALUES ($1, $2)")
///             .bind(&event.order_id)
///             .bind(event.total_cents)
///             .execute(&mut **tx)
///             .await?;
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait TransactionalHandler: Send + Sync + 'static {
    /// The event this handler takes.
    type Event: Event;

    /// A stable name: part of the processed key, shown in logs and dead letters.
    fn name(&self) -> &'static str;

    /// As [`Handler::retry_policy`].
    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::default()
    }

    /// As [`Handler::idempotency_key`]: the key duplicates are recognised by.
    fn idempotency_key(&self, envelope: &Envelope<Self::Event>) -> String {
        envelope.meta.idempotency_key.clone()
    }

    /// As [`Handler::lease`].
    fn lease(&self) -> Duration {
        Duration::from_secs(60)
    }

    /// How long the processed row is kept (purged by [`crate::purge_expired`]).
    fn completed_ttl(&self) -> Duration {
        Duration::from_secs(7 * 24 * 3600)
    }

    /// Handles one event, writing through `tx`. Returning `Err` rolls everything back.
    async fn handle(
        &self,
        event: Self::Event,
        ctx: &Context,
        tx: &mut Transaction<'_, Postgres>,
    ) -> Result<(), HandlerError>;
}

/// Runs a [`TransactionalHandler`] as a [`Handler`]: begin, insert the processed key
/// (`ON CONFLICT` → already processed → skip), run the handler's writes, check the fencing
/// token, commit.
///
/// Fencing: in a worker whose idempotency store is [`crate::PgIdempotencyStore`] on the same
/// database, the transaction locks the worker's claim row and commits only if the worker's
/// token ([`Context::lease_token`]) still holds the key. Otherwise it rolls back with
/// [`StoreError::LeaseLost`], and the worker hands the message back (not an attempt): a
/// worker whose lease ran out never commits after another one took the key over. With
/// another store (Redis, in-memory) there is no claim row to check: use
/// [`Transactional::unfenced`].
pub struct Transactional<H> {
    handler: H,
    pool: PgPool,
    fenced: bool,
}

impl<H: TransactionalHandler> Transactional<H> {
    /// Wraps `handler`; its transactions come from `pool` (run [`crate::migrate`] first).
    /// Fenced by the worker's claim, which must be in [`crate::PgIdempotencyStore`] on this
    /// database.
    pub fn new(handler: H, pool: PgPool) -> Self {
        Transactional {
            handler,
            pool,
            fenced: true,
        }
    }

    /// Does not check the fencing token: for a worker whose idempotency store is not
    /// PostgreSQL on this database. The processed row still makes the writes happen once.
    pub fn unfenced(mut self) -> Self {
        self.fenced = false;
        self
    }

    pub fn inner(&self) -> &H {
        &self.handler
    }
}

// Insert the processed key, or take over a row whose TTL has run out. No row back means
// another transaction processed this key (a concurrent duplicate waits here for that
// transaction to end, and then sees its row).
const MARK_PROCESSED: &str = "
INSERT INTO herald_processed_keys AS p (key, handler, processed_at, expires_at)
VALUES ($1, $2, now(), now() + make_interval(secs => $3))
ON CONFLICT (key) DO UPDATE
    SET handler = EXCLUDED.handler,
        processed_at = EXCLUDED.processed_at,
        expires_at = EXCLUDED.expires_at
    WHERE p.expires_at <= now()";

// The worker's claim row, if its token still holds it; locked for the transaction.
const FENCE: &str = "
SELECT 1 FROM herald_idempotency_keys
 WHERE key = $1 AND token = $2 AND NOT done
   FOR UPDATE";

#[async_trait]
impl<H: TransactionalHandler> Handler for Transactional<H> {
    type Event = H::Event;

    fn name(&self) -> &'static str {
        self.handler.name()
    }

    fn retry_policy(&self) -> RetryPolicy {
        self.handler.retry_policy()
    }

    fn idempotency_key(&self, envelope: &Envelope<Self::Event>) -> String {
        self.handler.idempotency_key(envelope)
    }

    fn lease(&self) -> Duration {
        self.handler.lease()
    }

    fn completed_ttl(&self) -> Duration {
        self.handler.completed_ttl()
    }

    async fn handle(&self, event: Self::Event, ctx: &Context) -> Result<(), HandlerError> {
        let name = self.handler.name();
        let envelope = Envelope {
            meta: ctx.meta().clone(),
            data: event,
        };
        let key = herald_core::claim_key(name, &self.handler.idempotency_key(&envelope));
        let event = envelope.data;

        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(MARK_PROCESSED)
            .bind(&key)
            .bind(name)
            .bind(self.handler.completed_ttl().as_secs_f64())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if inserted == 0 {
            tracing::debug!(key, "already processed in a committed transaction; skipped");
            tx.rollback().await?;
            return Ok(());
        }
        // On `Err` the transaction is dropped, which rolls it back: neither the writes
        // nor the processed row remain, and the message can be tried again.
        self.handler.handle(event, ctx, &mut tx).await?;
        if self.fenced
            && let (Some(claimed), Some(token)) = (ctx.claimed_key(), ctx.lease_token())
        {
            // Locked until the commit: a takeover of the key waits for it, then finds
            // the processed row.
            let holds: Option<i32> = sqlx::query_scalar(FENCE)
                .bind(claimed)
                .bind(&token.0)
                .fetch_optional(&mut *tx)
                .await?;
            if holds.is_none() {
                tx.rollback().await?;
                tracing::warn!(
                    key = claimed,
                    "the lease token no longer holds the key (or the worker's store is not \
                     PgIdempotencyStore on this database: then use Transactional::unfenced); \
                     rolled back"
                );
                return Err(HandlerError::retryable(StoreError::LeaseLost(
                    claimed.to_owned(),
                )));
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

impl<H> fmt::Debug for Transactional<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transactional")
            .field("handler", &std::any::type_name::<H>())
            .finish_non_exhaustive()
    }
}
