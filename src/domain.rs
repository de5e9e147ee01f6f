//! Partner attribution rules: sub_id syntax, the test-mode bypass and the
//! limits on values that partners send. Pure functions, no I/O.

/// Maximum length in bytes of a handle, sub_id, job_id or short_code.
pub const MAX_ID_LEN: usize = 128;
/// Maximum length in bytes of the `x-partner-test-run-id` header.
pub const MAX_TEST_RUN_ID_LEN: usize = 128;
/// Maximum length in bytes of a click `source`.
pub const MAX_SOURCE_LEN: usize = 128;
/// Maximum length in bytes of an applicant's email address (RFC 5321).
pub const MAX_EMAIL_LEN: usize = 254;
/// Maximum length in bytes of an applicant's first or last name.
pub const MAX_NAME_LEN: usize = 200;

/// Marker that makes a sub_id a test sub_id in test mode.
pub const E2E_MARKER: &str = "-e2e-";

/// The check that a syntactically valid sub_id still needs.
#[derive(Debug, PartialEq, Eq)]
pub enum SubIdCheck {
    /// The sub_id must be the handle of a sub-profile of the creator.
    NeedsSubProfile,
    /// Test mode accepts the sub_id without a sub-profile.
    TestBypass,
}

/// The reason a sub_id was rejected, as the message sent to the partner.
#[derive(Debug, PartialEq, Eq)]
pub struct SubIdError(pub String);

/// Checks that `sub_id` has the form `<creator_handle>-<suffix>` with a
/// non-empty suffix of URL-safe characters, and returns whether test mode
/// accepts it without a sub-profile.
pub fn check_sub_id(
    creator_handle: &str,
    sub_id: &str,
    test_mode: bool,
) -> Result<SubIdCheck, SubIdError> {
    if sub_id.len() > MAX_ID_LEN {
        return Err(SubIdError(format!(
            "sub_id is {} bytes long; the limit is {MAX_ID_LEN}",
            sub_id.len()
        )));
    }
    let prefix = format!("{creator_handle}-");

    let Some(suffix) = sub_id.strip_prefix(&prefix) else {
        return Err(SubIdError(format!(
            "sub_id {sub_id:?} must start with {prefix:?}"
        )));
    };
    if suffix.is_empty() {
        return Err(SubIdError(format!(
            "sub_id {sub_id:?} needs a suffix after {prefix:?}"
        )));
    }
    if let Some(bad) = suffix.chars().find(|c| !is_id_char(*c)) {
        return Err(SubIdError(format!(
            "sub_id {sub_id:?} contains {bad:?}; use letters, digits, '-', '_', '.' or '~'"
        )));
    }

    // Only the suffix counts, so that a creator whose own handle contains
    // the marker does not put every one of its sub_ids in test mode.
    if test_mode && format!("-{suffix}").contains(E2E_MARKER) {
        return Ok(SubIdCheck::TestBypass);
    }
    Ok(SubIdCheck::NeedsSubProfile)
}

/// Characters allowed in ids: the URL-unreserved set of RFC 3986.
pub fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')
}

/// Checks a profile handle from an import: lowercase letters, digits and
/// hyphens, not starting or ending with a hyphen.
pub fn check_handle(handle: &str) -> Result<(), String> {
    if handle.is_empty() {
        return Err("handle is empty".into());
    }
    if handle.len() > MAX_ID_LEN {
        return Err(format!(
            "handle is {} bytes long; the limit is {MAX_ID_LEN}",
            handle.len()
        ));
    }
    if let Some(bad) = handle
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "handle {handle:?} contains {bad:?}; use lowercase letters, digits and '-'"
        ));
    }
    if handle.starts_with('-') || handle.ends_with('-') {
        return Err(format!("handle {handle:?} must not start or end with '-'"));
    }
    Ok(())
}

/// Checks the `x-partner-test-run-id` header value: 1 to 128 visible ASCII
/// characters, so that it is safe in logs, CSV and query strings.
pub fn check_test_run_id(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("x-partner-test-run-id is empty; omit the header or give a value".into());
    }
    if value.len() > MAX_TEST_RUN_ID_LEN {
        return Err(format!(
            "x-partner-test-run-id is {} bytes long; the limit is {MAX_TEST_RUN_ID_LEN}",
            value.len()
        ));
    }
    if let Some(bad) = value.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "x-partner-test-run-id {value:?} contains {bad:?}; use visible ASCII characters"
        ));
    }
    Ok(())
}

/// Checks an applicant's email address: one `@` with text on both sides,
/// a dot in the domain, no whitespace or control characters.
pub fn check_email(email: &str) -> Result<(), String> {
    if email.len() > MAX_EMAIL_LEN {
        return Err(format!(
            "applicant_email is {} bytes long; the limit is {MAX_EMAIL_LEN}",
            email.len()
        ));
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    };
    if !valid || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "applicant_email {email:?} is not an email address like name@example.com"
        ));
    }
    Ok(())
}

/// Tells whether `c` is an invisible character that changes how text
/// around it displays: bidirectional overrides and isolates, zero-width
/// characters, the line and paragraph separators, and the byte order mark.
/// Zero-width joiners are allowed, because emoji sequences use them.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Checks a free-text value such as a name or source: not blank, within
/// `max` bytes, no control characters.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} is empty"));
    }
    if value.len() > max {
        return Err(format!(
            "{field} is {} bytes long; the limit is {max}",
            value.len()
        ));
    }
    if let Some(bad) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{field} {value:?} contains the control character {bad:?}"
        ));
    }
    if let Some(bad) = value.chars().find(|c| is_invisible_format(*c)) {
        return Err(format!(
            "{field} {value:?} contains the invisible formatting character {bad:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_id_of_creator_needs_sub_profile() {
        assert_eq!(
            check_sub_id("jiloma", "jiloma-rthgip", false),
            Ok(SubIdCheck::NeedsSubProfile)
        );
    }

    #[test]
    fn sub_id_with_other_prefix_is_rejected() {
        let err = check_sub_id("jiloma", "acme-1", false).unwrap_err();
        assert_eq!(err.0, r#"sub_id "acme-1" must start with "jiloma-""#);
    }

    #[test]
    fn sub_id_equal_to_handle_is_rejected() {
        assert!(check_sub_id("jiloma", "jiloma", false).is_err());
        assert!(check_sub_id("jiloma", "jiloma-", false).is_err());
    }

    #[test]
    fn sub_id_of_hyphenated_creator() {
        assert_eq!(
            check_sub_id("north-star", "north-star-weekly", false),
            Ok(SubIdCheck::NeedsSubProfile)
        );
        assert!(check_sub_id("north-star", "north-weekly", false).is_err());
    }

    #[test]
    fn sub_id_with_unsafe_characters_is_rejected() {
        for bad in [
            "jiloma-a b",
            "jiloma-a/b",
            "jiloma-a&b",
            "jiloma-é",
            "jiloma-a\n",
        ] {
            assert!(check_sub_id("jiloma", bad, false).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sub_id_too_long_is_rejected() {
        let long = format!("jiloma-{}", "a".repeat(MAX_ID_LEN));
        assert!(check_sub_id("jiloma", &long, false).is_err());
    }

    #[test]
    fn e2e_sub_id_bypasses_only_in_test_mode() {
        assert_eq!(
            check_sub_id("jiloma", "jiloma-e2e-smoke", true),
            Ok(SubIdCheck::TestBypass)
        );
        assert_eq!(
            check_sub_id("jiloma", "jiloma-e2e-smoke", false),
            Ok(SubIdCheck::NeedsSubProfile)
        );
    }

    #[test]
    fn e2e_marker_in_handle_does_not_bypass() {
        assert_eq!(
            check_sub_id("team-e2e-x", "team-e2e-x-weekly", true),
            Ok(SubIdCheck::NeedsSubProfile)
        );
        assert_eq!(
            check_sub_id("team-e2e-x", "team-e2e-x-e2e-run", true),
            Ok(SubIdCheck::TestBypass)
        );
    }

    #[test]
    fn e2e_sub_id_still_needs_prefix() {
        assert!(check_sub_id("jiloma", "other-e2e-smoke", true).is_err());
    }

    #[test]
    fn handle_rules() {
        assert!(check_handle("north-star-jobs").is_ok());
        assert!(check_handle("Jiloma").is_err());
        assert!(check_handle("-jiloma").is_err());
        assert!(check_handle("").is_err());
    }

    #[test]
    fn test_run_id_rules() {
        assert!(check_test_run_id("partner-smoke-001").is_ok());
        assert!(check_test_run_id("").is_err());
        assert!(check_test_run_id("a b").is_err());
        assert!(check_test_run_id(&"x".repeat(129)).is_err());
    }

    #[test]
    fn text_rejects_bidi_override() {
        assert!(check_text("source", "\u{202E}evil", 64).is_err());
        assert!(check_text("source", "a\u{2028}b", 64).is_err());
        assert!(check_text("source", "👩\u{200D}💻 team", 64).is_ok());
    }

    #[test]
    fn email_rules() {
        assert!(check_email("candidate@example.com").is_ok());
        for bad in [
            "",
            "candidate",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@b.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
    }
}
