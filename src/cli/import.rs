//! `partner-api import …`

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::config::Settings;
use crate::import::{ApplyOptions, Format};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Add or update creators, sub-profiles and jobs from a JSON or CSV file.
    ///
    /// Records are matched by handle and by (creator, job_id); running the
    /// same file twice changes nothing. The file is checked whole before
    /// anything is written, and applied in one transaction: on any error the
    /// database keeps what it had. The import can run while the server is
    /// serving; the server's writes wait for its transaction.
    #[command(after_help = "Examples:\n  \
        partner-api import creators fixtures/creators.json\n  \
        partner-api import creators --dry-run --prune fixtures/creators.csv\n\n\
        CSV layout: a header row, then one row per job. Required columns: creator_handle, \
        creator_name, job_id, short_code, title, company, apply_url, posted_at. Optional: \
        sub_profiles (handle:name pairs separated by |), city, state, country, postal_code, \
        description, salary, job_type, category, expires_at, status (open or closed). Repeat \
        the creator_handle on each of its rows; a row with empty job columns declares a \
        creator or sub-profiles alone. See fixtures/creators.csv.")]
    Creators {
        /// The creators file: JSON as in fixtures/creators.json, or CSV as in
        /// fixtures/creators.csv
        file: PathBuf,

        /// The file's layout [default: from the extension, .json or .csv]
        #[arg(long, value_enum)]
        format: Option<Format>,

        /// Check the file and report what would change, without writing.
        /// Holds the write lock while it runs, like a real import.
        #[arg(long)]
        dry_run: bool,

        /// Close the open jobs of each creator in the file that the file no
        /// longer lists, so that they leave the feed. Creators not in the
        /// file keep their jobs.
        #[arg(long)]
        prune: bool,
    },
}

pub fn run(settings: &Settings, command: ImportCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        ImportCommand::Creators {
            file,
            format,
            dry_run,
            prune,
        } => {
            let format = match format {
                Some(format) => format,
                None => Format::from_extension(&file)?,
            };
            let records = crate::import::read_file(&file, format)?;
            let options = ApplyOptions { prune, dry_run };

            let db = &settings.db;
            let mut conn = if !dry_run {
                crate::store::open_writable(db, settings.synchronous_full)?
            } else if db.exists() {
                crate::store::open_for_dry_run(db, settings.synchronous_full)?
            } else {
                writeln!(
                    out,
                    "database {} does not exist; comparing with an empty database",
                    db.display()
                )?;
                crate::store::open_in_memory()?
            };

            let progress = crate::import::progress_bar(&records);
            let name = file.display().to_string();
            let report = crate::import::apply(&mut conn, &records, &name, options, &progress);
            progress.finish_and_clear();
            let report = report?;

            if dry_run {
                writeln!(
                    out,
                    "dry run of {name} against {}; nothing was written",
                    db.display()
                )?;
            } else {
                writeln!(out, "imported {name} into {}", db.display())?;
            }
            writeln!(out, "{report}")?;
            Ok(())
        }
    }
}
