//! What the drift test says when a struct changed without a version bump: the compatibility
//! engine's differences between the file and the code, each told once and the right way
//! round (as `herald schemas check` says them), and annotation-only changes accepted.

use herald::Event;
use herald::catalog::EventDescriptor;
use herald::schemas::{self, Problem};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The drift test's lines for `Old`'s schema in the file and `New` in the code.
fn changes<Old: Event, New: Event>() -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = schemas::path_of(dir.path(), "e", 1);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    // The same struct, edited: its title (the type's name) stays.
    let mut old = Old::schema();
    old["title"] = New::schema()["title"].clone();
    std::fs::write(&path, schemas::render(&old)).expect("write");
    let now = EventDescriptor {
        name: "e",
        version: 1,
        rust_type: "New",
        schema: New::schema,
    };
    let error = schemas::check_events(dir.path(), &[&now]).expect_err("out of sync");
    match &error.problems[..] {
        [Problem::Changed { changes, .. }] => changes.clone(),
        other => panic!("expected one change, got {other:?}"),
    }
}

macro_rules! event {
    ($name:ident, $event:literal $(, #[$attr:meta])* { $($field:tt)* }) => {
        #[derive(Event, Serialize, Deserialize, JsonSchema)]
        #[event(name = $event, version = 1)]
        $(#[$attr])*
        #[allow(dead_code)]
        struct $name {
            #[event(aggregate_id)]
            id: String,
            $($field)*
        }
    };
}

event!(Base, "m.base" {});
event!(WithNote, "m.with_note" { note: Option<String>, });
event!(WithAmount, "m.with_amount" { amount_cents: i64, });
event!(WithTotal, "m.with_total" { total_cents: i64, });
event!(WithTextAmount, "m.with_text_amount" { amount_cents: String, });
event!(
    Open,
    "m.open",
    #[event(content_model = "open")]
    {}
);
event!(OpenDenying, "m.open_denying", #[event(content_model = "open")], #[serde(deny_unknown_fields)] {});

const REMOVED: &str = "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL at #/properties/amount_cents: field `amount_cents` was removed from an object that rejects unknown members: data written with the previous version can no longer be read";

#[test]
fn add_an_optional_field() {
    assert_eq!(
        changes::<Base, WithNote>(),
        [
            "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #/properties/note: optional field `note` was added: still compatible"
        ]
    );
}

#[test]
fn add_a_required_field() {
    assert_eq!(
        changes::<Base, WithAmount>(),
        [
            "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #/properties/amount_cents: required field `amount_cents` was added, which data written before does not have: data written with the previous version can no longer be read"
        ]
    );
}

#[test]
fn remove_a_field() {
    assert_eq!(changes::<WithAmount, Base>(), [REMOVED]);
}

#[test]
fn rename_a_field() {
    assert_eq!(
        changes::<WithAmount, WithTotal>(),
        [
            REMOVED,
            "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #/properties/total_cents: required field `total_cents` was added, which data written before does not have: data written with the previous version can no longer be read"
        ]
    );
}

#[test]
fn deny_unknown_fields() {
    assert_eq!(
        changes::<Open, OpenDenying>(),
        [
            "ADDITIONAL_PROPERTIES_REMOVED at #/additionalProperties: the schema no longer accepts members it does not name (`additionalProperties`): data written with the previous version can no longer be read"
        ]
    );
}

#[test]
fn change_a_type() {
    assert_eq!(
        changes::<WithAmount, WithTextAmount>(),
        [
            "TYPE_CHANGED at #/properties/amount_cents: field `amount_cents` changed from integer to string: data written with the previous version can no longer be read"
        ]
    );
}

/// `Base` with a doc comment and a different title: annotations only.
#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "m.documented", version = 1)]
#[schemars(title = "Base")]
#[allow(dead_code)]
/// An event with a doc comment now.
struct Documented {
    /// The aggregate.
    #[event(aggregate_id)]
    id: String,
}

#[test]
fn a_doc_comment_needs_no_new_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = schemas::path_of(dir.path(), "e", 1);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(&path, schemas::render(&Base::schema())).expect("write");
    let now = EventDescriptor {
        name: "e",
        version: 1,
        rust_type: "Documented",
        schema: Documented::schema,
    };
    let notes = schemas::check_events(dir.path(), &[&now]).expect("annotations only: in step");
    assert_eq!(notes.len(), 1);
    let note = notes[0].to_string();
    assert!(note.contains("differs from the code in annotations only (no new version needed; HERALD_UPDATE_SCHEMAS=1 cargo test refreshes it)"), "{note}");
    assert!(
        note.contains(
            "DESCRIPTION_CHANGED at #/: the description of the schema changed: still compatible"
        ),
        "{note}"
    );

    // The update rewrites the file in place; then there is nothing to note.
    schemas::export_events(dir.path(), &[&now]).expect("export");
    assert!(
        schemas::check_events(dir.path(), &[&now])
            .expect("in step")
            .is_empty()
    );
}
