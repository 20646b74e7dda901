//! Names of the headers herald sets on messages. One name for one thing across transports.

/// The attempt number of this delivery, starting at 1.
pub const ATTEMPT: &str = "herald-attempt";
/// The event type, so a consumer can route without parsing the payload.
pub const EVENT_TYPE: &str = "herald-event-type";
/// The schema version of the payload's data.
pub const SCHEMA_VERSION: &str = "herald-schema-version";
/// The partition key, for transports whose native key is taken by routing (AMQP).
pub const PARTITION_KEY: &str = "herald-partition-key";
/// The event id (UUIDv7).
pub const EVENT_ID: &str = "herald-event-id";
/// The aggregate the event belongs to.
pub const AGGREGATE_ID: &str = "herald-aggregate-id";
/// When the event was created (RFC 3339, UTC).
pub const TIMESTAMP: &str = "herald-timestamp";
/// What idempotent handlers deduplicate on.
pub const IDEMPOTENCY_KEY: &str = "herald-idempotency-key";
/// Correlation id, shared by every event caused by one original request.
pub const CORRELATION_ID: &str = "herald-correlation-id";
/// The event id of the event whose handler published this one.
pub const CAUSATION_ID: &str = "herald-causation-id";
/// Why the last attempt failed (set on retries and dead letters).
pub const ERROR: &str = "herald-error";
/// Whether the failure was permanent (`true`) or retries ran out (`false`).
pub const PERMANENT: &str = "herald-permanent";
/// The handler that failed.
pub const HANDLER: &str = "herald-handler";
/// How many attempts were made before the message was dead-lettered.
pub const ATTEMPTS: &str = "herald-attempts";
/// RFC 3339 time of the first failure.
pub const FIRST_FAILURE_AT: &str = "herald-first-failure-at";
/// RFC 3339 time of the last failure.
pub const LAST_FAILURE_AT: &str = "herald-last-failure-at";
/// Where the message was consumed from before it was dead-lettered, for replay.
pub const ORIGIN: &str = "herald-origin";
