//! The example events' JSON Schemas in `schemas/` match the code. After a deliberate
//! change: `HERALD_UPDATE_SCHEMAS=1 cargo test -p herald-examples`.

// Links the events into this test binary's catalog.
use herald_examples as _;

#[test]
fn schemas_are_in_sync() {
    herald::schemas::assert_in_sync(concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas"));
}
