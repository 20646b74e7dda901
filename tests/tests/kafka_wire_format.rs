//! End to end across herald-kafka, herald-registry and a Python client: herald publishes in the Confluent wire format with schema ids from
//! herald-registry (in process, on SQLite); a Python consumer using confluent-kafka's
//! JSONDeserializer reads and validates the events; a herald worker reads the same
//! framed records; a framed event that fails is dead-lettered and replayed still framed.
//! Real broker (tansu), real Python client.

use std::sync::Arc;
use std::time::Duration;

use herald::Event;
use herald_core::testing::{spawn_worker, wait_for};
use herald_core::{Context, Handler, HandlerError, Producer, Worker};
use herald_kafka::testing::{brokers, config, topic, unique};
use herald_kafka::wire::{RegistryClient, SubjectStrategy, WireFormat};
use herald_kafka::{KafkaPublisher, KafkaSubscriber};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "interop.invoice_issued", version = 1)]
struct InvoiceIssued {
    #[event(aggregate_id)]
    invoice_id: String,
    amount_cents: u64,
    lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Line {
    sku: String,
    quantity: u32,
}

/// herald-registry on an ephemeral port, stored in a temporary SQLite file.
async fn registry() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let store = herald_registry::store::connect(&url, 4)
        .await
        .expect("store");
    let app = herald_registry::router(herald_registry::AppState::new(
        store,
        herald_registry::Settings::default(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), dir)
}

fn invoice(n: u32) -> InvoiceIssued {
    InvoiceIssued {
        invoice_id: format!("inv-{n}"),
        amount_cents: 1000 + u64::from(n),
        lines: vec![Line {
            sku: format!("sku-{n}"),
            quantity: n + 1,
        }],
    }
}

struct Collect;

#[herald_core::async_trait]
impl Handler for Collect {
    type Event = InvoiceIssued;
    fn name(&self) -> &'static str {
        "collect"
    }
    async fn handle(&self, e: InvoiceIssued, ctx: &Context) -> Result<(), HandlerError> {
        let seen = ctx
            .extension::<Arc<std::sync::Mutex<Vec<InvoiceIssued>>>>()
            .expect("seen");
        seen.lock().expect("lock").push(e);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confluent_json_deserializer_reads_events_herald_produced_in_the_wire_format() {
    let (registry_url, _dir) = registry().await;
    let topic = topic("interop", 3).await;
    let wire = WireFormat::new(RegistryClient::new(&registry_url).expect("client"))
        .subject_strategy(SubjectStrategy::TopicRecord);
    let publisher = KafkaPublisher::builder(&config())
        .wire_format(wire)
        .build()
        .expect("publisher");
    let producer = Producer::new(publisher).route(InvoiceIssued::NAME, &topic);
    let mut sent = Vec::new();
    for n in 0..5 {
        sent.push(producer.publish(invoice(n)).await.expect("publish"));
    }

    let output = tokio::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/kafka_wire_format_consumer.py"
        ))
        .args([&brokers(), &topic, &registry_url, "5"])
        .output()
        .await
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python consumer failed (install it with scripts/services: pip install 'confluent-kafka[json,schemaregistry]'):\n{stderr}"
    );
    let got: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("JSON from the Python consumer");
    assert_eq!(got.len(), 5);

    // The id in each value is the one the registry gave the envelope schema's subject.
    let client = RegistryClient::new(&registry_url).expect("client");
    let subject = format!("{topic}-{}", InvoiceIssued::NAME);
    let latest = client.latest(&subject).await.expect("subject registered");
    for g in &got {
        assert_eq!(g["schema_id"], latest.id, "{g}");
    }
    let mut ids: Vec<String> = got
        .iter()
        .map(|g| {
            g["value"]["event_id"]
                .as_str()
                .expect("event_id")
                .to_owned()
        })
        .collect();
    ids.sort();
    let mut want: Vec<String> = sent.iter().map(|m| m.event_id.to_string()).collect();
    want.sort();
    assert_eq!(ids, want);
    for g in &got {
        let v = &g["value"];
        assert_eq!(v["event_type"], "interop.invoice_issued");
        assert_eq!(v["schema_version"], 1);
        let n: u32 = v["data"]["invoice_id"].as_str().expect("id")[4..]
            .parse()
            .expect("n");
        assert_eq!(v["data"], serde_json::to_value(invoice(n)).expect("json"));
        assert_eq!(
            g["key"], v["partition_key"],
            "the Kafka key is the partition key"
        );
        // The envelope's fields travel as Kafka headers too.
        for field in [
            "event_id",
            "event_type",
            "aggregate_id",
            "correlation_id",
            "idempotency_key",
        ] {
            let header = format!("herald-{}", field.replace('_', "-"));
            assert_eq!(g["headers"][&header], v[field], "{header}");
        }
        assert_eq!(g["headers"]["herald-schema-version"], "1");
    }

    // herald's own worker reads the framed records too.
    let seen = Arc::new(std::sync::Mutex::new(Vec::<InvoiceIssued>::new()));
    let subscriber = KafkaSubscriber::builder(&config(), unique("group"))
        .topic(&topic)
        .build()
        .expect("subscriber");
    let worker = Worker::builder()
        .handler(Collect)
        .extension(seen.clone())
        .build();
    let (stop, run) = spawn_worker(worker, subscriber);
    wait_for(Duration::from_secs(30), "the worker to read 5", || {
        seen.lock().expect("lock").len() == 5
    })
    .await;
    stop.send(()).ok();
    run.await.expect("worker");
}

/// Refuses every invoice for good.
struct Reject;

#[herald_core::async_trait]
impl Handler for Reject {
    type Event = InvoiceIssued;
    fn name(&self) -> &'static str {
        "reject"
    }
    async fn handle(&self, _: InvoiceIssued, _: &Context) -> Result<(), HandlerError> {
        Err(HandlerError::permanent("no invoices today"))
    }
}

/// A framed event that fails reaches the DLQ framed with its schema id, and a replay puts it
/// back on its topic framed: consumers of either topic read what the publisher wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dead_letters_of_framed_events_stay_framed() {
    use herald_core::dead_letters::Selection;
    use herald_kafka::{dlq, wire};

    let (registry_url, _dir) = registry().await;
    let topic = topic("interop-dlq", 1).await;
    let wire_format = WireFormat::new(RegistryClient::new(&registry_url).expect("client"));
    let publisher = KafkaPublisher::builder(&config())
        .wire_format(wire_format)
        .build()
        .expect("publisher");
    let producer = Producer::new(publisher).route(InvoiceIssued::NAME, &topic);
    producer.publish(invoice(7)).await.expect("publish");
    // The default subject: `<topic>-<event type>`.
    let subject = format!("{topic}-{}", InvoiceIssued::NAME);
    let id = RegistryClient::new(&registry_url)
        .expect("client")
        .latest(&subject)
        .await
        .expect("subject registered")
        .id;

    let subscriber = KafkaSubscriber::builder(&config(), unique("group"))
        .topic(&topic)
        .build()
        .expect("subscriber");
    let (stop, run) = spawn_worker(Worker::builder().handler(Reject).build(), subscriber);
    let dead = {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let dead = dlq::list(&config(), &topic, &Selection::all())
                .await
                .expect("list");
            if !dead.is_empty() || std::time::Instant::now() > deadline {
                break dead;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    stop.send(()).ok();
    run.await.expect("worker");
    assert_eq!(dead.len(), 1, "the rejected invoice is dead-lettered");
    let (dead_id, json) = wire::unframe(&dead[0].payload);
    assert_eq!(
        dead_id.map(i64::from),
        Some(id),
        "framed with the schema id it came with"
    );
    let value: serde_json::Value = serde_json::from_slice(json).expect("the envelope's JSON");
    assert_eq!(
        value["data"],
        serde_json::to_value(invoice(7)).expect("json")
    );

    let report = dlq::replay(&config(), &topic, &Selection::all(), false)
        .await
        .expect("replay");
    assert_eq!(report.replayed, 1);
    let framed = last_value(&topic);
    assert_eq!(
        wire::unframe(&framed).0.map(i64::from),
        Some(id),
        "the replayed record is framed as the original was"
    );
}

/// The value of the last record of the one-partition `topic`.
fn last_value(topic: &str) -> Vec<u8> {
    use rdkafka::Message;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    c.subscribe(&[topic]).expect("subscribe");
    let mut last = None;
    let mut idle_since = std::time::Instant::now();
    while idle_since.elapsed() < Duration::from_secs(2) {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            last = Some(m.payload().unwrap_or_default().to_vec());
            idle_since = std::time::Instant::now();
        }
    }
    last.expect("a record in the topic")
}
