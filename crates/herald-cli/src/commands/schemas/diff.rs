//! `herald schemas diff OLD.json NEW.json`: the compatibility check of herald-schema on files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use herald_schema::{CompatibilityLevel, Policy, ReferenceResolver, check, validate};
use serde_json::Value;

use crate::commands::EXIT_INCOMPATIBLE;
use crate::output::{self, Format};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The previous version of the schema (the newest one already in use).
    pub old: PathBuf,
    /// The new version of the schema.
    pub new: PathBuf,
    /// Older versions, newest first, after OLD; transitive levels check them all.
    #[arg(long = "previous", value_name = "FILE")]
    pub previous: Vec<PathBuf>,
    /// Compatibility level, in any case: NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD,
    /// FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE.
    #[arg(long, default_value = "BACKWARD", value_parser = parse_level)]
    pub level: CompatibilityLevel,
    /// Which differences count as compatible: strict (Confluent's default) or lenient.
    #[arg(long, default_value = "strict", value_parser = parse_policy)]
    pub policy: Policy,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Human)]
    pub format: Format,
}

fn parse_level(s: &str) -> Result<CompatibilityLevel, String> {
    s.parse()
        .map_err(|e: herald_schema::SchemaError| e.to_string())
}

fn parse_policy(s: &str) -> Result<Policy, String> {
    s.parse()
        .map_err(|e: herald_schema::SchemaError| e.to_string())
}

fn read_schema(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    validate(&value).with_context(|| format!("{} is not a valid JSON Schema", path.display()))?;
    Ok(value)
}

/// `$ref`s to other documents are read from files next to the new schema.
struct FileResolver {
    dir: PathBuf,
}

impl ReferenceResolver for FileResolver {
    fn resolve(&self, uri: &str) -> Option<Value> {
        if uri.contains(':') {
            return None;
        }
        let text = std::fs::read_to_string(self.dir.join(uri)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let new = read_schema(&args.new)?;
    let mut previous = vec![read_schema(&args.old)?];
    for p in &args.previous {
        previous.push(read_schema(p)?);
    }
    let resolver = FileResolver {
        dir: args.new.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let report = check(args.level, args.policy, &new, &previous, &resolver)
        .context("the schemas could not be compared")?;
    let mut stdout = std::io::stdout().lock();
    match output::print_report(&mut stdout, &report, args.level, args.policy, args.format) {
        // A reader that stopped early (`| head`) still gets the verdict as the exit code.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("cannot write the report")?,
    }
    Ok(if report.is_compatible {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INCOMPATIBLE)
    })
}
