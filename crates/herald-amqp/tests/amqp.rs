//! herald-amqp against the real RabbitMQ, beyond the transport conformance suite
//! (tests/conformance.rs): exchange kinds, confirms, unroutable messages, properties, and a
//! lost connection.

mod common;

use std::time::Duration;

use common::*;
use herald_amqp::{Exchange, OutagePolicy, Overflow, Queue, Topology};
use herald_core::{
    Envelope, OutgoingMessage, Producer, Publisher, TransportError, Worker, headers,
};
use lapin::options::BasicGetOptions;

const WAIT: Duration = Duration::from_secs(30);

/// Runs `worker` over `queue` until `stop` is notified; returns the join handle.
fn spawn_worker(
    amqp: &herald_amqp::Amqp,
    queue: &str,
    worker: Worker,
) -> (
    tokio::task::JoinHandle<herald_core::ShutdownReport>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let subscriber = amqp.subscriber(queue).prefetch(16);
    let handle = tokio::spawn(worker.run(subscriber, async move {
        let _ = stopped.await;
    }));
    (handle, stop)
}

#[tokio::test]
async fn each_exchange_kind_routes_to_its_queues() {
    let direct = unique("direct");
    let topic = unique("topic");
    let fanout = unique("fanout");
    let (qd, qt, qf1, qf2) = (unique("qd"), unique("qt"), unique("qf1"), unique("qf2"));
    let _cleanup = Cleanup::default()
        .exchange(&direct)
        .exchange(&topic)
        .exchange(&fanout)
        .queue(&qd)
        .queue(&qt)
        .queue(&qf1)
        .queue(&qf2);
    let amqp = connect(
        Topology::new()
            .exchange(Exchange::direct(&direct))
            .exchange(Exchange::topic(&topic))
            .exchange(Exchange::fanout(&fanout))
            .queue(Queue::new(&qd).bind(&direct, "test.ping"))
            .queue(Queue::new(&qt).quorum().bind(&topic, "test.*"))
            .queue(Queue::new(&qf1).bind(&fanout, ""))
            .queue(Queue::new(&qf2).bind(&fanout, "")),
    )
    .await;

    for (exchange, queues) in [
        (&direct, vec![&qd]),
        (&topic, vec![&qt]),
        (&fanout, vec![&qf1, &qf2]),
    ] {
        let producer = Producer::new(amqp.publisher()).route("test.ping", exchange);
        for seq in 0..5 {
            producer
                .publish(ping(seq))
                .await
                .expect("confirmed publish");
        }
        for queue in queues {
            let recorder = Recorder::ok();
            let (run, stop) = spawn_worker(
                &amqp,
                queue,
                Worker::builder().handler(recorder.clone()).build(),
            );
            assert!(
                eventually(WAIT, || recorder.seqs() == vec![0, 1, 2, 3, 4]).await,
                "queue {queue} behind exchange {exchange} got {:?}",
                recorder.seqs()
            );
            let _ = stop.send(());
            let report = run.await.expect("worker");
            assert!(report.drained);
            assert_eq!(ready(queue).await, 0, "everything acked on {queue}");
        }
    }
    amqp.close().await.expect("close");
}

#[tokio::test]
async fn envelope_fields_become_amqp_properties_and_confirmed_messages_are_in_the_queue() {
    let exchange = unique("props");
    let queue = unique("props-q");
    let _cleanup = Cleanup::default().exchange(&exchange).queue(&queue);
    let amqp = connect(
        Topology::new()
            .exchange(Exchange::direct(&exchange))
            .queue(Queue::new(&queue).bind(&exchange, "test.ping")),
    )
    .await;
    let producer = Producer::new(amqp.publisher()).route("test.ping", &exchange);
    let meta = producer.publish(ping(42)).await.expect("publish");
    // Confirmed means stored: the message is there without waiting.
    assert_eq!(ready(&queue).await, 1);

    let (conn, channel) = raw_channel().await;
    let got = channel
        .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
        .await
        .expect("get")
        .expect("a message");
    let p = &got.delivery.properties;
    assert_eq!(
        p.message_id().as_ref().map(|s| s.to_string()),
        Some(meta.event_id.to_string())
    );
    assert_eq!(
        p.kind().as_ref().map(|s| s.to_string()).as_deref(),
        Some("test.ping")
    );
    assert_eq!(
        p.correlation_id().as_ref().map(|s| s.to_string()),
        Some(meta.correlation_id.to_string())
    );
    assert_eq!(
        p.content_type().as_ref().map(|s| s.to_string()).as_deref(),
        Some("application/json")
    );
    assert_eq!(*p.delivery_mode(), Some(2), "persistent");
    assert!(p.timestamp().is_some_and(|t| t > 1_700_000_000));
    assert_eq!(got.delivery.routing_key.as_str(), "test.ping");
    let table = p.headers().as_ref().expect("headers");
    for name in [
        headers::EVENT_ID,
        headers::EVENT_TYPE,
        headers::SCHEMA_VERSION,
        headers::CORRELATION_ID,
        herald_amqp::PARTITION_KEY,
    ] {
        assert!(table.contains_key(name), "header {name} missing");
    }
    let envelope: Envelope<Ping> = Envelope::decode(&got.delivery.data).expect("JSON envelope");
    assert_eq!(envelope.data.seq, 42);
    let _ = conn.close(200, "".into()).await;
    amqp.close().await.expect("close");
}

#[tokio::test]
async fn unroutable_and_refused_messages_are_errors_never_silent_drops() {
    let exchange = unique("unroutable");
    let queue = unique("full");
    let _cleanup = Cleanup::default().exchange(&exchange).queue(&queue);
    let amqp = connect(
        Topology::new()
            .exchange(Exchange::direct(&exchange))
            .queue(Queue::new(&queue).max_length(1, Overflow::RejectPublish)),
    )
    .await;
    let publisher = amqp.publisher().with_outage_policy(OutagePolicy::FailFast);
    let message = |destination: &str, key: &str| OutgoingMessage {
        destination: destination.to_owned(),
        key: key.to_owned(),
        headers: Default::default(),
        payload: b"{}".to_vec(),
    };

    // An exchange without a binding for the key: returned (mandatory) -> error.
    let err = publisher
        .publish(message(&exchange, "nobody-listens"))
        .await
        .expect_err("unroutable must fail");
    assert!(
        matches!(&err, TransportError::Rejected(m) if m.contains("unroutable")),
        "{err}"
    );

    // An exchange that does not exist: the broker closes the channel -> error; the
    // publisher recovers for the next message.
    let err = publisher
        .publish(message(&unique("no-such-exchange"), "k"))
        .await
        .expect_err("missing exchange must fail");
    assert!(matches!(err, TransportError::Rejected(_)), "{err}");

    // A full queue with overflow reject-publish: nacked -> error.
    publisher
        .publish(message("", &queue))
        .await
        .expect("the first fits");
    let err = publisher
        .publish(message("", &queue))
        .await
        .expect_err("the second is refused");
    assert!(
        matches!(&err, TransportError::Rejected(m) if m.contains("nacked")),
        "{err}"
    );
    assert_eq!(ready(&queue).await, 1);
    amqp.close().await.expect("close");
}

/// Closes the broker side of the connection named `name` (only ours: other users of the
/// broker are not disturbed).
fn close_connection_named(name: &str) -> bool {
    let out = std::process::Command::new("rabbitmqctl")
        .args([
            "list_connections",
            "-q",
            "--no-table-headers",
            "pid",
            "client_properties",
        ])
        .output()
        .expect("rabbitmqctl on PATH (see scripts/services)");
    let mut found = false;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if !line.contains(name) {
            continue;
        }
        let pid = line.split('\t').next().unwrap_or_default().trim();
        let status = std::process::Command::new("rabbitmqctl")
            .args([
                "close_connection",
                pid,
                "herald test: simulated connection loss",
            ])
            .status()
            .expect("rabbitmqctl close_connection");
        assert!(
            status.success(),
            "rabbitmqctl close_connection {pid}: {status}"
        );
        found = true;
    }
    found
}

#[tokio::test]
async fn a_lost_connection_is_reestablished_and_consuming_resumes() {
    let queue = unique("reconnect");
    let _cleanup = Cleanup::default().queue(&queue);
    let config = config(Topology::new().queue(Queue::new(&queue)))
        .publish_outage(OutagePolicy::Wait(Duration::from_secs(30)));
    let name = config.connection_name.clone();
    let amqp = connect_with(config).await;
    let recorder = Recorder::ok();
    let (run, stop) = spawn_worker(
        &amqp,
        &queue,
        Worker::builder().handler(recorder.clone()).build(),
    );
    for seq in 0..20 {
        send_to_queue(&amqp, &queue, ping(seq)).await;
    }
    assert!(eventually(WAIT, || recorder.seqs().len() == 20).await);

    assert!(
        close_connection_named(&name),
        "our connection is listed by rabbitmqctl"
    );
    // Published while the connection is being re-established: the publisher waits.
    for seq in 20..40 {
        send_to_queue(&amqp, &queue, ping(seq)).await;
    }
    assert!(
        eventually(WAIT, || recorder.seqs() == (0..40).collect::<Vec<_>>()).await,
        "consuming resumed: {:?}",
        recorder.seqs()
    );
    assert!(amqp.reconnects() >= 1, "the connection was re-established");
    let _ = stop.send(());
    run.await.expect("worker");
    assert_eq!(ready(&queue).await, 0);
    amqp.close().await.expect("close");
}

#[tokio::test]
async fn connecting_where_no_broker_listens_fails_with_the_cause() {
    let err = herald_amqp::Amqp::connect(
        herald_amqp::AmqpConfig::new("amqp://guest:guest@127.0.0.1:1/%2f")
            .connect_timeout(Duration::from_secs(1)),
    )
    .await
    .expect_err("nothing listens on port 1");
    assert!(
        matches!(&err, herald_amqp::AmqpError::Unavailable(m) if m.contains("last attempt") && !m.contains("no attempt finished")),
        "{err}"
    );
}
