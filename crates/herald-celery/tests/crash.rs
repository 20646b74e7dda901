//! A worker SIGKILLed mid-task: on Redis the message is restored once the visibility
//! timeout passes, on RabbitMQ it is redelivered at once; a second worker runs it, and
//! the effect happens once. A duplicate of the finished task is skipped (the task id is
//! the idempotency key).
//!
//! The workers are this test binary run again as `crash_child` (a worker with an
//! `effect` task that sleeps then INCRs a Redis counter), so the test can kill them.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{BACKEND, WAIT, log_file, queue};
use herald_celery::{
    Broker, Client, RedisBackend, RedisOptions, Task, TaskRequest, TaskState, Worker,
};
use herald_core::testing::Reaper;
use herald_redis::RedisIdempotencyStore;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// A database of its own: the short visibility timeout here must not restore other
/// tests' messages.
const REDIS_BROKER: &str = "redis://127.0.0.1:6379/2";
const AMQP_BROKER: &str = "amqp://guest:guest@127.0.0.1:5672//";
const COUNTERS: &str = "redis://127.0.0.1:6379/2";
const VISIBILITY: Duration = Duration::from_secs(3);

/// The child worker: runs when the parent sets HC_CRASH_QUEUE.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by the crash tests as a child process"]
async fn crash_child() {
    let (Ok(queue), Ok(broker)) = (
        std::env::var("HC_CRASH_QUEUE"),
        std::env::var("HC_CRASH_BROKER"),
    ) else {
        return;
    };
    tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_writer(std::io::stderr)
        .init();
    let options = RedisOptions {
        visibility_timeout: VISIBILITY,
        restore_interval: Duration::from_millis(500),
        ..RedisOptions::default()
    };
    let broker = Broker::connect_with(&broker, options)
        .await
        .expect("broker");
    let backend = RedisBackend::connect(BACKEND).await.expect("backend");
    let store = RedisIdempotencyStore::connect(COUNTERS)
        .await
        .expect("store");
    let counters = redis::Client::open(COUNTERS).expect("url");
    let effect = Task::new("tasks.effect", move |r: TaskRequest| {
        let counters = counters.clone();
        async move {
            let key: String = r.arg(0, "key")?;
            let seconds: f64 = r.arg(1, "seconds")?;
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            let mut conn = counters
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| herald_celery::TaskError::failure("ConnectionError", e.to_string()))?;
            let n: i64 = redis::cmd("INCR")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(|e| herald_celery::TaskError::failure("ConnectionError", e.to_string()))?;
            Ok(n)
        }
    })
    .configure(|o| {
        o.acks_late = true;
        o.track_started = true;
    });
    let worker = Worker::builder(broker, Some(backend))
        .queue(queue)
        .concurrency(2)
        .idempotency(
            Arc::new(store),
            Duration::from_secs(3),
            Duration::from_secs(3600),
        )
        .task(effect)
        .build()
        .expect("worker");
    worker.run(CancellationToken::new()).await.expect("run");
}

fn child(broker: &str, queue: &str, log: &std::path::Path) -> Reaper {
    let exe = std::env::current_exe().expect("test binary");
    Reaper::new(
        Command::new(exe)
            .args(["crash_child", "--exact", "--ignored", "--nocapture"])
            .env("HC_CRASH_QUEUE", queue)
            .env("HC_CRASH_BROKER", broker)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(log).expect("log")))
            .spawn()
            .expect("child worker"),
    )
}

async fn counter(key: &str) -> i64 {
    let client = redis::Client::open(COUNTERS).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    redis::cmd("GET")
        .arg(key)
        .query_async::<Option<i64>>(&mut conn)
        .await
        .expect("get")
        .unwrap_or(0)
}

async fn killed_mid_task_runs_once(broker: &str) {
    let q = queue("crash");
    let key = format!("hc-crash-counter-{}", uuid::Uuid::new_v4().simple());
    let client = Client::connect(broker, Some(BACKEND))
        .await
        .expect("client");
    client.broker().declare_queue(&q).await.expect("declare");
    let first_log = log_file("crash-first");
    let mut first = child(broker, &q, &first_log);
    let sent = client
        .send_task("tasks.effect")
        .args((key.as_str(), 4.0))
        .expect("args")
        .queue(&q)
        .send()
        .await
        .expect("sent");
    // Killed once it is running, before its effect.
    let mut started = false;
    for _ in 0..300 {
        if sent.state().await.expect("state") == TaskState::Started {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started, "the task never started");
    first.child().kill().expect("SIGKILL");
    first.child().wait().expect("reaped");
    assert_eq!(counter(&key).await, 0, "killed before its effect");

    let second_log = log_file("crash-second");
    let _second = child(broker, &q, &second_log);
    let result = sent.get(WAIT).await.expect("run by the second worker");
    assert_eq!(result, json!(1));
    assert_eq!(counter(&key).await, 1);

    // The same task id again: done already, skipped. (On Redis the run, longer than the
    // visibility timeout, may have been restored and skipped already: count the skips.)
    let skips = || {
        std::fs::read_to_string(&second_log)
            .unwrap_or_default()
            .matches("already done")
            .count()
    };
    let before = skips();
    client
        .send_task("tasks.effect")
        .task_id(&sent.id)
        .args((key.as_str(), 0.0))
        .expect("args")
        .queue(&q)
        .send()
        .await
        .expect("duplicate sent");
    for _ in 0..300 {
        if skips() > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(skips() > before, "the duplicate was not skipped");
    assert_eq!(counter(&key).await, 1, "the duplicate repeated the effect");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_restores_after_the_visibility_timeout() {
    killed_mid_task_runs_once(REDIS_BROKER).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn amqp_redelivers() {
    killed_mid_task_runs_once(AMQP_BROKER).await;
}
