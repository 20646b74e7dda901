//! Redis connections that come back by themselves after a broken connection (redis-rs'
//! `ConnectionManager` reconnects with backoff; the failed command is an error the caller
//! logs and retries).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub type Conn = ConnectionManager;

/// A self-healing connection whose commands fail after `response_timeout` (a BRPOP's
/// connection needs more than its own timeout).
pub async fn connect(
    client: &redis::Client,
    response_timeout: Duration,
) -> Result<Conn, redis::RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_max_delay(Duration::from_secs(5));
    ConnectionManager::new_with_config(client.clone(), config).await
}
