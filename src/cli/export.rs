//! `partner-api export clicks|applications`

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use rusqlite::OptionalExtension;

use crate::config::Settings;
use crate::export::{Filter, Format, Table};

#[derive(Args)]
#[command(
    after_help = "TIME is RFC 3339 (2026-12-01T09:30:00Z, any offset), a date \
    (2026-12-01) taken as midnight UTC, or an age such as 30m, 2h or 7d, meaning that long \
    before now. --since is inclusive and --until exclusive, so `--since 2026-12-01 --until \
    2026-12-02` is the whole of 1 December UTC, and `--since 2h` is the last two hours.\n\n\
    The export reads a snapshot from a read-only connection and can run while the server \
    is serving.\n\n\
    Examples:\n  \
    partner-api export clicks --since 2026-12-01 --output clicks.csv\n  \
    partner-api export clicks --since 24h --format jsonl\n  \
    partner-api export applications --creator jiloma --format jsonl"
)]
pub struct ExportArgs {
    /// The rows to export
    #[arg(value_enum)]
    table: Table,

    /// Output layout
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,

    /// Only rows created at or after this time
    #[arg(long, value_name = "TIME")]
    since: Option<String>,

    /// Only rows created before this time
    #[arg(long, value_name = "TIME")]
    until: Option<String>,

    /// Only rows of this parent creator (`cid` of a click, `rxp` of an
    /// application). For a sub-profile, use --sub-id
    #[arg(long, value_name = "HANDLE")]
    creator: Option<String>,

    /// Only rows with this sub_id
    #[arg(long, value_name = "SUB_ID")]
    sub_id: Option<String>,

    /// Only rows recorded with this x-partner-test-run-id
    #[arg(long, value_name = "ID")]
    test_run_id: Option<String>,

    /// Write to this file instead of stdout. The rows go to a temporary
    /// file in the same folder that replaces FILE only when the export is
    /// complete, so a failed export leaves no partial file. An existing
    /// FILE must be a regular file, not a link, FIFO or device, and never
    /// the database or its -wal, -shm or -journal file
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Parses a `--since` or `--until` value into the stored time form.
fn time_flag(flag: &str, value: Option<String>) -> anyhow::Result<Option<String>> {
    value
        .map(|text| super::time_arg::parse(flag, &text))
        .transpose()
}

/// Exports into a temporary file beside `path`, then renames it to `path`.
fn export_to_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<u64>,
) -> anyhow::Result<u64> {
    let temp = crate::atomic_file::create_beside(path, "export", &[])?;
    let mut writer = BufWriter::new(temp.as_file());
    let count = write(&mut writer)?;
    writer
        .flush()
        .with_context(|| format!("cannot write {}", temp.path().display()))?;
    drop(writer);
    crate::atomic_file::persist(temp, path, true)?;
    Ok(count)
}

/// Rejects a sub-profile's handle given to `--creator`, which can match no
/// row because rows record the parent creator there, and notes a handle
/// that the database does not contain.
fn check_creator(conn: &rusqlite::Connection, handle: &str) -> anyhow::Result<()> {
    // The outer `Option` is whether the profile exists, the inner one its
    // parent's handle.
    let parent: Option<Option<String>> = conn
        .query_row(
            "SELECT parent.handle FROM profiles AS profile
             LEFT JOIN profiles AS parent ON parent.id = profile.parent_id
             WHERE profile.handle = ?1",
            [handle],
            |row| row.get(0),
        )
        .optional()?;
    match parent {
        Some(None) => Ok(()),
        Some(Some(parent)) => anyhow::bail!(
            "{handle:?} is a sub-profile of {parent:?}, and --creator takes a parent creator's \
             handle; use --sub-id {handle} for this sub-profile's rows, or --creator {parent} \
             for all of {parent:?}'s rows"
        ),
        None => {
            eprintln!("note: {handle:?} is not the handle of a creator in this database");
            Ok(())
        }
    }
}

pub fn run(settings: &Settings, args: ExportArgs) -> anyhow::Result<()> {
    let filter = Filter {
        since: time_flag("--since", args.since)?,
        until: time_flag("--until", args.until)?,
        creator: args.creator,
        sub_id: args.sub_id,
        test_run_id: args.test_run_id,
    };
    if let (Some(since), Some(until)) = (&filter.since, &filter.until)
        && since >= until
    {
        anyhow::bail!("--since {since} is not before --until {until}, so no row can match");
    }

    if let Some(path) = &args.output {
        crate::output_path::check(&settings.db, path)?;
    }
    let conn = crate::store::open_read_only(&settings.db)?;
    if let Some(handle) = &filter.creator {
        check_creator(&conn, handle)?;
    }

    let table = args.table;
    let export =
        |out: &mut dyn Write| crate::export::export(&conn, table, &filter, args.format, out);
    match &args.output {
        Some(path) => {
            let count = export_to_file(path, export)?;
            eprintln!(
                "exported {count} {} to {}",
                table.rows_noun(count),
                path.display()
            );
        }
        None => {
            let mut stdout = BufWriter::new(std::io::stdout().lock());
            let count = export(&mut stdout)?;
            eprintln!("exported {count} {}", table.rows_noun(count));
        }
    }
    Ok(())
}
