//! `herald dlq list|replay` against the real RabbitMQ on 127.0.0.1:5672 (`scripts/services`):
//! a worker dead-letters two messages, the CLI lists them, a dry run moves nothing, a
//! replay moves them back to the queue they came from.

mod common;

use std::time::Duration;

use herald_amqp::{Amqp, AmqpConfig, Exchange, Queue, Topology};
use herald_core::{Context, Event, Handler, HandlerError, Producer, Worker, async_trait};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
struct Ping {
    n: u32,
}

impl Event for Ping {
    const NAME: &'static str = "cli.ping";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        self.n.to_string()
    }
}

struct Poison;

#[async_trait]
impl Handler for Poison {
    type Event = Ping;
    fn name(&self) -> &'static str {
        "cli.poison"
    }
    async fn handle(&self, _event: Ping, _ctx: &Context) -> Result<(), HandlerError> {
        Err(HandlerError::permanent(std::io::Error::other(
            "poison pill",
        )))
    }
}

fn broker_url() -> String {
    std::env::var("HERALD_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn herald(args: &[&str]) -> (i32, String) {
    common::herald_broker(&broker_url(), args)
}

/// A queue (with its exchange) where a worker dead-lettered two pings, n = 0 and 1.
async fn two_dead_letters() -> (Amqp, String, String) {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let queue = format!("herald-cli-dlq-{suffix}");
    let exchange = format!("herald-cli-x-{suffix}");
    let amqp = Amqp::connect(
        AmqpConfig::new(broker_url()).topology(
            Topology::new()
                .exchange(Exchange::topic(&exchange))
                .queue(Queue::new(&queue).bind(&exchange, "#")),
        ),
    )
    .await
    .expect("RabbitMQ on 127.0.0.1:5672: start it with scripts/services");

    let worker = Worker::builder()
        .handler(Poison)
        .shutdown_timeout(Duration::from_secs(2))
        .build();
    let metrics = worker.metrics();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(worker.run(amqp.subscriber(&queue), async {
        let _ = stopped.await;
    }));
    let producer = Producer::new(amqp.publisher()).route(Ping::NAME, &exchange);
    for n in 0..2 {
        producer.publish(Ping { n }).await.expect("publish");
    }
    for _ in 0..300 {
        if metrics.snapshot().dead_lettered == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metrics.snapshot().dead_lettered,
        2,
        "the worker dead-lettered both"
    );
    let _ = stop.send(());
    run.await.expect("worker");
    (amqp, queue, exchange)
}

async fn clean_up(amqp: Amqp, queue: &str, exchange: &str) {
    let channel = amqp_channel().await;
    for name in [queue.to_owned(), format!("{queue}.dlq")] {
        let _ = channel
            .queue_delete(name.as_str().into(), Default::default())
            .await;
    }
    for name in [exchange.to_owned(), format!("{queue}.dlx")] {
        let _ = channel
            .exchange_delete(name.as_str().into(), Default::default())
            .await;
    }
    let _ = amqp.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_dry_run_and_replay_dead_letters() {
    let (amqp, queue, exchange) = two_dead_letters().await;

    let (code, out) = herald(&["dlq", "list", &queue]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("cli.ping").count(), 2, "{out}");
    assert_eq!(out.matches("poison pill").count(), 2, "{out}");
    assert!(out.contains("handler cli.poison, attempts 1"), "{out}");
    assert!(out.contains("2 dead letter(s)"), "{out}");

    let (code, out) = herald(&["dlq", "replay", &queue, "--dry-run", "--limit", "1"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("would replay 1 dead letter(s); nothing moved"),
        "{out}"
    );
    let (_, out) = herald(&["dlq", "list", &queue, "--reason", "poison"]);
    assert!(
        out.contains("2 dead letter(s)"),
        "a dry run moves nothing: {out}"
    );
    let (_, out) = herald(&["dlq", "list", &queue, "--event-type", "other.event"]);
    assert!(
        out.contains("0 dead letter(s)"),
        "filtered by event type: {out}"
    );

    let (code, out) = herald(&["dlq", "replay", &queue]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replayed 2 dead letter(s)"), "{out}");
    let (_, out) = herald(&["dlq", "list", &queue]);
    assert!(out.contains("0 dead letter(s)"), "{out}");

    // They are back in the queue they came from, as first attempts.
    let channel = amqp_channel().await;
    let back = channel
        .queue_declare(
            queue.as_str().into(),
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            Default::default(),
        )
        .await
        .expect("the queue exists");
    assert_eq!(back.message_count(), 2);
    clean_up(amqp, &queue, &exchange).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_as_json_then_purge_with_confirmation() {
    let (amqp, queue, exchange) = two_dead_letters().await;

    let (code, out) = herald(&["dlq", "list", &queue, "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["count"], 2, "{v:#}");
    let letters = v["dead_letters"].as_array().expect("dead_letters");
    let mut aggregates: Vec<&str> = letters
        .iter()
        .map(|d| d["aggregate_id"].as_str().expect("aggregate id"))
        .collect();
    aggregates.sort_unstable();
    assert_eq!(aggregates, ["0", "1"], "{v:#}");
    for d in letters {
        assert_eq!(d["event_type"], "cli.ping", "{v:#}");
        assert_eq!(d["origin"], queue.as_str(), "{v:#}");
        assert!(
            d["reason"]
                .as_str()
                .is_some_and(|r| r.contains("poison pill")),
            "{v:#}"
        );
        assert_eq!(d["handler"], "cli.poison", "{v:#}");
        assert_eq!(d["attempts"], 1, "{v:#}");
        assert_eq!(
            d["payload"]["data"]["n"].to_string(),
            d["aggregate_id"].as_str().unwrap_or_default(),
            "the payload is the envelope: {v:#}"
        );
        assert!(d["payload_base64"].is_null(), "{v:#}");
    }

    // No confirmation: nothing happens, and it says how to confirm.
    let (code, out) = herald(&["dlq", "purge", &queue]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--dry-run") && out.contains("--yes"), "{out}");
    let (code, out) = herald(&["dlq", "purge", &queue, "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "dry run: would purge 2 dead letter(s) from {queue}.dlq; nothing deleted"
        )),
        "{out}"
    );
    let (_, out) = herald(&["dlq", "list", &queue]);
    assert!(
        out.contains("2 dead letter(s)"),
        "nothing purged yet: {out}"
    );

    let (code, out) = herald(&["dlq", "purge", &queue, "--yes", "--limit", "1"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("purged 1 dead letter(s) from {queue}.dlq")),
        "{out}"
    );
    let (_, out) = herald(&["dlq", "list", &queue]);
    assert!(out.contains("1 dead letter(s)"), "{out}");
    let (code, out) = herald(&["dlq", "purge", &queue, "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("purged 1 dead letter(s)"), "{out}");
    let (_, out) = herald(&["dlq", "list", &queue]);
    assert!(out.contains("0 dead letter(s)"), "{out}");

    // Purged, not replayed: the consumer queue stayed empty.
    let channel = amqp_channel().await;
    let origin = channel
        .queue_declare(
            queue.as_str().into(),
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            Default::default(),
        )
        .await
        .expect("the queue exists");
    assert_eq!(origin.message_count(), 0);
    clean_up(amqp, &queue, &exchange).await;
}

#[test]
fn an_unreachable_broker_exits_2_with_the_cause() {
    let (code, err) = common::herald_broker(
        "amqp://guest:secret@127.0.0.1:1/%2f",
        &["dlq", "list", "orders"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot reach the broker at amqp://guest:***@127.0.0.1:1/%2f"),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
}

async fn amqp_channel() -> lapin::Channel {
    let conn = lapin::Connection::connect(&broker_url(), lapin::ConnectionProperties::default())
        .await
        .expect("connect");
    conn.create_channel().await.expect("channel")
}
