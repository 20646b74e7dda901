//! A throwaway database per test run, on the real PostgreSQL server.
//!
//! The one helper every crate's tests use for PostgreSQL. The server is
//! `postgres://postgres@127.0.0.1:5432/postgres` unless `HERALD_POSTGRES_URL` says otherwise;
//! a database `herald_test_<random>` is created on it (migrated for herald-postgres's tables
//! by [`TestDatabase::create`], empty with [`TestDatabase::empty`]) and dropped when the
//! [`TestDatabase`] is dropped (or by [`TestDatabase::drop_database`]).

mod effects;

pub use effects::{
    Ping, RecordEffect, claims_settled, count_effects, create_effects_table, effect_worker,
};

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

/// The server URL tests use.
pub fn server_url() -> String {
    std::env::var("HERALD_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, migrated database, dropped with this value.
#[derive(Debug)]
pub struct TestDatabase {
    pub pool: PgPool,
    pub name: String,
    /// The URL of this database (for a child process).
    pub url: String,
    admin: PgConnectOptions,
    dropped: bool,
}

impl TestDatabase {
    /// Creates and migrates `herald_test_<random>` (herald-postgres's tables).
    ///
    /// # Panics
    /// When the server cannot be reached: the message says to run `scripts/services`.
    pub async fn create() -> TestDatabase {
        let db = Self::empty().await;
        crate::migrate(&db.pool)
            .await
            .unwrap_or_else(|e| panic!("migrating {}: {e}", db.name));
        db
    }

    /// Creates `herald_test_<random>` with no tables (for a schema of the test's own, such as
    /// the registry's).
    ///
    /// # Panics
    /// When the server cannot be reached: the message says to run `scripts/services`.
    pub async fn empty() -> TestDatabase {
        let url = server_url();
        let admin = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("HERALD_POSTGRES_URL `{url}` is not a URL: {e}"));
        let mut conn = match tokio::time::timeout(Duration::from_secs(10), admin.connect()).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => panic!(
                "cannot reach PostgreSQL at {url} ({e}): start it with `scripts/services` (or set HERALD_POSTGRES_URL)"
            ),
            Err(_) => panic!(
                "no answer from PostgreSQL at {url} within 10 s: start it with `scripts/services` (or set HERALD_POSTGRES_URL)"
            ),
        };
        let name = format!("herald_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = conn.close().await;

        let options = admin.clone().database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options.clone())
            .await
            .unwrap_or_else(|e| panic!("connecting to {name}: {e}"));
        let mut db_url = url.clone();
        if let Some(slash) = db_url.rfind('/').filter(|i| *i > "postgres://".len()) {
            let query = db_url[slash..]
                .find('?')
                .map(|q| db_url[slash + q..].to_owned());
            db_url.truncate(slash + 1);
            db_url.push_str(&name);
            if let Some(q) = query {
                db_url.push_str(&q);
            }
        } else {
            db_url = format!("{}/{name}", db_url.trim_end_matches('/'));
        }
        TestDatabase {
            pool,
            name,
            url: db_url,
            admin,
            dropped: false,
        }
    }

    /// Drops the database now (closing the pool first).
    pub async fn drop_database(mut self) {
        self.pool.close().await;
        drop_db(&self.admin, &self.name).await;
        self.dropped = true;
    }
}

async fn drop_db(admin: &PgConnectOptions, name: &str) {
    match admin.connect().await {
        Ok(mut conn) => {
            if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
            {
                eprintln!("could not drop test database {name}: {e}");
            }
            let _ = conn.close().await;
        }
        Err(e) => eprintln!("could not drop test database {name}: {e}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // A test that panicked still removes its database: on a thread of its own, since
        // this may run inside (or outside) a runtime.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_db(&admin, &name));
            }
        })
        .join();
    }
}
