//! Command implementations, one module per command group.

pub mod dlq;
pub mod schemas;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Exit code for incompatible schemas (or any negative verdict).
pub const EXIT_INCOMPATIBLE: u8 = 1;
/// Exit code for usage and input errors (the same code clap uses for usage errors).
pub const EXIT_INPUT_ERROR: u8 = 2;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Schemas(cmd) => schemas::run(cmd),
        Command::Dlq(cmd) => dlq::run(cmd),
    }
}
