//! `partner-api import creators`: validates a whole file of creators,
//! sub-profiles and jobs, then upserts it in one transaction.

mod apply;
mod json;
mod validate;

use std::path::Path;

use anyhow::Context;

pub use apply::{ImportReport, apply};
pub use validate::CreatorRecord;

/// An import error: where in the file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {position}: {message}")]
pub struct RecordError {
    pub file: String,
    /// `creators[2].jobs[17].short_code`, or a line number.
    pub position: String,
    pub message: String,
}

/// Reads and validates a creators file. Nothing is written.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<CreatorRecord>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_json(&path.display().to_string(), &text)
}

/// Parses and validates creators in the JSON fixture format.
pub fn parse_json(file: &str, text: &str) -> anyhow::Result<Vec<CreatorRecord>> {
    let raw = json::parse(file, text)?;
    let records = validate::validate(file, raw)?;
    Ok(records)
}

/// Imports a file into the database at `db`, creating it when needed.
pub fn import_file(db: &Path, path: &Path, synchronous_full: bool) -> anyhow::Result<ImportReport> {
    let records = read_file(path)?;
    let mut conn = crate::store::open_writable(db, synchronous_full)?;
    apply(&mut conn, &records, &path.display().to_string())
}
