//! `herald schemas check [DIR] [--against registry:URL | git:REF | dir:PATH]`.
//!
//! Without `--against`, every event's versions in DIR are checked against each other (v2
//! against v1, v3 against v2, ...; every earlier version at a transitive level). With a
//! baseline, the versions the baseline does not have are checked against the baseline's, and
//! a version the baseline has must be there, unchanged: an edited or deleted published version
//! is a break whatever the level. Annotations (`description`, `title`, `examples`, ...) are not
//! part of that comparison: rewording a doc comment needs no new version.
//! A registry's versions are matched to herald's by number
//! (registry version N is herald's vN, as `register` keeps it), not by content.
//!
//! Level and policy of an event: with `--against registry:` and no `--level`, the level the
//! registry has configured for the subject; otherwise the event's entry in `herald.toml`, then
//! `--level`/`--policy`, then `[schemas]` in `herald.toml`, then BACKWARD / STRICT.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use herald_registry_client::{ClientError, RegistryClient};
use herald_schema::{CompatibilityLevel, Policy, ReferenceResolver};
use serde_json::Value;

use crate::against::{self, Against};
use crate::commands::EXIT_INCOMPATIBLE;
use crate::config_file::SchemasConfig;
use crate::registry_conn::{self, CredentialArgs};
use crate::report_format::{
    CheckFormat, CheckOutcome, Checked, EventOutcome, Finding, Previous, Source,
};
use crate::schema_dir::{self, EventSchemas, FolderResolver, SchemaSet, VersionFile};

/// The subject template when neither the flag nor `herald.toml` gives one.
pub const DEFAULT_SUBJECT_TEMPLATE: &str = "{name}";

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The schema directory: `<event name>/v<N>.json` files, as `herald::schemas::export`
    /// writes them.
    #[arg(default_value = "schemas")]
    pub dir: PathBuf,
    /// Compare with `registry:URL`, `git:REF` (e.g. git:origin/main; no registry needed) or
    /// `dir:PATH`. Without it, the versions in DIR are checked against each other.
    #[arg(long, value_name = "SOURCE")]
    pub against: Option<Against>,
    /// Compatibility level, in any case: NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD,
    /// FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE [default: the registry's for the subject with
    /// --against registry:, else herald.toml's, else BACKWARD].
    #[arg(long, value_parser = parse_level)]
    pub level: Option<CompatibilityLevel>,
    /// Which differences count as compatible: STRICT or LENIENT [default: herald.toml's, else
    /// STRICT].
    #[arg(long, value_parser = parse_policy)]
    pub policy: Option<Policy>,
    /// Registry subject of an event; `{name}` is the event name (e.g. '{name}-value')
    /// [default: herald.toml's, else {name}].
    #[arg(long, value_name = "TEMPLATE")]
    pub subject_template: Option<String>,
    /// The configuration file [default: the nearest herald.toml above DIR, up to the
    /// repository root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format: human (coloured on a terminal unless NO_COLOR is set), json or github
    /// (workflow annotations).
    #[arg(long, value_enum, ignore_case = true, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

pub(crate) fn parse_level(s: &str) -> Result<CompatibilityLevel, String> {
    s.parse()
        .map_err(|e: herald_schema::SchemaError| e.to_string())
}

pub(crate) fn parse_policy(s: &str) -> Result<Policy, String> {
    s.parse()
        .map_err(|e: herald_schema::SchemaError| e.to_string())
}

/// The subject of `event` under `template`.
pub fn subject_of(template: &str, event: &str) -> String {
    template.replace("{name}", event)
}

/// The template in force: the flag, then `herald.toml`, then `{name}`; it must name the event.
pub fn subject_template(flag: Option<&str>, config: &SchemasConfig) -> anyhow::Result<String> {
    let t = flag
        .or(config.subject_template.as_deref())
        .unwrap_or(DEFAULT_SUBJECT_TEMPLATE);
    if !t.contains("{name}") {
        bail!("--subject-template must contain {{name}} (the event name), got `{t}`");
    }
    Ok(t.to_owned())
}

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let result = check(args);
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            if args.format == CheckFormat::Github {
                // Make the cause visible in the workflow summary too.
                println!(
                    "::error title=herald schemas check::{}",
                    format!("{e:#}").replace('%', "%25").replace('\n', "%0A")
                );
            }
            return Err(e);
        }
    };
    let colour = args.format == CheckFormat::Human && crate::output::use_colour();
    let mut stdout = std::io::stdout().lock();
    outcome.write(&mut stdout, args.format, colour)?;
    Ok(if outcome.is_compatible() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INCOMPATIBLE)
    })
}

/// Runs the whole check and returns its outcome (no output).
pub fn check(args: &CheckArgs) -> anyhow::Result<CheckOutcome> {
    let display = schema_dir::display_dir(&args.dir);
    let config = SchemasConfig::find(args.config.as_deref(), &args.dir)?;
    let current = SchemaSet::load_dir(&args.dir, &display)?;
    let levels = Levels {
        config: &config,
        level: args.level,
        policy: args.policy,
    };
    let events = match &args.against {
        None => current
            .events
            .iter()
            .map(|(name, ev)| {
                let (level, policy) = levels.of(name);
                within(name, ev, level, policy, false)
            })
            .collect::<anyhow::Result<Vec<_>>>()?,
        Some(Against::Git(rev)) => {
            let base = against::load_git(&args.dir, rev, &display)?;
            against_baseline(&current, &base, &display, Source::Against, &|n| {
                levels.of(n)
            })?
        }
        Some(Against::Dir(path)) => {
            let base = SchemaSet::load_dir(path, &display)
                .with_context(|| format!("reading the baseline dir:{}", path.display()))?;
            against_baseline(&current, &base, &display, Source::Against, &|n| {
                levels.of(n)
            })?
        }
        Some(Against::Registry(url)) => {
            let template = subject_template(args.subject_template.as_deref(), &config)?;
            let client = registry_conn::connect(url, &args.credentials)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(against_registry(
                &client, url, &current, &display, &template, &levels,
            ))?
        }
    };
    Ok(CheckOutcome {
        dir: display,
        against: args.against.as_ref().map(ToString::to_string),
        events,
    })
}

/// The level and policy sources other than a registry.
#[derive(Debug, Clone, Copy)]
pub struct Levels<'a> {
    pub config: &'a SchemasConfig,
    pub level: Option<CompatibilityLevel>,
    pub policy: Option<Policy>,
}

impl Levels<'_> {
    fn of(&self, event: &str) -> (CompatibilityLevel, Policy) {
        self.config.resolve(event, self.level, self.policy)
    }
}

/// Compares `new` with `previous` (newest first) and turns the engine's report into findings.
fn compare(
    level: CompatibilityLevel,
    policy: Policy,
    new: &VersionFile,
    previous: &[(Previous, &Value)],
    resolver: &dyn ReferenceResolver,
) -> anyhow::Result<(Checked, Vec<Finding>)> {
    let values: Vec<Value> = previous.iter().map(|(_, v)| (*v).clone()).collect();
    let report = herald_schema::check(level, policy, &new.value, &values, resolver)
        .with_context(|| format!("{} could not be checked", new.file))?;
    let compared = match (level, previous.first()) {
        (CompatibilityLevel::None, _) | (_, None) => Vec::new(),
        (l, Some(first)) if !l.is_transitive() => vec![first.0],
        _ => previous.iter().map(|(p, _)| *p).collect(),
    };
    let findings = report
        .differences
        .iter()
        .map(|d| Finding {
            file: new.file.clone(),
            version: new.version,
            previous: previous.get(d.previous_version).map(|(p, _)| *p),
            kind: d.kind.as_str().to_owned(),
            path: d.path.clone(),
            message: d.message.clone(),
            breaking: !d.compatible,
        })
        .collect();
    Ok((
        Checked {
            version: new.version,
            file: new.file.clone(),
            previous: compared,
        },
        findings,
    ))
}

/// Every version of `ev` against the earlier ones.
fn within(
    name: &str,
    ev: &EventSchemas,
    level: CompatibilityLevel,
    policy: Policy,
    is_new: bool,
) -> anyhow::Result<EventOutcome> {
    let resolver = FolderResolver {
        documents: &ev.documents,
    };
    let versions: Vec<&VersionFile> = ev.versions.values().collect();
    let mut outcome = EventOutcome {
        event: name.to_owned(),
        subject: None,
        level,
        policy,
        is_new,
        checked: Vec::new(),
        findings: Vec::new(),
    };
    for i in 1..versions.len() {
        let previous: Vec<(Previous, &Value)> = versions[..i]
            .iter()
            .rev()
            .map(|v| {
                (
                    Previous {
                        version: v.version,
                        source: Source::Local,
                    },
                    &v.value,
                )
            })
            .collect();
        let (checked, findings) = compare(level, policy, versions[i], &previous, &resolver)?;
        outcome.checked.push(checked);
        outcome.findings.extend(findings);
    }
    Ok(outcome)
}

/// DIR against the same layout elsewhere (`git:` or `dir:`, or a registry's versions numbered
/// as herald's), whose versions are reported as coming from `source`.
fn against_baseline(
    current: &SchemaSet,
    base: &SchemaSet,
    display: &str,
    source: Source,
    level_of: &dyn Fn(&str) -> (CompatibilityLevel, Policy),
) -> anyhow::Result<Vec<EventOutcome>> {
    let empty = EventSchemas::default();
    let mut names: Vec<&String> = current.events.keys().chain(base.events.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let cur = current.events.get(name).unwrap_or(&empty);
        let old = base.events.get(name);
        let (level, policy) = level_of(name);
        let Some(old) = old else {
            out.push(within(name, cur, level, policy, true)?);
            continue;
        };
        let mut outcome = EventOutcome {
            event: name.clone(),
            subject: None,
            level,
            policy,
            is_new: false,
            checked: Vec::new(),
            findings: Vec::new(),
        };
        // Published versions: present and unchanged, whatever the level.
        for (v, published) in &old.versions {
            match cur.versions.get(v) {
                None => outcome.findings.push(Finding {
                    file: schema_dir::file_path(display, name, *v),
                    version: *v,
                    previous: Some(Previous {
                        version: *v,
                        source,
                    }),
                    kind: "VERSION_REMOVED".to_owned(),
                    path: "#".to_owned(),
                    message: format!(
                        "v{v} of `{name}` was published and has been deleted: producers, consumers and stored data may still use it; keep the file"
                    ),
                    breaking: true,
                }),
                // Annotations (descriptions, titles, examples) may change in place: the
                // version still accepts the same data.
                Some(now) if !herald_schema::same_apart_from_annotations(&now.value, &published.value) => {
                    let next = old.versions.keys().chain(cur.versions.keys()).max().copied().unwrap_or(*v) + 1;
                    outcome.findings.push(Finding {
                        file: now.file.clone(),
                        version: *v,
                        previous: Some(Previous {
                            version: *v,
                            source,
                        }),
                        kind: "PUBLISHED_VERSION_CHANGED".to_owned(),
                        path: "#".to_owned(),
                        message: format!(
                            "v{v} of `{name}` was changed in place: a published version must never change (data was written and consumers were built with it); restore it and add the change as v{next}"
                        ),
                        breaking: true,
                    });
                    // What changed, in the engine's words (never making it acceptable).
                    let resolver = FolderResolver {
                        documents: &cur.documents,
                    };
                    let prev = Previous {
                        version: *v,
                        source,
                    };
                    let (_, findings) =
                        compare(level, policy, now, &[(prev, &published.value)], &resolver)?;
                    outcome.findings.extend(findings);
                }
                Some(_) => {}
            }
        }
        // New versions: against the published ones (as published) and the new ones before them.
        let resolver = FolderResolver {
            documents: &cur.documents,
        };
        for (v, new) in cur
            .versions
            .iter()
            .filter(|(v, _)| !old.versions.contains_key(v))
        {
            let mut previous: Vec<(Previous, &Value)> = Vec::new();
            let mut earlier: Vec<u32> = old
                .versions
                .keys()
                .chain(cur.versions.keys())
                .copied()
                .filter(|p| p < v)
                .collect();
            earlier.sort_unstable();
            earlier.dedup();
            for p in earlier.into_iter().rev() {
                if let Some(published) = old.versions.get(&p) {
                    previous.push((Previous { version: p, source }, &published.value));
                } else if let Some(local) = cur.versions.get(&p) {
                    previous.push((
                        Previous {
                            version: p,
                            source: Source::Local,
                        },
                        &local.value,
                    ));
                }
            }
            let (checked, findings) = compare(level, policy, new, &previous, &resolver)?;
            outcome.checked.push(checked);
            outcome.findings.extend(findings);
        }
        out.push(outcome);
    }
    Ok(out)
}

fn is_code(e: &ClientError, codes: &[u32]) -> bool {
    e.error_code().is_some_and(|c| codes.contains(&c))
}

/// DIR against what a registry holds for each event's subject.
///
/// herald version N of an event is registry version N of its subject: `herald schemas
/// register` registers the versions oldest first and refuses any that would get another
/// number (see `register.rs`). So the registry's versions are a baseline like `git:`'s, matched
/// by number, not by content: a registered version edited in place is
/// `PUBLISHED_VERSION_CHANGED` with what changed, never a new version. A local version that
/// the registry holds under another number, or that was not registered while a later one was,
/// is `REGISTRY_VERSION_MISMATCH`: that subject's history was not written by herald alone.
///
/// Why by number and not by an annotation naming herald's version in the registered schema:
/// the registry keeps what it is given, so the annotation would change the schema every
/// Confluent client and herald-kafka's serializer look up by content, and a producer
/// registering the plain schema would add a version.
async fn against_registry(
    client: &RegistryClient,
    url: &str,
    current: &SchemaSet,
    display: &str,
    template: &str,
    levels: &Levels<'_>,
) -> anyhow::Result<Vec<EventOutcome>> {
    let fail = |e: ClientError| anyhow::anyhow!(registry_conn::explain(&e, url));
    let mut base = SchemaSet::default();
    let mut event_levels: BTreeMap<String, (CompatibilityLevel, Policy)> = BTreeMap::new();
    let mut mismatches: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for (name, ev) in &current.events {
        let subject = subject_of(template, name);
        let (local_level, policy) = levels.of(name);
        let level = if levels.level.is_some() {
            local_level
        } else {
            match client.compatibility_level(Some(&subject)).await {
                Ok(l) => l
                    .parse()
                    .with_context(|| format!("the registry's level for `{subject}`"))?,
                Err(e) if is_code(&e, &[40401, 40408]) => local_level,
                Err(e) => return Err(fail(e)),
            }
        };
        event_levels.insert(name.clone(), (level, policy));
        let published = registry_versions(client, &subject).await.map_err(fail)?;
        let Some(latest) = published.keys().max().copied() else {
            // A subject the registry does not know is new: only DIR's own versions to compare.
            continue;
        };
        let mut schemas = EventSchemas::default();
        for (version, text) in published {
            let value: Value = serde_json::from_str(&text).with_context(|| {
                format!("version {version} of `{subject}` in the registry is not JSON")
            })?;
            let file = schema_dir::file_path(display, name, version);
            schemas.versions.insert(
                version,
                VersionFile {
                    version,
                    file,
                    text,
                    value,
                },
            );
        }
        let found = mismatches.entry(name.clone()).or_default();
        for v in ev.versions.values() {
            if schemas
                .versions
                .get(&v.version)
                .is_some_and(|r| r.value == v.value)
            {
                continue;
            }
            let message = match client.lookup(&subject, &v.text).await {
                Ok(s) if u32::try_from(s.version).ok() != Some(v.version) => format!(
                    "v{} of `{name}` is registry version {} of `{subject}`, not version {}: herald registers v<N> as version <N>, so this subject's versions were not all registered by `herald schemas register`",
                    v.version, s.version, v.version
                ),
                Ok(_) => continue,
                Err(e) if is_code(&e, &[40401, 40403]) => {
                    if v.version < latest && !schemas.versions.contains_key(&v.version) {
                        format!(
                            "v{} of `{name}` is not in the registry but the later version {latest} of `{subject}` is (version {} was deleted there, or registered by something else): v{} can no longer be registered as version {}",
                            v.version, v.version, v.version, v.version
                        )
                    } else {
                        continue;
                    }
                }
                Err(e) => return Err(fail(e)),
            };
            found.push(Finding {
                file: v.file.clone(),
                version: v.version,
                previous: None,
                kind: "REGISTRY_VERSION_MISMATCH".to_owned(),
                path: "#".to_owned(),
                message,
                breaking: true,
            });
        }
        base.events.insert(name.clone(), schemas);
    }
    let level_of = |name: &str| {
        event_levels
            .get(name)
            .copied()
            .unwrap_or_else(|| levels.of(name))
    };
    let mut out = against_baseline(current, &base, display, Source::Registry, &level_of)?;
    for outcome in &mut out {
        outcome.subject = Some(subject_of(template, &outcome.event));
        if let Some(found) = mismatches.remove(&outcome.event) {
            outcome.findings.splice(0..0, found);
        }
    }
    Ok(out)
}

/// Every live version of `subject` in the registry, by number (soft-deleted ones are left
/// out, as the registry leaves them out of its own checks); empty for an unknown subject.
async fn registry_versions(
    client: &RegistryClient,
    subject: &str,
) -> Result<BTreeMap<u32, String>, ClientError> {
    let latest = match client.latest(subject).await {
        Ok(l) => l,
        Err(e) if is_code(&e, &[40401, 40402]) => return Ok(BTreeMap::new()),
        Err(e) => return Err(e),
    };
    let mut out = BTreeMap::new();
    for n in 1..latest.version {
        match client.version(subject, &n.to_string()).await {
            Ok(s) => {
                out.insert(u32::try_from(n).unwrap_or(0), s.schema);
            }
            Err(e) if is_code(&e, &[40402, 40406]) => {}
            Err(e) => return Err(e),
        }
    }
    out.insert(u32::try_from(latest.version).unwrap_or(0), latest.schema);
    Ok(out)
}

/// Used by `register` too: the schema set and configuration of a DIR argument.
pub fn load(
    dir: &Path,
    config: Option<&Path>,
) -> anyhow::Result<(String, SchemasConfig, SchemaSet)> {
    let display = schema_dir::display_dir(dir);
    let config = SchemasConfig::find(config, dir)?;
    let set = SchemaSet::load_dir(dir, &display)?;
    Ok((display, config, set))
}
