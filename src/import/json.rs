//! The JSON creators format, as in `fixtures/creators.json`.

use serde::Deserialize;

use super::{Position, RecordError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub creators: Vec<RawCreator>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCreator {
    /// The record's position in its file, when the format is not the JSON
    /// layout (a CSV line, for example).
    #[serde(skip)]
    pub position: Option<Position>,
    pub handle: String,
    pub name: String,
    #[serde(default)]
    pub sub_profiles: Vec<RawSubProfile>,
    #[serde(default)]
    pub jobs: Vec<RawJob>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubProfile {
    #[serde(skip)]
    pub position: Option<Position>,
    pub handle: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    #[serde(skip)]
    pub position: Option<Position>,
    pub job_id: String,
    pub short_code: String,
    pub title: String,
    pub company: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub description: String,
    pub apply_url: String,
    pub salary: Option<String>,
    pub job_type: Option<String>,
    pub category: Option<String>,
    pub posted_at: String,
    pub expires_at: Option<String>,
    pub status: Option<String>,
}

/// Parses the file's structure. Errors name the record and field path
/// (`creators[0].jobs[3].salary`) as well as the line and column.
pub fn parse(file: &str, text: &str) -> Result<RawFile, RecordError> {
    let error = |position: String, message: String| RecordError {
        file: file.to_string(),
        position,
        message,
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let raw: RawFile = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let place = format!("line {}, column {}", inner.line(), inner.column());
        let position = if path.is_empty() || path == "." {
            place
        } else {
            format!("{path} ({place})")
        };
        error(position, format!("invalid creators JSON: {inner}"))
    })?;
    deserializer.end().map_err(|err| {
        error(
            format!("line {}, column {}", err.line(), err.column()),
            format!("invalid creators JSON: {err}"),
        )
    })?;
    Ok(raw)
}
