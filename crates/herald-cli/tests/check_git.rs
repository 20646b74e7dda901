//! `herald schemas check --against git:REF` in temporary git repositories: no registry, the
//! baseline read with the repository's git.

mod common;

use common::*;
use serde_json::{Value, json};

/// A repository whose `main` has order.created v1 and payment.requested v1 committed.
fn published() -> GitRepo {
    let repo = GitRepo::new();
    put(&repo.schemas(), "order.created", 1, &order_v1());
    put(&repo.schemas(), "payment.requested", 1, &payment_v1());
    std::fs::write(repo.path().join("README.md"), "an app\n").expect("write");
    repo.commit_all("v1 of the events");
    repo
}

fn check(repo: &GitRepo, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["schemas", "check", "--against", "git:main"];
    args.extend_from_slice(extra);
    herald_in(repo.path(), &args)
}

#[test]
fn compatible_change_passes() {
    let repo = published();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    put(&repo.schemas(), "order.created", 2, &order_v2_compatible());
    // Uncommitted work counts: the check reads the working tree against the ref.
    let o = check(&repo, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.contains("✓ order.created [BACKWARD, STRICT]: compatible"),
        "{out}"
    );
    assert!(
        out.contains("    schemas/order.created/v2.json against v1 (git:main)\n"),
        "{out}"
    );
    assert!(
        out.contains("✓ payment.requested [BACKWARD, STRICT]: unchanged"),
        "{out}"
    );
    repo.commit_all("v2");
    let o = check(&repo, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
}

#[test]
fn breaking_change_fails_with_the_path() {
    let repo = published();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    put(&repo.schemas(), "order.created", 2, &order_v2_breaking());
    repo.commit_all("v2, breaking");
    let o = check(&repo, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["against"], "git:main");
    let d = &v["events"][0]["differences"][0];
    assert_eq!(d["type"], "TYPE_CHANGED");
    assert_eq!(d["path"], "#/properties/amount");
    assert_eq!(d["file"], "schemas/order.created/v2.json");
    assert_eq!(d["previous"], json!({"version": 1, "source": "against"}));
    assert_eq!(d["breaking"], true);
}

#[test]
fn in_place_edit_of_a_published_version_is_the_worst_break() {
    let repo = published();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    // Even a change the level would accept: a published version must not change.
    put(&repo.schemas(), "order.created", 1, &order_v2_compatible());
    let o = check(&repo, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.contains("    schemas/order.created/v1.json against v1 (git:main)\n      ✗ PUBLISHED_VERSION_CHANGED #\n"),
        "{out}"
    );
    assert!(
        out.contains("v1 of `order.created` was changed in place"),
        "{out}"
    );
    assert!(out.contains("add the change as v2"), "{out}");
    // What changed, in the engine's words, follows.
    assert!(out.contains("#/properties/note"), "{out}");
    insta::assert_snapshot!("human_git_in_place_edit", out);

    // Formatting alone is not a change.
    let text = serde_json::to_string(&order_v1()).expect("json");
    std::fs::write(repo.schemas().join("order.created/v1.json"), text).expect("write");
    let o = check(&repo, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
}

#[test]
fn removed_version_is_reported() {
    let repo = published();
    std::fs::remove_file(repo.schemas().join("payment.requested/v1.json")).expect("rm");
    let o = check(&repo, &["--format", "github"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("::error file=schemas/payment.requested/v1.json,title=payment.requested v1%3A VERSION_REMOVED at #::"),
        "{out}"
    );
}

#[test]
fn new_event_and_ref_without_the_directory_pass() {
    let repo = GitRepo::new();
    std::fs::write(repo.path().join("README.md"), "an app\n").expect("write");
    repo.commit_all("before any schema");
    put(&repo.schemas(), "order.created", 1, &order_v1());
    put(&repo.schemas(), "order.created", 2, &order_v2_compatible());
    let o = check(&repo, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["events"][0]["status"], "new");
    // A new event's own versions are still checked against each other.
    put(&repo.schemas(), "order.created", 3, &order_v2_breaking());
    let o = check(&repo, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
}

#[test]
fn schemas_in_a_subdirectory_and_run_from_elsewhere() {
    let repo = GitRepo::new();
    let schemas = repo.path().join("services/orders/schemas");
    put(&schemas, "order.created", 1, &order_v1());
    repo.commit_all("v1");
    put(&schemas, "order.created", 2, &order_v2_breaking());
    let o = herald_in(
        &repo.path().join("services"),
        &[
            "schemas",
            "check",
            "orders/schemas",
            "--against",
            "git:HEAD",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(
        stdout(&o)
            .contains("    orders/schemas/order.created/v2.json against v1 (git:HEAD)\n      ✗ TYPE_CHANGED #/properties/amount\n"),
        "{}",
        both(&o)
    );
}

#[test]
fn unknown_ref_and_no_repository_exit_two() {
    let repo = published();
    let o = herald_in(
        repo.path(),
        &["schemas", "check", "--against", "git:origin/main"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains("git ref `origin/main` was not found"), "{err}");
    assert!(err.contains("fetch-depth: 0"), "{err}");

    let plain = tempfile::tempdir().expect("tempdir");
    put(
        &plain.path().join("schemas"),
        "order.created",
        1,
        &order_v1(),
    );
    let o = herald_in(plain.path(), &["schemas", "check", "--against", "git:main"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        stderr(&o).contains("not inside a git repository"),
        "{}",
        both(&o)
    );
}
