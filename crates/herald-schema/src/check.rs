//! Levels: which previous versions are compared, in which direction, and how the differences
//! become a [`Report`]. Also the text entry point, which parses with simd-json.
//! (Parsing and loading the two documents on two threads was tried: on this 2-core machine
//! under other builds it was slower, so everything runs on the caller's thread.)

use serde_json::Value;

use crate::diff::{Differ, RawDiff};
use crate::json::Json;
use crate::load::{self, LoadError, LoadOptions};
use crate::message::sentence;
use crate::model::Schema;
use crate::{
    CompatibilityLevel, Difference, Direction, Policy, ReferenceResolver, Report, SchemaError,
};

fn label(index: usize) -> String {
    format!("previous[{index}]")
}

/// Loads every document; `Missing` when an external document is needed.
fn load_all<'a, J: Json>(
    new: &'a J,
    previous: &[&'a J],
    externals: &[(String, &'a J)],
) -> Result<(Schema<'a, J>, Vec<Schema<'a, J>>), LoadError> {
    let new_schema = load::load(new, externals, LoadOptions::default())?;
    Ok((new_schema, load_previous(previous, externals)?))
}

fn load_previous<'a, J: Json>(
    previous: &[&'a J],
    externals: &[(String, &'a J)],
) -> Result<Vec<Schema<'a, J>>, LoadError> {
    let mut prev = Vec::with_capacity(previous.len());
    for (i, p) in previous.iter().enumerate() {
        match load::load(*p, externals, LoadOptions::default()) {
            Ok(s) => prev.push(s),
            Err(LoadError::Schema(e)) => return Err(LoadError::Schema(e.in_document(&label(i)))),
            Err(missing) => return Err(missing),
        }
    }
    Ok(prev)
}

fn compare_all<J: Json>(
    level: CompatibilityLevel,
    policy: Policy,
    new: &Schema<'_, J>,
    previous: &[Schema<'_, J>],
) -> Result<Report, SchemaError> {
    let mut differences = Vec::new();
    let mut push = |raw: Vec<RawDiff>, direction: Direction, index: usize| {
        differences.extend(raw.into_iter().map(|d| {
            let compatible = d.kind.is_compatible(policy);
            Difference {
                message: sentence(
                    d.kind,
                    &d.path,
                    d.detail.as_deref(),
                    direction,
                    index,
                    compatible,
                ),
                kind: d.kind,
                path: d.path,
                previous_version: index,
                direction,
                compatible,
            }
        }));
    };
    for (i, prev) in previous.iter().enumerate() {
        if level.checks_backward() {
            push(Differ::run(prev, new, policy)?, Direction::Backward, i);
        }
        if level.checks_forward() {
            push(Differ::run(new, prev, policy)?, Direction::Forward, i);
        }
    }
    Ok(Report {
        is_compatible: differences.iter().all(|d| d.compatible),
        differences,
    })
}

/// The previous versions a level looks at: all (transitive) or the newest.
fn versions<T>(level: CompatibilityLevel, previous: &[T]) -> &[T] {
    match level {
        CompatibilityLevel::None => &[],
        l if l.is_transitive() => previous,
        _ => &previous[..previous.len().min(1)],
    }
}

pub(crate) fn check(
    level: CompatibilityLevel,
    policy: Policy,
    new: &Value,
    previous: &[Value],
    resolver: &dyn ReferenceResolver,
) -> Result<Report, SchemaError> {
    let previous: Vec<&Value> = versions(level, previous).iter().collect();
    // Most schemas reference no other document: load them straight away.
    match load_all(new, &previous, &[]) {
        Ok((n, p)) => return compare_all(level, policy, &n, &p),
        Err(LoadError::Schema(e)) => return Err(e),
        Err(LoadError::Missing { .. }) => {}
    }
    let externals = fetch_externals(new, &previous, resolver)?;
    let refs: Vec<(String, &Value)> = externals.iter().map(|(k, v)| (k.clone(), v)).collect();
    match load_all(new, &previous, &refs) {
        Ok((n, p)) => compare_all(level, policy, &n, &p),
        Err(LoadError::Schema(e)) => Err(e),
        Err(LoadError::Missing { written, path, .. }) => Err(SchemaError::UnresolvedReference {
            path,
            reference: written,
        }),
    }
}

/// Asks the resolver for every external document the schemas reach, transitively.
fn fetch_externals(
    new: &Value,
    previous: &[&Value],
    resolver: &dyn ReferenceResolver,
) -> Result<Vec<(String, Value)>, SchemaError> {
    let mut externals: Vec<(String, Value)> = Vec::new();
    for doc in std::iter::once(new).chain(previous.iter().copied()) {
        loop {
            let refs: Vec<(String, &Value)> =
                externals.iter().map(|(k, v)| (k.clone(), v)).collect();
            let missing = match load::load(doc, &refs, LoadOptions::default()) {
                Ok(_) => break,
                Err(LoadError::Schema(e)) => return Err(e),
                Err(LoadError::Missing {
                    written,
                    absolute,
                    path,
                }) => (written, absolute, path),
            };
            let (written, absolute, path) = missing;
            if externals.len() >= crate::limits::MAX_DOCUMENTS {
                return Err(SchemaError::limit(&path, "too many referenced documents"));
            }
            let found = resolver
                .resolve(&written)
                .or_else(|| resolver.resolve(&absolute));
            let Some(found) = found else {
                return Err(SchemaError::UnresolvedReference {
                    path,
                    reference: written,
                });
            };
            externals.push((written, found));
        }
    }
    Ok(externals)
}

fn json_error(reason: &str) -> SchemaError {
    SchemaError::invalid("#/", format!("not valid JSON: {reason}"))
}

pub(crate) fn check_json(
    level: CompatibilityLevel,
    policy: Policy,
    new: &str,
    previous: &[&str],
    resolver: &dyn ReferenceResolver,
) -> Result<Report, SchemaError> {
    let previous = versions(level, previous);
    let mut buffers: Vec<Vec<u8>> = std::iter::once(new)
        .chain(previous.iter().copied())
        .map(|t| t.as_bytes().to_vec())
        .collect();
    let parsed: Vec<Result<simd_json::BorrowedValue<'_>, SchemaError>> =
        buffers.iter_mut().map(|b| parse_borrowed(b)).collect();
    let mut docs = Vec::with_capacity(parsed.len());
    for (i, p) in parsed.into_iter().enumerate() {
        match p {
            Ok(v) => docs.push(v),
            Err(e) if i == 0 => return Err(e),
            Err(e) => return Err(e.in_document(&label(i - 1))),
        }
    }
    let (new_doc, prev_docs) = docs
        .split_first()
        .ok_or_else(|| json_error("no document"))?;
    let prev_refs: Vec<&simd_json::BorrowedValue<'_>> = prev_docs.iter().collect();
    let loaded = load_all(new_doc, &prev_refs, &[]);
    match loaded {
        Ok((n, p)) => compare_all(level, policy, &n, &p),
        Err(LoadError::Schema(e)) => Err(e),
        Err(LoadError::Missing { .. }) => {
            // References to other documents: the resolver speaks serde_json, take that path.
            let new: Value = serde_json::from_str(new).map_err(|e| json_error(&e.to_string()))?;
            let mut prev = Vec::with_capacity(previous.len());
            for (i, t) in previous.iter().enumerate() {
                prev.push(
                    serde_json::from_str(t)
                        .map_err(|e| json_error(&e.to_string()).in_document(&label(i)))?,
                );
            }
            check(level, policy, &new, &prev, resolver)
        }
    }
}

fn parse_borrowed(buffer: &mut [u8]) -> Result<simd_json::BorrowedValue<'_>, SchemaError> {
    simd_json::to_borrowed_value(buffer).map_err(|e| json_error(&e.to_string()))
}

pub(crate) fn validate(schema: &Value) -> Result<(), SchemaError> {
    let options = LoadOptions {
        all_definitions: true,
    };
    match load::load(schema, &[], options) {
        Ok(_) | Err(LoadError::Missing { .. }) => Ok(()),
        Err(LoadError::Schema(e)) => Err(e),
    }
}
