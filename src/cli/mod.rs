//! The command line: global options and one subcommand per admin task.

mod backup;
mod config;
mod export;
mod import;
mod keys;
mod serve;
mod table;
mod time_arg;
mod webhooks;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Overrides, Settings};

#[derive(Parser)]
#[command(
    name = "partner-api",
    version,
    about = "Partner integration API: creator job feeds, partner clicks and applications on one SQLite file",
    after_help = "Settings come from flags, then environment variables, then the config file, \
                  then defaults. Run `partner-api serve --demo` for a server with sample data."
)]
pub struct Cli {
    /// Config file [default: ./partner.toml when it exists; env: PARTNER_API_CONFIG]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// SQLite database file [default: ./partner.db; env: PARTNER_API_DB]
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the partner API
    ///
    /// Partners send an API key in x-api-key: the value of
    /// PARTNER_INTEGRATION_API_KEY, PARTNER_INTEGRATION_E2E_API_KEY or
    /// SENDERCIRCLE_API_KEY, or a key made with `partner-api keys create`.
    /// PARTNER_INTEGRATION_E2E=true turns on test mode, and
    /// PARTNER_APPLICATION_WEBHOOK_URL forwards applications. Run
    /// `partner-api config check` to see every setting and its source.
    Serve(serve::ServeArgs),
    /// Load data from files
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Create, list, rotate and revoke partner API keys
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Check the configuration
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Inspect, retry and test webhook deliveries
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// Write partner clicks or applications to CSV or JSON Lines
    Export(export::ExportArgs),
    /// Copy the database to a file while the server keeps serving
    Backup(backup::BackupArgs),
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let overrides = Overrides {
        config: cli.config,
        db: cli.db,
        listen: None,
    };
    match cli.command {
        Command::Serve(args) => serve::run(overrides, args),
        Command::Import(command) => {
            let settings = Settings::resolve(&overrides)?;
            import::run(&settings, command)
        }
        Command::Keys(command) => {
            let settings = Settings::resolve(&overrides)?;
            keys::run(&settings, command)
        }
        Command::Config(command) => config::run(overrides, command),
        Command::Webhooks(command) => {
            let settings = Settings::resolve(&overrides)?;
            webhooks::run(&settings, command)
        }
        Command::Export(args) => export::run(&Settings::resolve(&overrides)?, args),
        Command::Backup(args) => backup::run(&Settings::resolve(&overrides)?, args),
    }
}
