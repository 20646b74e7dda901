//! External `$ref`s: the caller knows the other registered schemas, the engine does not.

use serde_json::Value;

/// Resolves `$ref`s that point outside the schema (other registered schemas).
pub trait ReferenceResolver {
    /// The schema a reference URI (without its `#fragment`) names, if known.
    ///
    /// The engine asks first with the reference as written (`customer.json`), then with it made
    /// absolute against the referring schema's `$id` when it has one.
    fn resolve(&self, uri: &str) -> Option<Value>;
}

/// A resolver that knows no external schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReferences;

impl ReferenceResolver for NoReferences {
    fn resolve(&self, _uri: &str) -> Option<Value> {
        None
    }
}

/// A resolver backed by a map from URI to schema, handy in tests and for the CLI.
impl<S: std::hash::BuildHasher> ReferenceResolver for std::collections::HashMap<String, Value, S> {
    fn resolve(&self, uri: &str) -> Option<Value> {
        self.get(uri).cloned()
    }
}
