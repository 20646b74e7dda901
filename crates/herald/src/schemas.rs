//! Keeping `schemas/` in step with the code.
//!
//! Every type that derives `Event` is listed in the [catalog](crate::catalog). [`export`]
//! writes the JSON Schema of each one to `<dir>/<event name>/v<version>.json`; [`check`]
//! compares the files with the code; [`assert_in_sync`] is the one line a test needs:
//!
//! ```no_run
//! // tests/schemas.rs of the crate that defines the events
//! #[test]
//! fn schemas_are_in_sync() {
//!     herald::schemas::assert_in_sync(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas"));
//! }
//! ```
//!
//! (or `herald::schemas_test!();`, which writes that test). Change a struct without
//! bumping its version and the test fails, naming the event and what changed; add a
//! version and it fails until the new file exists. Either way the message gives the
//! command that rewrites the files: `HERALD_UPDATE_SCHEMAS=1 cargo test`.
//!
//! ```
//! use herald::Event;
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Event, Serialize, Deserialize, JsonSchema)]
//! #[event(name = "doc.greeting", version = 1)]
//! struct Greeting {
//!     #[event(aggregate_id)]
//!     id: String,
//! }
//!
//! let dir = tempfile::tempdir()?;
//! // Nothing exported yet: the check fails and says how to fix it.
//! let error = herald::schemas::check(dir.path()).unwrap_err();
//! assert!(error.to_string().contains("HERALD_UPDATE_SCHEMAS=1 cargo test"));
//!
//! herald::schemas::export(dir.path())?;
//! assert!(dir.path().join("doc.greeting/v1.json").exists());
//! herald::schemas::check(dir.path())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use herald_core::catalog::{self, EventDescriptor};
use herald_schema::{CompatibilityLevel, NoReferences, Policy};
use serde_json::Value;

/// The environment variable that makes [`assert_in_sync`] write the files instead of
/// comparing them.
pub const UPDATE_ENV: &str = "HERALD_UPDATE_SCHEMAS";

/// The command that rewrites the schema files, as the failure messages give it.
pub const UPDATE_COMMAND: &str = "HERALD_UPDATE_SCHEMAS=1 cargo test";

/// Where the schema of `event` version `version` lives under `dir`.
pub fn path_of(dir: impl AsRef<Path>, event: &str, version: u32) -> PathBuf {
    dir.as_ref().join(event).join(format!("v{version}.json"))
}

/// The file's text for a schema: pretty JSON with a trailing newline. The same schema
/// always gives the same text.
pub fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// Writes the schema of every event in the catalog; returns the files written (files
/// whose content is already right are left untouched and not listed).
pub fn export(dir: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
    export_events(dir, &catalog::events())
}

/// [`export`] for a chosen list of events.
pub fn export_events(
    dir: impl AsRef<Path>,
    events: &[&EventDescriptor],
) -> io::Result<Vec<PathBuf>> {
    if let Some(problem) = duplicates(events).into_iter().next() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            problem.to_string(),
        ));
    }
    let mut written = Vec::new();
    for event in events {
        let path = path_of(&dir, event.name, event.version);
        let text = render(&(event.schema)());
        if fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// Compares the files under `dir` with every event in the catalog.
pub fn check(dir: impl AsRef<Path>) -> Result<(), OutOfSync> {
    check_events(dir, &catalog::events())
}

/// [`check`] for a chosen list of events.
pub fn check_events(dir: impl AsRef<Path>, events: &[&EventDescriptor]) -> Result<(), OutOfSync> {
    let dir = dir.as_ref();
    let mut problems = duplicates(events);
    for event in events {
        let path = path_of(dir, event.name, event.version);
        let schema = (event.schema)();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                problems.push(Problem::Missing {
                    event: event.name,
                    version: event.version,
                    rust_type: event.rust_type,
                    path,
                });
                continue;
            }
            Err(e) => {
                problems.push(Problem::Unreadable {
                    path,
                    error: e.to_string(),
                });
                continue;
            }
        };
        let changes = match serde_json::from_str::<Value>(&text) {
            Ok(stored) if stored == schema => continue,
            Ok(stored) => describe_changes(&stored, &schema),
            Err(e) => vec![format!("the file is not valid JSON ({e})")],
        };
        problems.push(Problem::Changed {
            event: event.name,
            version: event.version,
            rust_type: event.rust_type,
            path,
            changes,
        });
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(OutOfSync {
            dir: dir.to_owned(),
            problems,
        })
    }
}

/// For a test: panics with [`check`]'s message when `dir` is out of step with the code.
/// With `HERALD_UPDATE_SCHEMAS=1` in the environment it writes the files instead (and
/// prints which), so `HERALD_UPDATE_SCHEMAS=1 cargo test` brings them up to date.
#[track_caller]
pub fn assert_in_sync(dir: impl AsRef<Path>) {
    let dir = dir.as_ref();
    let update = std::env::var_os(UPDATE_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    if update {
        match export(dir) {
            Ok(written) => {
                for path in written {
                    eprintln!("herald: wrote {}", path.display());
                }
            }
            Err(e) => panic!(
                "herald: could not write the schemas under {}: {e}",
                dir.display()
            ),
        }
    } else if let Err(out_of_sync) = check(dir) {
        panic!("{out_of_sync}");
    }
}

/// Writes a test that calls [`assert_in_sync`] on `schemas/` beside the crate's
/// `Cargo.toml` (or on the directory given).
///
/// ```no_run
/// // tests/schemas.rs
/// herald::schemas_test!();
/// ```
#[macro_export]
macro_rules! schemas_test {
    () => {
        $crate::schemas_test!(::core::concat!(
            ::core::env!("CARGO_MANIFEST_DIR"),
            "/schemas"
        ));
    };
    ($dir:expr) => {
        #[test]
        fn herald_schemas_are_in_sync() {
            $crate::schemas::assert_in_sync($dir);
        }
    };
}

/// Why the schema files do not match the code.
#[derive(Debug)]
pub struct OutOfSync {
    pub dir: PathBuf,
    pub problems: Vec<Problem>,
}

/// One event whose file does not match.
#[derive(Debug)]
#[non_exhaustive]
pub enum Problem {
    /// A version that was never exported.
    Missing {
        event: &'static str,
        version: u32,
        rust_type: &'static str,
        path: PathBuf,
    },
    /// The type changed but its version did not.
    Changed {
        event: &'static str,
        version: u32,
        rust_type: &'static str,
        path: PathBuf,
        /// What changed, one sentence each.
        changes: Vec<String>,
    },
    /// Two types claim the same event name and version.
    Duplicate {
        event: &'static str,
        version: u32,
        rust_types: Vec<&'static str>,
    },
    Unreadable {
        path: PathBuf,
        error: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing {
                event,
                version,
                rust_type,
                path,
            } => write!(
                f,
                "event `{event}` v{version} (`{rust_type}`) has not been exported: {} does not exist",
                path.display()
            ),
            Problem::Changed {
                event,
                version,
                rust_type,
                path,
                changes,
            } => {
                write!(
                    f,
                    "event `{event}` v{version} (`{rust_type}`) changed without a version bump: it no longer matches {}",
                    path.display()
                )?;
                for change in changes {
                    write!(f, "\n    - {change}")?;
                }
                Ok(())
            }
            Problem::Duplicate {
                event,
                version,
                rust_types,
            } => write!(
                f,
                "event `{event}` v{version} is derived by more than one type: {}; give each version its own number",
                rust_types.join(", ")
            ),
            Problem::Unreadable { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
        }
    }
}

impl fmt::Display for OutOfSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the event schemas in {} are out of step with the code:",
            self.dir.display()
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        let changed = self
            .problems
            .iter()
            .any(|p| matches!(p, Problem::Changed { .. }));
        if changed {
            writeln!(
                f,
                "A version that consumers may already have seen must not change: keep the old struct as \
                 `previous`, bump `#[event(version = ...)]` on the new one and add a `From` impl."
            )?;
        }
        write!(
            f,
            "To write the schema files from the code, run: {UPDATE_COMMAND}"
        )
    }
}

impl std::error::Error for OutOfSync {}

fn duplicates(events: &[&EventDescriptor]) -> Vec<Problem> {
    let mut by_key: BTreeMap<(&'static str, u32), Vec<&'static str>> = BTreeMap::new();
    for e in events {
        by_key
            .entry((e.name, e.version))
            .or_default()
            .push(e.rust_type);
    }
    by_key
        .into_iter()
        .filter(|(_, types)| types.len() > 1)
        .map(|((event, version), rust_types)| Problem::Duplicate {
            event,
            version,
            rust_types,
        })
        .collect()
}

/// Sentences that say what changed from `old` to `new`: the compatibility engine's
/// differences, or where the documents differ when it finds none.
fn describe_changes(old: &Value, new: &Value) -> Vec<String> {
    let previous = [old.clone()];
    let mut changes: Vec<String> = match herald_schema::check(
        CompatibilityLevel::Full,
        Policy::Strict,
        new,
        &previous,
        &NoReferences,
    ) {
        // FULL checks both directions, so a change can be reported twice (once per
        // direction): the first sentence for each kind and path says it.
        Ok(report) => {
            let mut seen = std::collections::BTreeSet::new();
            report
                .differences
                .iter()
                .filter(|d| seen.insert((d.kind, d.path.clone())))
                .map(|d| format!("{} at {}: {}", d.kind, d.path, d.message))
                .collect()
        }
        Err(e) => vec![format!("the compatibility check could not run: {e}")],
    };
    if changes.is_empty() {
        let mut places = Vec::new();
        diff_paths(old, new, &mut String::new(), &mut places);
        let shown: Vec<String> = places.iter().take(MAX_PLACES).cloned().collect();
        let more = places.len().saturating_sub(MAX_PLACES);
        let mut line = format!("the schema text differs: {}", shown.join("; "));
        if more > 0 {
            line.push_str(&format!("; and {more} more"));
        }
        changes.push(line);
    }
    changes
}

const MAX_PLACES: usize = 8;

/// The JSON pointers where `old` and `new` differ, with the values when short.
fn diff_paths(old: &Value, new: &Value, at: &mut String, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, va) in a {
                let len = at.len();
                at.push('/');
                at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                match b.get(key) {
                    Some(vb) => diff_paths(va, vb, at, out),
                    None => out.push(format!("{at} was removed")),
                }
                at.truncate(len);
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!(
                    "{at}/{} was added",
                    key.replace('~', "~0").replace('/', "~1")
                ));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                diff_paths(va, vb, at, out);
                at.truncate(len);
            }
        }
        _ if old == new => {}
        _ => {
            let (a, b) = (old.to_string(), new.to_string());
            let place = if at.is_empty() { "/" } else { at.as_str() };
            if a.len() + b.len() <= 120 {
                out.push(format!("{place} was {a}, now {b}"));
            } else {
                out.push(format!("{place} changed"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_names_the_places_that_changed() {
        let old = json!({"properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "required": ["a"]});
        let new = json!({"properties": {"a": {"type": "string"}, "c": {"type": "string"}}, "required": ["a"]});
        let mut out = Vec::new();
        diff_paths(&old, &new, &mut String::new(), &mut out);
        assert_eq!(
            out,
            [
                "/properties/a/type was \"integer\", now \"string\"",
                "/properties/b was removed",
                "/properties/c was added",
            ]
        );
    }

    #[test]
    fn render_is_pretty_with_a_trailing_newline() {
        assert_eq!(render(&json!({"a": 1})), "{\n  \"a\": 1\n}\n");
    }
}
