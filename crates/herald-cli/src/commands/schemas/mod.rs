//! `herald schemas ...`

pub mod check;
pub mod diff;
pub mod register;

use std::process::ExitCode;

use crate::cli::SchemasCommand;

pub fn run(cmd: SchemasCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SchemasCommand::Diff(args) => diff::run(&args),
        SchemasCommand::Check(args) => check::run(&args),
        SchemasCommand::Register(args) => register::run(&args),
    }
}
