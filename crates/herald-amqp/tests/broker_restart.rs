//! The broker restarts (`rabbitmqctl stop_app` / `start_app`) during a stream: nothing is
//! lost. This disrupts the shared broker, so it is alone in its test binary (cargo runs
//! test binaries one after another) and restores the broker even when it fails.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::*;
use herald_amqp::{OutagePolicy, Queue, ReconnectPolicy, Topology};
use herald_core::Worker;

const MESSAGES: u64 = 300;

fn rabbitmqctl(args: &[&str]) {
    let status = Command::new("rabbitmqctl")
        .args(args)
        .status()
        .unwrap_or_else(|e| {
            panic!("running `rabbitmqctl {}`: {e} (this test needs the broker's rabbitmqctl on PATH; see scripts/services)", args.join(" "))
        });
    assert!(
        status.success(),
        "rabbitmqctl {} failed: {status}",
        args.join(" ")
    );
}

/// Starts the app again if the test stops midway.
struct Restore {
    stopped: bool,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if self.stopped {
            let _ = Command::new("rabbitmqctl").arg("start_app").status();
            let _ = Command::new("rabbitmqctl")
                .args(["await_startup", "--timeout", "60"])
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_during_a_stream_loses_nothing() {
    let queue = unique("restart");
    let _cleanup = Cleanup::default().queue(&queue);
    let config = config(Topology::new().queue(Queue::new(&queue)))
        .publish_outage(OutagePolicy::Wait(Duration::from_secs(90)))
        .reconnect(ReconnectPolicy {
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            factor: 2.0,
            jitter: true,
        });
    let amqp = connect_with(config).await;
    let recorder = Recorder::ok();
    let worker = Worker::builder()
        .handler(recorder.clone())
        .concurrency(4)
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(
        worker.run(amqp.subscriber(&queue).prefetch(20), async move {
            let _ = stopped.await;
        }),
    );

    // Publish the stream in the background; each publish returns only once confirmed.
    let publisher = {
        let amqp = amqp.clone();
        let queue = queue.clone();
        tokio::spawn(async move {
            for seq in 0..MESSAGES {
                send_to_queue(&amqp, &queue, ping(seq)).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    assert!(
        eventually(Duration::from_secs(30), || recorder.calls().len() >= 50).await,
        "the stream is flowing before the restart"
    );
    let mut restore = Restore { stopped: true };
    rabbitmqctl(&["stop_app"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    rabbitmqctl(&["start_app"]);
    rabbitmqctl(&["await_startup", "--timeout", "60"]);
    restore.stopped = false;

    publisher
        .await
        .expect("every publish was confirmed (it waited out the outage)");
    let all: BTreeSet<u64> = (0..MESSAGES).collect();
    let complete = eventually(Duration::from_secs(90), || {
        recorder.seqs().into_iter().collect::<BTreeSet<_>>() == all
    })
    .await;
    let seen: BTreeSet<u64> = recorder.seqs().into_iter().collect();
    assert!(
        complete,
        "lost after the restart: {:?}",
        all.difference(&seen).collect::<Vec<_>>()
    );
    assert!(amqp.reconnects() >= 1, "the client reconnected");
    eprintln!(
        "{} handler runs for {MESSAGES} messages (duplicates are redeliveries of unacked messages)",
        recorder.calls().len()
    );
    let _ = stop.send(());
    run.await.expect("worker");
    // Bounded: after a restart lapin's close has been seen waiting for an answer that never
    // came; what this test checks (nothing lost) is decided above.
    if let Err(e) = amqp.close().await {
        eprintln!("close after the restart: {e}");
    }
}
