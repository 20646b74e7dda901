//! What the SQS tests share: the client for moto (or any SQS API at HERALD_SQS_ENDPOINT)
//! and unique queue names.
#![allow(dead_code)]

use std::time::Duration;

use herald_core::{Delivery, Headers, OutgoingMessage, Subscriber};
use herald_sqs::{QueueOptions, Sqs, SqsSubscriber};

pub fn endpoint() -> String {
    std::env::var("HERALD_SQS_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:4566".to_owned())
}

pub fn sqs() -> Sqs {
    Sqs::local(&endpoint(), Duration::from_secs(30))
}

/// A queue name no other test uses (SQS takes no dots: dashes).
pub fn unique(case: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("t-{case}-{}", &id[..12])
}

/// A fresh queue and its DLQ; fails saying how to start moto when it is not there.
pub async fn queue(sqs: &Sqs, case: &str, options: &QueueOptions) -> String {
    let name = unique(case);
    sqs.create_queues(&name, options).await.unwrap_or_else(|e| {
        panic!(
            "creating SQS queue `{name}` at {}: {e}\n(start moto with scripts/services, or set HERALD_SQS_ENDPOINT)",
            endpoint()
        )
    });
    name
}

pub fn message(queue: &str, key: &str, payload: &str) -> OutgoingMessage {
    OutgoingMessage {
        destination: queue.to_owned(),
        key: key.to_owned(),
        headers: Headers::from([
            ("herald-event-type".to_owned(), "test.event".to_owned()),
            (
                "herald-event-id".to_owned(),
                uuid::Uuid::now_v7().to_string(),
            ),
        ]),
        payload: payload.as_bytes().to_vec(),
    }
}

/// A subscriber with short polls and a short visibility, as tests want them.
pub async fn subscriber(sqs: &Sqs, queue: &str) -> SqsSubscriber {
    sqs.subscriber(queue)
        .wait_time(Duration::from_secs(1))
        .visibility_timeout(Duration::from_secs(5))
        .build()
        .await
        .expect("subscriber")
}

/// The next delivery, within `within` (a bound against hangs).
pub async fn next(sub: &mut impl Subscriber, within: Duration) -> Option<Delivery> {
    tokio::time::timeout(within, sub.recv())
        .await
        .ok()
        .map(|d| d.expect("recv").expect("open"))
}
