//! The CSV creators format, as in `fixtures/creators.csv`: one row per job,
//! each row naming its creator. The rows of one creator are gathered into
//! one record, in the order the creators first appear.
//!
//! A row whose job columns are all empty declares only its creator and
//! sub-profiles, so a creator without jobs fits the layout too. The
//! `sub_profiles` column contains `handle:name` pairs separated by `|`. A
//! pair may appear on any of the creator's rows, and repeats are merged.

use std::collections::HashMap;
use std::io::Read;

use super::json::{RawCreator, RawFile, RawJob, RawSubProfile};
use super::{Position, RecordError};

/// Columns that every file must have.
const REQUIRED_COLUMNS: &[&str] = &[
    "creator_handle",
    "creator_name",
    "job_id",
    "short_code",
    "title",
    "company",
    "apply_url",
    "posted_at",
];

/// Columns that may be left out. A missing column reads as empty cells.
const OPTIONAL_COLUMNS: &[&str] = &[
    "sub_profiles",
    "city",
    "state",
    "country",
    "postal_code",
    "description",
    "salary",
    "job_type",
    "category",
    "expires_at",
    "status",
];

/// The columns that describe a job. A row with all of them empty has no job.
const JOB_COLUMNS: &[&str] = &[
    "job_id",
    "short_code",
    "title",
    "company",
    "city",
    "state",
    "country",
    "postal_code",
    "description",
    "apply_url",
    "salary",
    "job_type",
    "category",
    "posted_at",
    "expires_at",
    "status",
];

/// The header: the field index of each known column.
struct Columns {
    index: HashMap<&'static str, usize>,
}

impl Columns {
    fn read(file: &str, header: &csv::StringRecord) -> Result<Columns, RecordError> {
        let fail = |message: String| RecordError {
            file: file.to_string(),
            position: "line 1 (header)".into(),
            message,
        };
        let known = || [REQUIRED_COLUMNS, OPTIONAL_COLUMNS].concat().join(", ");

        let mut index = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim();
            let Some(column) = REQUIRED_COLUMNS
                .iter()
                .chain(OPTIONAL_COLUMNS)
                .find(|column| **column == name)
            else {
                return Err(fail(format!(
                    "column {} is named {name:?}, which is not a known column; \
                     the known columns are: {}",
                    i + 1,
                    known()
                )));
            };
            if index.insert(*column, i).is_some() {
                return Err(fail(format!("column {name:?} appears twice")));
            }
        }

        let missing: Vec<&str> = REQUIRED_COLUMNS
            .iter()
            .filter(|column| !index.contains_key(*column))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(fail(format!(
                "required column(s) missing: {}; the first line must name the columns",
                missing.join(", ")
            )));
        }
        Ok(Columns { index })
    }

    /// Returns the cell of `column` in `record`, or "" when the file has no
    /// such column.
    fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> &'r str {
        self.index
            .get(column)
            .and_then(|i| record.get(*i))
            .unwrap_or("")
    }

    fn optional(&self, record: &csv::StringRecord, column: &str) -> Option<String> {
        let value = self.get(record, column);
        (!value.is_empty()).then(|| value.to_string())
    }
}

/// Turns a CSV reader error into a message that names the line, and the
/// column when the error is in one field. `header` is `None` while the
/// header itself is read.
fn read_error(file: &str, err: csv::Error, header: Option<&csv::StringRecord>) -> RecordError {
    let line = err.position().map(|p| p.line());
    let position = match line {
        Some(line) => format!("line {line}"),
        None => "CSV".into(),
    };
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "the row has {len} field(s) but the header has {expected_len}; look for a \
             value with a comma that is not in double quotes, or a double quote that is \
             not closed"
        ),
        csv::ErrorKind::Utf8 { err, .. } => {
            let column = match header.and_then(|header| header.get(err.field())) {
                Some(name) => format!("column {}", name.trim()),
                None => format!("column {}", err.field() + 1),
            };
            format!("{column} is not valid UTF-8; save the file as UTF-8")
        }
        _ => format!("invalid CSV: {err}"),
    };
    RecordError {
        file: file.to_string(),
        position,
        message,
    }
}

/// Parses the `sub_profiles` cell: `handle:name` pairs separated by `|`.
fn sub_profiles(
    file: &str,
    line: u64,
    cell: &str,
) -> Result<Vec<(usize, String, String)>, RecordError> {
    let mut pairs = Vec::new();
    for (i, entry) in cell.split('|').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let Some((handle, name)) = entry.split_once(':') else {
            return Err(RecordError {
                file: file.to_string(),
                position: Position::CsvSubProfile { line, entry: i + 1 }.to_string(),
                message: format!(
                    "{entry:?} is not a handle:name pair; write for example \
                     \"jiloma-nightshift:Jiloma Night Shift\", pairs separated by |"
                ),
            });
        };
        pairs.push((i + 1, handle.trim().to_string(), name.trim().to_string()));
    }
    Ok(pairs)
}

/// The positions of each creator's first row and each declared sub-profile's first
/// mention are, for messages about later rows that disagree.
#[derive(Default)]
struct Seen {
    creators: HashMap<String, (usize, u64)>,
    sub_profiles: HashMap<String, (u64, String)>,
}

/// Adds one row to its creator's record, creating the record on the
/// creator's first row.
fn add_row(
    file: &str,
    columns: &Columns,
    record: &csv::StringRecord,
    line: u64,
    creators: &mut Vec<RawCreator>,
    seen: &mut Seen,
) -> Result<(), RecordError> {
    let fail = |column: &str, message: String| RecordError {
        file: file.to_string(),
        position: Position::CsvRow(line).field(column),
        message,
    };

    let handle = columns.get(record, "creator_handle");
    let name = columns.get(record, "creator_name");
    if handle.is_empty() {
        return Err(fail(
            "creator_handle",
            "creator_handle is empty; every row names its creator".into(),
        ));
    }

    let index = match seen.creators.get(handle) {
        Some((index, first_line)) => {
            let creator = &mut creators[*index];
            if creator.name.is_empty() {
                creator.name = name.to_string();
            } else if !name.is_empty() && name != creator.name {
                return Err(fail(
                    "creator_name",
                    format!(
                        "creator_name {name:?} differs from {:?} on line {first_line}; \
                         give a creator one name, or leave the cell empty on later rows",
                        creator.name
                    ),
                ));
            }
            *index
        }
        None => {
            seen.creators
                .insert(handle.to_string(), (creators.len(), line));
            creators.push(RawCreator {
                position: Some(Position::CsvRow(line)),
                handle: handle.to_string(),
                name: name.to_string(),
                sub_profiles: Vec::new(),
                jobs: Vec::new(),
            });
            creators.len() - 1
        }
    };
    let creator = &mut creators[index];

    for (entry, sub_handle, sub_name) in
        sub_profiles(file, line, columns.get(record, "sub_profiles"))?
    {
        let position = Position::CsvSubProfile { line, entry };
        match seen.sub_profiles.get(&sub_handle) {
            Some((_, first_name)) if *first_name == sub_name => continue,
            Some((first_line, first_name)) => {
                return Err(RecordError {
                    file: file.to_string(),
                    position: position.to_string(),
                    message: format!(
                        "sub-profile {sub_handle:?} is named {sub_name:?} here but \
                         {first_name:?} on line {first_line}; give it one name"
                    ),
                });
            }
            None => {}
        }
        seen.sub_profiles
            .insert(sub_handle.clone(), (line, sub_name.clone()));
        creator.sub_profiles.push(RawSubProfile {
            position: Some(position),
            handle: sub_handle,
            name: sub_name,
        });
    }

    let has_job = JOB_COLUMNS
        .iter()
        .any(|column| !columns.get(record, column).is_empty());
    if !has_job {
        return Ok(());
    }
    let text = |column: &str| columns.get(record, column).to_string();
    creator.jobs.push(RawJob {
        position: Some(Position::CsvRow(line)),
        job_id: text("job_id"),
        short_code: text("short_code"),
        title: text("title"),
        company: text("company"),
        city: text("city"),
        state: text("state"),
        country: text("country"),
        postal_code: text("postal_code"),
        description: text("description"),
        apply_url: text("apply_url"),
        salary: columns.optional(record, "salary"),
        job_type: columns.optional(record, "job_type"),
        category: columns.optional(record, "category"),
        posted_at: text("posted_at"),
        expires_at: columns.optional(record, "expires_at"),
        status: columns.optional(record, "status"),
    });
    Ok(())
}

/// Reads the file's rows into creator records. Only the layout is checked
/// here; `validate` checks the values.
pub fn parse(file: &str, input: impl Read) -> Result<RawFile, RecordError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(input);
    let header = reader
        .headers()
        .map_err(|err| read_error(file, err, None))?
        .clone();
    let columns = Columns::read(file, &header)?;

    let mut creators = Vec::new();
    let mut seen = Seen::default();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => return Err(read_error(file, err, Some(&header))),
        }
        // Spreadsheets save trailing rows of empty cells; they carry no data.
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let line = record.position().map_or(0, |p| p.line());
        add_row(file, &columns, &record, line, &mut creators, &mut seen)?;
    }
    Ok(RawFile { creators })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "creator_handle,creator_name,sub_profiles,job_id,short_code,title,\
                          company,apply_url,posted_at";

    fn parse_text(text: &str) -> Result<RawFile, RecordError> {
        parse("test.csv", text.as_bytes())
    }

    #[test]
    fn rows_gather_by_creator() {
        let text = format!(
            "{HEADER}\n\
             acme,Acme,acme-a:A,j1,c1,Cook,Acme,https://a.example/1,2026-11-20\n\
             beta,Beta,,j2,c2,Driver,Beta,https://b.example/2,2026-11-20\n\
             acme,,acme-a:A|acme-b:B,j3,c3,\"Cook, senior\",Acme,https://a.example/3,2026-11-20\n"
        );
        let file = parse_text(&text).unwrap();
        assert_eq!(file.creators.len(), 2);
        let acme = &file.creators[0];
        assert_eq!(acme.name, "Acme");
        assert_eq!(acme.position, Some(Position::CsvRow(2)));
        assert_eq!(acme.jobs.len(), 2);
        assert_eq!(acme.jobs[1].title, "Cook, senior");
        assert_eq!(acme.jobs[1].position, Some(Position::CsvRow(4)));
        let handles: Vec<&str> = acme
            .sub_profiles
            .iter()
            .map(|s| s.handle.as_str())
            .collect();
        assert_eq!(handles, ["acme-a", "acme-b"]);
    }

    #[test]
    fn quoted_newline_keeps_record_start_line() {
        let text = format!(
            "{HEADER},description\n\
             acme,Acme,,j1,c1,Cook,Acme,https://a.example/1,2026-11-20,\"two\nlines\"\n\
             acme,Acme,,j2,c2,Cook,Acme,https://a.example/2,2026-11-20,one\n"
        );
        let file = parse_text(&text).unwrap();
        let jobs = &file.creators[0].jobs;
        assert_eq!(jobs[0].description, "two\nlines");
        assert_eq!(jobs[1].position, Some(Position::CsvRow(4)));
    }

    #[test]
    fn row_without_job_declares_creator_only() {
        let text = format!("{HEADER}\nacme,Acme,acme-a:A,,,,,,\n");
        let file = parse_text(&text).unwrap();
        assert_eq!(file.creators[0].jobs.len(), 0);
        assert_eq!(file.creators[0].sub_profiles.len(), 1);
    }

    #[test]
    fn unknown_column_is_named() {
        let err = parse_text("creator_handle,creator_name,titel\n").unwrap_err();
        assert_eq!(err.position, "line 1 (header)");
        assert!(err.message.contains("\"titel\""), "{}", err.message);
    }

    #[test]
    fn missing_required_column_is_named() {
        let err = parse_text("creator_handle,creator_name\n").unwrap_err();
        assert!(err.message.contains("job_id"), "{}", err.message);
    }

    #[test]
    fn conflicting_creator_name_names_both_lines() {
        let text = format!(
            "{HEADER}\n\
             acme,Acme,,j1,c1,Cook,Acme,https://a.example/1,2026-11-20\n\
             acme,Acme Inc,,j2,c2,Cook,Acme,https://a.example/2,2026-11-20\n"
        );
        let err = parse_text(&text).unwrap_err();
        assert_eq!(err.position, "line 3, column creator_name");
        assert!(err.message.contains("\"Acme Inc\""), "{}", err.message);
        assert!(err.message.contains("line 2"), "{}", err.message);
    }

    #[test]
    fn sub_profile_without_name_is_rejected() {
        let text = format!("{HEADER}\nacme,Acme,acme-a:A|acme-b,,,,,,\n");
        let err = parse_text(&text).unwrap_err();
        assert_eq!(err.position, "line 2, column sub_profiles, entry 2");
        assert!(err.message.contains("\"acme-b\""), "{}", err.message);
    }

    #[test]
    fn short_row_names_its_line() {
        let text = format!("{HEADER}\nacme,Acme\n");
        let err = parse_text(&text).unwrap_err();
        assert_eq!(err.position, "line 2");
    }
}
