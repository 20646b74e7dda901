//! Compatibility checks run off the async workers, bounded and under a deadline; registration
//! confirms its check and its mode inside its transaction, and so do deletes. Both stores.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Backend, Resp, TestServer, assert_error, start_with};
use herald_registry::Settings;
use herald_registry::canonical::SchemaLimits;
use serde_json::{Value, json};

/// Schema text limit of these tests: the big checks use schemas just under it.
const MAX_SCHEMA_BYTES: usize = 64 * 1024;

fn limits() -> SchemaLimits {
    SchemaLimits {
        max_schema_bytes: MAX_SCHEMA_BYTES,
        ..SchemaLimits::default()
    }
}

/// An object schema with `props` properties, marked `tag` (descriptions only: every tag is
/// compatible with every other, in both directions).
fn wide(props: usize, tag: &str) -> Value {
    let mut p = serde_json::Map::new();
    for i in 0..props {
        p.insert(
            format!("field_{i:05}"),
            json!({"type": "object", "description": format!("{tag} {i}"),
                   "properties": {"a": {"type": "string"}, "b": {"type": "integer", "minimum": 0}},
                   "required": ["a"]}),
        );
    }
    json!({"type": "object", "title": tag, "properties": p})
}

/// The widest schema under [`MAX_SCHEMA_BYTES`], with as many properties whatever the tag
/// (up to 16 characters).
fn widest(tag: &str) -> Value {
    let tag = format!("{tag:>16}");
    let tag = tag.as_str();
    let mut n = 1;
    while wide(n * 2, tag).to_string().len() < MAX_SCHEMA_BYTES {
        n *= 2;
    }
    let (mut lo, mut hi) = (n, n * 2);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if wide(mid, tag).to_string().len() < MAX_SCHEMA_BYTES {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    wide(lo, tag)
}

fn body(schema: &Value) -> Value {
    json!({"schemaType": "JSON", "schema": schema.to_string()})
}

/// `versions` versions of the widest schema under `subject`, then FULL_TRANSITIVE: a check
/// against it compares with every one. Returns the first id.
async fn big_subject(s: &TestServer, subject: &str, versions: usize) -> i64 {
    s.put(
        &format!("/config/{subject}"),
        &json!({"compatibility": "NONE"}),
    )
    .await;
    let mut first = 0;
    for v in 0..versions {
        let id = s.register_ok(subject, &widest(&format!("v{v}"))).await;
        if v == 0 {
            first = id;
        }
    }
    let r = s
        .put(
            &format!("/config/{subject}"),
            &json!({"compatibility": "FULL_TRANSITIVE"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    first
}

/// Waits (up to a generous bound that only detects a hang) until `f` holds.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < until, "never: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn a_check_past_its_deadline_is_50002(b: Backend) {
    let db = common::TestDb::new(b).await;
    let id = {
        let setup = common::serve(
            db.open().await,
            Settings {
                limits: limits(),
                ..Settings::default()
            },
        )
        .await;
        big_subject(&setup, "big", 3).await
    };
    // One check slot, held by a check that runs until the test lets it go: every request's
    // check waits past its deadline, whatever the machine's speed. (A check that runs past
    // its deadline is `checks::tests::past_the_deadline_is_a_timeout_and_the_permit_comes_back`.)
    let settings = Settings {
        limits: limits(),
        check_timeout: Duration::from_millis(800),
        max_concurrent_checks: 1,
        ..Settings::default()
    };
    let s = common::serve(db.open().await, settings).await;
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = {
        let checks = s.state.checks.clone();
        tokio::spawn(async move {
            checks
                .run(move |_| {
                    let _ = released.recv();
                    Ok(())
                })
                .await
        })
    };
    let checks = s.state.checks.clone();
    eventually("the slot is taken", || checks.in_flight() == 1).await;
    let check = body(&widest("new"));
    let r = s
        .post("/compatibility/subjects/big/versions?verbose=true", &check)
        .await;
    assert_error(&r, 500, 50002);
    // A registration whose check times out: 50002, and nothing registered.
    let r = s.post("/subjects/big/versions", &check).await;
    assert_error(&r, 500, 50002);
    assert_eq!(
        s.get("/subjects/big/versions")
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    release.send(()).expect("the holder waits");
    let _ = holder.await;
    // The server keeps serving, and the checks stopped at their deadline.
    let r = s.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let checks = s.state.checks.clone();
    eventually("the timed-out checks give their permits back", || {
        checks.in_flight() == 0
    })
    .await;
    // A check within its deadline still answers.
    s.register_ok("small", &json!({"type": "object"})).await;
    let r = s
        .post(
            "/compatibility/subjects/small/versions",
            &body(&json!({"type": "object", "title": "t"})),
        )
        .await;
    assert_eq!(r.body, json!({"is_compatible": true}), "{}", r.text);
}

/// While 8 clients post the largest transitive check in a loop, reads are served: each GET
/// counted here completed while every check permit was taken and no check finished, which
/// cannot happen when the checks hold the async workers (2 here, fewer than the permits).
async fn reads_are_served_while_checks_run(b: Backend) {
    let settings = Settings {
        limits: limits(),
        check_timeout: Duration::from_secs(120),
        max_concurrent_checks: 4,
        ..Settings::default()
    };
    let (_db, s) = start_with(b, settings).await;
    let id = big_subject(&s, "big", 12).await;
    let s = Arc::new(s);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (s, stop) = (s.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let check = body(&widest(&format!("client {c}")));
            let mut answered = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = s.post("/compatibility/subjects/big/versions", &check).await;
                assert_eq!(r.body, json!({"is_compatible": true}), "{}", r.text);
                answered += 1;
            }
            answered
        }));
    }
    let checks = s.state.checks.clone();
    let limit = checks.limit();
    let (mut served, mut tries) = (0, 0);
    while served < 20 {
        tries += 1;
        assert!(
            tries < 2000,
            "only {served} GETs in {tries} were served under load"
        );
        eventually("every check permit taken", || checks.in_flight() == limit).await;
        let finished = checks.finished();
        let r = s.get(&format!("/schemas/ids/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if checks.in_flight() == limit && checks.finished() == finished {
            served += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answered = 0;
    for c in clients {
        answered += c.await.expect("client");
    }
    assert!(answered > 0);
    assert!(checks.finished() > 0);
}

/// Registrations racing each other on a subject whose check reads every version: each one
/// checks outside the lock and confirms inside; versions stay consecutive, one id each.
async fn concurrent_checked_registrations(b: Backend) {
    let (_db, s) = start_with(b, Settings::default()).await;
    s.put("/config/c", &json!({"compatibility": "FULL_TRANSITIVE"}))
        .await;
    let s = Arc::new(s);
    let n = 24;
    let mut tasks = Vec::new();
    for i in 0..n {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.register("c", &wide(20, &format!("t{i}"))).await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let r = t.await.expect("task");
        assert_eq!(r.status, 200, "{}", r.text);
        ids.insert(r.body["id"].as_i64().expect("id"));
    }
    assert_eq!(ids.len(), n, "distinct ids");
    let expected: Vec<usize> = (1..=n).collect();
    assert_eq!(s.get("/subjects/c/versions").await.body, json!(expected));
    // An incompatible schema is still refused against all of them.
    let r = s.register("c", &json!({"type": "string"})).await;
    assert_error(&r, 409, 409);
}

/// A registration racing a switch to READONLY (of its subject, or global) either committed
/// before the switch was acknowledged or is refused: no version appears after the ack.
async fn readonly_switch_races_registration(b: Backend) {
    let (_db, s) = start_with(b, Settings::default()).await;
    let s = Arc::new(s);
    let (mut committed, mut refused) = (0, 0);
    for round in 0..60 {
        let subject = format!("race-{round}");
        let global = round % 2 == 1;
        let schema = wide(300, &subject);
        let reg = {
            let (s, subject) = (s.clone(), subject.clone());
            tokio::spawn(async move { s.register(&subject, &schema).await })
        };
        let reg = switch_to_readonly_during(&s, &subject, global, 100_000, reg).await;
        if reg.status == 200 {
            committed += 1;
        } else {
            assert_error(&reg, 422, 42205);
            refused += 1;
        }
    }
    eprintln!("{committed} registrations committed before the switch, {refused} refused");
}

/// A delete let through by the handler's (cached) mode check before a switch to READONLY
/// must not commit after the switch was acknowledged: its transaction reads the mode again,
/// under the lock a switch waits on. Many versions make the delete's transaction long.
async fn readonly_switch_races_delete(b: Backend) {
    const ROUNDS: usize = 16;
    const VERSIONS: usize = 100;
    let (_db, s) = start_with(b, Settings::default()).await;
    let s = Arc::new(s);
    for round in 0..ROUNDS {
        for i in 0..VERSIONS {
            let schema = json!({"type": "object", "title": format!("v{i}")});
            s.register_ok(&format!("del-race-{round}"), &schema).await;
        }
    }
    let (mut deleted, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let subject = format!("del-race-{round}");
        let global = round % 2 == 1;
        let del = {
            let (s, subject) = (s.clone(), subject.clone());
            tokio::spawn(async move { s.delete(&format!("/subjects/{subject}")).await })
        };
        let del = switch_to_readonly_during(&s, &subject, global, 30_000, del).await;
        if del.status == 200 {
            deleted += 1;
        } else {
            assert_error(&del, 422, 42205);
            refused += 1;
        }
    }
    eprintln!("{deleted} deletes committed before the switch, {refused} refused");
}

/// Switches `subject` (or, with `global`, the registry) to READONLY at a random moment within
/// `within_us` microseconds of `write` starting, and asserts that `write` committed nothing
/// after the switch was acknowledged; then switches back. Returns `write`'s answer.
async fn switch_to_readonly_during(
    s: &TestServer,
    subject: &str,
    global: bool,
    within_us: u64,
    write: tokio::task::JoinHandle<Resp>,
) -> Resp {
    tokio::time::sleep(Duration::from_micros(rand_below(within_us))).await;
    let mode = if global {
        "/mode".to_owned()
    } else {
        format!("/mode/{subject}")
    };
    let ack = s.put(&mode, &json!({"mode": "READONLY"})).await;
    assert_eq!(ack.status, 200, "{}", ack.text);
    let after_ack = s.get(&format!("/subjects/{subject}/versions")).await;
    let answer = write.await.expect("the write's task");
    let end = s.get(&format!("/subjects/{subject}/versions")).await;
    assert_eq!(
        end.text, after_ack.text,
        "{subject} (global: {global}): a write was committed after READONLY was acknowledged ({})",
        answer.text
    );
    let r = s.put(&mode, &json!({"mode": "READWRITE"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    answer
}

fn rand_below(n: u64) -> u64 {
    use rand::Rng;
    rand::rng().random_range(0..n)
}

mod sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_check_past_its_deadline_is_50002() {
        super::a_check_past_its_deadline_is_50002(Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_are_served_while_checks_run() {
        super::reads_are_served_while_checks_run(Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_checked_registrations() {
        super::concurrent_checked_registrations(Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn readonly_switch_races_registration() {
        super::readonly_switch_races_registration(Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn readonly_switch_races_delete() {
        super::readonly_switch_races_delete(Backend::Sqlite).await
    }
}

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_check_past_its_deadline_is_50002() {
        super::a_check_past_its_deadline_is_50002(Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_are_served_while_checks_run() {
        super::reads_are_served_while_checks_run(Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_checked_registrations() {
        super::concurrent_checked_registrations(Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn readonly_switch_races_registration() {
        super::readonly_switch_races_registration(Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn readonly_switch_races_delete() {
        super::readonly_switch_races_delete(Backend::Postgres).await
    }
}
