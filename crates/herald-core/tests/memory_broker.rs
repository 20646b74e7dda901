use std::time::Duration;

use herald_core::memory::{MemoryBroker, MemoryConfig};
use herald_core::{OutgoingMessage, Publisher, Retry, Subscriber, headers};

fn message(destination: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        destination: destination.into(),
        key: "k".into(),
        headers: Default::default(),
        payload: body.as_bytes().to_vec(),
    }
}

async fn next_body(sub: &mut impl Subscriber) -> (String, herald_core::Delivery) {
    let d = sub.recv().await.expect("recv").expect("a delivery");
    let body = String::from_utf8(d.message.payload.clone()).expect("utf-8 body");
    (body, d)
}

#[tokio::test(start_paused = true)]
async fn bound_queues_each_get_a_copy_and_competing_consumers_share_one() {
    let broker = MemoryBroker::new();
    broker.bind("orders", "billing");
    broker.bind("orders", "shipping");
    broker.publish(message("orders", "a")).await.unwrap();
    broker.publish(message("orders", "b")).await.unwrap();
    assert_eq!(broker.stats("billing").ready, 2);
    assert_eq!(broker.stats("shipping").ready, 2);
    assert_eq!(
        broker.stats("orders").ready,
        0,
        "a bound destination is not a queue"
    );

    let mut one = broker.subscribe("billing");
    let mut two = broker.subscribe("billing");
    let (a, da) = next_body(&mut one).await;
    let (b, db) = next_body(&mut two).await;
    assert_eq!((a.as_str(), b.as_str()), ("a", "b"), "in order, each once");
    da.ack().await.unwrap();
    db.ack().await.unwrap();
    assert_eq!(broker.stats("billing"), Default::default());
}

#[tokio::test(start_paused = true)]
async fn retry_waits_its_delay_and_replaces_headers() {
    let broker = MemoryBroker::new();
    broker.publish(message("q", "x")).await.unwrap();
    let mut sub = broker.subscribe("q");
    let (_, d) = next_body(&mut sub).await;
    let mut h = herald_core::Headers::new();
    h.insert(headers::ATTEMPT.into(), "2".into());
    let t0 = tokio::time::Instant::now();
    d.retry(Retry {
        delay: Duration::from_secs(3),
        headers: h,
    })
    .await
    .unwrap();
    assert_eq!(broker.stats("q").delayed, 1);
    let (_, again) = next_body(&mut sub).await;
    assert!(t0.elapsed() >= Duration::from_secs(3));
    assert_eq!(again.message.attempt(), 2);
}

#[tokio::test(start_paused = true)]
async fn late_ack_after_visibility_timeout_is_refused_and_the_message_redelivered() {
    let broker = MemoryBroker::with_config(MemoryConfig {
        visibility_timeout: Duration::from_secs(1),
    });
    broker.publish(message("q", "x")).await.unwrap();
    let mut sub = broker.subscribe("q");
    let (_, slow) = next_body(&mut sub).await;
    let (_, redelivered) = next_body(&mut sub).await;
    assert!(
        slow.ack().await.is_err(),
        "the slow consumer lost the message"
    );
    redelivered.ack().await.unwrap();
    assert_eq!(broker.stats("q"), Default::default());
}

#[tokio::test(start_paused = true)]
async fn closed_subscriber_yields_none() {
    let broker = MemoryBroker::new();
    let mut sub = broker.subscribe("q");
    sub.close().await.unwrap();
    assert!(sub.recv().await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn replay_filters_dead_letters() {
    let broker = MemoryBroker::new();
    let mut sub = broker.subscribe("q");
    for body in ["keep", "replay"] {
        broker.publish(message("q", body)).await.unwrap();
        let (_, d) = next_body(&mut sub).await;
        let mut h = herald_core::Headers::new();
        h.insert(headers::ERROR.into(), body.into());
        d.dead_letter(herald_core::DeadLetter {
            reason: body.into(),
            headers: h,
        })
        .await
        .unwrap();
    }
    assert_eq!(broker.replay_dead_letters("q", |d| d.reason == "replay"), 1);
    let dead = broker.dead_letters("q");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason, "keep");
    let (body, d) = next_body(&mut sub).await;
    assert_eq!(body, "replay");
    assert!(
        !d.message.headers.contains_key(headers::ERROR),
        "failure headers cleared"
    );
}
