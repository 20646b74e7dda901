//! Canonical form of submitted schemas: what is stored, hashed and compared.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A reference from a JSON Schema to another registered schema: `name` is the `$ref` target
/// used inside the referring schema, resolved to `subject`/`version`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// Limits applied to every submitted schema.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    /// Longest schema text accepted (42209 above it).
    pub max_schema_bytes: usize,
    /// Deepest nesting of arrays/objects accepted (42209 above it).
    pub max_depth: usize,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            max_schema_bytes: 1024 * 1024,
            max_depth: 64,
        }
    }
}

/// A schema ready to be stored or compared.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Compact text: whitespace removed, key order kept (or keys sorted when normalized).
    pub text: String,
    pub value: Value,
    pub references: Vec<Reference>,
    /// SHA-256 over type, text and references: the content index key.
    pub hash: String,
}

/// Removes insignificant whitespace from JSON text that is known to parse, keeping key order
/// and number spelling exactly as written.
pub fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Nesting depth of a JSON value (a scalar is depth 0).
pub fn depth(value: &Value) -> usize {
    // Iterative so a hostile document cannot overflow the stack here.
    let mut max = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    max
}

/// Re-serialises with object keys sorted at every level (Confluent's `normalize`).
pub fn normalized_text(value: &Value) -> String {
    let mut out = String::new();
    write_sorted(value, &mut out);
    out
}

fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    write_sorted(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The content hash of a schema: type, canonical text and references.
pub fn fingerprint(schema_type: &str, text: &str, references: &[Reference]) -> String {
    let mut h = Sha256::new();
    h.update(schema_type.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    for r in references {
        h.update([0]);
        h.update(r.name.as_bytes());
        h.update([1]);
        h.update(r.subject.as_bytes());
        h.update([1]);
        h.update(r.version.to_be_bytes());
    }
    let digest = h.finalize();
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// Parses, bounds and validates a submitted JSON Schema, and computes its canonical form.
///
/// `references` must already be resolved to concrete versions.
pub fn prepare(
    schema: &str,
    references: Vec<Reference>,
    normalize: bool,
    validate: bool,
    limits: SchemaLimits,
) -> Result<Prepared> {
    if schema.len() > limits.max_schema_bytes {
        return Err(Error::SchemaTooLarge(format!(
            "Schema of {} bytes exceeds the limit of {} bytes",
            schema.len(),
            limits.max_schema_bytes
        )));
    }
    let value: Value = serde_json::from_str(schema)
        .map_err(|e| Error::InvalidSchema(format!("Invalid JSON: {e}")))?;
    let d = depth(&value);
    if d > limits.max_depth {
        return Err(Error::SchemaTooLarge(format!(
            "Schema nesting depth {d} exceeds the limit of {}",
            limits.max_depth
        )));
    }
    if !(value.is_object() || value.is_boolean()) {
        return Err(Error::InvalidSchema(
            "a JSON Schema must be an object or a boolean".to_owned(),
        ));
    }
    if validate {
        if let Err(e) = jsonschema::meta::validate(&value) {
            let path = e.instance_path().to_string();
            let at = if path.is_empty() {
                "#".to_owned()
            } else {
                format!("#{path}")
            };
            return Err(Error::InvalidSchema(format!("{e} at {at}")));
        }
        herald_schema::validate(&value).map_err(|e| Error::InvalidSchema(e.to_string()))?;
    }
    let mut references = references;
    let text = if normalize {
        references.sort();
        references.dedup();
        normalized_text(&value)
    } else {
        minify(schema)
    };
    let hash = fingerprint("JSON", &text, &references);
    Ok(Prepared {
        text,
        value,
        references,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_order_and_string_whitespace() {
        let t = "{ \"b\" : 1,\n \"a\": \"x y \\\" z\" }";
        assert_eq!(minify(t), "{\"b\":1,\"a\":\"x y \\\" z\"}");
    }

    #[test]
    fn normalize_sorts_keys_deeply() {
        let v: Value =
            serde_json::from_str(r#"{"b":{"d":1,"c":[{"f":1,"e":2}]},"a":true}"#).expect("json");
        assert_eq!(
            normalized_text(&v),
            r#"{"a":true,"b":{"c":[{"e":2,"f":1}],"d":1}}"#
        );
    }

    #[test]
    fn depth_counts_nesting() {
        let v: Value = serde_json::from_str(r#"{"a":[{"b":1}]}"#).expect("json");
        assert_eq!(depth(&v), 3);
    }

    #[test]
    fn prepare_rejects_invalid_meta_schema() {
        let err = prepare(
            r#"{"type":"strin"}"#,
            vec![],
            false,
            true,
            SchemaLimits::default(),
        )
        .expect_err("invalid");
        assert!(matches!(err, Error::InvalidSchema(_)), "{err:?}");
    }
}
