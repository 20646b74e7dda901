//! Cases about getting a message there intact: the round trip, duplicates, the size limit
//! and a broker that cannot be reached.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::{Features, TransportUnderTest, note};
use crate::testing::transport::harness::{RunningWorker, publish_probes};
use crate::testing::transport::probe::{Probe, ProbeHandler};
use crate::testing::transport::{Capability, publisher_error};
use crate::{Delivery, Headers, OutgoingMessage, Subscriber};

/// How long a receive may wait for the next message before the case calls it lost (an
/// idle limit, re-armed after every message: a fast broker finishes in milliseconds).
pub const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// The next delivery, or a panic naming what was awaited.
pub async fn next_delivery(subscriber: &mut dyn Subscriber, what: &str) -> Delivery {
    match tokio::time::timeout(IDLE_LIMIT, subscriber.recv()).await {
        Ok(Ok(Some(delivery))) => delivery,
        Ok(Ok(None)) => panic!("the subscriber ended while waiting for {what}"),
        Ok(Err(e)) => panic!("receiving {what} failed: {e}"),
        Err(_) => panic!("nothing arrived within {IDLE_LIMIT:?} while waiting for {what}"),
    }
}

/// Header values that must survive any broker: unicode, control characters, NUL, an empty
/// value, a long one. A transport whose broker restricts header bytes encodes them.
pub fn hostile_headers() -> Headers {
    let mut h = Headers::new();
    h.insert("x-conformance-unicode".into(), "Grüße, 東京, 🚀, ℵ₀".into());
    h.insert(
        "x-conformance-control".into(),
        "tab\there\nnewline\r\u{1}\u{7f}".into(),
    );
    h.insert("x-conformance-nul".into(), "before\0after".into());
    h.insert("x-conformance-empty".into(), String::new());
    h.insert("x-conformance-long".into(), "0123456789".repeat(200));
    h
}

/// Every message published arrives once with its payload (binary), key and headers intact;
/// after all are acked, a new subscriber finds none of them again.
pub async fn round_trip<T: TransportUnderTest>(transport: &T, _features: &Features) {
    const N: usize = 40;
    let source = transport.fresh_source("round-trip").await;
    let publisher = transport.publisher().await;
    let mut sent = BTreeMap::new();
    for i in 0..N {
        // Binary payloads: every byte value, and a per-message marker.
        let mut payload = format!("message {i:03}:").into_bytes();
        payload.extend((0..=255u8).cycle().skip(i).take(300));
        let mut headers = hostile_headers();
        headers.insert("x-conformance-index".into(), i.to_string());
        let message = OutgoingMessage {
            destination: source.clone(),
            key: format!("key-{}", i % 5),
            headers,
            payload,
        };
        if let Err(e) = publisher.publish(message.clone()).await {
            panic!("publishing message {i} failed: {e}");
        }
        sent.insert(message.payload.clone(), message);
    }

    let mut subscriber = transport.subscriber(&source).await;
    let mut received = BTreeSet::new();
    while received.len() < N {
        let delivery = next_delivery(
            &mut *subscriber,
            &format!("message {} of {N}", received.len() + 1),
        )
        .await;
        let got = &delivery.message;
        let Some(expected) = sent.get(&got.payload) else {
            panic!(
                "a message that was not sent, or with its payload changed: {:?}",
                String::from_utf8_lossy(&got.payload)
            );
        };
        assert_eq!(got.source, source, "the delivery names its source");
        assert_eq!(
            got.key.as_deref(),
            Some(expected.key.as_str()),
            "the key travels with the message"
        );
        for (name, value) in &expected.headers {
            assert_eq!(
                got.headers.get(name),
                Some(value),
                "header `{name}` must arrive byte for byte"
            );
        }
        received.insert(got.payload.clone());
        delivery.ack().await.expect("ack");
    }
    subscriber.close().await.expect("close");
    drop(subscriber);

    // Acked is final: a new subscriber on the source gets nothing of it.
    let mut again = transport.subscriber(&source).await;
    if let Ok(Ok(Some(d))) = tokio::time::timeout(Duration::from_secs(2), again.recv()).await {
        panic!(
            "an acked message came back: {:?}",
            String::from_utf8_lossy(&d.message.payload)
        );
    }
}

/// The same event delivered twice (a publisher's retry, a redelivery) runs its handler
/// once: the second is recognised by the idempotency store, counted and acked.
pub async fn duplicate_is_skipped<T: TransportUnderTest>(transport: &T, _features: &Features) {
    let source = transport.fresh_source("duplicate").await;
    let handler = ProbeHandler::succeeding();
    let log = handler.log();
    let worker = RunningWorker::start(transport, &source, handler, |w| w).await;

    // The same message (same event id) published twice, then a different event after it.
    let producer = crate::Producer::from_arc(transport.publisher().await)
        .route(<Probe as crate::Event>::NAME, &source);
    let twice = producer
        .message(&crate::Envelope::new(Probe::new(1, "k", 0)))
        .expect("encode");
    let publisher = transport.publisher().await;
    for _ in 0..2 {
        publisher.publish(twice.clone()).await.expect("publish");
    }
    publish_probes(transport, &source, [Probe::new(2, "k", 1)]).await;

    worker
        .wait_for_stats("both copies and the other event settled", IDLE_LIMIT, |s| {
            s.processed == 2 && s.duplicates_skipped == 1
        })
        .await;
    assert_eq!(log.runs_of(1).len(), 1, "the duplicated event ran once");
    assert_eq!(log.runs_of(2).len(), 1, "the other event ran once");
    worker.stop().await;
}

/// A payload at the transport's limit arrives whole; one byte over is an error at publish,
/// and nothing (truncated or not) is delivered.
pub async fn payload_over_the_limit_is_refused<T: TransportUnderTest>(
    transport: &T,
    features: &Features,
) {
    let source = transport.fresh_source("payload-limit").await;
    let publisher = transport.publisher().await;
    let message = |size: usize, fill: u8| OutgoingMessage {
        destination: source.clone(),
        key: "k".into(),
        headers: Headers::new(),
        payload: vec![fill; size],
    };
    let Some(max) = features.max_payload else {
        note(
            features,
            "no payload limit known: a 1 MiB payload must still round-trip",
        );
        publisher
            .publish(message(1 << 20, b'a'))
            .await
            .expect("publish 1 MiB");
        let mut subscriber = transport.subscriber(&source).await;
        let d = next_delivery(&mut *subscriber, "the 1 MiB message").await;
        assert_eq!(d.message.payload.len(), 1 << 20, "delivered whole");
        d.ack().await.expect("ack");
        return;
    };
    let refused = publisher.publish(message(max + 1, b'x')).await;
    match refused {
        Err(e) => assert!(
            !e.to_string().is_empty(),
            "the refusal of an oversize payload must say why"
        ),
        Ok(()) => panic!(
            "{}: a payload of {} bytes (limit {max}) was accepted",
            features.name,
            max + 1
        ),
    }
    // The largest allowed payload goes through, and nothing of the refused one arrives
    // before it (same key, so brokers that order by key deliver in publish order).
    publisher
        .publish(message(max, b'y'))
        .await
        .expect("a payload at the limit is accepted");
    let mut subscriber = transport.subscriber(&source).await;
    let d = next_delivery(&mut *subscriber, "the payload at the limit").await;
    assert!(
        d.message.payload.iter().all(|b| *b == b'y') && d.message.payload.len() == max,
        "the first delivery must be the payload at the limit, whole; got {} bytes starting {:?}",
        d.message.payload.len(),
        d.message.payload.first()
    );
    d.ack().await.expect("ack");
}

/// Publishing where no broker listens fails with an error, within the configured timeout
/// (plus a hang bound), never a silent success.
pub async fn unreachable_broker_is_an_error<T: TransportUnderTest>(
    transport: &T,
    features: &Features,
) {
    if let Capability::Unsupported(why) = features.unreachable_broker {
        note(features, why);
        return;
    }
    let timeout = Duration::from_secs(3);
    let started = Instant::now();
    let publisher = match transport.unreachable_publisher(timeout).await {
        Ok(p) => p,
        Err(e) => {
            publisher_error(features, &e);
            return;
        }
    };
    let outcome = tokio::time::timeout(
        timeout + Duration::from_secs(15),
        publisher.publish(OutgoingMessage {
            destination: "herald-conformance-nowhere".into(),
            key: "k".into(),
            headers: Headers::new(),
            payload: b"{}".to_vec(),
        }),
    )
    .await;
    match outcome {
        Err(_) => panic!(
            "{}: publishing to an unreachable broker hung past its {timeout:?} timeout",
            features.name
        ),
        Ok(Ok(())) => panic!(
            "{}: publishing to an unreachable broker reported success",
            features.name
        ),
        Ok(Err(e)) => publisher_error(features, &e),
    }
    eprintln!(
        "{}: unreachable broker reported after {:?}",
        features.name,
        started.elapsed()
    );
}
