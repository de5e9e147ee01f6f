//! Consistent copies of a live database, made with SQLite's online backup
//! API while the server keeps reading and writing.

use std::fmt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use crate::output_path::Existing;

/// How long the backup retries while the source reports busy or locked.
const BUSY_DEADLINE: Duration = Duration::from_secs(60);

/// The result of a backup: the copy's size, schema version and rows.
#[derive(Debug)]
pub struct BackupReport {
    pub bytes: u64,
    pub pages: i64,
    pub schema_version: i64,
    /// Each table of the copy with its row count, in name order.
    pub tables: Vec<(String, i64)>,
}

impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes, {} pages, schema version {}, integrity_check ok",
            self.bytes, self.pages, self.schema_version
        )?;
        write!(f, "\nrows per table:")?;
        for (table, rows) in &self.tables {
            write!(f, "\n  {table}: {rows}")?;
        }
        Ok(())
    }
}

/// Copies every page of `source` to `target` in one step. One step reads
/// one snapshot of the source, so the copy is consistent even while
/// another connection commits. A copy in several steps would restart after
/// each of those commits, and might never finish under load.
fn copy_pages(source: &Connection, target: &mut Connection) -> anyhow::Result<()> {
    let backup = Backup::new(source, target)?;
    let started = Instant::now();
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => continue,
            StepResult::Busy | StepResult::Locked if started.elapsed() < BUSY_DEADLINE => {
                tracing::warn!("database busy; the backup retries");
                thread::sleep(Duration::from_millis(100));
            }
            StepResult::Busy | StepResult::Locked => {
                anyhow::bail!("the database stayed locked for {BUSY_DEADLINE:?}; try again")
            }
            other => anyhow::bail!("unexpected backup step result {other:?}"),
        }
    }
}

/// Checks the copy and counts its rows.
fn inspect(copy: &Connection, bytes: u64) -> anyhow::Result<BackupReport> {
    let check: String = copy.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
    if check != "ok" {
        anyhow::bail!("the copy failed PRAGMA integrity_check: {check}");
    }
    let pages: i64 = copy.query_row("PRAGMA page_count", [], |row| row.get(0))?;
    let schema_version: i64 = copy.query_row("PRAGMA user_version", [], |row| row.get(0))?;

    let names: Vec<String> = copy
        .prepare(
            "SELECT name FROM sqlite_schema
             WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let rows: i64 = copy.query_row(&format!("SELECT count(*) FROM {quoted}"), [], |row| {
            row.get(0)
        })?;
        tables.push((name, rows));
    }

    Ok(BackupReport {
        bytes,
        pages,
        schema_version,
        tables,
    })
}

/// Writes a consistent copy of the database at `db` to `target`, through a
/// temporary file beside `target` that is renamed only once the copy has
/// passed `PRAGMA integrity_check`. An existing `target` is replaced only
/// when `force` is set and it is a regular file. The database's own files
/// are never a valid `target`.
pub fn backup(db: &Path, target: &Path, force: bool) -> anyhow::Result<BackupReport> {
    let existing = crate::output_path::check(db, target)?;
    if existing == Existing::RegularFile && !force {
        anyhow::bail!(
            "{} already exists; choose another file, or pass --force to replace it",
            target.display()
        );
    }

    let source = crate::store::open_read_only(db)?;
    let temp = crate::atomic_file::create_beside(target, "backup", &["-journal", "-wal", "-shm"])?;

    let mut copy = Connection::open(temp.path())
        .with_context(|| format!("cannot open {}", temp.path().display()))?;
    copy_pages(&source, &mut copy).with_context(|| format!("cannot copy {}", db.display()))?;
    drop(source);
    let bytes = temp.as_file().metadata()?.len();
    let report = inspect(&copy, bytes)?;
    // Closing the last connection checkpoints and removes the copy's -wal
    // and -shm files, so the renamed file is complete on its own.
    copy.close()
        .map_err(|(_, err)| err)
        .with_context(|| format!("cannot close {}", temp.path().display()))?;
    crate::atomic_file::persist(temp, target, force)?;
    Ok(report)
}
