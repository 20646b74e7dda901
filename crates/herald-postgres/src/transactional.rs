use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use herald_core::{Context, Envelope, Event, Handler, HandlerError, RetryPolicy};
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
/// (`ON CONFLICT` → already processed → skip), run the handler's writes, commit.
pub struct Transactional<H> {
    handler: H,
    pool: PgPool,
}

impl<H: TransactionalHandler> Transactional<H> {
    /// Wraps `handler`; its transactions come from `pool` (run [`crate::migrate`] first).
    pub fn new(handler: H, pool: PgPool) -> Self {
        Transactional { handler, pool }
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
        let key = format!("{name}:{}", self.handler.idempotency_key(&envelope));
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
