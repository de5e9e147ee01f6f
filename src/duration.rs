//! Durations in flags and settings: a whole number and one of the units
//! `ms`, `s`, `m`, `h`, `d` and `w`, or a sum of such terms, such as
//! `1h 30m`.

use std::time::Duration;

/// The accepted form, for error messages and help text.
pub const FORM: &str = "a whole number and a unit (ms, s, m, h, d or w), such as 500ms, 90s, \
                        15m, 12h, 30d or 2w, or a sum such as 1h 30m";

/// Length of each unit in milliseconds. `d` is 24 hours and `w` 7 days.
const UNITS: [(&str, u64); 6] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
];

/// Parses a duration such as `90m`, `1h30m` or `1h 30m`. Spaces may
/// separate the terms and a number from its unit.
pub fn parse(text: &str) -> Result<Duration, String> {
    let invalid = || format!("{text:?} is not a duration: write {FORM}");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }

    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits_end]
            .parse()
            .map_err(|_| format!("{text:?} is too long a duration"))?;
        rest = rest[digits_end..].trim_start();

        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        let Some((_, millis)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(invalid());
        };
        rest = rest[unit_end..].trim_start();

        total = number
            .checked_mul(*millis)
            .map(Duration::from_millis)
            .and_then(|term| total.checked_add(term))
            .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    }
    Ok(total)
}

/// Formats a duration in the form that `parse` reads, such as `1h 30m` or
/// `250ms`, leaving out zero terms. Weeks are written as days, and time
/// below a millisecond is dropped.
pub fn format(duration: Duration) -> String {
    let mut left = duration.as_millis();
    if left == 0 {
        return "0s".to_string();
    }
    let mut terms = Vec::new();
    for (name, millis) in UNITS.iter().rev().filter(|(name, _)| *name != "w") {
        let millis = u128::from(*millis);
        let count = left / millis;
        if count > 0 {
            terms.push(format!("{count}{name}"));
            left -= count * millis;
        }
    }
    terms.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse("90s").unwrap(), secs(90));
        assert_eq!(parse("15m").unwrap(), secs(900));
        assert_eq!(parse("12h").unwrap(), secs(12 * 3600));
        assert_eq!(parse("30d").unwrap(), secs(30 * 86_400));
        assert_eq!(parse("2w").unwrap(), secs(14 * 86_400));
    }

    #[test]
    fn parses_sums_and_spaces() {
        assert_eq!(parse("1h30m").unwrap(), secs(5400));
        assert_eq!(parse(" 1h 30m ").unwrap(), secs(5400));
        assert_eq!(parse("90 m").unwrap(), secs(5400));
        assert_eq!(parse("1s 500ms").unwrap(), Duration::from_millis(1500));
    }

    #[test]
    fn rejects_other_forms() {
        for text in [
            "",
            " ",
            "5",
            "m",
            "1.5h",
            "-5s",
            "5 sec",
            "3 fortnights",
            "2months",
            "1y",
            "5S",
            "1h,2h",
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains("ms, s, m, h, d or w"), "{text:?}: {err}");
        }
    }

    #[test]
    fn rejects_overflow() {
        let err = parse("99999999999999999999s").unwrap_err();
        assert!(err.contains("too long"), "{err}");
        let err = parse("18446744073709551615w").unwrap_err();
        assert!(err.contains("too long"), "{err}");
    }

    #[test]
    fn format_is_read_back() {
        for (duration, text) in [
            (Duration::ZERO, "0s"),
            (Duration::from_millis(100), "100ms"),
            (secs(5), "5s"),
            (secs(5400), "1h 30m"),
            (secs(7 * 86_400), "7d"),
            (Duration::from_millis(90_061_001), "1d 1h 1m 1s 1ms"),
        ] {
            assert_eq!(format(duration), text);
            assert_eq!(parse(text).unwrap(), duration);
        }
    }
}
