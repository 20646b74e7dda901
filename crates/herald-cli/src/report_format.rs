//! The outcome of `herald schemas check` and its three renderings: human (default), JSON and
//! GitHub workflow annotations.
//!
//! # The JSON format (`--format json`), version 1
//!
//! Stable: fields may be added in later versions, none removed or changed in meaning while
//! `format_version` is 1.
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "dir": "schemas",                    // the directory checked, as given
//!   "against": "git:origin/main",        // or "registry:http://…", "dir:…", null
//!   "is_compatible": false,              // false when any event has a breaking difference
//!   "summary": {"events": 2, "compatible": 1, "incompatible": 1, "breaking_changes": 1},
//!   "events": [{
//!     "event": "order.placed",
//!     "subject": "order.placed",         // registry checks only, else null
//!     "level": "BACKWARD",               // the level and policy used for this event
//!     "policy": "STRICT",
//!     "status": "incompatible",          // compatible | incompatible | new | unchanged
//!     "is_compatible": false,
//!     "checked": [                       // each version compared, with what it was compared to
//!       {"version": 2, "file": "schemas/order.placed/v2.json",
//!        "previous": [{"version": 1, "source": "local"}]}
//!     ],
//!     "differences": [{
//!       "file": "schemas/order.placed/v2.json",
//!       "version": 2,
//!       "previous": {"version": 1, "source": "local"},   // or null
//!       "type": "TYPE_CHANGED",          // herald-schema's (Confluent's) name, or one below
//!       "path": "#/properties/zip",
//!       "message": "field `zip` changed from string to integer: …",
//!       "breaking": true
//!     }]
//!   }]
//! }
//! ```
//!
//! `source` is `local` (a version in the directory checked), `against` (the version in the
//! `git:`/`dir:` baseline) or `registry` (the registry's version number, which is herald's:
//! `herald schemas register` registers v<N> as version <N>). Besides the engine's difference
//! types, three come from the comparison itself, all always breaking:
//! `PUBLISHED_VERSION_CHANGED` (a version that exists in the baseline was edited in place; the
//! engine's differences against that version follow it), `VERSION_REMOVED` (a version in the
//! baseline is gone) and `REGISTRY_VERSION_MISMATCH` (the registry holds a version's content
//! under another number, or a later version but not this one: the subject's versions were not
//! all registered by herald). Their `path` is `#`.

use std::io::Write;

use crate::output::Paint;
use herald_schema::{CompatibilityLevel, Policy};
use serde::Serialize;
use serde_json::json;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
    Github,
}

/// Where a previous version came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Local,
    Against,
    Registry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Previous {
    pub version: u32,
    pub source: Source,
}

/// One version compared with others.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub version: u32,
    pub file: String,
    pub previous: Vec<Previous>,
}

/// One difference found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub file: String,
    pub version: u32,
    pub previous: Option<Previous>,
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
    pub message: String,
    pub breaking: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Compatible,
    Incompatible,
    /// Not in the baseline (a subject the registry does not know, an event not at the ref).
    New,
    /// Every version is in the baseline, unchanged.
    Unchanged,
}

/// The verdict on one event.
#[derive(Debug, Clone)]
pub struct EventOutcome {
    pub event: String,
    pub subject: Option<String>,
    pub level: CompatibilityLevel,
    pub policy: Policy,
    /// Whether the baseline had no version of this event.
    pub is_new: bool,
    pub checked: Vec<Checked>,
    pub findings: Vec<Finding>,
}

impl EventOutcome {
    pub fn breaking(&self) -> usize {
        self.findings.iter().filter(|f| f.breaking).count()
    }

    pub fn status(&self, has_baseline: bool) -> Status {
        if self.breaking() > 0 {
            Status::Incompatible
        } else if self.is_new {
            Status::New
        } else if has_baseline && self.checked.is_empty() && self.findings.is_empty() {
            Status::Unchanged
        } else {
            Status::Compatible
        }
    }
}

/// The outcome of a whole check.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    pub dir: String,
    pub against: Option<String>,
    pub events: Vec<EventOutcome>,
}

impl CheckOutcome {
    pub fn is_compatible(&self) -> bool {
        self.events.iter().all(|e| e.breaking() == 0)
    }

    fn counts(&self) -> (usize, usize, usize) {
        let incompatible = self.events.iter().filter(|e| e.breaking() > 0).count();
        let breaking = self.events.iter().map(EventOutcome::breaking).sum();
        (self.events.len(), incompatible, breaking)
    }

    /// The summary line.
    pub fn summary(&self) -> String {
        let (events, incompatible, breaking) = self.counts();
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let checked = plural(events, "event", "events");
        if incompatible == 0 {
            format!("{checked} checked: all compatible")
        } else {
            format!(
                "{checked} checked: {incompatible} incompatible ({}), {} compatible",
                plural(breaking, "breaking change", "breaking changes"),
                events - incompatible
            )
        }
    }

    /// The JSON form (see the module docs).
    pub fn to_json(&self) -> serde_json::Value {
        let (events, incompatible, breaking) = self.counts();
        let has_baseline = self.against.is_some();
        json!({
            "format_version": 1,
            "dir": self.dir,
            "against": self.against,
            "is_compatible": self.is_compatible(),
            "summary": {
                "events": events,
                "compatible": events - incompatible,
                "incompatible": incompatible,
                "breaking_changes": breaking,
            },
            "events": self.events.iter().map(|e| json!({
                "event": e.event,
                "subject": e.subject,
                "level": e.level.as_str(),
                "policy": e.policy.as_str(),
                "status": e.status(has_baseline),
                "is_compatible": e.breaking() == 0,
                "checked": e.checked,
                "differences": e.findings,
            })).collect::<Vec<_>>(),
        })
    }

    pub fn write(
        &self,
        out: &mut impl Write,
        format: CheckFormat,
        colour: bool,
    ) -> std::io::Result<()> {
        match format {
            CheckFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.to_json())?;
                writeln!(out)
            }
            CheckFormat::Human => self.write_human(out, &Paint(colour)),
            CheckFormat::Github => self.write_github(out),
        }
    }

    fn write_human(&self, out: &mut impl Write, paint: &Paint) -> std::io::Result<()> {
        let has_baseline = self.against.is_some();
        if self.events.is_empty() {
            writeln!(out, "no event schemas in {}", self.dir)?;
        }
        for e in &self.events {
            let status = e.status(has_baseline);
            let (mark, verdict) = match status {
                Status::Incompatible => (
                    paint.red("✗"),
                    paint.red(&format!(
                        "incompatible ({})",
                        if e.breaking() == 1 {
                            "1 breaking change".to_owned()
                        } else {
                            format!("{} breaking changes", e.breaking())
                        }
                    )),
                ),
                Status::Compatible => (paint.green("✓"), paint.green("compatible")),
                Status::New => (
                    paint.green("✓"),
                    paint.green(if e.subject.is_some() {
                        "compatible (new subject)"
                    } else {
                        "compatible (new event)"
                    }),
                ),
                Status::Unchanged => (paint.green("✓"), paint.green("unchanged")),
            };
            let subject = match &e.subject {
                Some(s) if *s != e.event => format!(" (subject {s})"),
                _ => String::new(),
            };
            writeln!(
                out,
                "{mark} {}{subject} [{}, {}]: {verdict}",
                paint.bold(&e.event),
                e.level,
                e.policy
            )?;
            // Per version: what it was compared with, then what was found.
            let mut versions: Vec<u32> = e
                .checked
                .iter()
                .map(|c| c.version)
                .chain(e.findings.iter().map(|f| f.version))
                .collect();
            versions.sort_unstable();
            versions.dedup();
            for v in versions {
                let checked = e.checked.iter().find(|c| c.version == v);
                let findings: Vec<&Finding> =
                    e.findings.iter().filter(|f| f.version == v).collect();
                let (file, previous) = match (checked, findings.first()) {
                    (Some(c), _) => (c.file.as_str(), c.previous.clone()),
                    (None, Some(f)) => (f.file.as_str(), f.previous.into_iter().collect()),
                    (None, None) => continue,
                };
                let against = if previous.is_empty() {
                    if checked.is_some() && e.level == CompatibilityLevel::None {
                        " not compared (level NONE)".to_owned()
                    } else {
                        String::new()
                    }
                } else {
                    format!(
                        " against {}",
                        previous
                            .iter()
                            .map(|p| describe(p, self.against.as_deref()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                writeln!(out, "    {file}{against}")?;
                for f in findings {
                    let mark = if f.breaking {
                        paint.red("✗")
                    } else {
                        paint.green("✓")
                    };
                    // Name the previous version when several were compared.
                    let which = match f.previous {
                        Some(p) if previous.len() > 1 => {
                            format!(" (against {})", describe(&p, self.against.as_deref()))
                        }
                        _ => String::new(),
                    };
                    writeln!(out, "      {mark} {} {}{which}", f.kind, f.path)?;
                    writeln!(out, "          {}", f.message)?;
                }
            }
        }
        writeln!(out, "{}", self.summary())
    }

    fn write_github(&self, out: &mut impl Write) -> std::io::Result<()> {
        for e in &self.events {
            for f in e.findings.iter().filter(|f| f.breaking) {
                let title = format!("{} v{}: {} at {}", e.event, f.version, f.kind, f.path);
                writeln!(
                    out,
                    "::error file={},title={}::{}",
                    escape_property(&f.file),
                    escape_property(&title),
                    escape_data(&f.message)
                )?;
            }
        }
        writeln!(out, "{}", self.summary())
    }
}

fn describe(p: &Previous, against: Option<&str>) -> String {
    match (p.source, against) {
        (Source::Local, _) => format!("v{}", p.version),
        (Source::Registry, _) => format!("registry version {}", p.version),
        (Source::Against, Some(a)) => format!("v{} ({a})", p.version),
        (Source::Against, None) => format!("v{}", p.version),
    }
}

/// Workflow command escaping of the message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow command escaping of a property (`file=`, `title=`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_escaping() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(escape_data("a:b,c"), "a:b,c");
    }
}
