//! `herald schemas check --against git:REF`: a published version whose annotations changed
//! (a reworded doc comment, a title, examples) accepts the same data and is not a change to
//! the published version; any other edit still is.

mod common;

use common::*;
use serde_json::json;

fn published() -> GitRepo {
    let repo = GitRepo::new();
    put(&repo.schemas(), "order.created", 1, &order_v1());
    repo.commit_all("v1");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo
}

#[test]
fn annotation_changes_to_a_published_version_pass() {
    let repo = published();
    let mut v1 = order_v1();
    v1["description"] = json!("An order, as the checkout publishes it.");
    v1["title"] = json!("OrderCreatedV1");
    v1["properties"]["amount"]["description"] = json!("In euros.");
    v1["properties"]["amount"]["examples"] = json!(["12.50"]);
    v1["properties"]["order_id"]["$comment"] = json!("a UUID");
    v1["properties"]["order_id"]["deprecated"] = json!(true);
    put(&repo.schemas(), "order.created", 1, &v1);
    let o = herald_in(repo.path(), &["schemas", "check", "--against", "git:main"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(
        !stdout(&o).contains("PUBLISHED_VERSION_CHANGED"),
        "{}",
        both(&o)
    );
}

#[test]
fn a_default_or_constraint_change_beside_annotations_is_still_a_change() {
    let repo = published();
    let mut v1 = order_v1();
    v1["description"] = json!("reworded");
    v1["properties"]["amount"]["default"] = json!("0");
    put(&repo.schemas(), "order.created", 1, &v1);
    let o = herald_in(repo.path(), &["schemas", "check", "--against", "git:main"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(
        stdout(&o).contains("PUBLISHED_VERSION_CHANGED"),
        "{}",
        both(&o)
    );
}
