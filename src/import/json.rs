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
    /// Where the record is in its file, when the format is not the JSON
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

/// Parses the file's structure; serde's message carries line and column.
pub fn parse(file: &str, text: &str) -> Result<RawFile, RecordError> {
    serde_json::from_str(text).map_err(|err| RecordError {
        file: file.to_string(),
        position: format!("line {}, column {}", err.line(), err.column()),
        message: format!("invalid creators JSON: {err}"),
    })
}
