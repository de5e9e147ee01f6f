//! partner-api: a self-hosted partner integration API for creator job feeds,
//! partner-attributed clicks and applications, on one SQLite file.

mod atomic_file;
mod backup;
mod cli;
mod config;
mod crawlers;
mod domain;
mod export;
mod feed;
mod http;
mod import;
mod output_path;
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
        // A reader that closes the pipe early, as `head` does, has taken all
        // the output it wants, so the command ends quietly.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Checks whether an error comes from writing to a closed pipe. Rust
/// ignores SIGPIPE, so such a write fails with `ErrorKind::BrokenPipe`.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
