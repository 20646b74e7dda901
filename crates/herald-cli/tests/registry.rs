//! `herald schemas check --against registry:` and `herald schemas register` end to end against
//! a real herald-registry (its library router, served in this process on a free loopback port)
//! on a fresh PostgreSQL database per test (127.0.0.1:5432; start it with `scripts/services`).

mod common;

use common::*;
use serde_json::{Value, json};

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    put(&dir.path().join("schemas"), "order.created", 1, &order_v1());
    dir
}

fn check(p: &tempfile::TempDir, reg: &Registry, extra: &[&str]) -> std::process::Output {
    let against = format!("registry:{}", reg.url);
    let mut args = vec!["schemas", "check", "--against", &against];
    args.extend_from_slice(extra);
    herald_in(p.path(), &args)
}

#[test]
fn register_oldest_first_idempotently_then_check_against_it() {
    let reg = Registry::start();
    let p = project();
    let schemas = p.path().join("schemas");
    put(&schemas, "order.created", 2, &order_v2_compatible());
    put(&schemas, "payment.requested", 1, &payment_v1());

    // Dry run: says what it would do, registers nothing.
    let o = herald_in(
        p.path(),
        &["schemas", "register", "--registry", &reg.url, "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.contains("+ schemas/order.created/v1.json: would register as order.created"),
        "{out}"
    );
    assert!(
        out.contains("dry run: 3 would be registered, 0 already registered"),
        "{out}"
    );
    assert!(reg.versions("order.created").is_empty());

    let o = herald_in(p.path(), &["schemas", "register", "--registry", &reg.url]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let out = stdout(&o);
    let v1 = out
        .find("order.created/v1.json: registered as order.created version 1")
        .expect(&out);
    let v2 = out
        .find("order.created/v2.json: registered as order.created version 2")
        .expect(&out);
    assert!(v1 < v2, "oldest first: {out}");
    assert!(out.contains("3 registered, 0 already registered"), "{out}");
    assert_eq!(reg.versions("order.created"), [1, 2]);

    // Again: nothing to do.
    let o = herald_in(p.path(), &["schemas", "register", "--registry", &reg.url]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "= schemas/order.created/v2.json: already registered as order.created version 2"
        ),
        "{out}"
    );
    assert!(out.contains("0 registered, 3 already registered"), "{out}");
    assert_eq!(reg.versions("order.created"), [1, 2]);

    // Everything registered: the check passes, each event unchanged.
    let o = check(&p, &reg, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["events"][0]["status"], "unchanged");
    assert_eq!(v["events"][0]["subject"], "order.created");
}

#[test]
fn compatible_change_passes_and_breaking_change_fails_with_the_path() {
    let reg = Registry::start();
    reg.register("order.created", &order_v1());
    let p = project();
    put(
        &p.path().join("schemas"),
        "order.created",
        2,
        &order_v2_compatible(),
    );
    let o = check(&p, &reg, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(
        stdout(&o).contains("    schemas/order.created/v2.json against registry version 1\n"),
        "{}",
        both(&o)
    );

    put(
        &p.path().join("schemas"),
        "order.created",
        2,
        &order_v2_breaking(),
    );
    let o = check(&p, &reg, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    let d = &v["events"][0]["differences"][0];
    assert_eq!(d["type"], "TYPE_CHANGED");
    assert_eq!(d["path"], "#/properties/amount");
    assert_eq!(d["previous"], json!({"version": 1, "source": "registry"}));

    // register agrees with check: it stops at v2 and says why, with the registry's words.
    let o = herald_in(
        p.path(),
        &["schemas", "register", "--registry", &reg.url, "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(
        stdout(&o).contains("the registry would refuse it"),
        "{}",
        both(&o)
    );
    let o = herald_in(p.path(), &["schemas", "register", "--registry", &reg.url]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.contains("= schemas/order.created/v1.json: already registered"),
        "{out}"
    );
    assert!(
        out.contains("✗ schemas/order.created/v2.json: the registry refused it: "),
        "{out}"
    );
    assert!(
        out.contains(
            "the registry refused it: incompatible with version 1 at BACKWARD: TYPE_CHANGED: "
        ),
        "the registry's verdict in words: {out}"
    );
    assert!(
        out.contains("(at #/properties/amount)"),
        "the registry's reason names the field: {out}"
    );
    assert!(
        !out.contains("oldSchema") && !out.contains("\"additionalProperties\""),
        "not the old schema's JSON: {out}"
    );
    assert!(out.contains("stopped at schemas/order.created/v2.json: 0 registered, 1 already registered, 0 not attempted"), "{out}");
    assert_eq!(reg.versions("order.created"), [1]);
}

#[test]
fn the_registry_decides_the_level_unless_given() {
    let reg = Registry::start();
    reg.register("order.created", &order_v1());
    let p = project();
    put(
        &p.path().join("schemas"),
        "order.created",
        2,
        &order_v2_compatible(),
    );
    // FORWARD: v1 readers (closed model) cannot read v2's `note`.
    reg.set_level("order.created", "FORWARD");
    let o = check(&p, &reg, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(
        stdout(&o).contains("order.created [FORWARD, STRICT]: incompatible"),
        "{}",
        both(&o)
    );
    let o = check(&p, &reg, &["--level", "backward"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
}

#[test]
fn in_place_edit_of_a_registered_version_is_caught() {
    let reg = Registry::start();
    reg.register("order.created", &order_v1());
    reg.register("order.created", &order_v2_compatible());
    let p = project();
    let mut edited = order_v1();
    edited["properties"]["order_id"]["maxLength"] = json!(64);
    put(&p.path().join("schemas"), "order.created", 1, &edited);
    put(
        &p.path().join("schemas"),
        "order.created",
        2,
        &order_v2_compatible(),
    );
    let o = check(&p, &reg, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "    schemas/order.created/v1.json against registry version 1\n      ✗ PUBLISHED_VERSION_CHANGED #\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("v1 of `order.created` was changed in place"),
        "{out}"
    );
    // What changed, compared with registry version 1 (not with the newest version).
    let o = check(&p, &reg, &["--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    let diffs = v["events"][0]["differences"]
        .as_array()
        .expect("differences");
    for d in diffs {
        assert_eq!(
            d["previous"],
            json!({"version": 1, "source": "registry"}),
            "{d}"
        );
    }
    assert!(
        diffs
            .iter()
            .any(|d| d["path"] == "#/properties/order_id/maxLength"),
        "{diffs:?}"
    );
}

/// Registers v1 and v2 through the CLI, as CI does.
fn registered_v1_v2() -> (Registry, tempfile::TempDir) {
    let reg = Registry::start();
    let p = project();
    put(
        &p.path().join("schemas"),
        "order.created",
        2,
        &order_v2_compatible(),
    );
    let o = herald_in(p.path(), &["schemas", "register", "--registry", &reg.url]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert_eq!(reg.versions("order.created"), [1, 2]);
    (reg, p)
}

fn json_check(p: &tempfile::TempDir, reg: &Registry) -> (i32, Value) {
    let o = check(p, reg, &["--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", both(&o)));
    (o.status.code().unwrap_or(-1), v)
}

#[test]
fn an_optional_field_added_in_place_to_registered_v2_is_a_published_version_change() {
    let (reg, p) = registered_v1_v2();
    let schemas = p.path().join("schemas");
    let mut edited = order_v2_compatible();
    edited["properties"]["coupon"] = json!({"type": "string"});
    put(&schemas, "order.created", 2, &edited);

    let (code, v) = json_check(&p, &reg);
    assert_eq!(code, 1, "{v:#}");
    let diffs = v["events"][0]["differences"]
        .as_array()
        .expect("differences");
    assert_eq!(diffs[0]["type"], "PUBLISHED_VERSION_CHANGED", "{v:#}");
    assert_eq!(diffs[0]["file"], "schemas/order.created/v2.json");
    assert_eq!(
        diffs[0]["previous"],
        json!({"version": 2, "source": "registry"})
    );
    // Every other difference is the real change: the new property, against registry v2.
    for d in &diffs[1..] {
        assert_eq!(d["path"], "#/properties/coupon", "{v:#}");
        assert_eq!(d["previous"], json!({"version": 2, "source": "registry"}));
    }
    assert!(diffs.len() > 1, "the change itself is reported: {v:#}");

    // register agrees: it does not offer to register the edited file as a new version.
    let o = herald_in(
        p.path(),
        &["schemas", "register", "--registry", &reg.url, "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    assert!(!out.contains("v2.json: would register"), "{out}");
    assert!(
        out.contains("✗ schemas/order.created/v2.json: cannot register it: order.created version 2 holds other content: v2 was changed after it was published"),
        "{out}"
    );
    let o = herald_in(p.path(), &["schemas", "register", "--registry", &reg.url]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert_eq!(reg.versions("order.created"), [1, 2], "nothing registered");
}

#[test]
fn a_new_v3_is_checked_against_registry_v2_and_registered_as_version_3() {
    let (reg, p) = registered_v1_v2();
    let schemas = p.path().join("schemas");

    let mut v3 = order_v2_compatible();
    v3["properties"]["coupon"] = json!({"type": "string"});
    put(&schemas, "order.created", 3, &v3);
    let (code, v) = json_check(&p, &reg);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["events"][0]["status"], "compatible");
    assert_eq!(
        v["events"][0]["checked"],
        json!([{"version": 3, "file": "schemas/order.created/v3.json",
                "previous": [{"version": 2, "source": "registry"}]}])
    );
    let o = herald_in(
        p.path(),
        &["schemas", "register", "--registry", &reg.url, "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(
        stdout(&o).contains(
            "+ schemas/order.created/v3.json: would register as order.created version 3\n"
        ),
        "{}",
        both(&o)
    );

    // A breaking v3: the difference is the real one, against registry version 2.
    let mut v3 = order_v2_compatible();
    v3["properties"]["amount"] = json!({"type": "integer"});
    put(&schemas, "order.created", 3, &v3);
    let (code, v) = json_check(&p, &reg);
    assert_eq!(code, 1, "{v:#}");
    let diffs = v["events"][0]["differences"]
        .as_array()
        .expect("differences");
    assert_eq!(diffs.len(), 1, "{v:#}");
    assert_eq!(diffs[0]["type"], "TYPE_CHANGED");
    assert_eq!(diffs[0]["path"], "#/properties/amount");
    assert_eq!(diffs[0]["file"], "schemas/order.created/v3.json");
    assert_eq!(
        diffs[0]["previous"],
        json!({"version": 2, "source": "registry"})
    );
}

#[test]
fn an_in_place_edit_of_registered_v1_names_that_field_only() {
    let (reg, p) = registered_v1_v2();
    let mut edited = order_v1();
    edited["properties"]["order_id"]["maxLength"] = json!(36);
    put(&p.path().join("schemas"), "order.created", 1, &edited);
    let (code, v) = json_check(&p, &reg);
    assert_eq!(code, 1, "{v:#}");
    let diffs = v["events"][0]["differences"]
        .as_array()
        .expect("differences");
    assert_eq!(diffs[0]["type"], "PUBLISHED_VERSION_CHANGED", "{v:#}");
    assert_eq!(diffs[0]["version"], 1, "{v:#}");
    assert!(diffs.len() > 1, "the change itself is reported: {v:#}");
    for d in diffs {
        assert_ne!(
            d["type"], "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            "{v:#}"
        );
        assert_eq!(d["version"], 1, "only v1 changed: {v:#}");
        assert_eq!(
            d["previous"],
            json!({"version": 1, "source": "registry"}),
            "{v:#}"
        );
        let path = d["path"].as_str().unwrap_or_default();
        assert!(
            path == "#" || path.starts_with("#/properties/order_id"),
            "{v:#}"
        );
    }
}

#[test]
fn a_doc_only_edit_of_registered_v1_passes_and_registers_nothing() {
    // The drift test rewrites a file in place for a reworded doc comment; the registry keeps
    // the published wording, and neither check nor register may call that a change.
    let (reg, p) = registered_v1_v2();
    let mut edited = order_v1();
    edited["properties"]["order_id"]["description"] =
        json!("The order's id, as the shop shows it.");
    put(&p.path().join("schemas"), "order.created", 1, &edited);
    let (code, v) = json_check(&p, &reg);
    assert_eq!(code, 0, "{v:#}");
    for dry_run in [true, false] {
        let mut args = vec!["schemas", "register", "--registry", reg.url.as_str()];
        if dry_run {
            args.push("--dry-run");
        }
        let o = herald_in(p.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", both(&o));
        let out = stdout(&o);
        assert!(
            out.contains("= schemas/order.created/v1.json: already registered as order.created version 1 (only its annotations were reworded"),
            "{out}"
        );
        assert_eq!(reg.versions("order.created"), [1, 2], "nothing registered");
    }
}

#[test]
fn a_subject_registered_by_something_else_is_a_version_mismatch() {
    // v2's content was registered first, so it is registry version 1.
    let reg = Registry::start();
    reg.register("order.created", &order_v2_compatible());
    let p = project();
    put(
        &p.path().join("schemas"),
        "order.created",
        2,
        &order_v2_compatible(),
    );
    let (code, v) = json_check(&p, &reg);
    assert_eq!(code, 1, "{v:#}");
    let diffs = v["events"][0]["differences"]
        .as_array()
        .expect("differences");
    let mismatch = diffs
        .iter()
        .find(|d| d["type"] == "REGISTRY_VERSION_MISMATCH")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(mismatch["file"], "schemas/order.created/v2.json");
    assert!(
        mismatch["message"]
            .as_str()
            .is_some_and(|m| m.contains("is registry version 1 of `order.created`, not version 2")),
        "{v:#}"
    );
    let o = herald_in(p.path(), &["schemas", "register", "--registry", &reg.url]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(
        stdout(&o).contains("✗ schemas/order.created/v1.json: cannot register it: order.created version 1 holds other content"),
        "{}",
        both(&o)
    );
    assert_eq!(reg.versions("order.created"), [1], "nothing registered");
}

#[test]
fn a_subject_the_registry_does_not_know_is_new() {
    let reg = Registry::start();
    reg.register("order.created-value", &order_v1());
    let p = project();
    put(
        &p.path().join("schemas"),
        "payment.requested",
        1,
        &payment_v1(),
    );
    let o = check(
        &p,
        &reg,
        &["--subject-template", "{name}-value", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["events"][0]["subject"], "order.created-value");
    assert_eq!(v["events"][0]["status"], "unchanged");
    assert_eq!(v["events"][1]["subject"], "payment.requested-value");
    assert_eq!(v["events"][1]["status"], "new");
    let o = check(&p, &reg, &["--subject-template", "{name}-value"]);
    assert!(stdout(&o).contains("payment.requested (subject payment.requested-value) [BACKWARD, STRICT]: compatible (new subject)"), "{}", both(&o));
}

#[test]
fn credentials_from_the_environment_are_used_and_never_printed() {
    let reg = Registry::start_with_auth("write:ci:tok-s3cret-123\nwrite:bob:pw-s3cret-456");
    let p = project();
    let against = format!("registry:{}", reg.url);

    let o = herald_env(
        p.path(),
        &["schemas", "check", "--against", &against],
        &[("HERALD_REGISTRY_TOKEN", "tok-s3cret-123")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let o = herald_env(
        p.path(),
        &["schemas", "register", "--registry", &reg.url],
        &[
            ("HERALD_REGISTRY_USER", "bob"),
            ("HERALD_REGISTRY_PASSWORD", "pw-s3cret-456"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));

    // Wrong or missing credentials: exit 2 with the cause, and no secret anywhere.
    for (args, env) in [
        (
            vec![
                "schemas",
                "check",
                "--against",
                against.as_str(),
                "--token",
                "tok-wrong-789",
            ],
            vec![],
        ),
        (
            vec!["schemas", "register", "--registry", reg.url.as_str()],
            vec![("HERALD_REGISTRY_TOKEN", "tok-wrong-789")],
        ),
        (
            vec![
                "schemas",
                "register",
                "--registry",
                reg.url.as_str(),
                "--user",
                "bob",
                "--password",
                "pw-wrong-000",
            ],
            vec![],
        ),
    ] {
        let o = herald_env(p.path(), &args, &env);
        assert_eq!(o.status.code(), Some(2), "{}", both(&o));
        let all = both(&o);
        assert!(all.contains("HTTP 401"), "{all}");
        for secret in ["tok-wrong-789", "pw-wrong-000", "s3cret"] {
            assert!(!all.contains(secret), "{secret} printed: {all}");
        }
    }
    // Credentials in the URL are sent as basic auth and never shown.
    let with_userinfo = reg.url.replace("http://", "http://bob:pw-wrong-000@");
    let o = herald_in(
        p.path(),
        &[
            "schemas",
            "check",
            "--against",
            &format!("registry:{with_userinfo}"),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(!both(&o).contains("pw-wrong-000"), "{}", both(&o));
    // The help text does not show the environment's secrets either.
    let o = herald_env(
        p.path(),
        &["schemas", "check", "--help"],
        &[("HERALD_REGISTRY_TOKEN", "tok-s3cret-123")],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(!both(&o).contains("tok-s3cret-123"), "{}", both(&o));
}

#[test]
fn nothing_listening_exits_two_with_the_cause() {
    let p = project();
    let url = dead_url();
    for args in [
        vec![
            "schemas".to_owned(),
            "check".into(),
            "--against".into(),
            format!("registry:{url}"),
        ],
        vec![
            "schemas".to_owned(),
            "register".into(),
            "--registry".into(),
            url.clone(),
        ],
        vec![
            "schemas".to_owned(),
            "check".into(),
            "--against".into(),
            format!("registry:{url}"),
            "--format".into(),
            "github".into(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = herald_in(p.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", both(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("cannot reach the registry at {url}")),
            "{err}"
        );
        assert!(err.to_lowercase().contains("connect"), "the cause: {err}");
    }
}
