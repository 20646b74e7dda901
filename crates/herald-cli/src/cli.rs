//! The command tree. Each command's arguments live beside its code (`commands/...`); this file
//! only names the commands, so adding one touches one line here.

use clap::{Parser, Subcommand};

use crate::commands::dlq::DlqCommand;
use crate::commands::schemas::check::CheckArgs;
use crate::commands::schemas::diff::DiffArgs;
use crate::commands::schemas::register::RegisterArgs;

#[derive(Debug, Parser)]
#[command(
    name = "herald",
    version,
    about = "herald: versioned events, schema compatibility and message tooling"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with event schemas.
    #[command(subcommand)]
    Schemas(SchemasCommand),
    /// Dead letters on a broker: list them with their reasons, replay them.
    #[command(subcommand)]
    Dlq(DlqCommand),
}

#[derive(Debug, Subcommand)]
pub enum SchemasCommand {
    /// Check a new schema against previous versions and list every difference.
    Diff(DiffArgs),
    /// Check the schemas directory: versions against each other, or against a registry, a git
    /// ref or another directory. Exit 0 compatible, 1 a break found, 2 usage, I/O or network error.
    Check(CheckArgs),
    /// Register every version a registry does not have yet, oldest first; stop at the first refusal.
    Register(RegisterArgs),
}
