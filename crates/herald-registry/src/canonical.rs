//! Canonical form of submitted schemas: what is stored, hashed and compared.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A reference from a JSON Schema to another registered schema (the client's type: one
/// definition for both sides of the wire).
pub use herald_registry_client::Reference;

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

/// What identifies a schema's content: enough to look it up, not to check it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Compact text: whitespace removed, key order kept (or keys sorted when normalized).
    pub text: String,
    pub references: Vec<Reference>,
    /// SHA-256 over type, text and references: the content index key.
    pub hash: String,
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
    minify_measuring(text).0
}

/// [`minify`], and the nesting depth as [`depth`] counts it, in one pass over the bytes (JSON
/// whitespace and punctuation are ASCII, which never occurs inside a multi-byte character).
fn minify_measuring(text: &str) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let (mut level, mut max) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'}' | b']' => level = level.saturating_sub(1),
            b',' | b':' => {}
            b'"' => {
                // Copy the whole string, escapes included.
                max = max.max(level);
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let end = (i + 1).min(bytes.len());
                out.extend_from_slice(&bytes[start..end]);
                i = end;
                continue;
            }
            open @ (b'{' | b'[') => {
                max = max.max(level);
                level += 1;
                out.push(open);
                i += 1;
                continue;
            }
            _ => max = max.max(level),
        }
        out.push(bytes[i]);
        i += 1;
    }
    // Only ASCII bytes were dropped, and strings were copied whole.
    let text = String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    (text, max)
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
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = h.finalize();
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(HEX[usize::from(b >> 4)] as char);
        hex.push(HEX[usize::from(b & 0xf)] as char);
    }
    hex
}

fn check_size(schema: &str, limits: SchemaLimits) -> Result<()> {
    if schema.len() > limits.max_schema_bytes {
        return Err(Error::SchemaTooLarge(format!(
            "Schema of {} bytes exceeds the limit of {} bytes",
            schema.len(),
            limits.max_schema_bytes
        )));
    }
    Ok(())
}

fn check_depth(depth: usize, limits: SchemaLimits) -> Result<()> {
    if depth > limits.max_depth {
        return Err(Error::SchemaTooLarge(format!(
            "Schema nesting depth {depth} exceeds the limit of {}",
            limits.max_depth
        )));
    }
    Ok(())
}

fn invalid_json(e: serde_json::Error) -> Error {
    Error::InvalidSchema(format!("Invalid JSON: {e}"))
}

fn not_a_schema() -> Error {
    Error::InvalidSchema("a JSON Schema must be an object or a boolean".to_owned())
}

/// The canonical text and hash of a submitted schema, bounded like [`prepare`] but neither
/// validated nor kept as a [`Value`]: a lookup needs no more, and building the value is most
/// of its cost.
///
/// `references` must already be resolved to concrete versions.
pub fn identify(
    schema: &str,
    references: Vec<Reference>,
    normalize: bool,
    limits: SchemaLimits,
) -> Result<Identity> {
    if normalize {
        let p = prepare(schema, references, true, false, limits)?;
        return Ok(Identity {
            text: p.text,
            references: p.references,
            hash: p.hash,
        });
    }
    check_size(schema, limits)?;
    serde_json::from_str::<serde::de::IgnoredAny>(schema).map_err(invalid_json)?;
    let (text, depth) = minify_measuring(schema);
    check_depth(depth, limits)?;
    if !(text.starts_with('{') || text == "true" || text == "false") {
        return Err(not_a_schema());
    }
    let hash = fingerprint("JSON", &text, &references);
    Ok(Identity {
        text,
        references,
        hash,
    })
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
    check_size(schema, limits)?;
    let value: Value = serde_json::from_str(schema).map_err(invalid_json)?;
    check_depth(depth(&value), limits)?;
    if !(value.is_object() || value.is_boolean()) {
        return Err(not_a_schema());
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
    fn minify_measures_depth_as_depth_does() {
        for text in [
            "true",
            "{}",
            "[]",
            r#"{"a":{}}"#,
            r#" { "a" : [ { "b" : 1 } ] } "#,
            r#"{"a":[[],[[1]]],"b":{"c":"}]\"{["}}"#,
            r#"[1,[2,[3,[4]]],{"k":"\u00e9 é 𝄞"}]"#,
            "{\"type\":\"object\",\n\t\"title\":\"x y\"}",
        ] {
            let v: Value = serde_json::from_str(text).expect("json");
            let (min, d) = minify_measuring(text);
            assert_eq!(d, depth(&v), "{text}");
            assert_eq!(
                serde_json::from_str::<Value>(&min).expect("minified"),
                v,
                "{text}"
            );
        }
    }

    #[test]
    fn identify_agrees_with_prepare() {
        let limits = SchemaLimits::default();
        let text = r#"{ "type": "object", "properties": {"b": {"type": "string"}, "a": {}} }"#;
        for normalize in [false, true] {
            let i = identify(text, vec![], normalize, limits).expect("identify");
            let p = prepare(text, vec![], normalize, true, limits).expect("prepare");
            assert_eq!((i.text, i.hash), (p.text, p.hash));
        }
        let tight = SchemaLimits {
            max_depth: 2,
            ..limits
        };
        assert!(matches!(
            identify(text, vec![], false, tight),
            Err(Error::SchemaTooLarge(_))
        ));
        for bad in ["[1]", "\"s\"", "1", "{", "{} {}"] {
            assert!(
                matches!(
                    identify(bad, vec![], false, limits),
                    Err(Error::InvalidSchema(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn fingerprint_is_lowercase_hex_sha256() {
        let h = fingerprint("JSON", "{}", &[]);
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
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
