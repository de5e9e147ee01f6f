//! `partner-api import creators`: validates a whole file of creators,
//! sub-profiles and jobs (JSON or CSV), then upserts it in one transaction.

mod apply;
mod csv;
mod jobs;
mod json;
mod validate;

use std::fmt;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use apply::{ApplyOptions, apply};
pub use validate::{CreatorRecord, parse_time};

/// An import error: where in the file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {position}: {message}")]
pub struct RecordError {
    pub file: String,
    /// `creators[2].jobs[17].short_code`, or a line number.
    pub position: String,
    pub message: String,
}

/// The location of a record in its file, for error messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Position {
    /// A JSON path such as `creators[2].jobs[17]`.
    Path(String),
    /// A CSV record that starts at this line. The header is line 1.
    CsvRow(u64),
    /// The `entry`th `handle:name` pair (from 1) in the `sub_profiles`
    /// column of the CSV record that starts at `line`.
    CsvSubProfile { line: u64, entry: usize },
}

impl Position {
    /// Names one field of the record, in the words of its format:
    /// `creators[2].jobs[17].title` or `line 7, column title`.
    pub fn field(&self, field: &str) -> String {
        match self {
            Position::Path(path) => format!("{path}.{field}"),
            Position::CsvRow(line) => {
                // A CSV row carries its creator's fields with a prefix.
                let column = match field {
                    "handle" => "creator_handle",
                    "name" => "creator_name",
                    other => other,
                };
                format!("line {line}, column {column}")
            }
            Position::CsvSubProfile { .. } => format!("{self} ({field})"),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Path(path) => f.write_str(path),
            Position::CsvRow(line) => write!(f, "line {line}"),
            Position::CsvSubProfile { line, entry } => {
                write!(f, "line {line}, column sub_profiles, entry {entry}")
            }
        }
    }
}

/// The layout of a creators file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `{"creators": [...]}`, as in fixtures/creators.json
    Json,
    /// One row per job, as in fixtures/creators.csv
    Csv,
}

impl Format {
    /// Picks the format from the file's extension, `.json` or `.csv`.
    pub fn from_extension(path: &Path) -> anyhow::Result<Format> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            _ => anyhow::bail!(
                "cannot tell the format of {} from its extension; name it .json or .csv, \
                 or pass --format json or --format csv",
                path.display()
            ),
        }
    }
}

/// Reads and validates a creators file. Nothing is written.
pub fn read_file(path: &Path, format: Format) -> anyhow::Result<Vec<CreatorRecord>> {
    let file = path.display().to_string();
    match format {
        Format::Json => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {file}"))?;
            parse_json(&file, &text)
        }
        Format::Csv => {
            let reader =
                std::fs::File::open(path).with_context(|| format!("cannot read {file}"))?;
            let raw = csv::parse(&file, std::io::BufReader::new(reader))?;
            validate::validate(&file, raw)
        }
    }
}

/// Parses and validates creators in the JSON fixture format.
pub fn parse_json(file: &str, text: &str) -> anyhow::Result<Vec<CreatorRecord>> {
    let raw = json::parse(file, text)?;
    let records = validate::validate(file, raw)?;
    Ok(records)
}

/// Creates a progress bar over the file's jobs. It draws on stderr only
/// when stderr is a terminal, so that logs and pipes stay clean.
pub fn progress_bar(records: &[CreatorRecord]) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total: usize = records.iter().map(|creator| creator.jobs.len()).sum();
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {human_pos}/{human_len} jobs, {eta} left")
            .expect("the progress template is valid"),
    );
    bar
}
