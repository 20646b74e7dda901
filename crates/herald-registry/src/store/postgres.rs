//! PostgreSQL, the production backend. Writers of one subject serialise on the subject's row
//! (`SELECT … FOR UPDATE`) and mode switches on advisory locks; ids come from a sequence;
//! every write announces what it changed with NOTIFY (in its transaction) so every process
//! sharing the database hears it on its [`Feed`].

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener};
use sqlx::{PgConnection, PgPool, Postgres, Row};

use super::sql::{Dialect, SqlStore, WriteTx, pool_options};
use super::*;

/// The PostgreSQL store.
pub type PgStore = SqlStore<Pg>;

/// Channel on which processes tell each other what their writes changed
/// ([`Change::payload`]).
pub const CHANNEL: &str = "herald_registry";

/// Wait between attempts to listen again after the connection was lost.
const RELISTEN_DELAY: Duration = Duration::from_millis(500);

/// The advisory lock key of the mode of subject `$1` (`''`: the global mode).
const MODE_LOCK: &str = "hashtextextended('herald-registry mode ' || $1, 0)";

/// The PostgreSQL [`Dialect`].
#[derive(Debug)]
pub struct Pg;

#[async_trait]
impl Dialect for Pg {
    type DB = Postgres;
    const BACKEND: &'static str = "postgres";
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const GREATEST: &'static str = "GREATEST";
    const ALL_DELETED: &'static str = "bool_and(deleted)";

    async fn open(url: &str, pool_size: u32) -> Result<(PgPool, Self)> {
        let opts: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| Error::Store(format!("invalid database URL: {e}")))?;
        let pool = pool_options(pool_size).connect_with(opts).await?;
        sqlx::migrate!("../../migrations/postgres")
            .run(&pool)
            .await?;
        Ok((pool, Pg))
    }

    async fn follow(&self, pool: &PgPool, feed: &Arc<Feed>) -> Result<()> {
        let listener = listen(pool).await?;
        tokio::spawn(follow(listener, pool.clone(), Arc::downgrade(feed)));
        Ok(())
    }

    async fn begin_write(&self, pool: &PgPool) -> Result<WriteTx<Postgres>> {
        Ok(WriteTx {
            tx: pool.begin().await?,
            writer: None,
        })
    }

    async fn announce(conn: &mut PgConnection, changes: &[Change]) -> Result<()> {
        for c in changes {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(c.payload())
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    async fn lock_mode(conn: &mut PgConnection, subject: &str) -> Result<()> {
        sqlx::query(&format!("SELECT pg_advisory_xact_lock({MODE_LOCK})"))
            .bind(subject)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn share_modes(conn: &mut PgConnection, subject: &str) -> Result<()> {
        let global = MODE_LOCK.replace("$1", "''");
        sqlx::query(&format!(
            "SELECT pg_advisory_xact_lock_shared({global}), pg_advisory_xact_lock_shared({MODE_LOCK})"
        ))
        .bind(subject)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn next_schema_id(conn: &mut PgConnection) -> Result<i64> {
        let row = sqlx::query("SELECT nextval('schema_id_seq')")
            .fetch_one(&mut *conn)
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn raise_schema_id(conn: &mut PgConnection, id: i64) -> Result<()> {
        sqlx::query(
            "SELECT setval('schema_id_seq', GREATEST($1, (SELECT last_value FROM schema_id_seq)))",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Report a lost connection at once (followers must stop trusting what they heard then),
    // rather than after reconnecting.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Tells `feed` the changes other processes announce, until the store is dropped. While the
/// connection is lost, changes go unheard: the feed says so, and says when a new connection
/// listens that changes may have been missed.
async fn follow(mut listener: PgListener, pool: PgPool, feed: Weak<Feed>) {
    loop {
        let msg = listener.try_recv().await;
        let Some(f) = feed.upgrade() else { return };
        match msg {
            Ok(Some(n)) => match Change::from_payload(n.payload()) {
                Some(change) => f.changed(&[change]),
                None => f.missed(),
            },
            Ok(None) | Err(_) => {
                if let Err(e) = msg {
                    tracing::warn!(error = %e, "registry listener failed; listening again");
                }
                f.lost();
                drop(f);
                listener = loop {
                    match listen(&pool).await {
                        Ok(l) => break l,
                        Err(e) => {
                            tracing::warn!(error = %e, "registry listener cannot reconnect; retrying");
                            tokio::time::sleep(RELISTEN_DELAY).await;
                        }
                    }
                    if feed.strong_count() == 0 {
                        return;
                    }
                };
                let Some(f) = feed.upgrade() else { return };
                f.missed();
            }
        }
    }
}
