//! Cases about a handler that fails: retries with the policy's delay, dead letters with
//! their reasons, replay, and panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::delivery::IDLE_LIMIT;
use super::{Features, TransportUnderTest, note};
use crate::dead_letters::Selection;
use crate::testing::transport::Capability;
use crate::testing::transport::harness::{RunningWorker, publish_probes};
use crate::testing::transport::probe::{Behaviour, Probe, ProbeHandler, quick_retries};
use crate::{Jitter, RetryPolicy, headers};

/// A handler failing twice is run again after the policy's delays (no sooner, and at most
/// the transport's slack later), with attempt numbers 1, 2, 3; the message is acked only
/// after it succeeded.
pub async fn retry_waits_the_policy_delay<T: TransportUnderTest>(
    transport: &T,
    features: &Features,
) {
    let source = transport.fresh_source("retry-delay").await;
    let policy = RetryPolicy {
        max_attempts: 5,
        initial_delay: Duration::from_millis(700),
        multiplier: 2.0,
        max_delay: Duration::from_secs(10),
        jitter: Jitter::None,
    };
    let handler = ProbeHandler::new("conformance-retry", policy.clone(), |_, attempt| {
        if attempt < 3 {
            Behaviour::Fail
        } else {
            Behaviour::Succeed
        }
    });
    let log = handler.log();
    let worker = RunningWorker::start(transport, &source, handler, |w| w).await;
    publish_probes(transport, &source, [Probe::new(1, "k", 0)]).await;

    let limit = IDLE_LIMIT + features.retry_delay_slack * 2;
    worker
        .wait_for_stats("the third attempt to succeed", limit, |s| s.processed == 1)
        .await;
    let runs = log.runs_of(1);
    let attempts: Vec<u32> = runs.iter().map(|s| s.attempt).collect();
    assert_eq!(attempts, [1, 2, 3], "attempt numbers, one run each");
    for (n, pair) in runs.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].at;
        let delay = policy.base_delay(n as u32 + 1);
        // 20 ms for timer granularity between the worker's clock and the broker's.
        assert!(
            gap + Duration::from_millis(20) >= delay,
            "{}: retry {} came after {gap:?}, before the policy's {delay:?}",
            features.name,
            n + 1
        );
        assert!(
            gap <= delay + features.retry_delay_slack,
            "{}: retry {} came after {gap:?}, more than {:?} past the policy's {delay:?}",
            features.name,
            n + 1,
            features.retry_delay_slack
        );
    }
    let stats = worker.stats();
    assert_eq!((stats.retried, stats.dead_lettered), (2, 0));
    worker.stop().await;
}

/// A permanent failure is dead-lettered at once and an exhausted one after its last
/// attempt, each with the failure headers and the original payload; replay sends them back
/// as first attempts, and a second replay finds nothing.
pub async fn dead_letters_carry_the_failure_and_replay_once<T: TransportUnderTest>(
    transport: &T,
    features: &Features,
) {
    let source = transport.fresh_source("dead-letters").await;
    let fixed = Arc::new(AtomicBool::new(false));
    let handler = ProbeHandler::new("conformance-dlq", quick_retries(2), {
        let fixed = fixed.clone();
        move |probe, _| match (fixed.load(Ordering::SeqCst), probe.id) {
            (true, _) | (_, 3) => Behaviour::Succeed,
            (false, 1) => Behaviour::FailPermanently,
            (false, _) => Behaviour::Fail,
        }
    });
    let log = handler.log();
    let worker = RunningWorker::start(transport, &source, handler, |w| w).await;
    let sent = publish_probes(
        transport,
        &source,
        [
            Probe::new(1, "a", 0),
            Probe::new(2, "b", 0),
            Probe::new(3, "c", 0),
        ],
    )
    .await;
    worker
        .wait_for_stats(
            "two dead letters and one success",
            IDLE_LIMIT + features.retry_delay_slack,
            |s| s.dead_lettered == 2 && s.processed == 1,
        )
        .await;
    assert_eq!(
        log.runs_of(1).len(),
        1,
        "a permanent failure is not retried"
    );
    assert_eq!(
        log.runs_of(2).len(),
        2,
        "an exhausted one ran max_attempts times"
    );

    let dlq = transport.dead_letters();
    let listed = dlq
        .list(&source, &Selection::all())
        .await
        .expect("list dead letters");
    assert_eq!(
        listed.len(),
        2,
        "{}: the dead letters of `{source}`: {listed:?}",
        features.name
    );
    for (meta, permanent, attempts) in [(&sent[0], true, 1u32), (&sent[1], false, 2)] {
        let id = meta.event_id.to_string();
        let Some(entry) = listed.iter().find(|e| e.event_id.as_deref() == Some(&id)) else {
            panic!("event {id} is not among the dead letters: {listed:?}");
        };
        assert_eq!(entry.origin, source, "herald-origin is the source");
        assert_eq!(entry.handler.as_deref(), Some("conformance-dlq"));
        assert_eq!(entry.attempts, Some(attempts), "herald-attempts of {id}");
        assert_eq!(
            entry.headers.get(headers::PERMANENT),
            Some(&permanent.to_string()),
            "herald-permanent of {id}"
        );
        let reason = entry.reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains(if permanent {
                "refused for good"
            } else {
                "failed"
            }),
            "the reason names the handler's error: {reason:?}"
        );
        assert!(entry.first_failure_at.is_some() && entry.last_failure_at.is_some());
        let envelope = crate::RawEnvelope::parse(&entry.payload)
            .expect("the dead letter's payload is the original envelope, intact");
        assert_eq!(envelope.meta.event_id, meta.event_id);
    }

    if let Capability::Unsupported(why) = features.replay {
        note(features, why);
        worker.stop().await;
        return;
    }
    fixed.store(true, Ordering::SeqCst);
    let report = dlq
        .replay(&source, &Selection::all(), false)
        .await
        .expect("replay");
    assert_eq!(report.replayed, 2, "both dead letters replayed");
    worker
        .wait_for_stats("the replayed events processed", IDLE_LIMIT, |s| {
            s.processed == 3
        })
        .await;
    for id in [1, 2] {
        let last = log.runs_of(id).last().cloned().expect("ran");
        assert_eq!(last.attempt, 1, "a replayed event is a first attempt again");
        assert_eq!(last.behaviour, Behaviour::Succeed);
    }
    let again = dlq
        .replay(&source, &Selection::all(), false)
        .await
        .expect("second replay");
    assert_eq!(
        (again.replayed, again.selected.len()),
        (0, 0),
        "a second replay sends nothing"
    );
    assert!(
        dlq.list(&source, &Selection::all())
            .await
            .expect("list")
            .is_empty(),
        "nothing is left in the dead-letter queue"
    );
    worker.stop().await;
}

/// A panicking handler is a failure like any other: retried, then dead-lettered with the
/// panic's message; the worker and the other messages go on.
pub async fn a_panicking_handler_is_a_failure<T: TransportUnderTest>(
    transport: &T,
    features: &Features,
) {
    let source = transport.fresh_source("panics").await;
    let handler = ProbeHandler::new(
        "conformance-panic",
        quick_retries(2),
        |probe, attempt| match (probe.id, attempt) {
            (1, 1) => Behaviour::Panic,
            (2, _) => Behaviour::Panic,
            _ => Behaviour::Succeed,
        },
    );
    let log = handler.log();
    let worker = RunningWorker::start(transport, &source, handler, |w| w).await;
    publish_probes(
        transport,
        &source,
        [
            Probe::new(1, "a", 0),
            Probe::new(2, "b", 0),
            Probe::new(3, "c", 0),
        ],
    )
    .await;
    worker
        .wait_for_stats(
            "two successes and one dead letter",
            IDLE_LIMIT + features.retry_delay_slack,
            |s| s.processed == 2 && s.dead_lettered == 1,
        )
        .await;
    let attempts = |id| {
        log.runs_of(id)
            .iter()
            .map(|s| s.attempt)
            .collect::<Vec<_>>()
    };
    assert_eq!(attempts(1), [1, 2], "panicked once, then succeeded");
    assert_eq!(attempts(2), [1, 2], "panicked at every attempt");
    assert_eq!(attempts(3), [1]);
    assert_eq!(worker.stats().panicked, 3);
    let listed = transport
        .dead_letters()
        .list(&source, &Selection::all())
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let reason = listed[0].reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("panic") && reason.contains("probe 2 panics"),
        "the reason carries the panic message: {reason:?}"
    );
    worker.stop().await;
}
