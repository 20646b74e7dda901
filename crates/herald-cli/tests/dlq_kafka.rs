//! `herald dlq list|replay --broker kafka://...` against the real Kafka-API broker (tansu
//! on 127.0.0.1:9092, `scripts/services`): a dead letter written as herald's worker writes
//! them is listed with its reason, a dry run sends nothing, a replay sends it back to its
//! topic as a first attempt, and a second replay finds nothing left.

mod common;

use std::time::Duration;

use herald_core::{Headers, headers};
use herald_kafka::{KafkaConfig, KafkaPublisher, topics};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers as _, Message};

fn brokers() -> String {
    std::env::var("HERALD_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

fn herald(args: &[&str]) -> (i32, String) {
    common::herald_broker(&format!("kafka://{}", brokers()), args)
}

/// The records of `topic` (all partitions, from the start), as (headers, payload).
fn read_all(topic: &str) -> Vec<(Headers, Vec<u8>)> {
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set(
            "group.id",
            format!("herald-cli-test.{}", uuid::Uuid::new_v4()),
        )
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    c.subscribe(&[topic]).expect("subscribe");
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(200)) {
            let mut h = Headers::new();
            for header in m.headers().iter().flat_map(|hs| hs.iter()) {
                if let Some(v) = header.value {
                    h.insert(
                        header.key.to_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    );
                }
            }
            out.push((h, m.payload().unwrap_or_default().to_vec()));
        } else if !out.is_empty() {
            break;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_and_replays_kafka_dead_letters() {
    let topic = format!(
        "herald-cli-test.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let config = KafkaConfig::new(brokers());
    herald_kafka::create_topics(&config, &topic, 1, 1)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Kafka at {} ({e}): start it with scripts/services",
                brokers()
            )
        });
    let mut dead = Headers::new();
    dead.insert(headers::EVENT_TYPE.into(), "cli.ping".into());
    dead.insert(
        headers::EVENT_ID.into(),
        "0190f0e0-0000-7000-8000-000000000001".into(),
    );
    dead.insert(headers::ERROR.into(), "poison pill".into());
    dead.insert(headers::HANDLER.into(), "cli.poison".into());
    dead.insert(headers::ATTEMPTS.into(), "1".into());
    dead.insert(headers::ATTEMPT.into(), "1".into());
    dead.insert(headers::PERMANENT.into(), "true".into());
    dead.insert(headers::ORIGIN.into(), topic.clone());
    let publisher = KafkaPublisher::new(&config).expect("publisher");
    publisher
        .send(&topics::dlq_topic(&topic), Some("k"), &dead, br#"{"n":1}"#)
        .await
        .expect("write the dead letter");

    let (code, out) = herald(&["dlq", "list", &topic]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("cli.ping"), "{out}");
    assert!(out.contains("poison pill"), "{out}");
    assert!(out.contains("1 dead letter(s)"), "{out}");

    let (code, out) = herald(&["dlq", "replay", &topic, "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("dry run: would replay 1"), "{out}");

    let (code, out) = herald(&["dlq", "replay", &topic]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replayed 1 dead letter(s)"), "{out}");
    let back = read_all(&topic);
    assert_eq!(back.len(), 1, "one record back in {topic}");
    let (h, payload) = &back[0];
    assert_eq!(payload, br#"{"n":1}"#);
    assert_eq!(
        h.get(headers::EVENT_TYPE).map(String::as_str),
        Some("cli.ping")
    );
    for gone in [
        headers::ERROR,
        headers::ATTEMPTS,
        headers::HANDLER,
        headers::ATTEMPT,
    ] {
        assert!(!h.contains_key(gone), "{gone} removed on replay: {h:?}");
    }

    let (code, out) = herald(&["dlq", "list", &topic]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 dead letter(s)"), "{out}");
}

/// A dead letter as herald's worker writes them, of `event_type` for aggregate `aggregate`.
fn dead_letter(topic: &str, event_type: &str, aggregate: &str) -> Headers {
    let mut dead = Headers::new();
    dead.insert(headers::EVENT_TYPE.into(), event_type.into());
    dead.insert(headers::AGGREGATE_ID.into(), aggregate.into());
    dead.insert(headers::ERROR.into(), format!("poison pill {aggregate}"));
    dead.insert(headers::HANDLER.into(), "cli.poison".into());
    dead.insert(headers::ATTEMPTS.into(), "3".into());
    dead.insert(headers::ORIGIN.into(), topic.to_owned());
    dead
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_as_json_and_purges_by_skipping_over() {
    let topic = format!(
        "herald-cli-test.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let config = KafkaConfig::new(brokers());
    herald_kafka::create_topics(&config, &topic, 1, 1)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Kafka at {} ({e}): start it with scripts/services",
                brokers()
            )
        });
    let publisher = KafkaPublisher::new(&config).expect("publisher");
    // One key: one partition, in this order.
    for (event_type, aggregate) in [("cli.a", "o-1"), ("cli.b", "o-2"), ("cli.a", "o-3")] {
        publisher
            .send(
                &topics::dlq_topic(&topic),
                Some("k"),
                &dead_letter(&topic, event_type, aggregate),
                format!(r#"{{"aggregate":"{aggregate}"}}"#).as_bytes(),
            )
            .await
            .expect("write the dead letter");
    }

    let (code, out) = herald(&["dlq", "list", &topic, "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["count"], 3, "{v:#}");
    let first = &v["dead_letters"][0];
    assert_eq!(first["aggregate_id"], "o-1", "{v:#}");
    assert_eq!(first["event_type"], "cli.a", "{v:#}");
    assert_eq!(first["reason"], "poison pill o-1", "{v:#}");
    assert_eq!(first["attempts"], 3, "{v:#}");
    assert_eq!(
        first["payload"],
        serde_json::json!({"aggregate": "o-1"}),
        "{v:#}"
    );

    let (code, out) = herald(&["dlq", "purge", &topic]);
    assert_eq!(code, 2, "no confirmation: {out}");
    assert!(out.contains("--yes"), "{out}");

    // cli.a: the first goes; the third sits behind cli.b, which stays, so it stays too.
    let (code, out) = herald(&["dlq", "purge", &topic, "--event-type", "cli.a", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("dry run: would purge 1 dead letter(s)"),
        "{out}"
    );
    assert!(out.contains("kept 1 selected dead letter(s)"), "{out}");
    let (code, out) = herald(&["dlq", "purge", &topic, "--event-type", "cli.a", "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("purged 1 dead letter(s)"), "{out}");
    assert!(out.contains("Kafka cannot delete records"), "{out}");
    assert!(out.contains("kept 1 selected dead letter(s)"), "{out}");
    let (code, out) = herald(&["dlq", "list", &topic, "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["count"], 2, "{v:#}");
    assert_eq!(v["dead_letters"][0]["aggregate_id"], "o-2", "{v:#}");

    let (code, out) = herald(&["dlq", "purge", &topic, "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("purged 2 dead letter(s)"), "{out}");
    let (_, out) = herald(&["dlq", "list", &topic]);
    assert!(out.contains("0 dead letter(s)"), "{out}");
    // Nothing was sent back: a purge is not a replay.
    let (_, out) = herald(&["dlq", "replay", &topic]);
    assert!(out.contains("replayed 0 dead letter(s)"), "{out}");
}
