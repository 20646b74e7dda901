//! One delivery's life: decode, claim, handle, then settle with the broker.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::metrics::{Outcome, WorkerMetrics};
use crate::{
    Claim, Context, DeadLetter, Delivery, Extensions, Handler, Headers, IdempotencyStore, Producer,
    RawEnvelope, Retry, StoreError, headers,
};

/// What to do with a delivery once its handler has had its say.
#[derive(Debug)]
pub(crate) enum Settle {
    Ack(Outcome),
    Retry(Retry),
    Requeue(Duration, Outcome),
    DeadLetter(DeadLetter),
}

/// What every delivery of a worker shares.
pub(crate) struct Runtime {
    pub handlers: HashMap<&'static str, Arc<dyn Dispatch>>,
    pub store: Arc<dyn IdempotencyStore>,
    pub producer: Option<Producer>,
    pub extensions: Arc<Extensions>,
    pub metrics: Arc<WorkerMetrics>,
    pub validate: bool,
    /// How long to wait before looking again at a key another worker holds.
    pub in_progress_delay: Duration,
    pub cancel: CancellationToken,
}

/// A handler with its event type erased, so one worker can run handlers of many types.
#[async_trait]
pub(crate) trait Dispatch: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    async fn run(&self, raw: &RawEnvelope<'_>, failure: Failure<'_>, rt: &Runtime) -> Settle;
}

/// What the worker knows of a delivery, to build retry and dead-letter headers.
#[derive(Clone, Copy)]
pub(crate) struct Failure<'a> {
    pub attempt: u32,
    pub headers: &'a Headers,
    pub source: &'a str,
}

impl Failure<'_> {
    fn headers(&self, handler: Option<&str>, error: &str) -> Headers {
        let now = Utc::now().to_rfc3339();
        let mut h = self.headers.clone();
        h.entry(headers::FIRST_FAILURE_AT.into())
            .or_insert_with(|| now.clone());
        h.insert(headers::LAST_FAILURE_AT.into(), now);
        h.insert(headers::ERROR.into(), error.to_owned());
        if let Some(handler) = handler {
            h.insert(headers::HANDLER.into(), handler.to_owned());
        }
        h
    }

    pub fn retry(&self, handler: &str, error: &str, delay: Duration) -> Settle {
        let mut h = self.headers(Some(handler), error);
        h.insert(headers::ATTEMPT.into(), (self.attempt + 1).to_string());
        Settle::Retry(Retry { delay, headers: h })
    }

    pub fn dead_letter(&self, handler: Option<&str>, reason: String, permanent: bool) -> Settle {
        let mut h = self.headers(handler, &reason);
        h.insert(headers::ATTEMPTS.into(), self.attempt.to_string());
        h.insert(headers::PERMANENT.into(), permanent.to_string());
        h.insert(headers::ORIGIN.into(), self.source.to_owned());
        Settle::DeadLetter(DeadLetter { reason, headers: h })
    }
}

pub(crate) struct Runner<H>(pub H);

#[async_trait]
impl<H: Handler> Dispatch for Runner<H> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    async fn run(&self, raw: &RawEnvelope<'_>, failure: Failure<'_>, rt: &Runtime) -> Settle {
        let handler = &self.0;
        let name = handler.name();

        #[cfg(feature = "validation")]
        if rt.validate
            && let Err(e) =
                crate::validation::validate_raw::<H::Event>(raw.data.get(), raw.meta.schema_version)
        {
            return failure.dead_letter(Some(name), e.to_string(), true);
        }
        #[cfg(not(feature = "validation"))]
        let _ = rt.validate;

        // A payload that does not decode never will: dead-letter it now, intact.
        let envelope = match raw.decode::<H::Event>() {
            Ok(e) => e,
            Err(e) => return failure.dead_letter(Some(name), e.to_string(), true),
        };

        let key = format!("{name}:{}", handler.idempotency_key(&envelope));
        let token = match rt.store.claim(&key, handler.lease()).await {
            Ok(Claim::Acquired(token)) => token,
            Ok(Claim::Done) => {
                tracing::info!(key, "duplicate: already processed, skipped");
                return Settle::Ack(Outcome::DuplicateSkipped);
            }
            Ok(Claim::InProgress) => {
                tracing::debug!(key, "in progress elsewhere; requeued");
                return Settle::Requeue(rt.in_progress_delay, Outcome::RequeuedInProgress);
            }
            Err(e) => {
                // Without a claim the handler must not run; the message waits, not counted
                // as an attempt.
                tracing::warn!(error = %e, "idempotency store unavailable; message requeued");
                return Settle::Requeue(rt.in_progress_delay, Outcome::RequeuedInProgress);
            }
        };

        let mut ctx = Context::new(envelope.meta.clone(), failure.attempt, name)
            .with_cancellation(rt.cancel.clone())
            .with_extensions(rt.extensions.clone());
        if let Some(p) = &rt.producer {
            ctx = ctx.with_producer(p.clone());
        }

        let started = Instant::now();
        let result = tokio::select! {
            biased;
            r = handler.handle(envelope.data, &ctx) => Some(r),
            _ = rt.cancel.cancelled() => None,
        };
        rt.metrics.handler_latency(name, started.elapsed());

        match result {
            None => {
                release(&*rt.store, &key, &token).await;
                Settle::Requeue(Duration::ZERO, Outcome::HandedBack)
            }
            Some(Ok(())) => {
                if let Err(e) = rt
                    .store
                    .complete(&key, &token, handler.completed_ttl())
                    .await
                {
                    // The effects happened; acking is right. A lost lease means another
                    // worker may have run it too: the lease was shorter than the handler.
                    tracing::warn!(error = %e, key, "could not mark the key done after success");
                }
                Settle::Ack(Outcome::Processed)
            }
            Some(Err(error)) => {
                release(&*rt.store, &key, &token).await;
                let policy = handler.retry_policy();
                let reason = error.to_string();
                if error.is_permanent() {
                    tracing::warn!(%reason, "permanent failure; dead-lettered");
                    failure.dead_letter(Some(name), reason, true)
                } else if policy.should_retry(failure.attempt) {
                    let delay = policy.delay(failure.attempt);
                    tracing::info!(%reason, ?delay, "failed; retry scheduled");
                    failure.retry(name, &reason, delay)
                } else {
                    tracing::warn!(%reason, attempts = failure.attempt, "retries exhausted; dead-lettered");
                    failure.dead_letter(
                        Some(name),
                        format!(
                            "retries exhausted after {} attempts: {reason}",
                            failure.attempt
                        ),
                        false,
                    )
                }
            }
        }
    }
}

async fn release(store: &dyn IdempotencyStore, key: &str, token: &crate::LeaseToken) {
    match store.release(key, token).await {
        Ok(()) => {}
        // Someone else holds it now; nothing of ours to give back.
        Err(StoreError::LeaseLost(_)) => {}
        // The lease will expire on its own.
        Err(e) => tracing::warn!(error = %e, key, "could not release the key"),
    }
}

/// Processes one delivery and settles it with the broker.
pub(crate) async fn process(rt: &Runtime, delivery: Delivery) {
    let attempt = delivery.message.attempt();
    if rt.cancel.is_cancelled() {
        // Shutdown passed its deadline before this one started: hand it back untouched.
        return settle(
            rt,
            "-",
            delivery,
            Settle::Requeue(Duration::ZERO, Outcome::HandedBack),
        )
        .await;
    }
    let (handler_name, decision) = {
        let failure = Failure {
            attempt,
            headers: &delivery.message.headers,
            source: &delivery.message.source,
        };
        match RawEnvelope::parse(&delivery.message.payload) {
            Err(e) => ("-", failure.dead_letter(None, e.to_string(), true)),
            Ok(raw) => match rt.handlers.get(raw.meta.event_type.as_str()) {
                None => (
                    "-",
                    failure.dead_letter(
                        None,
                        format!(
                            "no handler for event type `{}` in this worker",
                            raw.meta.event_type
                        ),
                        true,
                    ),
                ),
                Some(h) => {
                    let span = tracing::info_span!(
                        "herald.handle",
                        handler = h.name(),
                        event_id = %raw.meta.event_id,
                        event_type = %raw.meta.event_type,
                        correlation_id = %raw.meta.correlation_id,
                        attempt,
                    );
                    (h.name(), h.run(&raw, failure, rt).instrument(span).await)
                }
            },
        }
    };
    settle(rt, handler_name, delivery, decision).await;
}

async fn settle(rt: &Runtime, handler: &'static str, delivery: Delivery, decision: Settle) {
    let (outcome, result) = match decision {
        Settle::Ack(outcome) => (outcome, delivery.ack().await),
        Settle::Retry(retry) => (Outcome::Retried, delivery.retry(retry).await),
        Settle::Requeue(delay, outcome) => (outcome, delivery.requeue(delay).await),
        Settle::DeadLetter(dl) => (Outcome::DeadLettered, delivery.dead_letter(dl).await),
    };
    match result {
        Ok(()) => rt.metrics.count(handler, outcome),
        // The broker will deliver it again (unacked); idempotency absorbs the duplicate.
        Err(e) => tracing::error!(error = %e, ?outcome, "could not settle the delivery"),
    }
}
