//! `herald dlq list|replay|purge --broker sqs://...` (feature `sqs`) against moto's SQS API
//! (127.0.0.1:4566, `scripts/services`; HERALD_SQS_ENDPOINT overrides): a dead letter made
//! as herald's worker makes them is listed with its reason, replayed to its queue as a first
//! attempt, and a second replay finds nothing.
#![cfg(feature = "sqs")]

mod common;

use std::path::Path;
use std::time::Duration;

use herald_core::{DeadLetter, Headers, OutgoingMessage, Publisher, Subscriber, headers};
use herald_sqs::{QueueOptions, Sqs};

fn endpoint() -> String {
    std::env::var("HERALD_SQS_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:4566".to_owned())
}

fn herald(args: &[&str]) -> (i32, String) {
    let broker = format!("sqs://{}", endpoint().trim_start_matches("http://"));
    let mut all = args.to_vec();
    all.extend(["--broker", &broker]);
    // moto takes any credentials; the CLI reads them as every AWS tool does.
    let out = common::herald_env(
        Path::new("."),
        &all,
        &[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_replays_and_purges_sqs_dead_letters() {
    let sqs = Sqs::local(&endpoint(), Duration::from_secs(30));
    let queue = format!(
        "herald-cli-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    sqs.create_queues(&queue, &QueueOptions::default())
        .await
        .expect("queues (is moto running? scripts/services)");
    let message = OutgoingMessage {
        destination: queue.clone(),
        key: "o-1".into(),
        headers: Headers::from([
            (headers::EVENT_TYPE.to_owned(), "order.placed".to_owned()),
            (headers::EVENT_ID.to_owned(), "e-1".to_owned()),
        ]),
        payload: br#"{"aggregate_id":"o-1"}"#.to_vec(),
    };
    sqs.publisher().publish(message).await.expect("publish");
    let mut sub = sqs
        .subscriber(&queue)
        .wait_time(Duration::from_secs(1))
        .build()
        .await
        .expect("subscriber");
    let d = tokio::time::timeout(Duration::from_secs(30), sub.recv())
        .await
        .expect("delivered in time")
        .expect("recv")
        .expect("open");
    let mut h = d.message.headers.clone();
    h.insert(headers::ERROR.into(), "permanent: card declined".into());
    h.insert(headers::ATTEMPTS.into(), "1".into());
    h.insert(headers::ORIGIN.into(), queue.clone());
    d.dead_letter(DeadLetter {
        reason: "permanent: card declined".into(),
        headers: h,
    })
    .await
    .expect("dead letter");

    let (code, out) = herald(&["dlq", "list", &queue]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("card declined") && out.contains("e-1"),
        "{out}"
    );
    let (code, out) = herald(&["dlq", "replay", &queue, "--event-type", "order.placed"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replayed 1"), "{out}");
    let back = tokio::time::timeout(Duration::from_secs(30), sub.recv())
        .await
        .expect("replayed in time")
        .expect("recv")
        .expect("open");
    assert_eq!(back.message.attempt(), 1);
    assert!(!back.message.headers.contains_key(headers::ERROR));
    back.ack().await.expect("ack");
    let (code, out) = herald(&["dlq", "replay", &queue]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replayed 0"), "{out}");
    let (code, out) = herald(&["dlq", "purge", &queue, "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("purged 0"), "{out}");
}
