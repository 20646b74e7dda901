//! Report formatting shared by commands: human text (coloured only on a terminal, never with
//! `NO_COLOR`) or JSON.

use std::io::{IsTerminal, Write};

use clap::ValueEnum;
use herald_schema::{CompatibilityLevel, Policy, Report};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Whether to colour output: stdout is a terminal and `NO_COLOR` is unset or empty.
pub fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// ANSI colours when the flag is set, plain text otherwise.
pub(crate) struct Paint(pub bool);

impl Paint {
    pub(crate) fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    pub(crate) fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub(crate) fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}

/// The JSON form: `{"is_compatible": bool, "differences": [{"type", "path", "message"}]}`.
pub fn report_json(report: &Report) -> serde_json::Value {
    json!({
        "is_compatible": report.is_compatible,
        "differences": report.differences.iter().map(|d| json!({
            "type": d.kind.as_str(),
            "path": d.path,
            "message": d.message,
        })).collect::<Vec<_>>(),
    })
}

pub fn print_report(
    out: &mut impl Write,
    report: &Report,
    level: CompatibilityLevel,
    policy: Policy,
    format: Format,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report_json(report))?;
            writeln!(out)
        }
        Format::Human => write_human(out, report, level, policy, &Paint(use_colour())),
    }
}

fn write_human(
    out: &mut impl Write,
    report: &Report,
    level: CompatibilityLevel,
    policy: Policy,
    paint: &Paint,
) -> std::io::Result<()> {
    let verdict = if report.is_compatible {
        paint.green("compatible")
    } else {
        paint.red("incompatible")
    };
    writeln!(
        out,
        "{} ({level}, {policy}): {verdict}",
        paint.bold("herald schemas diff")
    )?;
    if report.differences.is_empty() {
        return writeln!(out, "no differences");
    }
    for d in &report.differences {
        let mark = if d.compatible {
            paint.green("✓")
        } else {
            paint.red("✗")
        };
        writeln!(out, "{mark} {} {}", d.kind, d.path)?;
        writeln!(out, "    {}", d.message)?;
    }
    writeln!(out, "{}", report.summary())
}
