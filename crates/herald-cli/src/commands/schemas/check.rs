//! `herald schemas check [DIR] [--against registry:URL | git:REF | dir:PATH]`.
//!
//! Without `--against`, every event's versions in DIR are checked against each other (v2
//! against v1, v3 against v2, ...; every earlier version at a transitive level). With a
//! baseline, the versions the baseline does not have are checked against the baseline's, and
//! a version the baseline has must be there, unchanged: an edited or deleted published version
//! is a break whatever the level. Annotations (`description`, `title`, `examples`, ...) are not
//! part of that comparison: rewording a doc comment needs no new version.
//!
//! Level and policy of an event: with `--against registry:` and no `--level`, the level the
//! registry has configured for the subject; otherwise the event's entry in `herald.toml`, then
//! `--level`/`--policy`, then `[schemas]` in `herald.toml`, then BACKWARD / STRICT.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use herald_registry::client::{ClientError, RegistryClient};
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
            against_baseline(&current, &base, &display, &levels)?
        }
        Some(Against::Dir(path)) => {
            let base = SchemaSet::load_dir(path, &display)
                .with_context(|| format!("reading the baseline dir:{}", path.display()))?;
            against_baseline(&current, &base, &display, &levels)?
        }
        Some(Against::Registry(url)) => {
            let template = subject_template(args.subject_template.as_deref(), &config)?;
            let client = registry_conn::connect(url, &args.credentials)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(against_registry(&client, url, &current, &template, &levels))?
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

/// DIR against the same layout elsewhere (`git:` or `dir:`).
fn against_baseline(
    current: &SchemaSet,
    base: &SchemaSet,
    display: &str,
    levels: &Levels<'_>,
) -> anyhow::Result<Vec<EventOutcome>> {
    let empty = EventSchemas::default();
    let mut names: Vec<&String> = current.events.keys().chain(base.events.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let cur = current.events.get(name).unwrap_or(&empty);
        let old = base.events.get(name);
        let (level, policy) = levels.of(name);
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
                        source: Source::Against,
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
                            source: Source::Against,
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
                        source: Source::Against,
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
                    previous.push((
                        Previous {
                            version: p,
                            source: Source::Against,
                        },
                        &published.value,
                    ));
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
async fn against_registry(
    client: &RegistryClient,
    url: &str,
    current: &SchemaSet,
    template: &str,
    levels: &Levels<'_>,
) -> anyhow::Result<Vec<EventOutcome>> {
    let fail = |e: ClientError| anyhow::anyhow!(registry_conn::explain(&e, url));
    let mut out = Vec::new();
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

        // Which local versions the registry already has (local version -> registry version).
        let mut registered: BTreeMap<u32, i32> = BTreeMap::new();
        let mut known = true;
        for v in ev.versions.values() {
            match client.lookup(&subject, &v.text).await {
                Ok(s) => {
                    registered.insert(v.version, s.version);
                }
                Err(e) if is_code(&e, &[40403]) => {}
                Err(e) if is_code(&e, &[40401]) => {
                    known = false;
                    break;
                }
                Err(e) => return Err(fail(e)),
            }
        }
        if !known {
            // A subject the registry does not know is new: only DIR's own versions to compare.
            let mut outcome = within(name, ev, level, policy, true)?;
            outcome.subject = Some(subject);
            out.push(outcome);
            continue;
        }
        let mut outcome = EventOutcome {
            event: name.clone(),
            subject: Some(subject.clone()),
            level,
            policy,
            is_new: false,
            checked: Vec::new(),
            findings: Vec::new(),
        };
        let newest_registered = registered.keys().max().copied();
        let mut pending: Vec<&VersionFile> = Vec::new();
        for v in ev
            .versions
            .values()
            .filter(|v| !registered.contains_key(&v.version))
        {
            match newest_registered {
                Some(newest) if v.version < newest => outcome.findings.push(Finding {
                    file: v.file.clone(),
                    version: v.version,
                    previous: None,
                    kind: "PUBLISHED_VERSION_CHANGED".to_owned(),
                    path: "#".to_owned(),
                    message: format!(
                        "v{} is not registered under `{subject}` but the later v{newest} is: v{} was changed after it was published; a published version must never change",
                        v.version, v.version
                    ),
                    breaking: true,
                }),
                _ => pending.push(v),
            }
        }
        if !pending.is_empty() {
            let registry_versions = registry_history(client, &subject, level)
                .await
                .map_err(fail)?;
            let parsed: Vec<(Previous, Value)> = registry_versions
                .into_iter()
                .map(|(version, text)| {
                    let value: Value = serde_json::from_str(&text).with_context(|| {
                        format!("version {version} of `{subject}` in the registry is not JSON")
                    })?;
                    Ok((
                        Previous {
                            version,
                            source: Source::Registry,
                        },
                        value,
                    ))
                })
                .collect::<anyhow::Result<_>>()?;
            let resolver = FolderResolver {
                documents: &ev.documents,
            };
            for (i, new) in pending.iter().enumerate() {
                let mut previous: Vec<(Previous, &Value)> = pending[..i]
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
                previous.extend(parsed.iter().map(|(p, v)| (*p, v)));
                let (checked, findings) = compare(level, policy, new, &previous, &resolver)?;
                outcome.checked.push(checked);
                outcome.findings.extend(findings);
            }
        }
        out.push(outcome);
    }
    Ok(out)
}

/// The registry's live versions of `subject`, newest first: only the latest unless `level` is
/// transitive.
async fn registry_history(
    client: &RegistryClient,
    subject: &str,
    level: CompatibilityLevel,
) -> Result<Vec<(u32, String)>, ClientError> {
    let latest = match client.latest(subject).await {
        Ok(l) => l,
        Err(e) if is_code(&e, &[40401, 40402]) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = vec![(u32::try_from(latest.version).unwrap_or(0), latest.schema)];
    if level.is_transitive() {
        for n in (1..latest.version).rev() {
            match client.version(subject, &n.to_string()).await {
                Ok(s) => out.push((u32::try_from(n).unwrap_or(0), s.schema)),
                // Soft-deleted versions are not compared (as the registry does).
                Err(e) if is_code(&e, &[40402, 40406]) => {}
                Err(e) => return Err(e),
            }
        }
    }
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
