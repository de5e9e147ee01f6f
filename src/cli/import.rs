//! `partner-api import …`

use std::path::PathBuf;

use clap::Subcommand;

use crate::config::Settings;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Add or update creators, sub-profiles and jobs from a JSON file.
    ///
    /// Records are matched by handle and by (creator, job_id); running the
    /// same file twice changes nothing. The file is checked whole before
    /// anything is written, and applied in one transaction.
    Creators {
        /// The creators file, in the layout of fixtures/creators.json
        file: PathBuf,
    },
}

pub fn run(settings: &Settings, command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Creators { file } => {
            let report =
                crate::import::import_file(&settings.db, &file, settings.synchronous_full)?;
            println!("imported {} into {}", file.display(), settings.db.display());
            println!("{report}");
            Ok(())
        }
    }
}
