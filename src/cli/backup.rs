//! `partner-api backup FILE`

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::config::Settings;

#[derive(Args)]
#[command(
    after_help = "The copy is taken with SQLite's online backup API from one \
    snapshot, so it is consistent while the server keeps serving; writes committed \
    after the snapshot are not in it.\n\n\
    To restore: stop the server, copy FILE over the database file, delete the \
    database's -wal and -shm files if they exist, and start the server."
)]
pub struct BackupArgs {
    /// The file to write the copy to
    file: PathBuf,

    /// Replace FILE when it already exists
    #[arg(long)]
    force: bool,
}

pub fn run(settings: &Settings, args: BackupArgs) -> anyhow::Result<()> {
    let report = crate::backup::backup(&settings.db, &args.file, args.force)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "wrote a backup of {} to {}: {report}",
        settings.db.display(),
        args.file.display()
    )?;
    Ok(())
}
