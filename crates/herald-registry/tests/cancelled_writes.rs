//! A registration whose request goes away mid-flight (the client disconnects or times out,
//! so the server drops the handler's future) must end its transaction itself: dropped
//! between sending COMMIT and reading its answer, it would leave sqlx to send a ROLLBACK
//! after the COMMIT, outside any transaction (PostgreSQL's warning "there is no transaction
//! in progress", seen in the 64-connection registration benchmark), with the client never
//! told whether the version exists.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Backend, TestDb};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// PostgreSQL's notices, as sqlx reports them (target `sqlx::postgres::notice`).
#[derive(Clone, Default)]
struct Notices(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Notices {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::postgres::notice" {
            return;
        }
        struct Message(String);
        impl Visit for Message {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "message" {
                    self.0 = value.to_owned();
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0.lock().expect("notices").push(message.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registrations_cut_off_mid_flight_never_commit_outside_their_transaction() {
    let notices = Notices::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(notices.clone()))
        .expect("the only subscriber of this test binary");

    let db = TestDb::new(Backend::Postgres).await;
    // The check sees the warning when it happens: a ROLLBACK with no transaction open.
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    sqlx::query("ROLLBACK")
        .execute(&pool)
        .await
        .expect("rollback");
    pool.close().await;
    let seen = std::mem::take(&mut *notices.0.lock().expect("notices"));
    assert!(
        seen.iter()
            .any(|n| n.contains("no transaction in progress")),
        "the notice check must see PostgreSQL's warning; it saw {seen:?}"
    );

    let server = common::serve(db.open().await, herald_registry::Settings::default()).await;
    let url = |subject: &str| format!("{}/subjects/{subject}/versions", server.base);

    // Clients that give up after 0.2 to 8 ms: some requests are cut off before the
    // transaction begins, some inside it, some while COMMIT is on the wire.
    let mut cut = tokio::task::JoinSet::new();
    for i in 0..3000u64 {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_micros(200 + (i * 7919) % 7800))
            .build()
            .expect("client");
        let url = url(&format!("cut-{}", i % 16));
        let body = serde_json::json!({
            "schemaType": "JSON",
            "schema": serde_json::json!({"type": "object", "title": format!("v{i}")}).to_string(),
        });
        cut.spawn(async move {
            let _ = client.post(url).json(&body).send().await;
        });
        if cut.len() >= 32 {
            cut.join_next().await;
        }
    }
    while cut.join_next().await.is_some() {}

    // Every connection back in use, so any ROLLBACK left queued on one is sent now.
    let reads = futures::future::join_all((0..64).map(|_| server.get("/subjects"))).await;
    assert!(reads.iter().all(|r| r.status == 200));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reads = futures::future::join_all((0..64).map(|_| server.get("/subjects"))).await;
    assert!(reads.iter().all(|r| r.status == 200));

    // What was committed is whole: each subject's versions are 1..=n, each with a schema.
    for s in 0..16 {
        let versions = server.get(&format!("/subjects/cut-{s}/versions")).await;
        if versions.status == 404 {
            continue;
        }
        let versions: Vec<i64> = serde_json::from_value(versions.body).expect("versions");
        assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>());
        for v in versions {
            let r = server.get(&format!("/subjects/cut-{s}/versions/{v}")).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    }

    let notices = notices.0.lock().expect("notices").clone();
    let outside: Vec<&String> = notices
        .iter()
        .filter(|n| n.contains("no transaction in progress"))
        .collect();
    assert!(
        outside.is_empty(),
        "{} statements ended a transaction that was not open (of {} notices): {outside:?}",
        outside.len(),
        notices.len()
    );
}
