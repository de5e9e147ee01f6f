//! Checks every record of an import before anything is written, and
//! normalizes times to stored UTC text.

use std::collections::{HashMap, HashSet};

use super::json::{RawCreator, RawFile, RawJob};
use super::{Position, RecordError};
use crate::domain;

#[derive(Debug, Clone, PartialEq)]
pub struct CreatorRecord {
    pub position: Position,
    pub handle: String,
    pub name: String,
    pub sub_profiles: Vec<SubProfileRecord>,
    pub jobs: Vec<JobRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubProfileRecord {
    pub position: Position,
    pub handle: String,
    pub name: String,
}

/// A job as stored; every time is normalized RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub position: Position,
    pub job_id: String,
    pub short_code: String,
    pub title: String,
    pub company: String,
    pub city: String,
    pub state: String,
    pub country: String,
    pub postal_code: String,
    pub description: String,
    pub apply_url: String,
    pub salary: Option<String>,
    pub job_type: Option<String>,
    pub category: Option<String>,
    pub posted_at: String,
    pub expires_at: Option<String>,
    pub status: String,
}

/// Maximum length of a short text field (title, company, place names).
const MAX_SHORT_TEXT: usize = 500;
/// Maximum length of a description: 1 MiB.
const MAX_DESCRIPTION: usize = 1024 * 1024;
/// Maximum length of an apply URL.
const MAX_URL: usize = 2048;

/// Parses an RFC 3339 time with a zone, or a plain date taken as midnight
/// UTC, and returns the stored form.
pub fn parse_time(value: &str) -> Result<String, String> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(crate::store::format_time(time.to_utc()));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let midnight = date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        return Ok(crate::store::format_time(midnight));
    }
    Err(format!(
        "{value:?} is not an RFC 3339 time with a zone (like 2026-11-20T09:00:00Z) or a date (like 2026-11-20)"
    ))
}

/// Checks an apply URL and returns it in the normalized form that the
/// click redirect sends as `Location`: an absolute http or https URL with
/// a host, at most `MAX_URL` bytes.
pub fn check_apply_url(value: &str) -> Result<String, String> {
    if value.len() > MAX_URL {
        return Err(format!(
            "apply_url is {} bytes long; the limit is {MAX_URL}",
            value.len()
        ));
    }
    if let Some(bad) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "apply_url {value:?} contains {bad:?}; percent-encode it (a space is %20)"
        ));
    }
    let parsed = url::Url::parse(value)
        .map_err(|err| format!("apply_url {value:?} is not a valid URL: {err}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "apply_url {value:?} must be an http:// or https:// URL with a host"
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "apply_url {value:?} contains a user name or password; remove the part before '@'"
        ));
    }
    Ok(parsed.to_string())
}

struct Checker<'a> {
    file: &'a str,
    errors: Vec<RecordError>,
}

impl Checker<'_> {
    fn fail(&mut self, position: &Position, field: &str, message: String) {
        self.errors.push(RecordError {
            file: self.file.to_string(),
            position: position.field(field),
            message,
        });
    }

    /// Checks a text field's length, and that a required one is not blank.
    /// Control characters are kept here; the feed writer removes those that
    /// XML cannot carry.
    fn text(&mut self, position: &Position, field: &str, value: &str, max: usize, required: bool) {
        if required && value.trim().is_empty() {
            self.fail(position, field, format!("{field} is empty"));
        } else if value.len() > max {
            self.fail(
                position,
                field,
                format!("{field} is {} bytes long; the limit is {max}", value.len()),
            );
        }
    }

    /// Checks a profile's display name like a required text, and rejects
    /// control characters in it, as the HTTP API does for names.
    fn name(&mut self, position: &Position, value: &str) {
        self.text(position, "name", value, MAX_SHORT_TEXT, true);
        if let Some(bad) = value.chars().find(|c| c.is_control()) {
            self.fail(
                position,
                "name",
                format!("name {value:?} contains the control character {bad:?}; remove it"),
            );
        }
    }

    fn id(&mut self, position: &Position, field: &str, value: &str) {
        if value.is_empty() {
            self.fail(position, field, format!("{field} is empty"));
        } else if value.len() > domain::MAX_ID_LEN {
            self.fail(
                position,
                field,
                format!(
                    "{field} is {} bytes long; the limit is {}",
                    value.len(),
                    domain::MAX_ID_LEN
                ),
            );
        } else if let Some(bad) = value.chars().find(|c| !domain::is_id_char(*c)) {
            self.fail(
                position,
                field,
                format!(
                    "{field} {value:?} contains {bad:?}; use letters, digits, '-', '_', '.' or '~'"
                ),
            );
        }
    }
}

fn job_record(checker: &mut Checker<'_>, position: Position, raw: RawJob) -> JobRecord {
    checker.id(&position, "job_id", &raw.job_id);
    checker.id(&position, "short_code", &raw.short_code);
    checker.text(&position, "title", &raw.title, MAX_SHORT_TEXT, true);
    checker.text(&position, "company", &raw.company, MAX_SHORT_TEXT, true);
    for (field, value) in [
        ("city", &raw.city),
        ("state", &raw.state),
        ("country", &raw.country),
        ("postal_code", &raw.postal_code),
    ] {
        checker.text(&position, field, value, MAX_SHORT_TEXT, false);
    }
    checker.text(
        &position,
        "description",
        &raw.description,
        MAX_DESCRIPTION,
        false,
    );
    for (field, value) in [
        ("salary", &raw.salary),
        ("job_type", &raw.job_type),
        ("category", &raw.category),
    ] {
        if let Some(value) = value {
            checker.text(&position, field, value, MAX_SHORT_TEXT, false);
        }
    }

    let apply_url = check_apply_url(&raw.apply_url).unwrap_or_else(|message| {
        checker.fail(&position, "apply_url", message);
        String::new()
    });

    let posted_at = parse_time(&raw.posted_at).unwrap_or_else(|message| {
        checker.fail(&position, "posted_at", format!("posted_at {message}"));
        String::new()
    });
    let expires_at = raw.expires_at.as_deref().map(|value| {
        parse_time(value).unwrap_or_else(|message| {
            checker.fail(&position, "expires_at", format!("expires_at {message}"));
            String::new()
        })
    });
    // Both times are in the stored form, so they compare as text.
    if let Some(expires_at) = &expires_at
        && !expires_at.is_empty()
        && !posted_at.is_empty()
        && *expires_at < posted_at
    {
        checker.fail(
            &position,
            "expires_at",
            format!(
                "expires_at {expires_at} is before posted_at {posted_at}; give a later \
                 expires_at, or leave it empty for a job that does not expire"
            ),
        );
    }

    let status = raw.status.unwrap_or_else(|| "open".into());
    if status != "open" && status != "closed" {
        checker.fail(
            &position,
            "status",
            format!("status {status:?} must be \"open\" or \"closed\""),
        );
    }

    JobRecord {
        position,
        job_id: raw.job_id,
        short_code: raw.short_code,
        title: raw.title,
        company: raw.company,
        city: raw.city,
        state: raw.state,
        country: raw.country,
        postal_code: raw.postal_code,
        description: raw.description,
        apply_url,
        salary: raw.salary.filter(|v| !v.is_empty()),
        job_type: raw.job_type.filter(|v| !v.is_empty()),
        category: raw.category.filter(|v| !v.is_empty()),
        posted_at,
        expires_at,
        status,
    }
}

fn creator_record(checker: &mut Checker<'_>, index: usize, raw: RawCreator) -> CreatorRecord {
    let position = raw
        .position
        .unwrap_or_else(|| Position::Path(format!("creators[{index}]")));
    if let Err(message) = domain::check_handle(&raw.handle) {
        checker.fail(&position, "handle", message);
    }
    checker.name(&position, &raw.name);

    let prefix = format!("{}-", raw.handle);
    let mut sub_profiles = Vec::new();
    for (i, sub) in raw.sub_profiles.into_iter().enumerate() {
        let sub_position = sub
            .position
            .unwrap_or_else(|| Position::Path(format!("{position}.sub_profiles[{i}]")));
        if let Err(message) = domain::check_handle(&sub.handle) {
            checker.fail(&sub_position, "handle", message);
        } else if !sub.handle.starts_with(&prefix) || sub.handle.len() == prefix.len() {
            checker.fail(
                &sub_position,
                "handle",
                format!(
                    "sub-profile handle {:?} must start with {prefix:?} and have a suffix",
                    sub.handle
                ),
            );
        }
        checker.name(&sub_position, &sub.name);
        sub_profiles.push(SubProfileRecord {
            position: sub_position,
            handle: sub.handle,
            name: sub.name,
        });
    }

    let mut jobs = Vec::new();
    for (j, job) in raw.jobs.into_iter().enumerate() {
        let job_position = job
            .position
            .clone()
            .unwrap_or_else(|| Position::Path(format!("{position}.jobs[{j}]")));
        jobs.push(job_record(checker, job_position, job));
    }

    CreatorRecord {
        position,
        handle: raw.handle,
        name: raw.name,
        sub_profiles,
        jobs,
    }
}

/// Checks rules that span records: unique handles, job_ids unique within a
/// creator, short codes unique across the file.
fn check_uniqueness(checker: &mut Checker<'_>, creators: &[CreatorRecord]) {
    let mut handles: HashMap<&str, &Position> = HashMap::new();
    let mut short_codes: HashMap<&str, &Position> = HashMap::new();
    for creator in creators {
        let profiles = std::iter::once((&creator.position, &creator.handle)).chain(
            creator
                .sub_profiles
                .iter()
                .map(|sub| (&sub.position, &sub.handle)),
        );
        for (position, handle) in profiles {
            if let Some(first) = handles.insert(handle, position) {
                checker.fail(
                    position,
                    "handle",
                    format!("handle {handle:?} is also used at {first}"),
                );
            }
        }

        let mut job_ids = HashSet::new();
        for job in &creator.jobs {
            if !job_ids.insert(job.job_id.as_str()) {
                checker.fail(
                    &job.position,
                    "job_id",
                    format!(
                        "job_id {:?} appears twice for creator {:?}",
                        job.job_id, creator.handle
                    ),
                );
            }
            if let Some(first) = short_codes.insert(&job.short_code, &job.position) {
                checker.fail(
                    &job.position,
                    "short_code",
                    format!("short_code {:?} is also used at {first}", job.short_code),
                );
            }
        }
    }
}

/// Maximum number of errors listed before the rest are counted.
const MAX_LISTED_ERRORS: usize = 20;

/// Validates the whole file; on failure the error lists the first problems
/// with their positions.
pub fn validate(file: &str, raw: RawFile) -> anyhow::Result<Vec<CreatorRecord>> {
    let mut checker = Checker {
        file,
        errors: Vec::new(),
    };
    let creators: Vec<CreatorRecord> = raw
        .creators
        .into_iter()
        .enumerate()
        .map(|(i, creator)| creator_record(&mut checker, i, creator))
        .collect();
    check_uniqueness(&mut checker, &creators);

    if checker.errors.is_empty() {
        return Ok(creators);
    }
    let total = checker.errors.len();
    let mut message = format!("{file}: {total} invalid value(s); nothing was imported");
    for err in checker.errors.iter().take(MAX_LISTED_ERRORS) {
        message.push_str(&format!("\n  {}: {}", err.position, err.message));
    }
    if total > MAX_LISTED_ERRORS {
        message.push_str(&format!("\n  … and {} more", total - MAX_LISTED_ERRORS));
    }
    anyhow::bail!(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_time_normalizes_to_utc() {
        assert_eq!(
            parse_time("2026-11-20T10:00:00+01:00").unwrap(),
            "2026-11-20T09:00:00.000Z"
        );
        assert_eq!(
            parse_time("2026-11-20").unwrap(),
            "2026-11-20T00:00:00.000Z"
        );
    }

    #[test]
    fn apply_url_rules() {
        assert_eq!(
            check_apply_url("https://jobs.example.org/apply?id=77&ref=feed").unwrap(),
            "https://jobs.example.org/apply?id=77&ref=feed"
        );
        for bad in [
            "ftp://example.com/x",
            "/apply",
            "https://x\"><script>",
            "javascript:alert(1)",
            "https:// spaced.example.com",
            "https://exa\nmple.com/a",
            "https://user:pw@jobs.example.com/",
        ] {
            assert!(check_apply_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parse_time_rejects_time_without_zone() {
        assert!(parse_time("2026-11-20T09:00:00").is_err());
        assert!(parse_time("yesterday").is_err());
    }
}
