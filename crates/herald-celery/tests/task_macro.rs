//! `#[herald::task]` tasks on a worker in this process, called by Python Celery:
//! arguments by position and by name (optional ones may be absent), argument errors as
//! TypeError FAILUREs, autoretry with backoff until success or past max_retries, time
//! limits, rate limit, and ignore_result with a callback.

mod common;

use std::time::Duration;

use common::{BACKEND, Kind, WAIT, python_json, queue};
use herald_celery::{
    Broker, Client, RedisBackend, Signature, TaskError, TaskRequest, TaskState, Worker,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

#[herald::task(
    name = "tasks.process_order",
    autoretry_for = ["ConnectionError"],
    retry_backoff = true,
    retry_backoff_max = 2,
    retry_jitter = false,
    max_retries = 5
)]
async fn process_order(
    order_id: String,
    fail_times: u32,
    note: Option<String>,
    req: &TaskRequest,
) -> Result<Value, TaskError> {
    if req.retries() < fail_times {
        return Err(TaskError::failure(
            "ConnectionError",
            "payment gateway down",
        ));
    }
    Ok(json!({"order": order_id, "note": note, "retries": req.retries()}))
}

#[herald::task(name = "tasks.give_up", autoretry_for = ["ConnectionError"], default_retry_delay = 0, max_retries = 1)]
async fn give_up() -> Result<(), TaskError> {
    Err(TaskError::failure("ConnectionError", "still down"))
}

#[herald::task(name = "tasks.too_slow", time_limit = 1)]
async fn too_slow() -> Result<(), TaskError> {
    tokio::time::sleep(Duration::from_secs(30)).await;
    Ok(())
}

#[herald::task(name = "tasks.polite", soft_time_limit = "500ms", time_limit = 20)]
async fn polite(req: &TaskRequest) -> Result<&'static str, TaskError> {
    req.soft_time_limit().cancelled().await;
    Ok("stopped at the soft limit")
}

#[herald::task(name = "tasks.limited", rate_limit = "2/s")]
async fn limited(n: u32) -> Result<u32, TaskError> {
    Ok(n)
}

#[herald::task(name = "tasks.quiet", ignore_result = true)]
async fn quiet(x: i64) -> Result<i64, TaskError> {
    Ok(x * 2)
}

#[herald::task(name = "tasks.add")]
async fn add(x: i64, y: i64) -> Result<i64, TaskError> {
    Ok(x + y)
}

struct Running {
    stop: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn worker(q: &str) -> Running {
    let broker = Broker::connect(Kind::Redis.broker()).await.expect("redis");
    let backend = RedisBackend::connect(BACKEND).await.expect("backend");
    let worker = Worker::builder(broker, Some(backend))
        .queue(q)
        .concurrency(4)
        .task(ProcessOrder)
        .task(GiveUp)
        .task(TooSlow)
        .task(Polite)
        .task(Limited)
        .task(Quiet)
        .task(Add)
        .build()
        .expect("worker");
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move { worker.run(stop).await }
    });
    Running { stop }
}

#[tokio::test(flavor = "multi_thread")]
async fn arguments_map_by_position_and_name() {
    let q = queue("macro-args");
    let _w = worker(&q).await;
    let out = python_json(
        Kind::Redis,
        &format!(
            r#"
def call(**kw):
    r = app.send_task('tasks.process_order', queue='{q}', **kw)
    try:
        return r.get(timeout=60)
    except Exception as e:
        return [type(e).__name__, list(e.args)]
print(json.dumps([
    call(kwargs={{'order_id': 'o1', 'fail_times': 0}}),
    call(args=['o2', 0, 'gift']),
    call(args=['o3'], kwargs={{'fail_times': 0, 'note': 'n'}}),
    call(kwargs={{'fail_times': 0}}),
    call(args=[5, 0]),
    call(args=['o4', 0], kwargs={{'colour': 'red'}}),
]))
"#
        ),
    )
    .await;
    assert_eq!(out[0], json!({"order": "o1", "note": null, "retries": 0}));
    assert_eq!(out[1], json!({"order": "o2", "note": "gift", "retries": 0}));
    assert_eq!(out[2], json!({"order": "o3", "note": "n", "retries": 0}));
    assert_eq!(
        out[3],
        json!([
            "TypeError",
            ["tasks.process_order() missing required argument: 'order_id'"]
        ])
    );
    assert_eq!(out[4][0], "TypeError");
    assert!(
        out[4][1][0]
            .as_str()
            .is_some_and(|m| m.contains("argument 'order_id'")),
        "{out}"
    );
    assert_eq!(
        out[5],
        json!([
            "TypeError",
            ["tasks.process_order() got an unexpected keyword argument 'colour'"]
        ])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn autoretry_with_backoff_until_success_or_max_retries() {
    let q = queue("macro-retry");
    let _w = worker(&q).await;
    let client = Client::connect(Kind::Redis.broker(), Some(BACKEND))
        .await
        .expect("client");
    let ok = client
        .send_task("tasks.process_order")
        .args(("o9", 2))
        .expect("args")
        .queue(&q)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        ok.get(WAIT).await.expect("succeeds on the third run"),
        json!({"order": "o9", "note": null, "retries": 2})
    );
    let gave_up = client
        .send_task("tasks.give_up")
        .queue(&q)
        .send()
        .await
        .expect("sent");
    let meta = gave_up.wait_meta(WAIT).await.expect("ready");
    assert_eq!(meta.status, TaskState::Failure);
    let exc = meta.exception().expect("exception");
    assert_eq!(
        (exc.exc_type.as_str(), exc.exc_message),
        ("ConnectionError", vec![json!("still down")])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn time_limits_hard_and_soft() {
    let q = queue("macro-limits");
    let _w = worker(&q).await;
    let client = Client::connect(Kind::Redis.broker(), Some(BACKEND))
        .await
        .expect("client");
    let slow = client
        .send_task("tasks.too_slow")
        .queue(&q)
        .send()
        .await
        .expect("sent");
    let polite = client
        .send_task("tasks.polite")
        .queue(&q)
        .send()
        .await
        .expect("sent");
    let meta = slow.wait_meta(WAIT).await.expect("ready");
    let exc = meta.exception().expect("exception");
    assert_eq!(exc.exc_type, "TimeLimitExceeded");
    assert_eq!(exc.exc_message, vec![json!(1.0)]);
    assert_eq!(
        polite.get(WAIT).await.expect("polite"),
        json!("stopped at the soft limit")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_spaces_runs() {
    let q = queue("macro-rate");
    let _w = worker(&q).await;
    let client = Client::connect(Kind::Redis.broker(), Some(BACKEND))
        .await
        .expect("client");
    let mut done = Vec::new();
    let mut sent = Vec::new();
    for n in 0..3 {
        sent.push(
            client
                .send_task("tasks.limited")
                .args([n])
                .expect("args")
                .queue(&q)
                .send()
                .await
                .expect("sent"),
        );
    }
    for r in &sent {
        let meta = r.wait_meta(WAIT).await.expect("ready");
        let at = herald_celery::protocol::parse_time(meta.date_done.as_deref().expect("date_done"))
            .expect("time");
        done.push(at);
    }
    done.sort();
    let span = (done[2] - done[0]).to_std().expect("ordered");
    // 2/s: three runs start at least 1 s apart end to end (a lower bound, not a speed).
    assert!(
        span >= Duration::from_millis(900),
        "three runs within {span:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ignore_result_stores_nothing_but_callbacks_run() {
    let q = queue("macro-quiet");
    let _w = worker(&q).await;
    let client = Client::connect(Kind::Redis.broker(), Some(BACKEND))
        .await
        .expect("client");
    let mut callback = Signature::new("tasks.add", vec![json!(1)]);
    let callback_id = uuid::Uuid::new_v4().to_string();
    callback
        .options
        .insert("task_id".into(), json!(callback_id));
    let quiet = client
        .send_task("tasks.quiet")
        .args([20])
        .expect("args")
        .queue(&q)
        .link(callback)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        client
            .result(&callback_id)
            .get(WAIT)
            .await
            .expect("callback"),
        json!(41)
    );
    assert_eq!(quiet.state().await.expect("state"), TaskState::Pending);
}
