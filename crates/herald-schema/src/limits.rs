//! Limits that keep a hostile or broken schema from exhausting the stack, memory or time.
//! Each is reported as [`SchemaError::LimitExceeded`](crate::SchemaError::LimitExceeded) with
//! the path where it was hit. The crate README lists them.

/// Nesting of subschemas within one document (the JSON nesting is about twice this).
pub const MAX_SCHEMA_DEPTH: usize = 128;
/// Subschemas loaded for one check side (a document and the documents it references).
pub const MAX_NODES: usize = 1_000_000;
/// External documents reached through `$ref` from one document.
pub const MAX_DOCUMENTS: usize = 256;
/// `$ref`s that point straight at another `$ref` before reaching a schema.
pub const MAX_REF_CHAIN: usize = 64;
/// Nesting of the comparison (it follows references, so it can exceed the document depth).
pub const MAX_DIFF_DEPTH: usize = 256;
/// Pairs of subschemas compared in one check (combinators compare every pair of branches).
pub const MAX_COMPARISONS: u64 = 5_000_000;
/// Nesting of arrays and objects in a JSON text given to `check_json` (the parser recurses, so
/// this bounds its stack use). Deeper documents exceed the subschema nesting anyway.
pub const MAX_JSON_DEPTH: usize = 512;
