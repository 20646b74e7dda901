//! Python Celery and herald-celery on the same broker, both directions, on Redis and
//! RabbitMQ: the same cases run on each (the `interop!` macro at the end).

mod common;

use std::time::Duration;

use common::{Kind, WAIT, client, python, python_json, python_worker, queue, rust_worker};
use herald_celery::{ResultError, Signature, TaskState};
use serde_json::{Value, json};

/// `delay` (the default queue set to the test's), `send_task` with args and kwargs, and a
/// keyword-only call, all run by the Rust worker.
async fn python_to_rust(kind: Kind) {
    let q = queue("py2rs");
    let _worker = rust_worker(kind, &q, &[], None);
    let out = python_json(
        kind,
        &format!(
            r#"
app.conf.task_default_queue = '{q}'
from tasks import add
a = add.delay(2, 3).get(timeout=60)
b = app.send_task('tasks.echo', args=[1, 'two'], kwargs={{'k': [3]}}, queue='{q}').get(timeout=60)
c = app.send_task('tasks.mul', kwargs={{'x': 6, 'y': 7}}, queue='{q}').get(timeout=60)
print(json.dumps([a, b, c]))
"#
        ),
    )
    .await;
    assert_eq!(
        out,
        json!([5, {"args": [1, "two"], "kwargs": {"k": [3]}}, 42])
    );
}

/// A Rust failure reaches Python as the exception it names, with its message; a missing
/// argument is a TypeError naming it, not a crash.
async fn rust_failure_visible_to_python(kind: Kind) {
    let q = queue("fail");
    let _worker = rust_worker(kind, &q, &[], None);
    let out = python_json(
        kind,
        &format!(
            r#"
out = []
for name, args in [('tasks.fail', ['boom']), ('tasks.add', [1]), ('tasks.add', [1, 'x'])]:
    r = app.send_task(name, args=args, queue='{q}')
    try:
        r.get(timeout=60)
        out.append('no exception')
    except Exception as e:
        out.append({{'type': type(e).__name__, 'args': list(e.args), 'state': r.state}})
print(json.dumps(out))
"#
        ),
    )
    .await;
    assert_eq!(
        out[0],
        json!({"type": "ValueError", "args": ["boom"], "state": "FAILURE"})
    );
    assert_eq!(out[1]["type"], "TypeError");
    assert_eq!(
        out[1]["args"],
        json!(["tasks.add() missing required argument: 'y'"])
    );
    assert_eq!(out[2]["type"], "TypeError");
    assert!(
        out[2]["args"][0]
            .as_str()
            .is_some_and(|m| m.contains("argument 'y'")),
        "{out}"
    );
}

/// A countdown is held without blocking the queue: with one slot, a task sent after
/// it finishes first, and the held one runs no earlier than its eta.
async fn countdown_held_without_blocking(kind: Kind) {
    let q = queue("eta");
    let _worker = rust_worker(kind, &q, &["--concurrency", "1"], None);
    let out = python_json(
        kind,
        &format!(
            r#"
from tasks import add
late = add.apply_async((1, 2), countdown=3, queue='{q}')
now = add.apply_async((3, 4), queue='{q}')
print(json.dumps({{'now': now.get(timeout=60), 'late': late.get(timeout=60),
    'now_done': now.date_done.timestamp(), 'late_done': late.date_done.timestamp(),
    'sent': __import__('time').time()}}))
"#
        ),
    )
    .await;
    assert_eq!(out["now"], 7);
    assert_eq!(out["late"], 3);
    let (now_done, late_done) = (
        out["now_done"].as_f64().expect("float"),
        out["late_done"].as_f64().expect("float"),
    );
    assert!(
        now_done < late_done,
        "the held task blocked the queue: {out}"
    );
}

/// An expired task is not run: REVOKED, as Python reads it.
async fn expired_is_revoked(kind: Kind) {
    let q = queue("expires");
    let _worker = rust_worker(kind, &q, &[], None);
    let out = python_json(
        kind,
        &format!(
            r#"
from tasks import add
r = add.apply_async((1, 2), countdown=3, expires=1, queue='{q}')
try:
    r.get(timeout=60)
    print(json.dumps('ran'))
except Exception as e:
    print(json.dumps({{'type': type(e).__name__, 'state': r.state}}))
"#
        ),
    )
    .await;
    assert_eq!(out, json!({"type": "TaskRevokedError", "state": "REVOKED"}));
}

/// A task that asks for retries is re-published with retries + 1 until it succeeds.
async fn retry_until_success(kind: Kind) {
    let q = queue("retry");
    let _worker = rust_worker(kind, &q, &[], None);
    let out = python(
        kind,
        &format!("print(app.send_task('tasks.flaky', args=[2], queue='{q}').get(timeout=60))"),
    )
    .await;
    assert_eq!(out, "2");
}

/// Rust sends, Python runs: results, kwargs and failures read back in Rust.
async fn rust_to_python(kind: Kind) {
    let q = queue("rs2py");
    let _worker = python_worker(kind, &q);
    let client = client(kind).await;
    let add = client
        .send_task("tasks.add")
        .args((19, 23))
        .expect("args")
        .queue(&q)
        .send()
        .await
        .expect("sent");
    assert_eq!(add.get(WAIT).await.expect("add"), json!(42));
    let echo = client
        .send_task("tasks.echo")
        .args([1])
        .expect("args")
        .kwargs(json!({"k": [3]}))
        .expect("kwargs")
        .queue(&q)
        .countdown(Duration::from_secs(1))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        echo.get(WAIT).await.expect("echo"),
        json!({"args": [1], "kwargs": {"k": [3]}})
    );
    let fail = client
        .send_task("tasks.fail")
        .args(["boom"])
        .expect("args")
        .queue(&q)
        .send()
        .await
        .expect("sent");
    match fail.get(WAIT).await {
        Err(ResultError::Failed(exc)) => {
            assert_eq!(exc.exc_type, "ValueError");
            assert_eq!(exc.exc_message, vec![json!("boom")]);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(fail.state().await.expect("state"), TaskState::Failure);
}

fn on(queue: &str, task: &str, args: Vec<Value>) -> Signature {
    let mut s = Signature::new(task, args);
    s.options.insert("queue".into(), json!(queue));
    s
}

/// A Python chain whose steps alternate Rust, Python, Rust, Python; and a Rust-sent
/// chain Python, Rust.
async fn chain_crosses_languages(kind: Kind) {
    let (qr, qp) = (queue("chain-rs"), queue("chain-py"));
    let _rust = rust_worker(kind, &qr, &[], None);
    let _py = python_worker(kind, &qp);
    let out = python(
        kind,
        &format!(
            r#"
from tasks import add, mul
c = chain(add.s(2, 3).set(queue='{qr}'), mul.s(10).set(queue='{qp}'),
          add.s(7).set(queue='{qr}'), mul.s(2).set(queue='{qp}'))
print(c.apply_async().get(timeout=60))
"#
        ),
    )
    .await;
    assert_eq!(out, "114", "((2 + 3) * 10 + 7) * 2");

    let client = client(kind).await;
    let mut last = on(&qr, "tasks.add", vec![json!(1)]);
    let last_id = uuid::Uuid::new_v4().to_string();
    last.options.insert("task_id".into(), json!(last_id));
    let first = client
        .send_task("tasks.mul")
        .args((4, 5))
        .expect("args")
        .queue(&qp)
        .chain(vec![
            on(&qr, "tasks.add", vec![json!(100)]),
            on(&qp, "tasks.mul", vec![json!(2)]),
            last,
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(first.get(WAIT).await.expect("first step"), json!(20));
    let result = client.result(last_id).get(WAIT).await.expect("last step");
    assert_eq!(result, json!(241), "(4 * 5 + 100) * 2 + 1");
}

/// A callback on Python after a Rust task, and a Python errback after a Rust failure
/// (called with the failed task's id).
async fn links_and_errbacks(kind: Kind) {
    let (qr, qp) = (queue("link-rs"), queue("link-py"));
    let _rust = rust_worker(kind, &qr, &[], None);
    let _py = python_worker(kind, &qp);
    let out = python_json(
        kind,
        &format!(
            r#"
from tasks import add, mul, fail, echo
cb = mul.s(3).set(queue='{qp}'); cb_res = cb.freeze()
add.apply_async((1, 2), queue='{qr}', link=cb)
eb = echo.s().set(queue='{qp}'); eb_res = eb.freeze()
failed = fail.apply_async(('x',), queue='{qr}', link_error=eb)
print(json.dumps({{'cb': cb_res.get(timeout=60), 'eb': eb_res.get(timeout=60), 'failed': failed.id}}))
"#
        ),
    )
    .await;
    assert_eq!(out["cb"], 9);
    assert_eq!(out["eb"], json!({"args": [out["failed"]], "kwargs": {}}));
}

/// A group's members run on the Rust worker; a chord is refused with a clear FAILURE
/// on its header task (herald-celery does not count chord parts).
async fn groups_run_chords_refused(kind: Kind) {
    let q = queue("canvas");
    let _rust = rust_worker(kind, &q, &[], None);
    let out = python_json(
        kind,
        &format!(
            r#"
from celery.result import AsyncResult
from tasks import add, echo
g = group(add.s(1, 1), add.s(2, 2)).set(queue='{q}').apply_async().get(timeout=60)
h = add.s(3, 3).set(queue='{q}'); hid = h.freeze().id
from celery import chord
c = chord([h], echo.s().set(queue='{q}')).apply_async()
e = AsyncResult(hid, app=app).get(timeout=60, propagate=False)
b = c.get(timeout=60, propagate=False)
print(json.dumps({{'group': g, 'chord': [type(e).__name__, list(e.args)], 'body': type(b).__name__}}))
"#
        ),
    )
    .await;
    assert_eq!(out["group"], json!([2, 4]));
    assert_eq!(
        out["chord"],
        json!([
            "NotImplementedError",
            ["herald-celery does not support chords"]
        ])
    );
    assert_eq!(out["body"], "NotImplementedError", "the chord's own result");
}

/// With events on, Python's event receiver (what `celery events` and Flower use) hears
/// the Rust worker's task events and heartbeats.
async fn events_heard_by_python(kind: Kind) {
    let q = queue("events");
    let _rust = rust_worker(
        kind,
        &q,
        &["--events", "--hostname", &format!("rust-{q}")],
        None,
    );
    let out = python_json(
        kind,
        &format!(
            r#"
import threading, time, uuid
tid = str(uuid.uuid4())
seen, workers = [], set()
def on(e):
    if e.get('uuid') == tid:
        seen.append(e['type'])
    if e['type'] == 'worker-heartbeat' and e['hostname'] == 'rust-{q}':
        workers.add(e['hostname'])
def send():
    time.sleep(1)
    app.send_task('tasks.add', args=[1, 2], queue='{q}', task_id=tid)
threading.Thread(target=send, daemon=True).start()
with app.connection() as conn:
    recv = app.events.Receiver(conn, handlers={{'*': on}})
    deadline = time.time() + 30
    for _ in recv.itercapture(limit=None, timeout=30, wakeup=False):
        if ('task-succeeded' in seen and workers) or time.time() > deadline:
            break
print(json.dumps({{'task': seen, 'workers': sorted(workers)}}))
"#
        ),
    )
    .await;
    assert_eq!(
        out["task"],
        json!(["task-received", "task-started", "task-succeeded"])
    );
    assert_eq!(out["workers"], json!([format!("rust-{q}")]));
}

/// Redis priorities as kombu lays them out: priority 0 (the highest on Redis) goes to the
/// queue's own list, 9 to `queue\x06\x169`; a worker taking one message at a time runs
/// the priority-0 message first though it was sent last.
#[tokio::test(flavor = "multi_thread")]
async fn redis_priority_lists() {
    let q = queue("priority");
    let out = python_json(
        Kind::Redis,
        &format!(
            r#"
from tasks import add
low = add.apply_async((1, 1), priority=9, queue='{q}')
high = add.apply_async((2, 2), priority=0, queue='{q}')
print(json.dumps([low.id, high.id]))
"#
        ),
    )
    .await;
    let client = client(Kind::Redis).await;
    let lists: (usize, usize) = {
        let r = ::redis::Client::open(Kind::Redis.broker()).expect("url");
        let mut conn = r.get_multiplexed_async_connection().await.expect("redis");
        ::redis::pipe()
            .llen(&q)
            .llen(format!("{q}\x06\x169"))
            .query_async(&mut conn)
            .await
            .expect("llen")
    };
    assert_eq!(lists, (1, 1), "one message on each priority list");
    let _worker = rust_worker(
        Kind::Redis,
        &q,
        &["--concurrency", "1", "--prefetch", "1"],
        None,
    );
    let mut done = Vec::new();
    for id in [&out[0], &out[1]] {
        let meta = client
            .result(id.as_str().expect("id"))
            .wait_meta(WAIT)
            .await
            .expect("ran");
        done.push(meta.date_done.expect("date_done"));
    }
    assert!(
        done[1] < done[0],
        "priority 0 ran after priority 9: {done:?}"
    );
}

macro_rules! interop {
    ($broker:ident, $kind:expr) => {
        mod $broker {
            use super::*;

            #[tokio::test(flavor = "multi_thread")]
            async fn python_to_rust() {
                super::python_to_rust($kind).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn rust_failure_visible_to_python() {
                super::rust_failure_visible_to_python($kind).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn countdown_held_without_blocking() {
                super::countdown_held_without_blocking($kind).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn expired_is_revoked() {
                super::expired_is_revoked($kind).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn retry_until_success() {
                super::retry_until_success($kind).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn rust_to_python() {
                super::rust_to_python($kind).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn chain_crosses_languages() {
                super::chain_crosses_languages($kind).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn links_and_errbacks() {
                super::links_and_errbacks($kind).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn events_heard_by_python() {
                super::events_heard_by_python($kind).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn groups_run_chords_refused() {
                super::groups_run_chords_refused($kind).await;
            }
        }
    };
}

interop!(redis, Kind::Redis);
interop!(amqp, Kind::Amqp);
