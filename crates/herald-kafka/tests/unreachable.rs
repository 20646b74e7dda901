//! No broker at the address: publishing fails with an error that says so once the delivery
//! timeout passes (the event is not reported sent), and a worker on a subscriber to it
//! keeps waiting without processing anything, then shuts down cleanly.

mod common;

use std::time::Duration;

use common::{Probe, Record, spawn_worker};
use herald_core::Worker;
use herald_kafka::{KafkaConfig, KafkaSubscriber};

/// A loopback port nothing listens on.
fn dead_broker() -> KafkaConfig {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    KafkaConfig::new(format!("127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_no_broker_waits_and_shuts_down() {
    let subscriber = KafkaSubscriber::builder(&dead_broker(), "herald-test.nobody")
        .topic("nowhere")
        .build()
        .expect("a consumer is created without a connection");
    let probe = Probe::new();
    let worker = Worker::builder()
        .handler(Record::new(1))
        .extension(probe.clone())
        .shutdown_timeout(Duration::from_secs(5))
        .build();
    let (stop, run) = spawn_worker(worker, subscriber);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!run.is_finished(), "still waiting for the broker");
    stop.send(()).ok();
    let report = tokio::time::timeout(Duration::from_secs(15), run)
        .await
        .expect("shuts down without a broker")
        .expect("worker");
    assert!(report.drained);
    assert_eq!(probe.done_count(), 0);
}
