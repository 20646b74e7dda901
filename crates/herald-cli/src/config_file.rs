//! `herald.toml`, at the root of the repository: defaults for the schema commands and a
//! compatibility level (and policy) per event.
//!
//! ```toml
//! [schemas]
//! level = "BACKWARD_TRANSITIVE"        # default for every event (else BACKWARD)
//! policy = "STRICT"                    # STRICT (default) or LENIENT
//! subject_template = "{name}-value"    # registry subject of an event (else "{name}")
//!
//! [schemas.events."payment.requested"]
//! level = "FULL_TRANSITIVE"            # this event only
//! policy = "LENIENT"
//! ```
//!
//! Every key is optional; levels and policies are read in any case. Other top-level tables are
//! left to other tools, but an unknown key under `[schemas]` is an error (a typo must not
//! silently weaken a check).
//!
//! The file is found by walking up from the schema directory to the first `herald.toml`,
//! stopping at the repository root (the directory that holds `.git`); `--config FILE` names
//! it explicitly.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use herald_schema::{CompatibilityLevel, Policy};
use serde::Deserialize;

/// The file's name.
pub const FILE_NAME: &str = "herald.toml";

/// What `herald.toml` says about schemas (everything optional).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SchemasConfig {
    pub level: Option<CompatibilityLevel>,
    pub policy: Option<Policy>,
    pub subject_template: Option<String>,
    pub events: BTreeMap<String, EventConfig>,
}

/// Settings of one event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventConfig {
    pub level: Option<CompatibilityLevel>,
    pub policy: Option<Policy>,
}

#[derive(Debug, Default, Deserialize)]
struct FileRoot {
    #[serde(default)]
    schemas: Option<RawSchemas>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchemas {
    level: Option<String>,
    policy: Option<String>,
    subject_template: Option<String>,
    #[serde(default)]
    events: BTreeMap<String, RawEvent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    level: Option<String>,
    policy: Option<String>,
}

fn level(s: Option<String>, what: &str) -> anyhow::Result<Option<CompatibilityLevel>> {
    s.map(|s| s.parse().with_context(|| format!("{what}: bad `level`")))
        .transpose()
}

fn policy(s: Option<String>, what: &str) -> anyhow::Result<Option<Policy>> {
    s.map(|s| s.parse().with_context(|| format!("{what}: bad `policy`")))
        .transpose()
}

impl SchemasConfig {
    /// Parses the text of a `herald.toml`.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let root: FileRoot = toml::from_str(text)?;
        let Some(raw) = root.schemas else {
            return Ok(Self::default());
        };
        let mut events = BTreeMap::new();
        for (name, e) in raw.events {
            let what = format!("[schemas.events.\"{name}\"]");
            events.insert(
                name,
                EventConfig {
                    level: level(e.level, &what)?,
                    policy: policy(e.policy, &what)?,
                },
            );
        }
        if let Some(t) = &raw.subject_template
            && !t.contains("{name}")
        {
            bail!("[schemas]: `subject_template` must contain {{name}}, got `{t}`");
        }
        Ok(Self {
            level: level(raw.level, "[schemas]")?,
            policy: policy(raw.policy, "[schemas]")?,
            subject_template: raw.subject_template,
            events,
        })
    }

    /// Reads `path`.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    /// `explicit` if given, else the nearest `herald.toml` above `start` within its repository;
    /// no file is the empty configuration.
    pub fn find(explicit: Option<&Path>, start: &Path) -> anyhow::Result<Self> {
        if let Some(path) = explicit {
            return Self::read(path);
        }
        let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
        for dir in start.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Self::read(&candidate);
            }
            if dir.join(".git").exists() {
                break;
            }
        }
        Ok(Self::default())
    }

    /// The level and policy of `event` when no registry decides: the event's own entry, then
    /// the command line, then `[schemas]`, then BACKWARD / STRICT.
    pub fn resolve(
        &self,
        event: &str,
        cli_level: Option<CompatibilityLevel>,
        cli_policy: Option<Policy>,
    ) -> (CompatibilityLevel, Policy) {
        let own = self.events.get(event);
        let level = own
            .and_then(|e| e.level)
            .or(cli_level)
            .or(self.level)
            .unwrap_or_default();
        let policy = own
            .and_then(|e| e.policy)
            .or(cli_policy)
            .or(self.policy)
            .unwrap_or_default();
        (level, policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_defaults_and_events_in_any_case() {
        let c = SchemasConfig::parse(
            r#"
            [package]
            ignored = true
            [schemas]
            level = "backward_transitive"
            subject_template = "{name}-value"
            [schemas.events."order.created"]
            level = "Full"
            policy = "lenient"
            "#,
        )
        .expect("valid");
        assert_eq!(c.level, Some(CompatibilityLevel::BackwardTransitive));
        assert_eq!(c.subject_template.as_deref(), Some("{name}-value"));
        assert_eq!(
            c.resolve("order.created", Some(CompatibilityLevel::None), None),
            (CompatibilityLevel::Full, Policy::Lenient)
        );
        assert_eq!(
            c.resolve("other", Some(CompatibilityLevel::Forward), None),
            (CompatibilityLevel::Forward, Policy::Strict)
        );
        assert_eq!(
            c.resolve("other", None, None),
            (CompatibilityLevel::BackwardTransitive, Policy::Strict)
        );
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        let e = SchemasConfig::parse("[schemas]\nlevle = \"FULL\"\n").expect_err("invalid");
        assert!(format!("{e:#}").contains("levle"), "{e:#}");
        let e = SchemasConfig::parse("[schemas]\nlevel = \"sideways\"\n").expect_err("invalid");
        assert!(format!("{e:#}").contains("sideways"), "{e:#}");
        let e = SchemasConfig::parse("[schemas]\nsubject_template = \"x\"\n").expect_err("invalid");
        assert!(format!("{e:#}").contains("{name}"), "{e:#}");
    }
}
