//! `herald`: the command-line tool. Exit codes: 0 success/compatible, 1 incompatible,
//! 2 usage or input error.

mod against;
mod cli;
mod commands;
mod config_file;
mod output;
mod registry_conn;
mod report_format;
mod schema_dir;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with 2.
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(commands::EXIT_INPUT_ERROR)
        }
    }
}
