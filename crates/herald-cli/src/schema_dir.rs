//! The `schemas/` layout written by `herald::schemas::export`: `<dir>/<event name>/v<N>.json`,
//! read from the file system, a git tree or any list of (relative path, text).
//!
//! Other `.json` files in an event's folder are kept as documents that `$ref`s may name
//! (`"$ref": "address.json"`); anything else (a README, deeper folders) is ignored.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use herald_schema::ReferenceResolver;
use serde_json::Value;

/// One version file.
#[derive(Debug, Clone)]
pub struct VersionFile {
    pub version: u32,
    /// The path shown to people and in annotations: `<dir as given>/<event>/v<N>.json`.
    pub file: String,
    pub text: String,
    pub value: Value,
}

/// Every version of one event, and the documents its folder holds.
#[derive(Debug, Clone, Default)]
pub struct EventSchemas {
    pub versions: BTreeMap<u32, VersionFile>,
    /// Every `.json` file of the folder by file name (version files included), for `$ref`s.
    pub documents: BTreeMap<String, Value>,
}

/// A schema directory, by event name.
#[derive(Debug, Clone, Default)]
pub struct SchemaSet {
    pub events: BTreeMap<String, EventSchemas>,
}

/// `v12.json` → 12 (the canonical spelling only: `v012.json` is not a version file).
pub fn version_of(file_name: &str) -> Option<u32> {
    let n = file_name.strip_prefix('v')?.strip_suffix(".json")?;
    let v: u32 = n.parse().ok()?;
    (v >= 1 && v.to_string() == n).then_some(v)
}

/// The displayed form of a directory argument: no `./` in front, no `/` behind.
pub fn display_dir(dir: &Path) -> String {
    let s = dir.to_string_lossy().replace('\\', "/");
    let s = s.trim_end_matches('/');
    let s = s.strip_prefix("./").unwrap_or(s);
    if s.is_empty() || s == "." {
        ".".to_owned()
    } else {
        s.to_owned()
    }
}

/// The displayed path of a version file under a displayed directory.
pub fn file_path(dir: &str, event: &str, version: u32) -> String {
    if dir == "." {
        format!("{event}/v{version}.json")
    } else {
        format!("{dir}/{event}/v{version}.json")
    }
}

impl SchemaSet {
    /// Builds a set from `(path relative to the directory, text)` pairs. `origin` names where
    /// they came from in error messages (`schemas`, `git:origin/main:schemas`).
    pub fn from_entries(
        entries: impl IntoIterator<Item = (String, String)>,
        display: &str,
        origin: &str,
    ) -> anyhow::Result<Self> {
        let mut set = SchemaSet::default();
        for (rel, text) in entries {
            let mut parts = rel.split('/');
            let (Some(event), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if !name.ends_with(".json") || event.is_empty() || event.starts_with('.') {
                continue;
            }
            let where_ = format!("{origin}/{rel}");
            let value: Value = serde_json::from_str(&text)
                .with_context(|| format!("{where_} is not valid JSON"))?;
            let entry = set.events.entry(event.to_owned()).or_default();
            entry.documents.insert(name.to_owned(), value.clone());
            if let Some(version) = version_of(name) {
                herald_schema::validate(&value)
                    .with_context(|| format!("{where_} is not a valid JSON Schema"))?;
                entry.versions.insert(
                    version,
                    VersionFile {
                        version,
                        file: file_path(display, event, version),
                        text,
                        value,
                    },
                );
            }
        }
        set.events.retain(|_, e| !e.versions.is_empty());
        Ok(set)
    }

    /// Reads `dir` from the file system.
    pub fn load_dir(dir: &Path, display: &str) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!("schema directory {} does not exist", dir.display());
        }
        let mut entries = Vec::new();
        let read =
            |p: &Path| std::fs::read_dir(p).with_context(|| format!("cannot read {}", p.display()));
        for event in read(dir)? {
            let event = event.with_context(|| format!("cannot read {}", dir.display()))?;
            if !event.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Some(event_name) = event.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            for file in read(&event.path())? {
                let file =
                    file.with_context(|| format!("cannot read {}", event.path().display()))?;
                let Some(name) = file.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if !name.ends_with(".json") || !file.path().is_file() {
                    continue;
                }
                let text = std::fs::read_to_string(file.path())
                    .with_context(|| format!("cannot read {}", file.path().display()))?;
                entries.push((format!("{event_name}/{name}"), text));
            }
        }
        Self::from_entries(entries, display, display)
    }
}

/// Resolves `$ref`s to other files of the event's folder (`address.json`, `./address.json`).
#[derive(Debug)]
pub struct FolderResolver<'a> {
    pub documents: &'a BTreeMap<String, Value>,
}

impl ReferenceResolver for FolderResolver<'_> {
    fn resolve(&self, uri: &str) -> Option<Value> {
        if uri.contains(':') {
            return None;
        }
        let name = uri.strip_prefix("./").unwrap_or(uri);
        self.documents.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_file_names() {
        assert_eq!(version_of("v1.json"), Some(1));
        assert_eq!(version_of("v12.json"), Some(12));
        assert_eq!(version_of("v0.json"), None);
        assert_eq!(version_of("v01.json"), None);
        assert_eq!(version_of("v1.yaml"), None);
        assert_eq!(version_of("address.json"), None);
    }

    #[test]
    fn layout_and_display_paths() {
        let set = SchemaSet::from_entries(
            [
                ("a.b/v2.json".to_owned(), r#"{"type":"string"}"#.to_owned()),
                ("a.b/v1.json".to_owned(), r#"{"type":"string"}"#.to_owned()),
                (
                    "a.b/address.json".to_owned(),
                    r#"{"type":"object"}"#.to_owned(),
                ),
                ("README.md".to_owned(), "# hi".to_owned()),
                ("a.b/deeper/v1.json".to_owned(), "not json".to_owned()),
            ],
            "schemas",
            "schemas",
        )
        .expect("valid");
        let e = &set.events["a.b"];
        assert_eq!(e.versions.keys().copied().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(e.versions[&2].file, "schemas/a.b/v2.json");
        assert!(e.documents.contains_key("address.json"));
        assert_eq!(display_dir(Path::new("./schemas/")), "schemas");
        assert_eq!(display_dir(Path::new(".")), ".");
    }

    #[test]
    fn bad_json_names_the_file() {
        let e = SchemaSet::from_entries(
            [("x/v1.json".to_owned(), "{".to_owned())],
            "s",
            "git:HEAD:s",
        )
        .expect_err("invalid");
        assert!(
            format!("{e:#}").contains("git:HEAD:s/x/v1.json is not valid JSON"),
            "{e:#}"
        );
    }
}
