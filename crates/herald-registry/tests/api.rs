//! The API suite, run against both stores: shapes, codes, semantics, concurrency, restart.

mod common;

use common::{Backend, assert_error, keys, start, start_with};
use herald_registry::canonical::SchemaLimits;
use herald_registry::{Settings, store};
use serde_json::{Value, json};

fn obj(props: Value) -> Value {
    json!({"type": "object", "properties": props})
}

async fn shapes_and_lookup(b: Backend) {
    let (_db, s) = start(b).await;
    let schema = obj(json!({"name": {"type": "string"}}));
    let r = s.register("orders-value", &schema).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.body), ["id"]);
    assert!(
        r.content_type
            .starts_with("application/vnd.schemaregistry.v1+json")
    );
    let id = r.body["id"].as_i64().expect("id");

    // Same content with other whitespace: same id, no new version.
    let spaced = serde_json::to_string_pretty(&schema).expect("pretty");
    let spaced = spaced.as_str();
    let r = s
        .post(
            "/subjects/orders-value/versions",
            &json!({"schemaType": "JSON", "schema": spaced}),
        )
        .await;
    assert_eq!(r.body["id"].as_i64(), Some(id));
    assert_eq!(
        s.get("/subjects/orders-value/versions").await.body,
        json!([1])
    );
    // Same content under another subject: same global id.
    assert_eq!(s.register_ok("other", &schema).await, id);

    for v in ["1", "latest", "-1"] {
        let r = s.get(&format!("/subjects/orders-value/versions/{v}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            keys(&r.body),
            ["id", "schema", "schemaType", "subject", "ts", "version"]
        );
        assert_eq!(r.body["subject"], "orders-value");
        assert_eq!(r.body["version"], 1);
        assert_eq!(r.body["id"].as_i64(), Some(id));
        assert_eq!(r.body["schemaType"], "JSON");
        assert!(
            r.body["ts"].as_i64().expect("ts") > 1_600_000_000_000,
            "ts in ms"
        );
        let text: Value =
            serde_json::from_str(r.body["schema"].as_str().expect("schema")).expect("json");
        assert_eq!(text, schema);
    }
    let raw = s.get("/subjects/orders-value/versions/1/schema").await;
    assert_eq!(
        serde_json::from_str::<Value>(&raw.text).expect("raw"),
        schema
    );

    let r = s.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(keys(&r.body), ["schema", "schemaType"]);
    let r = s.get(&format!("/schemas/ids/{id}?fetchMaxId=true")).await;
    assert_eq!(keys(&r.body), ["maxId", "schema", "schemaType"]);
    let r = s.get(&format!("/schemas/ids/{id}/schema")).await;
    assert_eq!(serde_json::from_str::<Value>(&r.text).expect("raw"), schema);
    assert_eq!(
        s.get(&format!("/schemas/ids/{id}/subjects")).await.body,
        json!(["orders-value", "other"])
    );
    assert_eq!(
        s.get(&format!("/schemas/ids/{id}/versions")).await.body,
        json!([{"subject": "orders-value", "version": 1}, {"subject": "other", "version": 1}])
    );
    assert_error(&s.get("/schemas/ids/999999").await, 404, 40403);
    assert_eq!(s.get("/schemas/types").await.body, json!(["JSON"]));
    assert_eq!(
        s.get("/subjects").await.body,
        json!(["orders-value", "other"])
    );
    assert_eq!(
        s.get("/subjects?subjectPrefix=ord").await.body,
        json!(["orders-value"])
    );
    assert_eq!(
        s.get("/subjects?offset=1&limit=1").await.body,
        json!(["other"])
    );
    let all = s.get("/schemas").await.body;
    assert_eq!(all.as_array().map(Vec::len), Some(2));

    // Lookup.
    let lookup_body = json!({"schemaType": "JSON", "schema": spaced});
    let r = s.post("/subjects/orders-value", &lookup_body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["id"].as_i64(), Some(id));
    let r = s
        .post(
            "/subjects/orders-value",
            &json!({"schemaType": "JSON", "schema": "{\"type\":\"string\"}"}),
        )
        .await;
    assert_error(&r, 404, 40403);
    assert_error(&s.post("/subjects/nobody", &lookup_body).await, 404, 40401);

    // Version and subject errors.
    assert_error(&s.get("/subjects/nobody/versions").await, 404, 40401);
    assert_error(&s.get("/subjects/nobody/versions/1").await, 404, 40401);
    assert_error(
        &s.get("/subjects/orders-value/versions/7").await,
        404,
        40402,
    );
    assert_error(
        &s.get("/subjects/orders-value/versions/0").await,
        422,
        42202,
    );
    assert_error(
        &s.get("/subjects/orders-value/versions/abc").await,
        422,
        42202,
    );
    assert_error(&s.get("/no/such/route").await, 404, 404);

    // Misc endpoints.
    assert_eq!(s.get("/").await.body, json!({}));
    assert_eq!(s.get("/contexts").await.body, json!(["."]));
    assert!(s.get("/v1/metadata/id").await.body["id"].is_string());
    let h = s.get("/health").await;
    assert_eq!(h.status, 200);
    let doc = s.get("/openapi.json").await.body;
    assert!(doc["paths"]["/subjects/{subject}/versions"]["post"].is_object());
    assert!(doc["paths"]["/schemas/ids/{id}"]["get"].is_object());

    // The other two media types are accepted, and so is no content type.
    for ct in [
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    ] {
        let r = s
            .http
            .post(format!("{}/subjects/orders-value", s.base))
            .header("content-type", ct)
            .body(lookup_body.to_string())
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "{ct}");
    }
    let r = s
        .http
        .post(format!("{}/subjects/orders-value", s.base))
        .body(lookup_body.to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
}

async fn invalid_input(b: Backend) {
    let settings = Settings {
        limits: SchemaLimits {
            max_schema_bytes: 2048,
            max_depth: 20,
        },
        max_body_bytes: 64 * 1024,
        ..Settings::default()
    };
    let (_db, s) = start_with(b, settings).await;
    // Not valid against the draft's meta-schema: 42201 with the reason.
    let r = s.register("a", &json!({"type": "strin"})).await;
    assert_error(&r, 422, 42201);
    assert!(
        r.body["message"].as_str().expect("m").contains("type"),
        "{}",
        r.text
    );
    let r = s
        .register(
            "a",
            &json!({"$schema": "http://json-schema.org/draft-07/schema#", "minLength": -1}),
        )
        .await;
    assert_error(&r, 422, 42201);
    // Schema text that is not JSON.
    let r = s
        .post(
            "/subjects/a/versions",
            &json!({"schemaType": "JSON", "schema": "{nope"}),
        )
        .await;
    assert_error(&r, 422, 42201);
    // AVRO (no schemaType) and PROTOBUF are not served.
    let r = s
        .post(
            "/subjects/a/versions",
            &json!({"schema": "{\"type\":\"string\"}"}),
        )
        .await;
    assert_error(&r, 422, 42201);
    let r = s
        .post(
            "/subjects/a/versions",
            &json!({"schemaType": "PROTOBUF", "schema": "syntax = \"proto3\";"}),
        )
        .await;
    assert_error(&r, 422, 42201);
    // Malformed JSON body: 400; empty body or wrong shape: 422; never 500.
    let r = s
        .call(
            reqwest::Method::POST,
            "/subjects/a/versions",
            Some("{\"schema\": "),
        )
        .await;
    assert_error(&r, 400, 400);
    let r = s
        .call(reqwest::Method::POST, "/subjects/a/versions", Some(""))
        .await;
    assert_error(&r, 422, 422);
    let r = s
        .call(
            reqwest::Method::POST,
            "/subjects/a/versions",
            Some("{\"schema\": 5}"),
        )
        .await;
    assert_error(&r, 422, 422);
    let r = s
        .call(reqwest::Method::POST, "/subjects/a/versions", Some("[1,2]"))
        .await;
    assert_error(&r, 422, 422);
    let r = s
        .call(
            reqwest::Method::PUT,
            "/config",
            Some("{\"compatibility\": "),
        )
        .await;
    assert_error(&r, 400, 400);
    let r = s
        .call(reqwest::Method::GET, "/subjects?deleted=maybe", None)
        .await;
    assert_error(&r, 400, 400);
    // Schema too large and too deep: 42209.
    let big = obj(json!({"x": {"type": "string", "description": "d".repeat(4000)}}));
    assert_error(&s.register("a", &big).await, 422, 42209);
    let mut deep = json!({"type": "string"});
    for _ in 0..30 {
        deep = json!({"type": "object", "properties": {"n": deep}});
    }
    assert_error(&s.register("a", &deep).await, 422, 42209);
    // Body over the limit: 413 with Confluent's shape.
    let huge = json!({"schemaType": "JSON", "schema": "x".repeat(100 * 1024)}).to_string();
    let r = s
        .call(reqwest::Method::POST, "/subjects/a/versions", Some(&huge))
        .await;
    assert_error(&r, 413, 413);
    // Invalid subject.
    let r = s
        .post(
            "/subjects/a%01b/versions",
            &json!({"schemaType": "JSON", "schema": "{}"}),
        )
        .await;
    assert_error(&r, 422, 42208);
    // Nothing was stored.
    assert_eq!(s.get("/subjects").await.body, json!([]));
}

/// Metadata and data contract rules are not stored: a registration carrying them is refused,
/// not registered without them. Empty ones, as clients send when none is configured, register
/// as usual.
async fn unstored_metadata(b: Backend) {
    let (_db, s) = start(b).await;
    let schema = json!({"type": "string"}).to_string();
    let r = s
        .post(
            "/subjects/meta/versions",
            &json!({"schemaType": "JSON", "schema": schema, "metadata": {"properties": {"owner": "team-a"}}}),
        )
        .await;
    assert_error(&r, 422, 42201);
    assert!(
        r.body["message"].as_str().expect("m").contains("metadata"),
        "{}",
        r.text
    );
    let rules =
        json!({"domainRules": [{"name": "r", "kind": "CONDITION", "type": "CEL", "expr": "true"}]});
    let r = s
        .post(
            "/subjects/meta/versions",
            &json!({"schemaType": "JSON", "schema": schema, "ruleSet": rules}),
        )
        .await;
    assert_error(&r, 422, 42210);
    assert_eq!(
        s.get("/subjects/meta/versions").await.status,
        404,
        "nothing was registered"
    );
    let r = s
        .post(
            "/subjects/meta/versions",
            &json!({"schemaType": "JSON", "schema": schema, "metadata": {"properties": {}}, "ruleSet": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn deletes(b: Backend) {
    let (_db, s) = start(b).await;
    s.put("/config/d", &json!({"compatibility": "NONE"})).await;
    let id1 = s
        .register_ok("d", &obj(json!({"a": {"type": "string"}})))
        .await;
    let id2 = s
        .register_ok("d", &obj(json!({"b": {"type": "string"}})))
        .await;
    assert_ne!(id1, id2);
    // Soft-delete version 2; it can not be soft-deleted twice; the id still resolves.
    let r = s.delete("/subjects/d/versions/2").await;
    assert_eq!(r.body, json!(2));
    assert_error(&s.delete("/subjects/d/versions/2").await, 404, 40406);
    assert_eq!(s.get(&format!("/schemas/ids/{id2}")).await.status, 200);
    assert_eq!(s.get("/subjects/d/versions").await.body, json!([1]));
    assert_eq!(
        s.get("/subjects/d/versions?deleted=true").await.body,
        json!([1, 2])
    );
    assert_eq!(
        s.get("/subjects/d/versions?deletedOnly=true").await.body,
        json!([2])
    );
    assert_error(&s.get("/subjects/d/versions/2").await, 404, 40402);
    assert_eq!(
        s.get("/subjects/d/versions/2?deleted=true").await.body["deleted"],
        json!(true)
    );
    assert_eq!(
        s.get("/subjects/d/versions/latest").await.body["version"],
        1
    );
    // Versions are never reused after a soft delete.
    s.register_ok("d", &obj(json!({"c": {"type": "string"}})))
        .await;
    assert_eq!(s.get("/subjects/d/versions").await.body, json!([1, 3]));
    // Re-registering the deleted schema makes a new version with the same id.
    assert_eq!(
        s.register_ok("d", &obj(json!({"b": {"type": "string"}})))
            .await,
        id2
    );
    assert_eq!(s.get("/subjects/d/versions").await.body, json!([1, 3, 4]));
    // Permanent needs a soft delete first.
    assert_error(
        &s.delete("/subjects/d/versions/1?permanent=true").await,
        404,
        40407,
    );
    assert_error(&s.delete("/subjects/d?permanent=true").await, 404, 40405);
    // Soft delete of the subject returns the live versions.
    assert_eq!(s.delete("/subjects/d").await.body, json!([1, 3, 4]));
    assert_error(&s.delete("/subjects/d").await, 404, 40404);
    assert_eq!(s.get("/subjects").await.body, json!([]));
    assert_eq!(s.get("/subjects?deleted=true").await.body, json!(["d"]));
    assert_eq!(s.get("/subjects?deletedOnly=true").await.body, json!(["d"]));
    assert_error(&s.get("/subjects/d/versions").await, 404, 40401);
    assert_eq!(s.get(&format!("/schemas/ids/{id1}")).await.status, 200);
    let lookup =
        json!({"schemaType": "JSON", "schema": obj(json!({"a": {"type": "string"}})).to_string()});
    assert_error(&s.post("/subjects/d", &lookup).await, 404, 40401);
    assert_eq!(
        s.post("/subjects/d?deleted=true", &lookup).await.body["version"],
        1
    );
    // Permanent delete of the subject: everything goes, the ids stop resolving.
    assert_eq!(
        s.delete("/subjects/d?permanent=true").await.body,
        json!([1, 2, 3, 4])
    );
    assert_error(&s.get(&format!("/schemas/ids/{id1}")).await, 404, 40403);
    assert_error(
        &s.get("/subjects/d/versions?deleted=true").await,
        404,
        40401,
    );
    assert_error(&s.delete("/subjects/d").await, 404, 40401);
    assert_error(&s.get("/config/d").await, 404, 40408);
    // Ids are never reused.
    let id3 = s
        .register_ok("e", &obj(json!({"z": {"type": "string"}})))
        .await;
    assert!(id3 > id2, "{id3} > {id2}");
    // Permanent delete of one version.
    s.delete("/subjects/e/versions/1").await;
    assert_eq!(
        s.delete("/subjects/e/versions/1?permanent=true").await.body,
        json!(1)
    );
    assert_error(&s.get(&format!("/schemas/ids/{id3}")).await, 404, 40403);
}

async fn references(b: Backend) {
    let (_db, s) = start(b).await;
    let address = obj(json!({"street": {"type": "string"}}));
    let addr_id = s.register_ok("address", &address).await;
    let customer = obj(json!({"home": {"$ref": "address.json"}}));
    let body = |version: i64| {
        json!({
            "schemaType": "JSON",
            "schema": customer.to_string(),
            "references": [{"name": "address.json", "subject": "address", "version": version}]
        })
    };
    // Unknown reference: 42201.
    assert_error(
        &s.post("/subjects/customer/versions", &body(9)).await,
        422,
        42201,
    );
    let r = s
        .post(
            "/subjects/customer/versions",
            &json!({"schemaType": "JSON", "schema": customer.to_string(),
                    "references": [{"name": "x.json", "subject": "nope", "version": 1}]}),
        )
        .await;
    assert_error(&r, 422, 42201);
    let r = s.post("/subjects/customer/versions", &body(1)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cust_id = r.body["id"].as_i64().expect("id");
    assert_ne!(cust_id, addr_id);
    // -1 resolves to the latest version: the same schema, so the same id.
    assert_eq!(
        s.post("/subjects/customer/versions", &body(-1)).await.body["id"].as_i64(),
        Some(cust_id)
    );
    let v = s.get("/subjects/customer/versions/1").await.body;
    assert_eq!(
        v["references"],
        json!([{"name": "address.json", "subject": "address", "version": 1}])
    );
    assert_eq!(
        s.get(&format!("/schemas/ids/{cust_id}")).await.body["references"][0]["subject"],
        "address"
    );
    assert_eq!(
        s.get("/subjects/address/versions/1/referencedby")
            .await
            .body,
        json!([cust_id])
    );
    // The referenced schema is protected.
    assert_error(&s.delete("/subjects/address/versions/1").await, 422, 42206);
    assert_error(&s.delete("/subjects/address").await, 422, 42206);
    // Compatibility checks resolve references (NONE-independent: must not fail to resolve).
    let r = s
        .post("/compatibility/subjects/customer/versions/latest", &body(1))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["is_compatible"], true);
    // Once the referrer is gone (soft), the referenced one may be soft-deleted.
    s.delete("/subjects/customer").await;
    assert_eq!(
        s.get("/subjects/address/versions/1/referencedby")
            .await
            .body,
        json!([])
    );
    // ... but not permanently while the (soft-deleted) referrer exists.
    s.delete("/subjects/address").await;
    assert_error(
        &s.delete("/subjects/address?permanent=true").await,
        422,
        42206,
    );
    s.delete("/subjects/customer?permanent=true").await;
    assert_eq!(
        s.delete("/subjects/address?permanent=true").await.body,
        json!([1])
    );
}

/// Writes past the API, as a damaged or hand-edited database would hold it.
async fn write_raw(db: &common::TestDb, sql: &str) {
    let written = match db.backend {
        Backend::Postgres => {
            let raw = store::PgStore::connect(&db.url, 2).await.expect("raw");
            sqlx::query(sql).execute(raw.pool()).await.map(|_| ())
        }
        Backend::Sqlite => {
            let raw = store::SqliteStore::connect(&db.url, 2).await.expect("raw");
            sqlx::query(sql).execute(raw.pool()).await.map(|_| ())
        }
    };
    written.expect("raw write");
}

/// A stored compatibility level that does not parse is an error (not the default level), a
/// delete of it is refused, and a PUT repairs it.
async fn corrupt_stored_config(b: Backend) {
    let (db, s) = start(b).await;
    write_raw(
        &db,
        "INSERT INTO config (subject, compatibility) VALUES ('', 'SIDEWAYS')",
    )
    .await;
    let schema = json!({"type": "object"});
    assert_error(&s.get("/config").await, 500, 50001);
    assert_error(&s.register("corrupt", &schema).await, 500, 50001);
    assert_error(&s.delete("/config").await, 500, 50001);
    let r = s.put("/config", &json!({"compatibility": "NONE"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        s.get("/config").await.body,
        json!({"compatibilityLevel": "NONE"})
    );
    s.register_ok("corrupt", &schema).await;
}

/// A stored mode that does not parse is an error too (not READWRITE), for every write of
/// the subject; a delete of it is refused, and a PUT repairs it.
async fn corrupt_stored_mode(b: Backend) {
    let (db, s) = start(b).await;
    let schema = json!({"type": "object"});
    s.register_ok("kept", &schema).await;
    write_raw(
        &db,
        "INSERT INTO mode (subject, mode) VALUES ('', 'SIDEWAYS')",
    )
    .await;
    assert_error(&s.get("/mode").await, 500, 50001);
    assert_error(&s.get("/mode/kept?defaultToGlobal=true").await, 500, 50001);
    assert_error(&s.register("corrupt", &schema).await, 500, 50001);
    assert_error(&s.delete("/subjects/kept").await, 500, 50001);
    assert_error(&s.delete("/mode").await, 500, 50001);
    // A subject's own mode is in force over the global one: its writes go on.
    let r = s.put("/mode/kept", &json!({"mode": "readwrite"})).await;
    assert_eq!(r.body, json!({"mode": "READWRITE"}), "{}", r.text);
    assert_eq!(
        s.delete("/subjects/kept").await.body,
        json!([1]),
        "delete under the subject's own mode"
    );
    let r = s.put("/mode", &json!({"mode": "READWRITE"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.get("/mode").await.body, json!({"mode": "READWRITE"}));
    s.register_ok("corrupt", &schema).await;
}

async fn config_and_mode(b: Backend) {
    let (_db, s) = start(b).await;
    let r = s.get("/config").await;
    assert_eq!(r.body, json!({"compatibilityLevel": "BACKWARD"}));
    // PUT takes `compatibility` and echoes it; GET answers `compatibilityLevel`.
    let r = s
        .put("/config", &json!({"compatibility": "full_transitive"}))
        .await;
    assert_eq!(r.body, json!({"compatibility": "FULL_TRANSITIVE"}));
    assert_eq!(
        s.get("/config").await.body,
        json!({"compatibilityLevel": "FULL_TRANSITIVE"})
    );
    assert_error(
        &s.put("/config", &json!({"compatibility": "SIDEWAYS"}))
            .await,
        422,
        42203,
    );
    assert_error(&s.get("/config/subj").await, 404, 40408);
    assert_eq!(
        s.get("/config/subj?defaultToGlobal=true").await.body,
        json!({"compatibilityLevel": "FULL_TRANSITIVE"})
    );
    let r = s
        .put(
            "/config/subj",
            &json!({"compatibility": "NONE", "normalize": true, "compatibilityPolicy": "lenient"}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"compatibility": "NONE", "normalize": true, "compatibilityPolicy": "LENIENT"})
    );
    assert_eq!(
        s.get("/config/subj").await.body,
        json!({"compatibilityLevel": "NONE", "normalize": true, "compatibilityPolicy": "LENIENT"})
    );
    assert_error(
        &s.put("/config/subj", &json!({"compatibilityPolicy": "LOOSE"}))
            .await,
        422,
        42203,
    );
    assert_eq!(
        s.delete("/config/subj").await.body["compatibilityLevel"],
        "NONE"
    );
    assert_error(&s.delete("/config/subj").await, 404, 40408);
    assert_eq!(
        s.delete("/config").await.body,
        json!({"compatibilityLevel": "FULL_TRANSITIVE"})
    );
    assert_eq!(
        s.get("/config").await.body,
        json!({"compatibilityLevel": "BACKWARD"})
    );

    // Modes.
    assert_eq!(s.get("/mode").await.body, json!({"mode": "READWRITE"}));
    assert_error(
        &s.put("/mode", &json!({"mode": "SLEEPY"})).await,
        422,
        42204,
    );
    assert_error(&s.get("/mode/m").await, 404, 40409);
    assert_eq!(
        s.put("/mode/m", &json!({"mode": "READONLY"})).await.body,
        json!({"mode": "READONLY"})
    );
    assert_error(&s.register("m", &obj(json!({}))).await, 422, 42205);
    s.register_ok("other", &obj(json!({}))).await;
    assert_eq!(s.delete("/mode/m").await.body, json!({"mode": "READONLY"}));
    s.register_ok("m", &obj(json!({}))).await;
    assert_eq!(
        s.get("/mode/m?defaultToGlobal=true").await.body,
        json!({"mode": "READWRITE"})
    );
    // A global READONLY stops deletes too.
    s.put("/mode", &json!({"mode": "READONLY"})).await;
    assert_error(&s.delete("/subjects/m").await, 422, 42205);
    s.delete("/mode").await;
    // An id outside IMPORT mode: 42205 (unless it is the id the schema already has).
    let r = s
        .post(
            "/subjects/m/versions",
            &json!({"schemaType": "JSON", "schema": "{\"type\":\"integer\"}", "id": 777}),
        )
        .await;
    assert_error(&r, 422, 42205);
    // IMPORT with schemas present needs force.
    assert_error(
        &s.put("/mode", &json!({"mode": "IMPORT"})).await,
        422,
        42205,
    );
    assert_eq!(
        s.put("/mode?force=true", &json!({"mode": "IMPORT"}))
            .await
            .body,
        json!({"mode": "IMPORT"})
    );
    // Ids and versions are kept; compatibility is not checked.
    let r = s
        .post("/subjects/imported/versions", &json!({"schemaType": "JSON", "schema": "{\"type\":\"string\"}", "id": 500, "version": 7}))
        .await;
    assert_eq!(r.body, json!({"id": 500}), "{}", r.text);
    let r = s
        .post("/subjects/imported/versions", &json!({"schemaType": "JSON", "schema": "{\"type\":\"integer\"}", "id": 501, "version": 9}))
        .await;
    assert_eq!(r.body, json!({"id": 501}), "{}", r.text);
    assert_eq!(
        s.get("/subjects/imported/versions").await.body,
        json!([7, 9])
    );
    assert_eq!(s.get("/subjects/imported/versions/7").await.body["id"], 500);
    // An id already used by other content: 42207.
    let r = s
        .post(
            "/subjects/imported/versions",
            &json!({"schemaType": "JSON", "schema": "{\"type\":\"boolean\"}", "id": 500}),
        )
        .await;
    assert_error(&r, 422, 42207);
    // Without an id in IMPORT mode: 42205.
    let r = s
        .post(
            "/subjects/imported/versions",
            &json!({"schemaType": "JSON", "schema": "{\"type\":\"null\"}"}),
        )
        .await;
    assert_error(&r, 422, 42205);
    s.put("/mode", &json!({"mode": "READWRITE"})).await;
    // New ids continue above the imported ones; versions above the imported ones.
    s.put("/config/imported", &json!({"compatibility": "NONE"}))
        .await;
    let r = s.register("imported", &json!({"type": "number"})).await;
    assert!(r.body["id"].as_i64().expect("id") > 501, "{}", r.text);
    assert_eq!(
        s.get("/subjects/imported/versions").await.body,
        json!([7, 9, 10])
    );
}

async fn normalize(b: Backend) {
    let (_db, s) = start(b).await;
    s.put("/config", &json!({"compatibility": "NONE"})).await;
    let a = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}";
    let reordered = "{\"properties\":{\"a\":{\"type\":\"string\"}},\"type\":\"object\"}";
    let reg = |text: &str, q: &str| {
        (
            format!("/subjects/n/versions{q}"),
            json!({"schemaType": "JSON", "schema": text}),
        )
    };
    let (p, body) = reg(a, "?normalize=true");
    let id1 = s.post(&p, &body).await.body["id"].as_i64().expect("id");
    let (p, body) = reg(reordered, "?normalize=true");
    assert_eq!(s.post(&p, &body).await.body["id"].as_i64(), Some(id1));
    // Without normalize, key order is kept and makes another schema.
    let (p, body) = reg(a, "");
    let id2 = s.post(&p, &body).await.body["id"].as_i64().expect("id");
    assert_ne!(id1, id2);
    // normalize from the subject's config.
    s.put("/config/m", &json!({"normalize": true})).await;
    let (_, body) = reg(a, "");
    let id3 = s.post("/subjects/m/versions", &body).await.body["id"]
        .as_i64()
        .expect("id");
    assert_eq!(id3, id1);
    let stored = s.get(&format!("/schemas/ids/{id1}")).await.body["schema"].clone();
    assert_eq!(stored, json!(reordered), "normalized text has sorted keys");
    // Lookup honours normalize too.
    let r = s
        .post(
            "/subjects/m?normalize=true",
            &json!({"schemaType": "JSON", "schema": reordered}),
        )
        .await;
    assert_eq!(r.body["id"].as_i64(), Some(id1), "{}", r.text);
}

/// Checks that need a correct compatibility engine (herald-schema).
async fn compatibility_engine(b: Backend) {
    let (_db, s) = start(b).await;
    let v1 = obj(json!({"a": {"type": "string"}}));
    let v2 = obj(json!({"a": {"type": "integer"}}));
    s.register_ok("c", &v1).await;
    let body = json!({"schemaType": "JSON", "schema": v2.to_string()});
    let r = s
        .post("/compatibility/subjects/c/versions/latest", &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"is_compatible": false}));
    let r = s
        .post("/compatibility/subjects/c/versions?verbose=true", &body)
        .await;
    assert_eq!(r.body["is_compatible"], false);
    let messages = r.body["messages"].as_array().expect("messages");
    assert!(
        messages
            .iter()
            .any(|m| m.as_str().is_some_and(|m| m.contains("TYPE_CHANGED"))),
        "{messages:?}"
    );
    // Registration refuses it with HTTP 409 (error_code 409).
    let r = s.register("c", &v2).await;
    assert_error(&r, 409, 409);
    assert_eq!(s.get("/subjects/c/versions").await.body, json!([1]));

    // Transitive levels look at every live version, the others at the latest only.
    s.put("/config/c", &json!({"compatibility": "NONE"})).await;
    s.register_ok("c", &v2).await;
    let v3 = obj(json!({"a": {"type": "integer", "description": "an amount"}}));
    let v3_body = json!({"schemaType": "JSON", "schema": v3.to_string()});
    s.put("/config/c", &json!({"compatibility": "BACKWARD"}))
        .await;
    let r = s.post("/compatibility/subjects/c/versions", &v3_body).await;
    assert_eq!(r.body["is_compatible"], true, "{}", r.text);
    s.put(
        "/config/c",
        &json!({"compatibility": "BACKWARD_TRANSITIVE"}),
    )
    .await;
    let r = s.post("/compatibility/subjects/c/versions", &v3_body).await;
    assert_eq!(r.body["is_compatible"], false, "{}", r.text);
    assert_error(&s.register("c", &v3).await, 409, 409);
}

async fn compatibility_basics(b: Backend) {
    let (_db, s) = start(b).await;
    let v1 = obj(json!({"a": {"type": "string"}}));
    let body = json!({"schemaType": "JSON", "schema": v1.to_string()});
    // A subject that does not exist is compatible with anything.
    let r = s
        .post("/compatibility/subjects/none/versions?verbose=true", &body)
        .await;
    assert_eq!(
        r.body,
        json!({"is_compatible": true, "messages": []}),
        "{}",
        r.text
    );
    assert_error(
        &s.post("/compatibility/subjects/none/versions/1", &body)
            .await,
        404,
        40401,
    );
    s.register_ok("c", &v1).await;
    assert_error(
        &s.post("/compatibility/subjects/c/versions/5", &body).await,
        404,
        40402,
    );
    assert_error(
        &s.post("/compatibility/subjects/c/versions/zero", &body)
            .await,
        422,
        42202,
    );
    let bad = json!({"schemaType": "JSON", "schema": "{\"type\": 12}"});
    assert_error(
        &s.post("/compatibility/subjects/c/versions", &bad).await,
        422,
        42201,
    );
    // The same schema is compatible with itself.
    let r = s.post("/compatibility/subjects/c/versions/1", &body).await;
    assert_eq!(r.body, json!({"is_compatible": true}));
    // Under NONE anything registers.
    s.put("/config/c", &json!({"compatibility": "NONE"})).await;
    s.register_ok("c", &json!({"type": "integer"})).await;
    assert_eq!(s.get("/subjects/c/versions").await.body, json!([1, 2]));
}

async fn concurrent_same_schema(b: Backend) {
    let (_db, s) = start(b).await;
    let s = std::sync::Arc::new(s);
    let schema = obj(json!({"same": {"type": "string"}}));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let s = s.clone();
        let schema = schema.clone();
        tasks.push(tokio::spawn(
            async move { s.register("same", &schema).await },
        ));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let r = t.await.expect("task");
        assert_eq!(r.status, 200, "{}", r.text);
        ids.insert(r.body["id"].as_i64().expect("id"));
    }
    assert_eq!(
        ids.len(),
        1,
        "one id for 50 concurrent registrations: {ids:?}"
    );
    assert_eq!(s.get("/subjects/same/versions").await.body, json!([1]));
    // And across subjects at once: still one id.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        let schema = obj(json!({"shared": {"type": "string"}}));
        tasks.push(tokio::spawn(async move {
            s.register(&format!("s{i}"), &schema).await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let r = t.await.expect("task");
        assert_eq!(r.status, 200, "{}", r.text);
        ids.insert(r.body["id"].as_i64().expect("id"));
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
}

async fn concurrent_versions(b: Backend) {
    let (_db, s) = start(b).await;
    s.put("/config/v", &json!({"compatibility": "NONE"})).await;
    let s = std::sync::Arc::new(s);
    let n = 40;
    let mut tasks = Vec::new();
    for i in 0..n {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.register("v", &obj(json!({format!("f{i}"): {"type": "string"}})))
                .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let r = t.await.expect("task");
        assert_eq!(r.status, 200, "{}", r.text);
        ids.insert(r.body["id"].as_i64().expect("id"));
    }
    assert_eq!(ids.len(), n, "distinct ids");
    let versions = s.get("/subjects/v/versions").await.body;
    let expected: Vec<i64> = (1..=n as i64).collect();
    assert_eq!(
        versions,
        json!(expected),
        "consecutive versions, no gaps, no duplicates"
    );
    // Each version holds a different schema.
    let mut seen = std::collections::BTreeSet::new();
    for v in 1..=n {
        let r = s.get(&format!("/subjects/v/versions/{v}")).await;
        assert!(seen.insert(r.body["id"].as_i64().expect("id")));
    }
}

async fn restart_keeps_everything(b: Backend) {
    let db = common::TestDb::new(b).await;
    let (id, cluster) = {
        let s = common::serve(db.open().await, Settings::default()).await;
        let id = s
            .register_ok("keep", &obj(json!({"k": {"type": "string"}})))
            .await;
        s.put("/config/keep", &json!({"compatibility": "FORWARD"}))
            .await;
        s.put("/mode/keep", &json!({"mode": "READONLY"})).await;
        s.delete("/subjects/x").await;
        (id, s.get("/v1/metadata/id").await.body["id"].clone())
    };
    // A new store on the same database: migrations are idempotent, nothing is lost.
    let s = common::serve(db.open().await, Settings::default()).await;
    assert_eq!(s.get(&format!("/schemas/ids/{id}")).await.status, 200);
    assert_eq!(s.get("/subjects/keep/versions").await.body, json!([1]));
    assert_eq!(
        s.get("/config/keep").await.body["compatibilityLevel"],
        "FORWARD"
    );
    assert_eq!(s.get("/mode/keep").await.body["mode"], "READONLY");
    assert_eq!(s.get("/v1/metadata/id").await.body["id"], cluster);
    s.delete("/mode/keep").await;
    let id2 = s
        .register_ok("keep2", &obj(json!({"k2": {"type": "string"}})))
        .await;
    assert!(id2 > id);
}

on_both_backends!(
    corrupt_stored_mode,
    shapes_and_lookup,
    invalid_input,
    unstored_metadata,
    deletes,
    references,
    config_and_mode,
    corrupt_stored_config,
    normalize,
    compatibility_engine,
    compatibility_basics,
    concurrent_same_schema,
    concurrent_versions,
    restart_keeps_everything,
);
