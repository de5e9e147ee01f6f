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
mod store;
mod webhook;

use std::process::ExitCode;

fn main() -> ExitCode {
    logging::init();

    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
