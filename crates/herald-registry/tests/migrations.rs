//! Databases migrated by the hand-written embedded source the store used before
//! `sqlx::migrate!` open as they are: same versions, descriptions and checksums. Both stores.

mod common;

use std::borrow::Cow;

use common::{Backend, TestDb};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::SqliteConnectOptions;

/// The migrations as the store embedded them before (`store::Embedded`).
fn embedded_before(backend: Backend) -> Migrator {
    let sql = match backend {
        Backend::Postgres => include_str!("../../../migrations/postgres/0001_initial.sql"),
        Backend::Sqlite => include_str!("../../../migrations/sqlite/0001_initial.sql"),
    };
    let initial = Migration::new(
        1,
        "initial".into(),
        MigrationType::Simple,
        sql.into(),
        false,
    );
    Migrator {
        migrations: Cow::Owned(vec![initial]),
        ..Migrator::DEFAULT
    }
}

async fn migrated_before_opens(backend: Backend) {
    let db = TestDb::new(backend).await;
    let old = embedded_before(backend);
    match backend {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
            old.run(&pool).await.expect("old migrations");
            pool.close().await;
        }
        Backend::Sqlite => {
            let opts: SqliteConnectOptions = db.url.parse().expect("url");
            let pool = sqlx::SqlitePool::connect_with(opts.create_if_missing(true)).await;
            let pool = pool.expect("connect");
            old.run(&pool).await.expect("old migrations");
            pool.close().await;
        }
    }
    // sqlx refuses a database whose applied migrations' checksums differ from its own.
    let store = herald_registry::store::connect(&db.url, 4).await;
    let store = store.expect("a database migrated before opens");
    assert!(!store.cluster_id().await.expect("cluster id").is_empty());
}

#[tokio::test]
async fn sqlite_database_migrated_before_opens() {
    migrated_before_opens(Backend::Sqlite).await
}

#[tokio::test]
async fn postgres_database_migrated_before_opens() {
    migrated_before_opens(Backend::Postgres).await
}
