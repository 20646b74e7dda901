//! Against the real PostgreSQL (127.0.0.1:5432, or `HERALD_POSTGRES_URL`), in a fresh
//! database per test.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use herald_core::memory::MemoryBroker;
use herald_core::{
    Claim, Context, Envelope, Event, Handler, HandlerError, IdempotencyStore, Producer,
    RetryPolicy, Worker,
};
use herald_postgres::testing::TestDatabase;
use herald_postgres::{PgIdempotencyStore, Transactional, TransactionalHandler};
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, Transaction};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct PaymentCaptured {
    payment_id: String,
    cents: i64,
}

impl Event for PaymentCaptured {
    const NAME: &'static str = "payment.captured";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        self.payment_id.clone()
    }
}

/// Books the payment into a ledger table: the effect that must happen once.
struct BookPayment {
    /// Fails this many first calls (retryable), to show a failed attempt leaves nothing.
    fail_first: AtomicU32,
    calls: AtomicU32,
    /// Holds the transaction open a while, so concurrent duplicates overlap.
    hold: Duration,
}

impl BookPayment {
    fn new(fail_first: u32, hold: Duration) -> Self {
        BookPayment {
            fail_first: AtomicU32::new(fail_first),
            calls: AtomicU32::new(0),
            hold,
        }
    }
}

#[herald_core::async_trait]
impl TransactionalHandler for BookPayment {
    type Event = PaymentCaptured;

    fn name(&self) -> &'static str {
        "book-payment"
    }

    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            initial_delay: Duration::from_millis(20),
            multiplier: 1.0,
            max_delay: Duration::from_millis(20),
            jitter: herald_core::Jitter::None,
        }
    }

    async fn handle(
        &self,
        event: PaymentCaptured,
        _ctx: &Context,
        tx: &mut Transaction<'_, Postgres>,
    ) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        sqlx::query("INSERT INTO ledger (payment_id, cents) VALUES ($1, $2)")
            .bind(&event.payment_id)
            .bind(event.cents)
            .execute(&mut **tx)
            .await?;
        tokio::time::sleep(self.hold).await;
        if self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(HandlerError::retryable(std::io::Error::other(
                "ledger service hiccup",
            )));
        }
        Ok(())
    }
}

async fn ledger_db() -> TestDatabase {
    let db = TestDatabase::create().await;
    sqlx::query("CREATE TABLE ledger (id BIGSERIAL PRIMARY KEY, payment_id TEXT NOT NULL, cents BIGINT NOT NULL)")
        .execute(&db.pool)
        .await
        .expect("create ledger");
    db
}

async fn ledger_rows(db: &TestDatabase, payment_id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ledger WHERE payment_id = $1")
        .bind(payment_id)
        .fetch_one(&db.pool)
        .await
        .expect("count")
}

fn payment(id: &str) -> Envelope<PaymentCaptured> {
    Envelope::new(PaymentCaptured {
        payment_id: id.to_owned(),
        cents: 1250,
    })
}

#[tokio::test]
async fn postgres_store_passes_the_idempotency_contract() {
    let db = TestDatabase::create().await;
    herald_core::testing::idempotency_store_contract(Arc::new(PgIdempotencyStore::new(
        db.pool.clone(),
    )))
    .await;
    db.drop_database().await;
}

#[tokio::test]
async fn the_contract_holds_with_each_claim_sent_alone() {
    let db = TestDatabase::create().await;
    herald_core::testing::idempotency_store_contract(Arc::new(
        PgIdempotencyStore::new(db.pool.clone()).max_batch(1),
    ))
    .await;
    db.drop_database().await;
}

/// Two stores stand for two worker processes whose batches share keys, claimed in opposite
/// orders: each key is acquired exactly once, and no batch fails (a deadlock between the
/// two would be retried, never reported).
#[tokio::test]
async fn two_processes_claiming_the_same_keys_at_once_acquire_each_key_once() {
    let db = TestDatabase::create().await;
    let stores = [
        Arc::new(PgIdempotencyStore::new(db.pool.clone())),
        Arc::new(PgIdempotencyStore::new(db.pool.clone())),
    ];
    let keys: Vec<String> = (0..300).map(|i| format!("shared-{i:03}")).collect();
    let mut claims = Vec::new();
    for (n, store) in stores.iter().enumerate() {
        let mut order = keys.clone();
        if n == 1 {
            order.reverse();
        }
        for key in order {
            let store = store.clone();
            claims.push(tokio::spawn(async move {
                let claim = store.claim(&key, Duration::from_secs(60)).await;
                (key, claim)
            }));
        }
    }
    let mut acquired = std::collections::HashMap::<String, u32>::new();
    for claim in futures::future::join_all(claims).await {
        let (key, claim) = claim.expect("claim task");
        match claim.expect("no claim fails") {
            Claim::Acquired(_) => *acquired.entry(key).or_default() += 1,
            Claim::InProgress => {}
            Claim::Done => panic!("`{key}` was never completed, yet Done"),
        }
    }
    assert_eq!(acquired.len(), keys.len(), "every key acquired by someone");
    assert!(
        acquired.values().all(|&n| n == 1),
        "a key acquired twice: {:?}",
        acquired.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    db.drop_database().await;
}

#[tokio::test]
async fn migrate_is_idempotent_and_the_store_keeps_state_in_its_table() {
    let db = TestDatabase::create().await;
    // Several processes starting at once all run it.
    let runs = futures::future::join_all((0..4).map(|_| herald_postgres::migrate(&db.pool))).await;
    assert!(runs.iter().all(Result::is_ok), "{runs:?}");

    let store = PgIdempotencyStore::new(db.pool.clone());
    let Claim::Acquired(token) = store
        .claim("k", Duration::from_secs(30))
        .await
        .expect("claim")
    else {
        panic!("fresh key");
    };
    let (stored, done): (Option<String>, bool) =
        sqlx::query_as("SELECT token, done FROM herald_idempotency_keys WHERE key = 'k'")
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert_eq!((stored.as_deref(), done), (Some(token.0.as_str()), false));
    store
        .complete("k", &token, Duration::from_millis(1))
        .await
        .expect("complete");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        herald_postgres::purge_expired(&db.pool)
            .await
            .expect("purge"),
        1
    );
    db.drop_database().await;
}

#[tokio::test]
async fn the_same_message_twice_books_one_ledger_row() {
    let db = ledger_db().await;
    let handler = Transactional::new(BookPayment::new(0, Duration::ZERO), db.pool.clone());
    let envelope = payment("pay-1");
    let ctx = Context::new(envelope.meta.clone(), 1, "book-payment");

    handler
        .handle(envelope.data.clone(), &ctx)
        .await
        .expect("first delivery");
    handler
        .handle(envelope.data.clone(), &ctx)
        .await
        .expect("second delivery is skipped, not an error");

    assert_eq!(ledger_rows(&db, "pay-1").await, 1);
    assert_eq!(
        handler.inner().calls.load(Ordering::SeqCst),
        1,
        "the duplicate never ran"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn concurrent_duplicates_book_one_ledger_row() {
    let db = ledger_db().await;
    let handler = Arc::new(Transactional::new(
        BookPayment::new(0, Duration::from_millis(200)),
        db.pool.clone(),
    ));
    let envelope = payment("pay-2");
    let results = futures::future::join_all((0..8).map(|_| {
        let handler = handler.clone();
        let envelope = envelope.clone();
        tokio::spawn(async move {
            let ctx = Context::new(envelope.meta.clone(), 1, "book-payment");
            handler.handle(envelope.data, &ctx).await
        })
    }))
    .await;
    for r in results {
        r.expect("task")
            .expect("every duplicate succeeds or is skipped");
    }
    assert_eq!(ledger_rows(&db, "pay-2").await, 1);
    db.drop_database().await;
}

#[tokio::test]
async fn a_failed_attempt_leaves_no_row_and_the_retry_books_once() {
    let db = ledger_db().await;
    let handler = Transactional::new(BookPayment::new(1, Duration::ZERO), db.pool.clone());
    let envelope = payment("pay-3");
    let ctx = Context::new(envelope.meta.clone(), 1, "book-payment");

    assert!(handler.handle(envelope.data.clone(), &ctx).await.is_err());
    assert_eq!(
        ledger_rows(&db, "pay-3").await,
        0,
        "the failed attempt rolled back"
    );
    let processed: i64 = sqlx::query_scalar("SELECT count(*) FROM herald_processed_keys")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(processed, 0, "nor was the key marked processed");

    handler
        .handle(envelope.data.clone(), &ctx)
        .await
        .expect("retry");
    assert_eq!(ledger_rows(&db, "pay-3").await, 1);
    db.drop_database().await;
}

/// Two workers that do not share an idempotency store (as two processes with in-memory
/// stores would not) both receive the same message: the transaction still books it once.
#[tokio::test]
async fn through_workers_a_redelivered_message_books_one_row() {
    let db = ledger_db().await;
    let broker = MemoryBroker::new();
    let envelope = payment("pay-4");
    let producer = Producer::new(broker.clone()).route(PaymentCaptured::NAME, "payments");
    producer.publish_envelope(&envelope).await.expect("publish");
    producer
        .publish_envelope(&envelope)
        .await
        .expect("publish the duplicate");
    // A third message that fails once first, through the worker's retry path.
    producer
        .publish_envelope(&payment("pay-5"))
        .await
        .expect("publish");

    let mut runs = Vec::new();
    for fail_first in [0, 1] {
        let worker = Worker::builder()
            .handler(
                Transactional::new(
                    BookPayment::new(fail_first, Duration::from_millis(50)),
                    db.pool.clone(),
                )
                // The workers' stores are in memory: no claim row to fence with.
                .unfenced(),
            )
            .build();
        let subscriber = broker.subscribe("payments");
        runs.push(tokio::spawn(
            worker.run(subscriber, tokio::time::sleep(Duration::from_secs(2))),
        ));
    }
    for run in runs {
        run.await.expect("worker");
    }
    assert_eq!(ledger_rows(&db, "pay-4").await, 1);
    assert_eq!(ledger_rows(&db, "pay-5").await, 1);
    let stats = broker.stats("payments");
    assert_eq!(
        (stats.ready, stats.delayed, stats.in_flight, stats.dead),
        (0, 0, 0, 0)
    );
    db.drop_database().await;
}

/// A worker whose lease ran out and was taken over cannot commit: the transaction checks
/// its fencing token against the claim row, and the new holder's commits.
#[tokio::test]
async fn a_fenced_transaction_refuses_to_commit_once_its_claim_was_taken_over() {
    let db = ledger_db().await;
    let store = PgIdempotencyStore::new(db.pool.clone());
    let handler = Transactional::new(BookPayment::new(0, Duration::ZERO), db.pool.clone());
    let envelope = payment("pay-6");
    let key = herald_core::claim_key("book-payment", &envelope.meta.idempotency_key);

    let Claim::Acquired(late) = store
        .claim(&key, Duration::from_millis(200))
        .await
        .expect("claim")
    else {
        panic!("fresh key");
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let Claim::Acquired(taker) = store
        .claim(&key, Duration::from_secs(30))
        .await
        .expect("claim")
    else {
        panic!("an expired claim is taken over");
    };

    let late_ctx = Context::new(envelope.meta.clone(), 1, "book-payment").with_lease(&key, late);
    let refused = handler
        .handle(envelope.data.clone(), &late_ctx)
        .await
        .expect_err("the late holder's transaction must not commit");
    assert!(
        matches!(
            refused.source().downcast_ref(),
            Some(herald_core::StoreError::LeaseLost(_))
        ),
        "{refused}"
    );
    assert_eq!(ledger_rows(&db, "pay-6").await, 0, "rolled back");

    let ctx = Context::new(envelope.meta.clone(), 1, "book-payment").with_lease(&key, taker);
    handler
        .handle(envelope.data.clone(), &ctx)
        .await
        .expect("the holder commits");
    assert_eq!(ledger_rows(&db, "pay-6").await, 1);
    db.drop_database().await;
}

/// Through a worker on the PostgreSQL store: the fenced transaction commits under the
/// worker's live claim, and the claim is then done.
#[tokio::test]
async fn through_a_worker_on_the_postgres_store_the_fenced_transaction_commits() {
    let db = ledger_db().await;
    let broker = MemoryBroker::new();
    let producer = Producer::new(broker.clone()).route(PaymentCaptured::NAME, "payments-fenced");
    for i in 0..5 {
        producer
            .publish(PaymentCaptured {
                payment_id: format!("pay-f{i}"),
                cents: 100,
            })
            .await
            .expect("publish");
    }
    let worker = Worker::builder()
        .handler(Transactional::new(
            BookPayment::new(0, Duration::ZERO),
            db.pool.clone(),
        ))
        .idempotency_store(Arc::new(PgIdempotencyStore::new(db.pool.clone())))
        .build();
    let metrics = worker.metrics();
    let report = worker
        .run_until_idle(
            broker.subscribe("payments-fenced"),
            Duration::from_millis(500),
        )
        .await;
    assert!(report.drained);
    assert_eq!(metrics.snapshot().processed, 5);
    for i in 0..5 {
        assert_eq!(ledger_rows(&db, &format!("pay-f{i}")).await, 1);
    }
    let done: i64 = sqlx::query_scalar("SELECT count(*) FROM herald_idempotency_keys WHERE done")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(done, 5);
    db.drop_database().await;
}
