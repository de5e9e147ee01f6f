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
mod logging;
mod output_path;
mod store;
mod webhook;

use std::process::ExitCode;

fn main() -> ExitCode {
    logging::init();

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
