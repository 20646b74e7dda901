//! One message, from receipt to settlement: checks (malformed, unknown task, expired,
//! chord), the ETA hold, idempotency, the run within its limits, then the result, the
//! retry or the failure, and what comes next.

use std::sync::Arc;
use std::time::Duration;

use herald_core::{Claim, LeaseToken};
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Idempotency, Shared, bump, canvas};
use crate::backend::{ExceptionInfo, ResultMeta};
use crate::broker::{Acker, Delivery};
use crate::protocol::{TaskMessage, format_time};
use crate::task::{RetryRequest, Task, TaskError, TaskRequest};

/// Settles a delivery; a broker failure is logged (the message comes back, and the
/// idempotency store, when set, keeps its effect single).
async fn settle(acker: Acker, how: Settle) {
    let result = match how {
        Settle::Ack => acker.ack().await,
        Settle::Drop => acker.reject(false).await,
        Settle::Requeue => acker.reject(true).await,
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, ?how, "settling a delivery failed");
    }
}

#[derive(Debug, Clone, Copy)]
enum Settle {
    Ack,
    Drop,
    Requeue,
}

fn expired(message: &TaskMessage) -> bool {
    message.expires().is_some_and(|t| t <= chrono::Utc::now())
}

/// `taken` counts the message against the prefetch window until it is settled or held.
pub(super) async fn handle(shared: Arc<Shared>, delivery: Delivery, taken: OwnedSemaphorePermit) {
    let Delivery {
        message,
        queue,
        acker,
    } = delivery;
    let message = match message {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(queue, "{e}; the message is dropped");
            bump(&shared.counters.rejected);
            settle(acker, Settle::Drop).await;
            return;
        }
    };
    let h = &message.headers;
    let Some(task) = shared.registry.get(&h.task).cloned() else {
        tracing::error!(queue, task = %h.task, task_id = %h.id,
            "received an unregistered task; rejected and stored as FAILURE NotRegistered");
        let exc = ExceptionInfo {
            exc_type: "NotRegistered".to_owned(),
            exc_message: vec![Value::String(h.task.clone())],
            exc_module: "celery.exceptions".to_owned(),
        };
        shared.store(&ResultMeta::failure(&h.id, &exc, None)).await;
        bump(&shared.counters.rejected);
        settle(acker, Settle::Drop).await;
        return;
    };
    if let Some(ev) = &shared.events {
        ev.send(
            "task-received",
            json!({"uuid": h.id, "name": h.task, "args": h.argsrepr, "kwargs": h.kwargsrepr,
                   "root_id": h.root_id, "parent_id": h.parent_id, "retries": h.retries,
                   "eta": h.eta, "expires": h.expires}),
        )
        .await;
    }
    let mut taken = Some(taken);
    if let Some(eta) = message.eta()
        && let Ok(wait) = (eta - chrono::Utc::now()).to_std()
    {
        // Held aside: other messages are taken meanwhile, and this one stays unacked (on
        // Redis, past the visibility timeout it is delivered again: kombu's caveat).
        drop(taken.take());
        tracing::debug!(task_id = %message.headers.id, ?wait, "held until its eta");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.stop.cancelled() => {
                settle(acker, Settle::Requeue).await;
                return;
            }
        }
    }
    let slot = shared
        .slots
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    if expired(&message) {
        revoke_expired(&shared, &message).await;
        settle(acker, Settle::Ack).await;
        return;
    }
    run(&shared, &task, message, &queue, acker).await;
    drop((slot, taken));
}

async fn revoke_expired(shared: &Shared, message: &TaskMessage) {
    let id = &message.headers.id;
    tracing::info!(task = %message.headers.task, task_id = %id, "expired; stored as REVOKED");
    shared.store(&ResultMeta::revoked(id, "expired")).await;
    bump(&shared.counters.revoked);
    if let Some(ev) = &shared.events {
        ev.send(
            "task-revoked",
            json!({"uuid": id, "terminated": false, "signum": null, "expired": true}),
        )
        .await;
    }
}

/// Keeps the idempotency claim alive while the task runs.
struct Claimed {
    idem: Idempotency,
    key: String,
    token: LeaseToken,
    renewer: tokio::task::JoinHandle<()>,
}

impl Claimed {
    async fn finish(self, done: bool) {
        self.renewer.abort();
        let result = if done {
            self.idem
                .store
                .complete(&self.key, &self.token, self.idem.ttl)
                .await
        } else {
            self.idem.store.release(&self.key, &self.token).await
        };
        if let Err(e) = result {
            tracing::warn!(key = %self.key, error = %e, "idempotency store: finishing the claim failed");
        }
    }
}

enum Guard {
    Run(Option<Claimed>),
    /// Done already, or held by another worker, or the store failed: settled here.
    Skip,
}

async fn claim(shared: &Shared, message: &TaskMessage, acker: &mut Option<Acker>) -> Guard {
    let Some(idem) = shared.idempotency.clone() else {
        return Guard::Run(None);
    };
    let key = format!("celery:{}", message.headers.id);
    match idem.store.claim(&key, idem.lease).await {
        Ok(Claim::Acquired(token)) => {
            let renewer = {
                let (idem, key, token) = (idem.clone(), key.clone(), token.clone());
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(idem.lease / 3).await;
                        if let Err(e) = idem.store.renew(&key, &token, idem.lease).await {
                            tracing::warn!(key, error = %e, "idempotency lease not renewed");
                            return;
                        }
                    }
                })
            };
            Guard::Run(Some(Claimed {
                idem,
                key,
                token,
                renewer,
            }))
        }
        Ok(Claim::Done) => {
            tracing::info!(task_id = %message.headers.id, "already done (idempotency store); skipped");
            bump(&shared.counters.skipped);
            if let Some(a) = acker.take() {
                settle(a, Settle::Ack).await;
            }
            Guard::Skip
        }
        other => {
            if let Err(e) = &other {
                tracing::warn!(key, error = %e, "idempotency store failed; the message waits");
            } else {
                tracing::info!(key, "running on another worker; the message waits");
            }
            if let Some(a) = acker.take() {
                tokio::time::sleep(Duration::from_secs(1)).await;
                settle(a, Settle::Requeue).await;
            }
            Guard::Skip
        }
    }
}

async fn run(shared: &Shared, task: &Task, message: TaskMessage, queue: &str, acker: Acker) {
    let opts = &task.options;
    let id = message.headers.id.clone();
    let mut acker = Some(acker);
    if !opts.acks_late
        && let Some(a) = acker.take()
    {
        settle(a, Settle::Ack).await;
    }
    if message.body.embed.chord.is_some() {
        let exc = canvas::unsupported("chords");
        tracing::error!(task_id = %id, "a chord header task; refused with FAILURE");
        // The chord's body reads failed too, so whoever waits on the chord hears why.
        if let Some(body_id) = message
            .body
            .embed
            .chord
            .as_ref()
            .and_then(|c| c.pointer("/options/task_id"))
            .and_then(Value::as_str)
        {
            shared
                .store(&ResultMeta::failure(body_id, &exc, None))
                .await;
        }
        fail(shared, task, &message, queue, exc).await;
        if let Some(a) = acker.take() {
            settle(a, Settle::Ack).await;
        }
        return;
    }
    let claimed = match claim(shared, &message, &mut acker).await {
        Guard::Run(c) => c,
        Guard::Skip => return,
    };
    shared.rates.wait(&task.name).await;
    let ignore = opts.ignore_result || message.headers.ignore_result;
    if opts.track_started && !ignore {
        shared
            .store(&ResultMeta::started(&id, &shared.hostname))
            .await;
    }
    if let Some(ev) = &shared.events {
        ev.send("task-started", json!({"uuid": id})).await;
    }
    let started = Instant::now();
    let outcome = invoke(task, &message).await;
    let mut done = false;
    match outcome {
        Ok(value) => {
            let children = canvas::on_success(shared, &message, queue, &value).await;
            if !ignore {
                let mut meta = ResultMeta::success(&id, value.clone());
                meta.children = children;
                shared.store(&meta).await;
            }
            bump(&shared.counters.succeeded);
            done = true;
            if let Some(ev) = &shared.events {
                let mut repr = value.to_string();
                repr.truncate(1024);
                ev.send(
                    "task-succeeded",
                    json!({"uuid": id, "result": repr,
                           "runtime": started.elapsed().as_secs_f64()}),
                )
                .await;
            }
        }
        Err(TaskError::Retry(r)) => retry(shared, task, &message, queue, r).await,
        Err(TaskError::Failure(exc)) if opts.autoretry_for.contains(&exc.exc_type) => {
            let countdown = backoff(task, message.headers.retries);
            let r = RetryRequest {
                countdown,
                exc: Some(exc),
            };
            retry(shared, task, &message, queue, r).await;
        }
        Err(TaskError::Failure(exc)) => fail(shared, task, &message, queue, exc).await,
    }
    if let Some(c) = claimed {
        c.finish(done).await;
    }
    if let Some(a) = acker.take() {
        settle(a, Settle::Ack).await;
    }
}

/// Celery's `get_exponential_backoff_interval`: min(max, factor·2^retries), then a
/// uniform integer in [0, that] with jitter. `None` (the default delay) without backoff.
fn backoff(task: &Task, retries: u32) -> Option<Duration> {
    let o = &task.options;
    if o.retry_backoff == 0 {
        return None;
    }
    let cap = o.retry_backoff_max.as_secs();
    let c = u64::from(o.retry_backoff)
        .saturating_mul(1u64.checked_shl(retries).unwrap_or(u64::MAX))
        .min(cap);
    let c = if o.retry_jitter {
        rand::rng().random_range(0..=c)
    } else {
        c
    };
    Some(Duration::from_secs(c))
}

/// Runs the task function in its own tokio task (a panic is a FAILURE, not a dead
/// worker), within the hard limit, cancelling the soft-limit token on time.
async fn invoke(task: &Task, message: &TaskMessage) -> Result<Value, TaskError> {
    let (header_hard, header_soft) = message.headers.timelimit;
    let secs = |s: Option<f64>| {
        s.filter(|s| *s > 0.0 && s.is_finite())
            .map(Duration::from_secs_f64)
    };
    let hard = secs(header_hard).or(task.options.time_limit);
    let soft = secs(header_soft).or(task.options.soft_time_limit);
    let soft_token = CancellationToken::new();
    let request = TaskRequest::new(
        message.headers.clone(),
        message.body.args.clone(),
        message.body.kwargs.clone(),
    )
    .with_soft_limit(soft_token.clone());
    let soft_timer = soft.map(|d| {
        let token = soft_token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            token.cancel();
        })
    });
    let mut handle = tokio::spawn(task.func.call(request));
    let joined = match hard {
        Some(limit) => match tokio::time::timeout(limit, &mut handle).await {
            Ok(j) => j,
            Err(_) => {
                handle.abort();
                if let Some(t) = soft_timer {
                    t.abort();
                }
                tracing::error!(task = %task.name, task_id = %message.headers.id,
                    "hard time limit ({limit:?}) exceeded");
                return Err(TaskError::exception(
                    "billiard.exceptions",
                    "TimeLimitExceeded",
                    vec![json!(limit.as_secs_f64())],
                ));
            }
        },
        None => handle.await,
    };
    if let Some(t) = soft_timer {
        t.abort();
    }
    match joined {
        Ok(r) => r,
        Err(e) => {
            let what = if e.is_panic() {
                let p = e.into_panic();
                p.downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_owned())
            } else {
                "cancelled".to_owned()
            };
            tracing::error!(task = %task.name, task_id = %message.headers.id, "the task panicked: {what}");
            Err(TaskError::failure(
                "RuntimeError",
                format!("task panicked: {what}"),
            ))
        }
    }
}

/// Celery's `Task.retry`: past `max_retries` the task fails (with the exception given,
/// else `MaxRetriesExceededError`); otherwise the same task id goes out again with
/// `retries + 1` and an `eta`, and RETRY is stored.
async fn retry(shared: &Shared, task: &Task, message: &TaskMessage, queue: &str, r: RetryRequest) {
    let h = &message.headers;
    let retries = h.retries + 1;
    if let Some(max) = task.options.max_retries
        && retries > max
    {
        let exc = r.exc.unwrap_or_else(|| ExceptionInfo {
            exc_type: "MaxRetriesExceededError".to_owned(),
            exc_message: vec![Value::String(format!(
                "Can't retry {}[{}] args:{} kwargs:{}",
                h.task,
                h.id,
                Value::Array(message.body.args.clone()),
                Value::Object(message.body.kwargs.clone())
            ))],
            exc_module: "celery.exceptions".to_owned(),
        });
        fail(shared, task, message, queue, exc).await;
        return;
    }
    let countdown = r.countdown.unwrap_or(task.options.default_retry_delay);
    let mut next = message.clone();
    next.headers.retries = retries;
    next.headers.eta = Some(format_time(
        chrono::Utc::now() + chrono::Duration::from_std(countdown).unwrap_or_default(),
    ));
    if !shared.send(queue, &next).await {
        let exc = ExceptionInfo {
            exc_type: "Reject".to_owned(),
            exc_message: vec![json!("the retry could not be published")],
            exc_module: "celery.exceptions".to_owned(),
        };
        fail(shared, task, message, queue, exc).await;
        return;
    }
    tracing::info!(task = %h.task, task_id = %h.id, retries, ?countdown, "retry scheduled");
    bump(&shared.counters.retried);
    if !(task.options.ignore_result || h.ignore_result) {
        shared
            .store(&ResultMeta::retry(&h.id, r.exc.as_ref()))
            .await;
    }
    if let Some(ev) = &shared.events {
        let exception = r
            .exc
            .as_ref()
            .map(|e| format!("{}({})", e.exc_type, Value::Array(e.exc_message.clone())));
        ev.send(
            "task-retried",
            json!({"uuid": h.id, "exception": exception, "traceback": null}),
        )
        .await;
    }
}

async fn fail(
    shared: &Shared,
    task: &Task,
    message: &TaskMessage,
    queue: &str,
    exc: ExceptionInfo,
) {
    let h = &message.headers;
    let text = exc.to_string();
    tracing::warn!(task = %h.task, task_id = %h.id, "failed: {text}");
    let traceback = format!(
        "Traceback (most recent call last):\n  task {}[{}] on herald-celery worker {}\n{text}\n",
        h.task, h.id, shared.hostname
    );
    let meta = ResultMeta::failure(&h.id, &exc, Some(traceback.clone()));
    if !(task.options.ignore_result || h.ignore_result) {
        shared.store(&meta).await;
    }
    canvas::on_failure(shared, message, queue, &meta).await;
    bump(&shared.counters.failed);
    if let Some(ev) = &shared.events {
        ev.send(
            "task-failed",
            json!({"uuid": h.id, "exception": format!("{}({})", exc.exc_type,
                   Value::Array(exc.exc_message.clone())), "traceback": traceback}),
        )
        .await;
    }
}
