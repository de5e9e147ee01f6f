//! TIME values of `--since` and `--until` options: an RFC 3339 time, a
//! date, or an age before now.

/// Parses the TIME `text` given to `flag` into the stored RFC 3339 UTC form.
/// TIME is an RFC 3339 time with a zone, a date taken as midnight UTC, or
/// an age such as 30m, 2h or 7d that means that long before now.
pub fn parse(flag: &str, text: &str) -> anyhow::Result<String> {
    if let Ok(time) = crate::import::parse_time(text) {
        return Ok(time);
    }
    if let Ok(age) = crate::duration::parse(text.trim()) {
        let before_now = chrono::Duration::from_std(age)
            .ok()
            .and_then(|age| chrono::Utc::now().checked_sub_signed(age));
        let Some(time) = before_now else {
            anyhow::bail!("invalid value {text:?} for {flag}: the age is too long");
        };
        return Ok(crate::store::format_time(time));
    }
    anyhow::bail!(
        "invalid value {text:?} for {flag}: expected an RFC 3339 time with a zone such as \
         2026-12-01T09:30:00Z, a date such as 2026-12-01 (midnight UTC), or an age such as \
         30m, 2h or 7d"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_is_that_long_before_now() {
        let before = crate::store::format_time(chrono::Utc::now() - chrono::Duration::hours(2));
        let parsed = parse("--since", "2h").unwrap();
        let after = crate::store::format_time(chrono::Utc::now() - chrono::Duration::hours(2));
        assert!(before <= parsed, "{before} > {parsed}");
        assert!(parsed <= after, "{parsed} > {after}");
    }

    #[test]
    fn times_and_dates_keep_their_meaning() {
        assert_eq!(
            parse("--until", "2026-12-01T10:30:00+01:00").unwrap(),
            "2026-12-01T09:30:00.000Z"
        );
        assert_eq!(
            parse("--since", "2026-12-01").unwrap(),
            "2026-12-01T00:00:00.000Z"
        );
    }

    #[test]
    fn invalid_value_names_flag_and_value() {
        let message = parse("--since", "yesterday").unwrap_err().to_string();
        assert!(message.contains("--since"), "{message}");
        assert!(message.contains("\"yesterday\""), "{message}");
        assert!(parse("--since", "99999999999y").is_err());
    }
}
