//! The broker goes away while a worker runs, on a tansu broker of the test's own:
//! - frozen for a few seconds (SIGSTOP, as a hung broker or a network partition looks to a
//!   client), the worker and the producer wait, and once it answers again every event is
//!   processed and committed: nothing is lost;
//! - killed for good, or hung, a worker still shuts down: the last commit and leaving the
//!   group give up after the subscriber's `close_timeout` (5 s) instead of waiting for the
//!   broker without end (librdkafka's close does, for a hung broker). What was not committed
//!   is delivered again to the group's next consumer, never lost.

mod common;

use std::time::{Duration, Instant};

use common::private_broker::PrivateBroker;
use common::*;
use herald_core::Worker;
use herald_kafka::KafkaSubscriber;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_broker_delays_but_loses_nothing() {
    let mut broker = PrivateBroker::start();
    let topic = topic_at(&broker.address, "frozen", 4).await;
    let group = unique("group");
    let producer = producer_at(&broker.address, &topic);
    for seq in 0..100 {
        let step = Step {
            key: format!("key-{}", seq % 10),
            seq,
        };
        producer.publish(step).await.expect("publish");
    }
    let subscriber = KafkaSubscriber::builder(&config_at(&broker.address), &group)
        .topic(&topic)
        .build()
        .expect("subscriber");
    let probe = Probe::new();
    *probe.work.lock().expect("lock") = Duration::from_millis(5);
    let worker = Worker::builder()
        .handler(Record::new(3))
        .extension(probe.clone())
        .concurrency(8)
        .build();
    let (stop, run) = spawn_worker(worker, subscriber);
    wait_for(
        Duration::from_secs(60),
        "30 events before the freeze",
        || probe.done_count() >= 30,
    )
    .await;

    broker.pause();
    // Published while the broker is frozen: the producer keeps them until it answers.
    let late = tokio::spawn(async move {
        for seq in 100..150 {
            let step = Step {
                key: format!("key-{}", seq % 10),
                seq,
            };
            producer
                .publish(step)
                .await
                .expect("publish once the broker is back");
        }
    });
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(!run.is_finished(), "the worker waits for the broker");
    assert!(
        !late.is_finished(),
        "nothing can be delivered to a frozen broker"
    );
    let during = probe.done_count();
    broker.resume();

    late.await.expect("late publishes");
    wait_for(
        Duration::from_secs(60),
        "all 150 events after the broker is back",
        || probe.distinct_done() == 150,
    )
    .await;
    stop.send(()).ok();
    let report = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("shuts down")
        .expect("worker");
    assert!(report.drained);
    let (committed, ends) = committed_and_ends_at(&broker.address, &group, &topic);
    assert_eq!(committed, ends, "everything processed is committed");
    eprintln!(
        "done before the freeze ended: {during}; runs in all: {} for 150 events",
        probe.runs.lock().expect("lock").len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_shuts_down_when_the_broker_is_gone_for_good() {
    shut_down_without_broker(PrivateBroker::kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_shuts_down_when_the_broker_hangs() {
    shut_down_without_broker(PrivateBroker::pause).await;
}

/// Processes 20 events, takes the broker away with `gone`, and shuts the worker down.
async fn shut_down_without_broker(gone: fn(&mut PrivateBroker)) {
    let mut broker = PrivateBroker::start();
    let topic = topic_at(&broker.address, "gone", 2).await;
    let producer = producer_at(&broker.address, &topic);
    for seq in 0..20 {
        let step = Step {
            key: format!("key-{}", seq % 4),
            seq,
        };
        producer.publish(step).await.expect("publish");
    }
    let subscriber = KafkaSubscriber::builder(&config_at(&broker.address), unique("group"))
        .topic(&topic)
        // No periodic commit: the shutdown's commit is the one that meets the dead broker.
        .commit_interval(Duration::from_secs(3600))
        .build()
        .expect("subscriber");
    let probe = Probe::new();
    let deadline = Duration::from_secs(2);
    let worker = Worker::builder()
        .handler(Record::new(1))
        .extension(probe.clone())
        .shutdown_timeout(deadline)
        .build();
    let (stop, run) = spawn_worker(worker, subscriber);
    wait_for(Duration::from_secs(60), "all 20 events", || {
        probe.done_count() == 20
    })
    .await;

    gone(&mut broker);
    let stopping = Instant::now();
    stop.send(()).ok();
    let report = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("a worker whose broker is gone still shuts down")
        .expect("worker");
    let took = stopping.elapsed();
    eprintln!("shut down {took:?} after the broker went away");
    assert!(
        took < deadline + Duration::from_secs(2),
        "the shutdown took {took:?}, past its {deadline:?} deadline"
    );
    assert!(report.drained, "every handler had finished: {report:?}");
}
