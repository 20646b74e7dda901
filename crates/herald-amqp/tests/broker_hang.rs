//! The broker hangs (its process frozen with SIGSTOP: connections stay open and nothing
//! answers, as in a network partition) just as a worker shuts down: the worker still stops
//! within its shutdown deadline, and once the broker answers again the message it had not
//! acknowledged is still in the queue. This freezes the shared broker, so it is alone in its
//! test binary (cargo runs test binaries one after another) and thaws the broker even when it
//! fails.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use herald_amqp::{Queue, Topology};
use herald_core::Worker;

/// The RabbitMQ server process (the Erlang VM running the `rabbit` node).
fn broker_pid() -> String {
    let out = Command::new("pgrep")
        .args(["-f", "beam.*rabbit"])
        .output()
        .expect("pgrep");
    let pids = String::from_utf8_lossy(&out.stdout);
    pids.lines()
        .next()
        .unwrap_or_else(|| panic!("no RabbitMQ process found (start it with scripts/services)"))
        .trim()
        .to_owned()
}

/// Freezes the broker; thaws it when dropped, even if the test fails.
struct Frozen(String);

impl Frozen {
    fn new() -> Self {
        let pid = broker_pid();
        let status = Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -STOP {pid}");
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.0]).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_shuts_down_while_the_broker_hangs() {
    let queue = unique("hang");
    let _cleanup = Cleanup::default().queue(&queue);
    let amqp = connect(Topology::new().queue(Queue::new(&queue))).await;
    for seq in 0..10 {
        send_to_queue(&amqp, &queue, ping(seq)).await;
    }
    // Slow enough that the last message is still running when the broker freezes.
    let recorder = Recorder::ok().slow(Duration::from_millis(300));
    let deadline = Duration::from_secs(2);
    let worker = Worker::builder()
        .handler(recorder.clone())
        .concurrency(1)
        .shutdown_timeout(deadline)
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(worker.run(amqp.subscriber(&queue).prefetch(1), async move {
        let _ = stopped.await;
    }));
    assert!(
        eventually(Duration::from_secs(30), || recorder.calls().len() >= 3).await,
        "messages flow before the freeze"
    );

    let frozen = Frozen::new();
    let stopping = Instant::now();
    let _ = stop.send(());
    let report = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("a worker whose broker hangs still shuts down")
        .expect("worker");
    let took = stopping.elapsed();
    // Closing the client while the broker still hangs is bounded too (5 s), and says so.
    let closing = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(30), amqp.close()).await;
    let close_took = closing.elapsed();
    drop(frozen);
    eprintln!("shut down {took:?} after the broker froze: {report:?}");
    assert!(
        took < deadline + Duration::from_secs(2),
        "the shutdown took {took:?}, past its {deadline:?} deadline"
    );
    assert!(
        close_took < Duration::from_secs(7),
        "closing the client took {close_took:?} while the broker hung"
    );
    assert!(
        matches!(closed, Ok(Err(_))),
        "a close the broker never answered is an error: {closed:?}"
    );

    // Nothing is lost: once the broker answers the close, what was not acknowledged before
    // the freeze is back in the queue.
    let done = recorder.seqs().len() as u32;
    let mut left = 0;
    for _ in 0..100 {
        left = ready(&queue).await;
        if done + left >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        done + left >= 10,
        "{done} handled and {left} still queued: every message is somewhere"
    );
}
