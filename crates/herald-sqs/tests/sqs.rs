//! herald-sqs against a real SQS API (moto's server; HERALD_SQS_ENDPOINT, default
//! http://127.0.0.1:4566).

mod common;

use std::time::Duration;

use common::{message, next, queue, sqs, subscriber};
use herald_core::dead_letters::{DeadLetters, Selection};
use herald_core::{DeadLetter, Headers, Publisher, Retry, headers};
use herald_sqs::{QueueOptions, SqsError, dead_letter_queue};
use tokio::time::Instant;

const BOUND: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_batch_of_25_arrives_whole() {
    let sqs = sqs();
    let q = queue(&sqs, "batch", &QueueOptions::default()).await;
    let batch: Vec<_> = (0..25)
        .map(|i| message(&q, "k", &format!("m{i}")))
        .collect();
    sqs.publisher().publish_batch(&batch).await.expect("batch");
    let mut sub = subscriber(&sqs, &q).await;
    let mut seen = Vec::new();
    while seen.len() < 25 {
        let d = next(&mut sub, BOUND).await.expect("all 25 delivered");
        seen.push(String::from_utf8(d.message.payload.clone()).expect("text"));
        d.ack().await.expect("ack");
    }
    seen.sort();
    let mut sent: Vec<_> = (0..25).map(|i| format!("m{i}")).collect();
    sent.sort();
    assert_eq!(seen, sent);
}

#[tokio::test]
async fn a_batch_sqs_refuses_or_one_too_large_is_an_error_and_nothing_is_reported_as_sent() {
    let sqs = sqs();
    let q = queue(&sqs, "batchfail", &QueueOptions::default()).await;
    // SQS refuses a DelaySeconds over 900 per entry, with the sender at fault.
    let batch: Vec<_> = (0..3).map(|i| message(&q, "k", &format!("m{i}"))).collect();
    let err = sqs
        .publisher()
        .delay(Duration::from_secs(901))
        .publish_batch(&batch)
        .await
        .expect_err("refused");
    match &err {
        SqsError::Batch { failed, total, .. } => {
            assert_eq!(*total, 3);
            let mut idx: Vec<_> = failed.iter().map(|f| f.index).collect();
            idx.sort();
            assert_eq!(idx, vec![0, 1, 2], "{err}");
            assert!(failed.iter().all(|f| f.sender_fault));
        }
        // moto writes `SenderFault` as a string, which the SDK cannot read: the whole call
        // fails instead (README, "moto"). Either way nothing is reported as sent.
        SqsError::Api { .. } => assert!(err.to_string().contains("SendMessageBatch"), "{err}"),
        other => panic!("expected a batch error, got {other}"),
    }
    // One entry over 256 KiB: the whole batch is refused before any request.
    let mut big = batch.clone();
    big[1].headers.clear();
    big[1].key.clear();
    big[1].payload = vec![b'a'; 256 * 1024 + 1];
    let err = sqs
        .publisher()
        .publish_batch(&big)
        .await
        .expect_err("too large");
    assert!(
        matches!(err, SqsError::TooLarge { size, .. } if size == 256 * 1024 + 1),
        "{err}"
    );
    let mut sub = subscriber(&sqs, &q).await;
    assert!(
        next(&mut sub, Duration::from_secs(3)).await.is_none(),
        "nothing was sent"
    );
}

/// Acks go to SQS as DeleteMessageBatch; an entry SQS refuses fails its own ack, not the
/// others of the batch.
#[tokio::test]
async fn an_ack_sqs_refuses_fails_that_ack_only() {
    let sqs = sqs();
    let q = queue(&sqs, "ackfail", &QueueOptions::default()).await;
    let url = sqs.queue_url(&q).await.expect("url");
    let mut sub = subscriber(&sqs, &q).await;
    sqs.publisher()
        .publish(message(&q, "k", "purged"))
        .await
        .expect("publish");
    let purged = next(&mut sub, BOUND).await.expect("delivered");
    // Gone from the queue while its delivery is unsettled: its receipt handle is no more.
    sqs.client()
        .purge_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("purge");
    let mut kept = Vec::new();
    for i in 0..5 {
        sqs.publisher()
            .publish(message(&q, "k", &format!("kept{i}")))
            .await
            .expect("publish");
    }
    while kept.len() < 5 {
        kept.push(next(&mut sub, BOUND).await.expect("delivered"));
    }
    let (refused, acked) = tokio::join!(
        purged.ack(),
        futures::future::join_all(kept.into_iter().map(|d| d.ack()))
    );
    let err = refused.expect_err("the purged message's ack fails");
    assert!(err.to_string().contains("DeleteMessageBatch"), "{err}");
    for ack in acked {
        ack.expect("the others are acked");
    }
    assert!(
        next(&mut sub, Duration::from_secs(3)).await.is_none(),
        "acked: deleted"
    );
}

#[tokio::test]
async fn the_heartbeat_keeps_a_slow_delivery_past_its_visibility_timeout() {
    let sqs = sqs();
    let q = queue(&sqs, "heartbeat", &QueueOptions::default()).await;
    sqs.publisher()
        .publish(message(&q, "k", "slow"))
        .await
        .expect("publish");
    let mut slow = sqs
        .subscriber(&q)
        .wait_time(Duration::from_secs(1))
        .visibility_timeout(Duration::from_secs(2))
        .build()
        .await
        .expect("subscriber");
    let mut other = subscriber(&sqs, &q).await;
    let d = next(&mut slow, BOUND).await.expect("delivered");
    // Held for 3x the visibility timeout while another consumer polls: it never sees it.
    assert!(
        next(&mut other, Duration::from_secs(6)).await.is_none(),
        "redelivered while the first delivery was unsettled"
    );
    d.ack().await.expect("ack");
    assert!(
        next(&mut other, Duration::from_secs(4)).await.is_none(),
        "processed once"
    );
}

#[tokio::test]
async fn visibility_expiry_redelivers_a_message_nobody_settled() {
    let sqs = sqs();
    let q = queue(&sqs, "expiry", &QueueOptions::default()).await;
    sqs.publisher()
        .publish(message(&q, "k", "lost"))
        .await
        .expect("publish");
    // A consumer that received it and died: a raw receive, never deleted.
    let url = sqs.queue_url(&q).await.expect("url");
    let got = sqs
        .client()
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(2)
        .wait_time_seconds(5)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages.unwrap_or_default().len(), 1);
    let started = Instant::now();
    let mut sub = subscriber(&sqs, &q).await;
    let d = next(&mut sub, BOUND).await.expect("redelivered");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(
        d.message.attempt(),
        2,
        "the second receive is the second attempt"
    );
    d.ack().await.expect("ack");
}

#[tokio::test]
async fn a_requeue_is_not_an_attempt() {
    let sqs = sqs();
    for fifo in [false, true] {
        let mut q = common::unique("requeue");
        if fifo {
            q.push_str(".fifo");
        }
        sqs.create_queues(&q, &QueueOptions::default())
            .await
            .expect("queues");
        sqs.publisher()
            .publish(message(&q, "k", "busy"))
            .await
            .expect("publish");
        let mut sub = subscriber(&sqs, &q).await;
        let d = next(&mut sub, BOUND).await.expect("delivered");
        assert_eq!(d.message.attempt(), 1);
        d.retry(Retry {
            delay: Duration::ZERO,
            headers: Headers::new(),
        })
        .await
        .expect("retry");
        let d = next(&mut sub, BOUND).await.expect("retried");
        assert_eq!(d.message.attempt(), 2, "{q}");
        d.requeue(Duration::ZERO).await.expect("requeue");
        let d = next(&mut sub, BOUND).await.expect("requeued");
        assert_eq!(d.message.attempt(), 2, "{q}: a requeue is no attempt");
        d.ack().await.expect("ack");
    }
}

fn dead_letter_headers(d: &herald_core::Delivery, reason: &str) -> DeadLetter {
    let mut h = d.message.headers.clone();
    h.insert(headers::ERROR.into(), reason.into());
    h.insert(headers::HANDLER.into(), "test.handler".into());
    h.insert(headers::ATTEMPTS.into(), d.message.attempt().to_string());
    h.insert(headers::PERMANENT.into(), "false".into());
    h.insert(headers::ORIGIN.into(), d.message.source.clone());
    DeadLetter {
        reason: reason.into(),
        headers: h,
    }
}

/// `list`, `replay` and `purge` with a selection: SQS cannot peek, so each scans the DLQ and
/// puts back what it does not take (the suite covers listing and replaying everything).
#[tokio::test]
async fn replay_and_purge_take_only_what_the_selection_takes() {
    let sqs = sqs();
    let q = queue(&sqs, "purge", &QueueOptions::default()).await;
    let mut sub = subscriber(&sqs, &q).await;
    for reason in ["declined", "timeout", "timeout"] {
        sqs.publisher()
            .publish(message(&q, "k", reason))
            .await
            .expect("publish");
        let d = next(&mut sub, BOUND).await.expect("delivered");
        let dl = dead_letter_headers(&d, reason);
        d.dead_letter(dl).await.expect("dead letter");
    }
    let dlq = sqs.dead_letters();
    let declined = Selection::all().reason_contains("declined");
    let dry = dlq.replay(&q, &declined, true).await.expect("dry run");
    assert_eq!((dry.selected.len(), dry.replayed), (1, 0));
    let report = dlq.replay(&q, &declined, false).await.expect("replay");
    assert_eq!(report.replayed, 1);
    let d = next(&mut sub, BOUND).await.expect("replayed");
    assert_eq!(
        (d.message.attempt(), &d.message.payload[..]),
        (1, &b"declined"[..])
    );
    assert!(
        !d.message.headers.contains_key(headers::ERROR),
        "failure headers dropped"
    );
    // Failed again: back in the DLQ.
    let dl = dead_letter_headers(&d, "declined");
    d.dead_letter(dl).await.expect("dead letter");

    let timeouts = Selection::all().reason_contains("timeout");
    let dry = dlq.purge(&q, &timeouts, true).await.expect("dry");
    assert_eq!(dry.purged.len(), 2);
    assert_eq!(
        dlq.list(&q, &Selection::all()).await.expect("list").len(),
        3
    );
    let limited = dlq
        .purge(&q, &timeouts.clone().limit(1), false)
        .await
        .expect("purge");
    assert_eq!(limited.purged.len(), 1);
    assert_eq!(
        dlq.purge(&q, &timeouts, false)
            .await
            .expect("purge")
            .purged
            .len(),
        1
    );
    let left = dlq.list(&q, &Selection::all()).await.expect("list");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].reason.as_deref(), Some("declined"));
}

#[tokio::test]
async fn fifo_keeps_order_per_group_and_a_failing_message_blocks_only_its_group() {
    let sqs = sqs();
    let q = format!("{}.fifo", common::unique("fifo"));
    sqs.create_queues(&q, &QueueOptions::default())
        .await
        .expect("queues");
    let mut batch = Vec::new();
    for step in 0..5 {
        for group in ["a", "b"] {
            batch.push(message(&q, group, &format!("{group}{step}")));
        }
    }
    sqs.publisher().publish_batch(&batch).await.expect("batch");
    let mut sub = subscriber(&sqs, &q).await;
    let mut order = Vec::new();
    let mut failed_a0 = false;
    let mut b_done_while_a_waits = 0;
    while order.len() < 10 {
        let d = next(&mut sub, BOUND).await.expect("delivered");
        let body = String::from_utf8(d.message.payload.clone()).expect("text");
        assert_eq!(d.message.key.as_deref(), Some(&body[..1]));
        if body == "a0" && !failed_a0 {
            failed_a0 = true;
            d.retry(Retry {
                delay: Duration::from_secs(3),
                headers: Headers::new(),
            })
            .await
            .expect("retry");
            continue;
        }
        if body.starts_with('b') && failed_a0 && !order.iter().any(|o: &String| o == "a0") {
            b_done_while_a_waits += 1;
        }
        if body == "a0" {
            assert_eq!(d.message.attempt(), 2);
        }
        order.push(body);
        d.ack().await.expect("ack");
    }
    for group in ["a", "b"] {
        let seen: Vec<_> = order
            .iter()
            .filter(|o| o.starts_with(group))
            .cloned()
            .collect();
        let sent: Vec<_> = (0..5).map(|s| format!("{group}{s}")).collect();
        assert_eq!(seen, sent, "order of group {group}: {order:?}");
    }
    assert!(
        b_done_while_a_waits > 0,
        "group b waited for a's retry: {order:?}"
    );
}

#[tokio::test]
async fn create_queues_is_idempotent_and_sets_the_redrive_backstop() {
    let sqs = sqs();
    let options = QueueOptions {
        max_receive_count: 2,
        ..QueueOptions::default()
    };
    let q = queue(&sqs, "create", &options).await;
    let again = sqs.create_queues(&q, &options).await.expect("again");
    assert!(again.dead_letter_queue.ends_with(&dead_letter_queue(&q)));
    // Other options: updated in place, not an error.
    let changed = QueueOptions {
        visibility_timeout: Duration::from_secs(7),
        ..options.clone()
    };
    assert_eq!(
        sqs.create_queues(&q, &changed).await.expect("changed"),
        again
    );
    let fifo = format!("{}.fifo", common::unique("create"));
    let urls = sqs.create_queues(&fifo, &options).await.expect("fifo");
    assert_eq!(
        sqs.create_queues(&fifo, &options)
            .await
            .expect("fifo again"),
        urls
    );
    assert!(urls.dead_letter_queue.ends_with("-dlq.fifo"));
    assert!(sqs.create_queues("has.dots", &options).await.is_err());

    // The backstop: a message received twice and never settled moves to the DLQ.
    sqs.publisher()
        .publish(message(&q, "k", "poison"))
        .await
        .expect("publish");
    let url = sqs.queue_url(&q).await.expect("url");
    for _ in 0..3 {
        sqs.client()
            .receive_message()
            .queue_url(&url)
            .visibility_timeout(0)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
    }
    let dead = sqs
        .dead_letters()
        .list(&q, &Selection::all())
        .await
        .expect("list");
    assert_eq!(dead.len(), 1, "moved by the redrive policy");
    assert_eq!(dead[0].payload, b"poison");
}
