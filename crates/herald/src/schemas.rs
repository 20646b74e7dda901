//! Keeping `schemas/` in step with the code.
//!
//! Every type that derives `Event` is listed in the [catalog](crate::catalog). [`export`]
//! writes the JSON Schema of each one to `<dir>/<event name>/v<version>.json`; [`check`]
//! compares the files with the code; `herald::schemas_test!()` is the one line a test needs:
//!
//! ```ignore
//! // tests/schemas.rs of the crate that defines the events
//! herald::schemas_test!();
//! ```
//!
//! It writes a test that links the crate's library (an integration test sees only the crates
//! it names, and the catalog only the events linked in) and calls [`assert_in_sync`] on
//! `schemas/` beside `Cargo.toml`. Change a struct without bumping its version and the test
//! fails, naming the event and what changed in the compatibility engine's words; add a
//! version and it fails until the new file exists. It also fails when no event is linked in
//! and when the directory holds a version no linked type defines, so a test that checks
//! nothing cannot pass. A change to annotations only (a doc comment, a title, examples) is
//! not a new version: the check accepts it and says so. Each message gives the command that
//! rewrites the files: `HERALD_UPDATE_SCHEMAS=1 cargo test`.
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

mod content_model;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use herald_core::catalog::{self, EventDescriptor};
use herald_schema::{CompatibilityLevel, NoReferences, Policy, same_apart_from_annotations};
use serde_json::Value;

pub use content_model::{ContentModel, close_objects, event_schema};

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
/// whose content is already right are left untouched and not listed). An empty catalog is an
/// error: the events were not linked in (see [`Problem::NoEvents`]).
pub fn export(dir: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
    export_events(dir, &catalog::events())
}

/// [`export`] for a chosen list of events.
pub fn export_events(
    dir: impl AsRef<Path>,
    events: &[&EventDescriptor],
) -> io::Result<Vec<PathBuf>> {
    let invalid =
        |problem: Problem| io::Error::new(io::ErrorKind::InvalidInput, problem.to_string());
    if events.is_empty() {
        return Err(invalid(Problem::NoEvents));
    }
    if let Some(problem) = duplicates(events).into_iter().next() {
        return Err(invalid(problem));
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

/// Compares the files under `dir` with every event in the catalog. In step, it returns the
/// versions whose file differs from the code in annotations only (no new version needed; the
/// update command refreshes the file).
pub fn check(dir: impl AsRef<Path>) -> Result<Vec<Note>, OutOfSync> {
    check_events(dir, &catalog::events())
}

/// [`check`] for a chosen list of events.
pub fn check_events(
    dir: impl AsRef<Path>,
    events: &[&EventDescriptor],
) -> Result<Vec<Note>, OutOfSync> {
    let dir = dir.as_ref();
    let mut problems = duplicates(events);
    let mut notes = Vec::new();
    if events.is_empty() {
        problems.push(Problem::NoEvents);
    }
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
            Ok(stored) if same_apart_from_annotations(&stored, &schema) => {
                notes.push(Note {
                    event: event.name,
                    version: event.version,
                    path,
                    changes: describe_changes(&stored, &schema),
                });
                continue;
            }
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
    if !events.is_empty() {
        problems.extend(unknown_versions(dir, events));
    }
    if problems.is_empty() {
        Ok(notes)
    } else {
        Err(OutOfSync {
            dir: dir.to_owned(),
            problems,
        })
    }
}

/// The version files under `dir` (`<event>/v<N>.json`, as `herald schemas check` reads them)
/// that no event in `events` defines.
fn unknown_versions(dir: &Path, events: &[&EventDescriptor]) -> Vec<Problem> {
    let known: BTreeSet<(&str, u32)> = events.iter().map(|e| (e.name, e.version)).collect();
    let mut unknown = Vec::new();
    let Ok(folders) = fs::read_dir(dir) else {
        return unknown;
    };
    for folder in folders.flatten() {
        let name = folder.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !folder.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(files) = fs::read_dir(folder.path()) else {
            continue;
        };
        for file in files.flatten() {
            let Some(version) = version_of(&file.file_name().to_string_lossy()) else {
                continue;
            };
            if !known.contains(&(name.as_str(), version)) {
                unknown.push(Problem::Unknown {
                    event: name.clone(),
                    version,
                    path: file.path(),
                });
            }
        }
    }
    unknown.sort_by_key(ToString::to_string);
    unknown
}

/// `v12.json` -> 12 (the canonical spelling only, as `herald schemas check` reads it; other
/// `.json` files of an event's folder are documents its `$ref`s may name).
fn version_of(file_name: &str) -> Option<u32> {
    let n = file_name.strip_prefix('v')?.strip_suffix(".json")?;
    let v: u32 = n.parse().ok()?;
    (v >= 1 && v.to_string() == n).then_some(v)
}

/// For a test: panics with [`check`]'s message when `dir` is out of step with the code, and
/// prints the annotation-only differences it accepts. With `HERALD_UPDATE_SCHEMAS=1` in the
/// environment it writes the files first (and prints which), so `HERALD_UPDATE_SCHEMAS=1
/// cargo test` brings them up to date; what writing cannot fix (no event linked in, a version
/// no type defines) still fails.
///
/// An integration test must link the crate that defines the events (`use my_app as _;`);
/// `herald::schemas_test!()` writes the test with that line.
#[track_caller]
pub fn assert_in_sync(dir: impl AsRef<Path>) {
    let dir = dir.as_ref();
    let update = std::env::var_os(UPDATE_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    if update {
        match export(dir) {
            Ok(written) => {
                for path in written {
                    say(format_args!("herald: wrote {}", path.display()));
                }
            }
            Err(e) => panic!(
                "herald: could not write the schemas under {}: {e}",
                dir.display()
            ),
        }
    }
    match check(dir) {
        Ok(notes) => {
            for note in notes {
                say(format_args!("herald: {note}"));
            }
        }
        Err(out_of_sync) => panic!("{out_of_sync}"),
    }
}

/// A line on the test process's stderr, past libtest's capture (which takes `eprintln!` from
/// a passing test): what the update wrote and what the check accepted are worth seeing.
fn say(line: fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(io::stderr(), "{line}");
}

/// A version whose file differs from the code in annotations only (`description`, `title`,
/// `examples`, `deprecated`, `readOnly`, `writeOnly`, `$comment`): accepted without a new
/// version, since it accepts the same data.
#[derive(Debug)]
pub struct Note {
    pub event: &'static str,
    pub version: u32,
    pub path: PathBuf,
    /// The engine's differences, one sentence each (empty when it compares none of them).
    pub changes: Vec<String>,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event `{}` v{}: {} differs from the code in annotations only (no new version needed; {UPDATE_COMMAND} refreshes it)",
            self.event,
            self.version,
            self.path.display()
        )?;
        for change in &self.changes {
            write!(f, "\n    - {change}")?;
        }
        Ok(())
    }
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
    /// No event type is linked into this binary: there is nothing to check.
    NoEvents,
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
    /// A version file that no event type in this binary defines.
    Unknown {
        event: String,
        version: u32,
        path: PathBuf,
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

/// `use my_app as _;` for the package under test (cargo sets `CARGO_PKG_NAME` when it runs a
/// test), or a placeholder.
fn link_line() -> String {
    let krate = std::env::var("CARGO_PKG_NAME")
        .map(|name| name.replace('-', "_"))
        .unwrap_or_else(|_| "your_crate".to_owned());
    format!("use {krate} as _;")
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoEvents => write!(
                f,
                "no event type is linked into this test binary, so there is nothing to compare the files with. \
                 An integration test (tests/*.rs) links its crate's library only when it names it: add `{}` \
                 to the test file (the crate that defines the events), or write the test as `herald::schemas_test!();`, which does",
                link_line()
            ),
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
            Problem::Unknown {
                event,
                version,
                path,
            } => write!(
                f,
                "{} holds event `{event}` v{version}, which no type linked into this test derives: link the crate \
                 that defines it (`{}`), or, if that version was never published, delete the file \
                 (a published version stays, and so does its type, for the upcast)",
                path.display(),
                link_line()
            ),
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

/// What changed from the file (`old`) to the code (`new`), in the compatibility engine's
/// words: the differences a BACKWARD check of the code against the file finds, as `herald
/// schemas check` prints them (`TYPE_CHANGED at #/properties/total: ...`). One direction only,
/// so each change is told once and the right way round.
fn describe_changes(old: &Value, new: &Value) -> Vec<String> {
    let previous = [old.clone()];
    let changes: Vec<String> = match herald_schema::check(
        CompatibilityLevel::Backward,
        Policy::Strict,
        new,
        &previous,
        &NoReferences,
    ) {
        Ok(report) => report
            .differences
            .iter()
            .map(|d| format!("{} at {}: {}", d.kind, d.path, d.message))
            .collect(),
        Err(e) => vec![format!("the compatibility check could not run: {e}")],
    };
    if changes.is_empty() && !same_apart_from_annotations(old, new) {
        return vec![
            "the schema changed in a keyword the compatibility engine does not compare; compare the file with \
             the code's schema (the update command rewrites it, and `git diff` shows the change)"
                .to_owned(),
        ];
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn render_is_pretty_with_a_trailing_newline() {
        assert_eq!(render(&json!({"a": 1})), "{\n  \"a\": 1\n}\n");
    }

    #[test]
    fn version_files_are_spelled_as_the_cli_reads_them() {
        assert_eq!(version_of("v12.json"), Some(12));
        for not in ["v012.json", "v0.json", "v1.json.bak", "address.json", "v1"] {
            assert_eq!(version_of(not), None, "{not}");
        }
    }
}
