//! partner-api: a self-hosted partner integration API for creator job feeds,
//! partner-attributed clicks and applications, on one SQLite file.

mod atomic_file;
mod backup;
mod cli;
mod config;
mod crawlers;
mod domain;
mod duration;
mod export;
mod feed;
mod http;
mod import;
mod store;
mod webhook;

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
