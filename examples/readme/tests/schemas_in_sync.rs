//! The README's drift test, on the README's events (their schemas: `examples/readme/schemas/`).

// Links the events into this test binary's catalog.
use herald_readme as _;

#[test]
fn schemas_are_in_sync() {
    herald::schemas::assert_in_sync(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas"));
}
