//! The example events' JSON Schemas in `schemas/` match the code. After a deliberate
//! change: `HERALD_UPDATE_SCHEMAS=1 cargo test -p herald-examples`.

// Links herald-examples (whose events these are) and checks the repository's `schemas/`.
herald::schemas_test!(concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas"));
