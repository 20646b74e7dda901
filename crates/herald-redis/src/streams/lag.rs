//! Consumer lag from `XINFO GROUPS`, exported like the Kafka subscriber's
//! `herald_kafka_consumer_lag`.

use herald_core::TransportError;
use redis::aio::ConnectionManager;
use redis::streams::StreamInfoGroupsReply;

use super::transport;

/// Where a consumer group stands on one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupLag {
    /// Entries added to the stream and not yet delivered to the group; `None` when Redis
    /// cannot tell (entries were deleted or trimmed between the group's position and the end).
    pub lag: Option<u64>,
    /// Entries delivered to the group's consumers and not acked yet.
    pub pending: u64,
}

/// Reads the group's lag and pending count and sets the gauges
/// `herald_redis_consumer_lag{stream,group}` (when known) and
/// `herald_redis_consumer_pending{stream,group}`.
pub(crate) async fn read(
    conn: &mut ConnectionManager,
    stream: &str,
    group: &str,
) -> Result<GroupLag, TransportError> {
    let reply: StreamInfoGroupsReply = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(stream)
        .query_async(conn)
        .await
        .map_err(transport)?;
    let info = reply
        .groups
        .into_iter()
        .find(|g| g.name == group)
        .ok_or_else(|| {
            TransportError::Other(format!("redis: no consumer group `{group}` on `{stream}`"))
        })?;
    let lag = GroupLag {
        lag: info.lag.map(|l| l as u64),
        pending: info.pending as u64,
    };
    let labels = [("stream", stream.to_owned()), ("group", group.to_owned())];
    if let Some(l) = lag.lag {
        metrics::gauge!("herald_redis_consumer_lag", &labels).set(l as f64);
    }
    metrics::gauge!("herald_redis_consumer_pending", &labels).set(lag.pending as f64);
    Ok(lag)
}
