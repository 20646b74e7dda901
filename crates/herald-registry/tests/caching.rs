//! The in-process caches (config, mode, lookups by content, latest versions, schemas by id)
//! never answer with what a write changed. Each test first reads through the cache, then
//! writes, then reads again: a missing invalidation shows as the old answer.

mod common;

use common::{Backend, TestServer, assert_error, start};
use serde_json::{Value, json};

fn obj(props: Value) -> Value {
    json!({"type": "object", "properties": props})
}

fn body(schema: &Value) -> Value {
    json!({"schemaType": "JSON", "schema": schema.to_string()})
}

async fn lookup(s: &TestServer, subject: &str, schema: &Value) -> common::Resp {
    s.post(&format!("/subjects/{subject}"), &body(schema)).await
}

async fn compatible(s: &TestServer, subject: &str, version: &str, schema: &Value) -> bool {
    let r = s
        .post(
            &format!("/compatibility/subjects/{subject}/versions/{version}"),
            &body(schema),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["is_compatible"].as_bool().expect("is_compatible")
}

/// A check as registration would run it (`POST /compatibility/subjects/{s}/versions`).
async fn compatible_with_all(s: &TestServer, subject: &str, schema: &Value) -> bool {
    let r = s
        .post(
            &format!("/compatibility/subjects/{subject}/versions"),
            &body(schema),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["is_compatible"].as_bool().expect("is_compatible")
}

async fn set_config(s: &TestServer, path: &str, config: Value) {
    let r = s.put(path, &config).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn set_mode(s: &TestServer, path: &str, mode: &str) {
    let r = s.put(path, &json!({ "mode": mode })).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn lookups_follow_deletes(b: Backend) {
    let (_db, s) = start(b).await;
    set_config(&s, "/config/lk", json!({"compatibility": "NONE"})).await;
    let a = obj(json!({"a": {"type": "string"}}));
    let id_a = s.register_ok("lk", &a).await;
    s.register_ok(
        "lk",
        &obj(json!({"a": {"type": "string"}, "b": {"type": "string"}})),
    )
    .await;
    for _ in 0..2 {
        let r = lookup(&s, "lk", &a).await;
        assert_eq!(
            (r.status, r.body["version"].as_i64()),
            (200, Some(1)),
            "{}",
            r.text
        );
    }
    // Soft-deleting the version: the content is no longer live under the subject.
    assert_eq!(s.delete("/subjects/lk/versions/1").await.status, 200);
    assert_error(&lookup(&s, "lk", &a).await, 404, 40403);
    // Registered again: a new version, found by the lookup.
    assert_eq!(s.register_ok("lk", &a).await, id_a);
    let r = lookup(&s, "lk", &a).await;
    assert_eq!(r.body["version"], 3, "{}", r.text);
    // The whole subject soft-deleted, then permanently.
    assert_eq!(s.delete("/subjects/lk").await.status, 200);
    assert_error(&lookup(&s, "lk", &a).await, 404, 40401);
    assert_eq!(
        s.get(&format!("/schemas/ids/{id_a}")).await.status,
        200,
        "soft-deleted schemas still resolve by id"
    );
    assert_eq!(s.delete("/subjects/lk?permanent=true").await.status, 200);
    assert_error(&lookup(&s, "lk", &a).await, 404, 40401);
    assert_error(&s.get(&format!("/schemas/ids/{id_a}")).await, 404, 40403);
    // Registered once more: a new id (ids are never reused), found again.
    let id = s.register_ok("lk", &a).await;
    assert!(id > id_a);
    assert_eq!(lookup(&s, "lk", &a).await.body["id"], id);
}

async fn re_registration_after_soft_delete_adds_a_version(b: Backend) {
    let (_db, s) = start(b).await;
    let a = obj(json!({"a": {"type": "string"}}));
    let id = s.register_ok("rr", &a).await;
    // The second registration is answered by the store and cached, the third by the cache.
    assert_eq!(s.register_ok("rr", &a).await, id);
    assert_eq!(s.register_ok("rr", &a).await, id);
    assert_eq!(s.get("/subjects/rr/versions").await.body, json!([1]));
    assert_eq!(s.delete("/subjects/rr/versions/1").await.status, 200);
    assert_eq!(s.register_ok("rr", &a).await, id);
    assert_eq!(s.get("/subjects/rr/versions").await.body, json!([2]));
    // IMPORT: the id given must be the one the content has, from the store or the cache.
    set_mode(&s, "/mode/rr?force=true", "IMPORT").await;
    let import = |id: i64| json!({"schemaType": "JSON", "schema": a.to_string(), "id": id});
    for _ in 0..2 {
        let r = s.post("/subjects/rr/versions", &import(id + 100)).await;
        assert_error(&r, 422, 42207);
        let r = s.post("/subjects/rr/versions", &import(id)).await;
        assert_eq!(r.body, json!({ "id": id }), "{}", r.text);
    }
    assert_eq!(s.get("/subjects/rr/versions").await.body, json!([2]));
}

async fn config_changes_reach_checks_and_lookups(b: Backend) {
    let (_db, s) = start(b).await;
    s.register_ok("cf", &obj(json!({"a": {"type": "string"}})))
        .await;
    let breaking = obj(json!({"a": {"type": "integer"}}));
    assert!(!compatible(&s, "cf", "latest", &breaking).await);
    set_config(&s, "/config/cf", json!({"compatibility": "NONE"})).await;
    assert!(compatible(&s, "cf", "latest", &breaking).await);
    assert!(compatible_with_all(&s, "cf", &breaking).await);
    assert_eq!(s.delete("/config/cf").await.status, 200);
    assert!(!compatible(&s, "cf", "latest", &breaking).await);
    set_config(&s, "/config", json!({"compatibility": "NONE"})).await;
    assert!(compatible_with_all(&s, "cf", &breaking).await);
    assert_eq!(s.delete("/config").await.status, 200);
    assert!(!compatible_with_all(&s, "cf", &breaking).await);

    // The policy: adding a property to an open model is fine only when LENIENT.
    let added = json!({"properties": {"a": {"type": "string"}, "b": {"type": "number"}}});
    s.register_ok("pol", &json!({"properties": {"a": {"type": "string"}}}))
        .await;
    assert!(!compatible_with_all(&s, "pol", &added).await);
    set_config(&s, "/config/pol", json!({"compatibilityPolicy": "LENIENT"})).await;
    assert!(compatible_with_all(&s, "pol", &added).await);
    set_config(&s, "/config/pol", json!({"compatibilityPolicy": "STRICT"})).await;
    assert!(!compatible_with_all(&s, "pol", &added).await);

    // `normalize` from the config decides which text a lookup hashes (texts, not `json!`
    // values, whose keys come out sorted).
    set_config(&s, "/config/nm", json!({"normalize": true})).await;
    let text = |t: &str| json!({"schemaType": "JSON", "schema": t});
    let registered =
        text(r#"{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"string"}}}"#);
    let reordered =
        text(r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}}}"#);
    assert_eq!(
        s.post("/subjects/nm/versions", &registered).await.status,
        200
    );
    assert_eq!(s.post("/subjects/nm", &reordered).await.status, 200);
    assert_eq!(s.delete("/config/nm").await.status, 200);
    assert_error(&s.post("/subjects/nm", &reordered).await, 404, 40403);
}

async fn mode_changes_reach_writes(b: Backend) {
    let (_db, s) = start(b).await;
    let v = |n: u32| obj(json!({ format!("f{n}"): {"type": "string"} }));
    set_config(&s, "/config", json!({"compatibility": "NONE"})).await;
    s.register_ok("md", &v(1)).await;
    set_mode(&s, "/mode/md", "READONLY").await;
    assert_error(&s.register("md", &v(2)).await, 422, 42205);
    assert_error(&s.delete("/subjects/md/versions/1").await, 422, 42205);
    assert_eq!(s.delete("/mode/md").await.status, 200);
    s.register_ok("md", &v(2)).await;
    set_mode(&s, "/mode", "READONLY_OVERRIDE").await;
    assert_error(&s.register("md", &v(3)).await, 422, 42205);
    assert_eq!(s.delete("/mode").await.status, 200);
    s.register_ok("md", &v(3)).await;

    // IMPORT: ids must be given, and are kept.
    set_mode(&s, "/mode/imp", "IMPORT").await;
    assert_error(&s.register("imp", &v(1)).await, 422, 42205);
    let r = s
        .post(
            "/subjects/imp/versions",
            &json!({"schemaType": "JSON", "schema": v(9).to_string(), "id": 500}),
        )
        .await;
    assert_eq!(r.body, json!({"id": 500}), "{}", r.text);
    set_mode(&s, "/mode/imp", "READWRITE").await;
    let r = s
        .post(
            "/subjects/imp/versions",
            &json!({"schemaType": "JSON", "schema": v(10).to_string(), "id": 501}),
        )
        .await;
    assert_error(&r, 422, 42205);
    s.register_ok("imp", &v(10)).await;
}

async fn latest_follows_registrations_and_deletes(b: Backend) {
    let (_db, s) = start(b).await;
    let string = obj(json!({"a": {"type": "string"}}));
    let integer = obj(json!({"a": {"type": "integer"}}));
    let boolean = obj(json!({"a": {"type": "boolean"}}));
    // Registered at NONE, checked at BACKWARD: `string` is compatible with v1 only.
    set_config(&s, "/config/lt", json!({"compatibility": "NONE"})).await;
    s.register_ok("lt", &string).await;
    assert_eq!(latest(&s).await.body["version"], 1);
    s.register_ok("lt", &integer).await;
    set_config(&s, "/config/lt", json!({"compatibility": "BACKWARD"})).await;
    assert_eq!(latest(&s).await.body["version"], 2);
    assert!(!compatible(&s, "lt", "latest", &string).await);
    assert!(!compatible_with_all(&s, "lt", &string).await);
    assert_eq!(s.delete("/subjects/lt/versions/2").await.status, 200);
    assert_eq!(latest(&s).await.body["version"], 1);
    assert!(compatible(&s, "lt", "latest", &string).await);
    assert!(compatible_with_all(&s, "lt", &string).await);
    set_config(&s, "/config/lt", json!({"compatibility": "NONE"})).await;
    s.register_ok("lt", &boolean).await;
    set_config(&s, "/config/lt", json!({"compatibility": "BACKWARD"})).await;
    assert_eq!(latest(&s).await.body["version"], 3);
    assert!(!compatible(&s, "lt", "latest", &string).await);
    assert!(!compatible_with_all(&s, "lt", &string).await);
    // A permanent delete of an older version leaves the latest alone.
    assert_eq!(
        s.delete("/subjects/lt/versions/2?permanent=true")
            .await
            .status,
        200
    );
    assert_eq!(latest(&s).await.body["version"], 3);
    // No live version left: nothing to be incompatible with.
    assert_eq!(s.delete("/subjects/lt").await.status, 200);
    assert_error(&latest(&s).await, 404, 40401);
    assert!(compatible_with_all(&s, "lt", &integer).await);
    assert_error(
        &s.post(
            "/compatibility/subjects/lt/versions/latest",
            &body(&integer),
        )
        .await,
        404,
        40401,
    );
    // Nothing registered yet: compatible, then the first version counts.
    assert!(compatible_with_all(&s, "new", &integer).await);
    s.register_ok("new", &string).await;
    assert!(!compatible_with_all(&s, "new", &integer).await);
}

async fn latest(s: &TestServer) -> common::Resp {
    s.get("/subjects/lt/versions/latest").await
}

async fn permanent_delete_drops_subject_config_and_mode(b: Backend) {
    let (_db, s) = start(b).await;
    let string = obj(json!({"a": {"type": "string"}}));
    let integer = obj(json!({"a": {"type": "integer"}}));
    set_config(&s, "/config/pd", json!({"compatibility": "NONE"})).await;
    s.register_ok("pd", &string).await;
    s.register_ok("pd", &integer).await;
    assert_eq!(s.delete("/subjects/pd").await.status, 200);
    assert_eq!(s.delete("/subjects/pd?permanent=true").await.status, 200);
    assert_error(&s.get("/config/pd").await, 404, 40408);
    // The subject's NONE went with it: BACKWARD (the default) applies again.
    s.register_ok("pd", &string).await;
    assert_error(&s.register("pd", &integer).await, 409, 409);

    set_mode(&s, "/mode/pm", "IMPORT").await;
    let r = s
        .post(
            "/subjects/pm/versions",
            &json!({"schemaType": "JSON", "schema": obj(json!({"pm": {}})).to_string(), "id": 700}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.delete("/subjects/pm").await.status, 200);
    assert_eq!(s.delete("/subjects/pm?permanent=true").await.status, 200);
    assert_error(&s.get("/mode/pm").await, 404, 40409);
    // Back to READWRITE: no id needed.
    s.register_ok("pm", &integer).await;
}

async fn references_through_the_caches(b: Backend) {
    let (_db, s) = start(b).await;
    s.register_ok("ref-target", &obj(json!({"x": {"type": "string"}})))
        .await;
    let referring = json!({
        "schemaType": "JSON",
        "schema": obj(json!({"r": {"$ref": "target.json"}})).to_string(),
        "references": [{"name": "target.json", "subject": "ref-target", "version": -1}],
    });
    let r = s.post("/subjects/ref-src/versions", &referring).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for _ in 0..2 {
        let r = s.post("/subjects/ref-src", &referring).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["references"][0]["version"], 1);
        let r = s
            .post(
                "/compatibility/subjects/ref-src/versions/latest",
                &referring,
            )
            .await;
        assert_eq!(r.body["is_compatible"], true, "{}", r.text);
    }
    // The referenced subject moves on: `-1` now names its version 2, another content.
    set_config(&s, "/config/ref-target", json!({"compatibility": "NONE"})).await;
    s.register_ok("ref-target", &obj(json!({"x": {"type": "integer"}})))
        .await;
    assert_error(&s.post("/subjects/ref-src", &referring).await, 404, 40403);
    // Referenced by a live version: cannot go; once the referrer is deleted, it can.
    assert_error(
        &s.delete("/subjects/ref-target/versions/1").await,
        422,
        42206,
    );
    assert_eq!(s.delete("/subjects/ref-src").await.status, 200);
    assert_error(&s.post("/subjects/ref-src", &referring).await, 404, 40401);
    assert_eq!(
        s.delete("/subjects/ref-target/versions/1").await.status,
        200
    );
}

on_both_backends!(
    lookups_follow_deletes,
    re_registration_after_soft_delete_adds_a_version,
    config_changes_reach_checks_and_lookups,
    mode_changes_reach_writes,
    latest_follows_registrations_and_deletes,
    permanent_delete_drops_subject_config_and_mode,
    references_through_the_caches,
);
