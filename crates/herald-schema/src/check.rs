//! Levels: which previous versions are compared, in which direction, and how the differences
//! become a [`Report`]. Also the text entry point, which parses with [`crate::text`] into a
//! reused arena.
//! (Parsing and loading the two documents on two threads was tried: on this 2-core machine
//! under other builds it was slower, so everything runs on the caller's thread.)

use std::cell::RefCell;

use bumpalo::Bump;
use serde_json::Value;

use crate::diff::{Differ, RawDiff};
use crate::json::Json;
use crate::load::{self, LoadError, LoadOptions};
use crate::message::sentence;
use crate::model::Schema;
use crate::text;
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
    arena: &'a Bump,
) -> Result<(Schema<'a, J>, Vec<Schema<'a, J>>), LoadError> {
    let new_schema = load::load(new, externals, arena, LoadOptions::default())?;
    Ok((new_schema, load_previous(previous, externals, arena)?))
}

fn load_previous<'a, J: Json>(
    previous: &[&'a J],
    externals: &[(String, &'a J)],
    arena: &'a Bump,
) -> Result<Vec<Schema<'a, J>>, LoadError> {
    let mut prev = Vec::with_capacity(previous.len());
    for (i, p) in previous.iter().enumerate() {
        match load::load(*p, externals, arena, LoadOptions::default()) {
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
    let arena = Bump::new();
    // Most schemas reference no other document: load them straight away.
    match load_all(new, &previous, &[], &arena) {
        Ok((n, p)) => return compare_all(level, policy, &n, &p),
        Err(LoadError::Schema(e)) => return Err(e),
        Err(LoadError::Missing { .. }) => {}
    }
    let externals = fetch_externals(new, &previous, resolver)?;
    let refs: Vec<(String, &Value)> = externals.iter().map(|(k, v)| (k.clone(), v)).collect();
    match load_all(new, &previous, &refs, &arena) {
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
            // One attempt's model is dropped before the next, which loads the whole document
            // again with one more external.
            let arena = Bump::new();
            let refs: Vec<(String, &Value)> =
                externals.iter().map(|(k, v)| (k.clone(), v)).collect();
            let missing = match load::load(doc, &refs, &arena, LoadOptions::default()) {
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

/// Too deep is a limit, like the other depth limits; anything else is not JSON.
fn parse_error(e: text::ParseError) -> SchemaError {
    match e.reason {
        text::Reason::TooDeep => SchemaError::limit("#/", format!("JSON {e}")),
        _ => json_error(&e.to_string()),
    }
}

thread_local! {
    /// The arena `check_json` parses into, reused so that repeated checks find its memory
    /// already mapped instead of page-faulting fresh memory for every document.
    static ARENA: RefCell<Bump> = RefCell::new(Bump::new());
}

/// An arena holding more than this after a check is released rather than kept for the next.
const ARENA_KEEP_MAX: usize = 64 << 20;

pub(crate) fn check_json(
    level: CompatibilityLevel,
    policy: Policy,
    new: &str,
    previous: &[&str],
    resolver: &dyn ReferenceResolver,
) -> Result<Report, SchemaError> {
    let previous = versions(level, previous);
    let outcome = ARENA.with(|cell| match cell.try_borrow_mut() {
        Ok(mut arena) => {
            // Empty already unless an earlier check panicked.
            arena.reset();
            let outcome = check_parsed(level, policy, new, previous, &arena);
            if arena.allocated_bytes() > ARENA_KEEP_MAX {
                *arena = Bump::new();
            } else {
                arena.reset();
            }
            outcome
        }
        // A resolver calling `check_json` from inside a check: the inner call gets its own.
        Err(_) => check_parsed(level, policy, new, previous, &Bump::new()),
    });
    if let Some(result) = outcome {
        return result;
    }
    // References to other documents: the resolver speaks serde_json, take that path (outside
    // the arena's borrow, since the resolver may itself call `check_json`).
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

/// Parses the texts into `arena` and checks them; `None` when a schema references another
/// document.
fn check_parsed(
    level: CompatibilityLevel,
    policy: Policy,
    new: &str,
    previous: &[&str],
    arena: &Bump,
) -> Option<Result<Report, SchemaError>> {
    let (new_doc, prev_docs) = match parse_borrowed(new, previous, arena) {
        Ok(docs) => docs,
        Err(e) => return Some(Err(e)),
    };
    let prev_refs: Vec<&text::Value<'_>> = prev_docs.iter().collect();
    match load_all(&new_doc, &prev_refs, &[], arena) {
        Ok((n, p)) => Some(compare_all(level, policy, &n, &p)),
        Err(LoadError::Schema(e)) => Some(Err(e)),
        Err(LoadError::Missing { .. }) => None,
    }
}

/// Parses the new text and the previous ones, which borrow from their texts and `arena`.
fn parse_borrowed<'a>(
    new: &'a str,
    previous: &[&'a str],
    arena: &'a Bump,
) -> Result<(text::Value<'a>, Vec<text::Value<'a>>), SchemaError> {
    let new_doc = text::parse(new, arena).map_err(parse_error)?;
    let mut prev_docs = Vec::with_capacity(previous.len());
    for (i, t) in previous.iter().enumerate() {
        prev_docs.push(text::parse(t, arena).map_err(|e| parse_error(e).in_document(&label(i)))?);
    }
    Ok((new_doc, prev_docs))
}

pub(crate) fn validate(schema: &Value) -> Result<(), SchemaError> {
    let options = LoadOptions {
        all_definitions: true,
    };
    let arena = Bump::new();
    match load::load(schema, &[], &arena, options) {
        Ok(_) | Err(LoadError::Missing { .. }) => Ok(()),
        Err(LoadError::Schema(e)) => Err(e),
    }
}
