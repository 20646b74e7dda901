//! `herald schemas register [DIR] --registry URL [--dry-run]`: registers every version the
//! registry does not have yet, oldest first, and stops at the first refusal.
//!
//! Idempotent: each version is looked up first, so a second run registers nothing. Events go
//! in name order, versions in number order; an incompatible version (HTTP 409) stops the run
//! with the registry's reason and exit code 1, any other failure with exit code 2.
//!
//! herald version N of an event becomes registry version N of its subject, and nothing else
//! does: `check --against registry:` relies on it to match versions by number (why by number:
//! see `against_registry` in `check.rs`). So a version is refused (exit 1) when the registry
//! holds version N with other content (vN was edited after it was published), holds vN's
//! content under another number, or would give it another number (a version missing before it,
//! or versions of the subject registered or deleted by something else).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use herald_registry_client::{ClientError, RegistryClient};

use crate::commands::EXIT_INCOMPATIBLE;
use crate::commands::schemas::check::{load, subject_of, subject_template};
use crate::registry_conn::{self, CredentialArgs, redact_url};
use crate::schema_dir::SchemaSet;

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The schema directory: `<event name>/v<N>.json` files.
    #[arg(default_value = "schemas")]
    pub dir: PathBuf,
    /// The registry's base URL, e.g. http://127.0.0.1:8081 [env: HERALD_REGISTRY_URL].
    #[arg(
        long,
        value_name = "URL",
        env = "HERALD_REGISTRY_URL",
        hide_env = true,
        hide_env_values = true
    )]
    pub registry: String,
    /// Registry subject of an event; `{name}` is the event name (e.g. '{name}-value')
    /// [default: herald.toml's, else {name}].
    #[arg(long, value_name = "TEMPLATE")]
    pub subject_template: Option<String>,
    /// The configuration file [default: the nearest herald.toml above DIR].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print what would be registered (and whether the registry would accept the first new
    /// version of each subject) without registering anything; exit 1 if it would refuse one.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

pub fn run(args: &RegisterArgs) -> anyhow::Result<ExitCode> {
    let (_, config, set) = load(&args.dir, args.config.as_deref())?;
    let template = subject_template(args.subject_template.as_deref(), &config)?;
    let client = registry_conn::connect(&args.registry, &args.credentials)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut stdout = std::io::stdout().lock();
    runtime.block_on(register(&client, args, &set, &template, &mut stdout))
}

fn is_code(e: &ClientError, codes: &[u32]) -> bool {
    e.error_code().is_some_and(|c| codes.contains(&c))
}

/// Where vN, whose exact text the registry does not hold, stands against registry version N.
enum Fit {
    /// It can be registered: it becomes version N.
    New,
    /// Version N is vN apart from annotations (a reworded doc comment): nothing to register;
    /// the registry keeps the wording it was first given.
    Reworded,
    /// It cannot be registered as version N, for this reason.
    Misfit(String),
}

/// Whether vN (`text`) can be registered as registry version N; the registry's newest
/// version of the subject is `latest`.
async fn fit(
    client: &RegistryClient,
    subject: &str,
    version: u32,
    text: &str,
    latest: u32,
    newest_local: u32,
) -> Result<Fit, ClientError> {
    if version == latest + 1 {
        return Ok(Fit::New);
    }
    if version > latest {
        return Ok(Fit::Misfit(format!(
            "it would become {subject} version {}, not {version}: herald registers v<N> as version <N>, and the registry's newest version is {latest}",
            latest + 1
        )));
    }
    match client.version(subject, &version.to_string()).await {
        Ok(registered) if reworded(&registered.schema, text) => Ok(Fit::Reworded),
        Ok(_) => Ok(Fit::Misfit(format!(
            "{subject} version {version} holds other content: v{version} was changed after it was published, and a published version must never change; restore it and add the change as v{}",
            newest_local.max(latest) + 1
        ))),
        Err(e) if is_code(&e, &[40402, 40406]) => Ok(Fit::Misfit(format!(
            "{subject} version {version} was deleted from the registry, whose newest version is {latest}: v{version} can no longer be registered as version {version}"
        ))),
        Err(e) => Err(e),
    }
}

/// Whether two schema texts differ only in annotations (`description`, `title`, ...).
fn reworded(registered: &str, local: &str) -> bool {
    match (
        serde_json::from_str(registered),
        serde_json::from_str(local),
    ) {
        (Ok(a), Ok(b)) => herald_schema::same_apart_from_annotations(&a, &b),
        _ => false,
    }
}

/// The registry's refusal as sentences: each difference of its verdict, without the old
/// schema's text that Confluent-style messages carry.
fn describe_refusal(messages: &[String]) -> String {
    let mut differences = Vec::new();
    let (mut against, mut level) = (None, None);
    for m in messages {
        if let Some(rest) = m.strip_prefix("{errorType:'") {
            let (kind, description) = rest.split_once("', description:'").unwrap_or((rest, ""));
            let description = description.strip_suffix("'}").unwrap_or(description);
            differences.push(format!("{kind}: {description}"));
        } else if let Some(v) = m.strip_prefix("{oldSchemaVersion: ") {
            against = Some(v.trim_end_matches('}').to_owned());
        } else if let Some(rest) = m.split_once("compatibility: '").map(|(_, r)| r) {
            level = rest.split('\'').next().map(str::to_owned);
        }
    }
    let mut text = String::from("incompatible");
    if let Some(v) = against {
        text.push_str(&format!(" with version {v}"));
    }
    if let Some(l) = level {
        text.push_str(&format!(" at {l}"));
    }
    if differences.is_empty() {
        text.push_str(" (the registry gave no details)");
    } else {
        text.push_str(": ");
        text.push_str(&differences.join("; "));
    }
    text
}

/// The registry's reason for refusing `text` under `subject`, in words (its verdict asked
/// again verbosely; the 409 body would show the old schema's JSON).
async fn refusal(client: &RegistryClient, subject: &str, text: &str, fallback: &str) -> String {
    match client.check_compatibility(subject, text, None, true).await {
        Ok(c) if !c.is_compatible => describe_refusal(&c.messages),
        _ => fallback
            .split_once(", details:")
            .map_or(fallback, |(head, _)| head)
            .to_owned(),
    }
}

async fn register(
    client: &RegistryClient,
    args: &RegisterArgs,
    set: &SchemaSet,
    template: &str,
    out: &mut impl std::io::Write,
) -> anyhow::Result<ExitCode> {
    let url = redact_url(&args.registry);
    let fail = |e: ClientError| anyhow::anyhow!(registry_conn::explain(&e, &args.registry));
    let total: usize = set.events.values().map(|e| e.versions.len()).sum();
    let (mut registered, mut present, mut would) = (0usize, 0usize, 0usize);
    let mut would_refuse = 0usize;
    let verb = if args.dry_run {
        "would register"
    } else {
        "registering"
    };
    writeln!(
        out,
        "{verb} {total} schema versions from {} at {url}",
        set_label(&args.dir)
    )?;
    for (name, ev) in &set.events {
        let subject = subject_of(template, name);
        let newest_local = ev.versions.keys().max().copied().unwrap_or(0);
        let mut latest = match client.latest(&subject).await {
            Ok(s) => u32::try_from(s.version).unwrap_or(0),
            Err(e) if is_code(&e, &[40401, 40402]) => 0,
            Err(e) => return Err(fail(e)),
        };
        let mut first_new = true;
        for v in ev.versions.values() {
            let why_not = match client.lookup(&subject, &v.text).await {
                Ok(s) if u32::try_from(s.version).ok() == Some(v.version) => {
                    present += 1;
                    writeln!(
                        out,
                        "= {}: already registered as {subject} version {} (id {})",
                        v.file, s.version, s.id
                    )?;
                    continue;
                }
                Ok(s) => Some(format!(
                    "its content is {subject} version {}, not version {}: herald registers v<N> as version <N>, so this subject's versions were not all registered by herald",
                    s.version, v.version
                )),
                Err(e) if is_code(&e, &[40401, 40403]) => {
                    match fit(client, &subject, v.version, &v.text, latest, newest_local)
                        .await
                        .map_err(fail)?
                    {
                        Fit::New => None,
                        Fit::Reworded => {
                            present += 1;
                            writeln!(
                                out,
                                "= {}: already registered as {subject} version {} (only its annotations were reworded since; the registry keeps the published wording)",
                                v.file, v.version
                            )?;
                            continue;
                        }
                        Fit::Misfit(why) => Some(why),
                    }
                }
                Err(e) => return Err(fail(e)),
            };
            if let Some(why) = why_not {
                writeln!(out, "✗ {}: cannot register it: {why}", v.file)?;
                if args.dry_run {
                    // Registering would stop here: later versions of the subject follow it.
                    would_refuse += 1;
                    break;
                }
                let left = total - registered - present - 1;
                writeln!(
                    out,
                    "stopped at {}: {registered} registered, {present} already registered, {left} not attempted",
                    v.file
                )?;
                return Ok(ExitCode::from(EXIT_INCOMPATIBLE));
            }
            if args.dry_run {
                would += 1;
                let mut line = format!(
                    "+ {}: would register as {subject} version {}",
                    v.file, v.version
                );
                // Only the first new version can be checked now: later ones follow it.
                if first_new {
                    let c = client
                        .check_compatibility(&subject, &v.text, None, true)
                        .await
                        .map_err(fail)?;
                    if !c.is_compatible {
                        would_refuse += 1;
                        line.push_str(&format!(
                            " (the registry would refuse it: {})",
                            describe_refusal(&c.messages)
                        ));
                    }
                }
                first_new = false;
                latest = v.version;
                writeln!(out, "{line}")?;
                continue;
            }
            match client.register(&subject, &v.text, &[]).await {
                Ok(id) => {
                    registered += 1;
                    let version = client
                        .lookup(&subject, &v.text)
                        .await
                        .map_err(fail)?
                        .version;
                    writeln!(
                        out,
                        "+ {}: registered as {subject} version {version} (id {id})",
                        v.file
                    )?;
                    if u32::try_from(version).ok() != Some(v.version) {
                        // Soft-deleted versions the registry did not show still take numbers.
                        writeln!(
                            out,
                            "✗ {}: the registry gave it version {version}, not {}: versions of {subject} deleted earlier still count; herald cannot check this subject by version any more",
                            v.file, v.version
                        )?;
                        return Ok(ExitCode::from(EXIT_INCOMPATIBLE));
                    }
                    latest = v.version;
                }
                Err(ClientError::Api {
                    status: 409,
                    message,
                    ..
                }) => {
                    let why = refusal(client, &subject, &v.text, &message).await;
                    writeln!(out, "✗ {}: the registry refused it: {why}", v.file)?;
                    let left = total - registered - present - 1;
                    writeln!(
                        out,
                        "stopped at {}: {registered} registered, {present} already registered, {left} not attempted",
                        v.file
                    )?;
                    return Ok(ExitCode::from(EXIT_INCOMPATIBLE));
                }
                Err(e) => {
                    return Err(fail(e)).with_context(|| format!("registering {}", v.file));
                }
            }
        }
    }
    if args.dry_run {
        writeln!(
            out,
            "dry run: {would} would be registered, {present} already registered"
        )?;
        if would_refuse > 0 {
            writeln!(
                out,
                "{would_refuse} subjects would refuse a version: registering would stop there"
            )?;
            return Ok(ExitCode::from(EXIT_INCOMPATIBLE));
        }
    } else {
        writeln!(out, "{registered} registered, {present} already registered")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn set_label(dir: &std::path::Path) -> String {
    crate::schema_dir::display_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::describe_refusal;

    #[test]
    fn a_refusal_reads_as_sentences_without_the_old_schema() {
        let messages = [
            "{errorType:'TYPE_CHANGED', description:'field `amount` changed from string to integer (at #/properties/amount)'}".to_owned(),
            "{oldSchemaVersion: 1}".to_owned(),
            "{oldSchema: '{\"type\":\"object\",\"title\":\"OrderCreated\"}'}".to_owned(),
            "{validateFields: 'false', compatibility: 'BACKWARD', compatibilityPolicy: 'STRICT'}".to_owned(),
        ];
        assert_eq!(
            describe_refusal(&messages),
            "incompatible with version 1 at BACKWARD: TYPE_CHANGED: field `amount` changed from string to integer (at #/properties/amount)"
        );
    }
}
