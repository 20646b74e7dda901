//! `herald schemas register [DIR] --registry URL [--dry-run]`: registers every version the
//! registry does not have yet, oldest first, and stops at the first refusal.
//!
//! Idempotent: each version is looked up first, so a second run registers nothing. Events go
//! in name order, versions in number order; an incompatible version (HTTP 409) stops the run
//! with the registry's reason and exit code 1, any other failure with exit code 2.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use herald_registry::client::{ClientError, RegistryClient};

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
        let mut first_new = true;
        for v in ev.versions.values() {
            match client.lookup(&subject, &v.text).await {
                Ok(s) => {
                    present += 1;
                    writeln!(
                        out,
                        "= {}: already registered as {subject} version {} (id {})",
                        v.file, s.version, s.id
                    )?;
                    continue;
                }
                Err(e) if is_code(&e, &[40401, 40403]) => {}
                Err(e) => return Err(fail(e)),
            }
            if args.dry_run {
                would += 1;
                let mut line = format!("+ {}: would register as {subject}", v.file);
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
                            c.messages.join("; ")
                        ));
                    }
                }
                first_new = false;
                writeln!(out, "{line}")?;
                continue;
            }
            match client.register(&subject, &v.text, &[]).await {
                Ok(id) => {
                    registered += 1;
                    let version = client
                        .lookup(&subject, &v.text)
                        .await
                        .map(|s| format!(" version {}", s.version))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "+ {}: registered as {subject}{version} (id {id})",
                        v.file
                    )?;
                }
                Err(ClientError::Api {
                    status: 409,
                    message,
                    ..
                }) => {
                    writeln!(out, "✗ {}: the registry refused it: {message}", v.file)?;
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
                "{would_refuse} subjects would refuse their first new version: registering would stop there"
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
