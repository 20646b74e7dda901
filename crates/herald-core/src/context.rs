use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{Envelope, EnvelopeMeta, Event, Extensions, LeaseToken, Producer, PublishError};

/// What a handler knows besides its event: the envelope's metadata, the attempt, a
/// producer that propagates correlation, shared extensions, and a shutdown signal.
#[derive(Debug, Clone)]
pub struct Context {
    meta: EnvelopeMeta,
    attempt: u32,
    handler: &'static str,
    producer: Option<Producer>,
    cancel: CancellationToken,
    extensions: Arc<Extensions>,
    /// The claimed key and the token that holds it, when a worker runs the handler.
    lease: Option<(String, LeaseToken)>,
}

impl Context {
    /// A context for `meta`; the worker builds these. Public so handlers can be unit tested.
    pub fn new(meta: EnvelopeMeta, attempt: u32, handler: &'static str) -> Self {
        Context {
            meta,
            attempt,
            handler,
            producer: None,
            cancel: CancellationToken::new(),
            extensions: Arc::default(),
            lease: None,
        }
    }

    pub fn with_producer(mut self, producer: Producer) -> Self {
        self.producer = Some(producer);
        self
    }

    pub fn with_cancellation(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    pub fn with_extensions(mut self, extensions: Arc<Extensions>) -> Self {
        self.extensions = extensions;
        self
    }

    /// The idempotency claim the handler runs under: the key claimed in the store and the
    /// token holding it (the worker sets it).
    pub fn with_lease(mut self, key: impl Into<String>, token: LeaseToken) -> Self {
        self.lease = Some((key.into(), token));
        self
    }

    /// The fencing token of the claim this handler runs under: while the handler runs the
    /// worker renews it, and a write that must not happen once another worker took the key
    /// over can check it in the same transaction (as herald-postgres's `Transactional`
    /// does). `None` outside a worker.
    pub fn lease_token(&self) -> Option<&LeaseToken> {
        self.lease.as_ref().map(|(_, token)| token)
    }

    /// The key claimed in the idempotency store ([`crate::claim_key`] of the handler and
    /// the event's idempotency key). `None` outside a worker.
    pub fn claimed_key(&self) -> Option<&str> {
        self.lease.as_ref().map(|(key, _)| key.as_str())
    }

    /// The metadata of the event being handled.
    pub fn meta(&self) -> &EnvelopeMeta {
        &self.meta
    }

    pub fn event_id(&self) -> Uuid {
        self.meta.event_id
    }

    pub fn correlation_id(&self) -> Uuid {
        self.meta.correlation_id
    }

    /// 1 for the first delivery, 2 for the first retry, ...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The handler's name.
    pub fn handler(&self) -> &'static str {
        self.handler
    }

    /// Cancelled when the worker's shutdown deadline passes, or when the handler's claim was
    /// lost (another worker took the key over): long handlers should stop.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// A shared value added to the worker with `WorkerBuilder::extension`.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    /// Publishes an event caused by the one being handled: same correlation id, causation
    /// id = this event's id.
    pub async fn publish<E: Event>(&self, event: E) -> Result<EnvelopeMeta, PublishError> {
        let producer = self.producer.as_ref().ok_or_else(|| {
            PublishError::Transport(crate::TransportError::Other(
                "this worker has no producer: add one with WorkerBuilder::producer".into(),
            ))
        })?;
        let envelope = Envelope::new(event).caused_by(&self.meta);
        producer.publish_envelope(&envelope).await?;
        Ok(envelope.meta)
    }
}
