//! Reading a JSON request body field by field, so that each error names the
//! field and the value at fault.

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::domain;

/// A request body that parsed as a JSON object.
pub struct Fields(Map<String, Value>);

/// Shortens a value for an error message, so a huge input does not come
/// back whole.
pub fn excerpt(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    if value.chars().count() <= MAX_CHARS {
        return value.to_string();
    }
    let mut short: String = value.chars().take(MAX_CHARS).collect();
    short.push('…');
    short
}

fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".into(),
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    format!("{kind} {}", excerpt(&value.to_string()))
}

impl Fields {
    pub fn parse(body: &[u8]) -> Result<Fields, ApiError> {
        let value: Value = serde_json::from_slice(body).map_err(|err| {
            ApiError::bad_field(
                "invalid_json",
                "body",
                format!("request body is not valid JSON: {err}"),
            )
        })?;
        match value {
            Value::Object(map) => Ok(Fields(map)),
            other => Err(ApiError::bad_field(
                "invalid_json",
                "body",
                format!(
                    "request body must be a JSON object, got {}",
                    describe(&other)
                ),
            )),
        }
    }

    /// Returns a string field that may be absent or null.
    pub fn optional_str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(ApiError::bad_field(
                "invalid_field",
                name,
                format!("{name} must be a string, got {}", describe(other)),
            )),
        }
    }

    /// A string field that must be present and non-empty.
    pub fn required_str(&self, name: &str) -> Result<&str, ApiError> {
        match self.optional_str(name)? {
            Some(text) if !text.is_empty() => Ok(text),
            Some(_) => Err(ApiError::bad_field(
                "missing_field",
                name,
                format!("{name} is empty"),
            )),
            None => Err(ApiError::bad_field(
                "missing_field",
                name,
                format!("{name} is required"),
            )),
        }
    }

    /// Returns an identifier field (handle, job_id, short_code): required, at most
    /// `domain::MAX_ID_LEN` bytes, no control characters or spaces.
    pub fn required_id(&self, name: &str) -> Result<&str, ApiError> {
        let value = self.required_str(name)?;
        if value.len() > domain::MAX_ID_LEN {
            return Err(ApiError::bad_field(
                "invalid_field",
                name,
                format!(
                    "{name} is {} bytes long; the limit is {}",
                    value.len(),
                    domain::MAX_ID_LEN
                ),
            ));
        }
        if let Some(bad) = value.chars().find(|c| c.is_control() || c.is_whitespace()) {
            return Err(ApiError::bad_field(
                "invalid_field",
                name,
                format!("{name} {:?} contains {bad:?}", excerpt(value)),
            ));
        }
        Ok(value)
    }

    /// Returns a free-text field checked by `domain::check_text`.
    pub fn required_text(&self, name: &str, max: usize) -> Result<&str, ApiError> {
        let value = self.required_str(name)?;
        domain::check_text(name, value, max)
            .map_err(|message| ApiError::bad_field("invalid_field", name, message))?;
        Ok(value)
    }
}
