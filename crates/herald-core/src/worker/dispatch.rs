//! One delivery's life: decode, claim, handle, then settle with the broker.

use std::any::Any;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use futures::FutureExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::metrics::{Outcome, WorkerMetrics};
use crate::{
    Claim, Context, DeadLetter, Delivery, Extensions, Handler, HandlerError, Headers,
    IdempotencyStore, LeaseToken, Producer, RawEnvelope, Retry, StoreError, headers,
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

        let key = crate::claim_key(name, &handler.idempotency_key(&envelope));
        let lease = handler.lease();
        let token = match rt.store.claim(&key, lease).await {
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

        // The handler's own token: a child of the worker's (the shutdown deadline), also
        // cancelled when its claim is lost.
        let cancel = rt.cancel.child_token();
        let mut ctx = Context::new(envelope.meta.clone(), failure.attempt, name)
            .with_cancellation(cancel.clone())
            .with_extensions(rt.extensions.clone())
            .with_lease(key.clone(), token.clone());
        if let Some(p) = &rt.producer {
            ctx = ctx.with_producer(p.clone());
        }

        let started = Instant::now();
        let ran = {
            // A panic is caught here, where the claim and the delivery are still in hand,
            // so it is settled as a failure rather than left unsettled.
            let handle = AssertUnwindSafe(handler.handle(envelope.data, &ctx)).catch_unwind();
            tokio::pin!(handle);
            let ran = tokio::select! {
                biased;
                r = &mut handle => Ran::Finished(r),
                () = rt.cancel.cancelled() => Ran::ShutDown,
                () = keep_lease(&*rt.store, &key, &token, lease) => Ran::LeaseLost,
            };
            if let Ran::LeaseLost = ran {
                // Its token first, so work it spawned stops too; a short wait for it to
                // notice, and then the future is dropped. What it returns no longer counts.
                cancel.cancel();
                let _ = tokio::time::timeout(super::CANCEL_GRACE, &mut handle).await;
            }
            ran
        };
        rt.metrics.handler_latency(name, started.elapsed());

        let (reason, permanent) = match ran {
            Ran::ShutDown => {
                release(&*rt.store, &key, &token).await;
                return Settle::Requeue(Duration::ZERO, Outcome::HandedBack);
            }
            Ran::LeaseLost => return lease_lost(&cancel, &key),
            Ran::Finished(Ok(Ok(()))) => {
                if let Err(e) = rt
                    .store
                    .complete(&key, &token, handler.completed_ttl())
                    .await
                {
                    // The effects happened; acking is right. The claim was renewed while
                    // the handler ran, so a lost one means the store lost or dropped it.
                    tracing::warn!(error = %e, key, "could not mark the key done after success");
                }
                return Settle::Ack(Outcome::Processed);
            }
            Ran::Finished(Ok(Err(error))) => {
                // A handler that found its claim gone (e.g. a fenced transaction refused to
                // commit) gives the message back, if the store agrees the claim is gone.
                if matches!(
                    error.source().downcast_ref::<StoreError>(),
                    Some(StoreError::LeaseLost(_))
                ) && matches!(
                    rt.store.renew(&key, &token, lease).await,
                    Err(StoreError::LeaseLost(_))
                ) {
                    return lease_lost(&cancel, &key);
                }
                (error.to_string(), error.is_permanent())
            }
            Ran::Finished(Err(panic)) => {
                rt.metrics.panicked(name);
                (format!("panic: {}", panic_message(&*panic)), false)
            }
        };

        release(&*rt.store, &key, &token).await;
        let policy = handler.retry_policy();
        if permanent {
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

/// How a handler's run ended.
enum Ran {
    /// It returned (or panicked: the `Err`).
    Finished(Result<Result<(), HandlerError>, Box<dyn Any + Send>>),
    /// The shutdown deadline passed first.
    ShutDown,
    /// Its claim was lost first.
    LeaseLost,
}

/// Another worker may hold the key now: stop the handler's work and give the message back,
/// not as an attempt (the key's holder settles it).
fn lease_lost(cancel: &CancellationToken, key: &str) -> Settle {
    cancel.cancel();
    tracing::warn!(
        key,
        "the claim was lost while the handler ran; handler cancelled, message handed back"
    );
    Settle::Requeue(Duration::ZERO, Outcome::LeaseLost)
}

/// Renews the claim every third of the lease while the handler runs; returns once it is
/// lost. A store that does not answer is tried again until the lease has surely run out.
async fn keep_lease(store: &dyn IdempotencyStore, key: &str, token: &LeaseToken, lease: Duration) {
    let every = (lease / 3).max(Duration::from_millis(10));
    let mut held_until = Instant::now() + lease;
    loop {
        tokio::time::sleep(every).await;
        let asked = Instant::now();
        match store.renew(key, token, lease).await {
            Ok(()) => held_until = asked + lease,
            Err(StoreError::LeaseLost(_)) => return,
            Err(e) if Instant::now() + every >= held_until => {
                tracing::warn!(error = %e, key, "could not renew the claim before it ran out");
                return;
            }
            Err(e) => tracing::warn!(error = %e, key, "could not renew the claim; trying again"),
        }
    }
}

/// The message of a panic's payload (`panic!` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a payload that is not a string)".to_owned())
}

async fn release(store: &dyn IdempotencyStore, key: &str, token: &LeaseToken) {
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
                    let run = AssertUnwindSafe(h.run(&raw, failure, rt)).catch_unwind();
                    match run.instrument(span).await {
                        Ok(decision) => (h.name(), decision),
                        // Outside the handler itself (its key function, say): it would
                        // panic again, every time.
                        Err(panic) => (
                            h.name(),
                            failure.dead_letter(
                                Some(h.name()),
                                format!("panic: {}", panic_message(&*panic)),
                                true,
                            ),
                        ),
                    }
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
