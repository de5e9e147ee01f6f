//! The retry schedule: when each attempt of a delivery is due, with jitter
//! and with the receiver's `Retry-After` taken into account.

use std::time::{Duration, SystemTime};

use crate::duration;

/// Default delays before attempts 1, 2, 3 and so on: the first attempt
/// is immediate and the last is about 33 hours after the event.
pub const DEFAULT_SCHEDULE: [&str; 8] = ["0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"];

/// Default time limit for one attempt, from connecting to reading the
/// response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Upper bounds that keep times representable and a typo from parking a
/// delivery for years.
const MAX_DELAY: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_ATTEMPTS: usize = 100;
const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// The maximum wait a `Retry-After` header can impose. A receiver that
/// requests more is tried again after this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// The largest random extension of a scheduled delay, as a fraction of it,
/// so that deliveries that failed together do not retry together.
const JITTER: f64 = 0.1;

pub fn default_schedule() -> Vec<Duration> {
    DEFAULT_SCHEDULE
        .iter()
        .map(|text| parse_delay(text).expect("the default schedule parses"))
        .collect()
}

/// Parses one delay of the schedule, at most 7 days.
fn parse_delay(text: &str) -> Result<Duration, String> {
    let delay = duration::parse(text)?;
    if delay > MAX_DELAY {
        return Err(format!(
            "{:?} is longer than the maximum delay of {}",
            text.trim(),
            duration::format(MAX_DELAY)
        ));
    }
    Ok(delay)
}

/// Parses a comma-separated list of delays: the first is the wait before
/// the first attempt, each later one the wait after a failed attempt.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    if text.trim().is_empty() {
        return Err("the schedule is empty; give at least one delay, such as 0s".into());
    }
    let schedule = text
        .split(',')
        .map(parse_delay)
        .collect::<Result<Vec<_>, _>>()?;
    if schedule.len() > MAX_ATTEMPTS {
        return Err(format!(
            "the schedule has {} attempts, more than the maximum of {MAX_ATTEMPTS}",
            schedule.len()
        ));
    }
    Ok(schedule)
}

/// Parses the time limit of one attempt: from 1ms to 10m.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = duration::parse(text)?;
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        return Err(format!(
            "{:?} is outside the range from 1ms to {}",
            text.trim(),
            duration::format(MAX_TIMEOUT)
        ));
    }
    Ok(timeout)
}

/// Returns the wait before the next attempt after `attempts_made` attempts
/// of the current round failed, or `None` when the schedule is used up.
/// `random` is a number in `[0, 1)` that picks the jitter.
pub fn next_delay(
    schedule: &[Duration],
    attempts_made: usize,
    retry_after: Option<Duration>,
    random: f64,
) -> Option<Duration> {
    let scheduled = *schedule.get(attempts_made)?;
    let jittered = scheduled.mul_f64(1.0 + JITTER * random.clamp(0.0, 1.0));
    let requested = retry_after.map_or(Duration::ZERO, |wait| wait.min(MAX_RETRY_AFTER));
    Some(jittered.max(requested))
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date. A date in
/// the past means no wait; a value that is neither is ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn default_schedule_has_eight_attempts() {
        let schedule = default_schedule();
        assert_eq!(schedule.len(), 8);
        assert_eq!(schedule[0], Duration::ZERO);
        assert_eq!(schedule[2], secs(300));
        assert_eq!(schedule[7], secs(36_000));
    }

    #[test]
    fn schedule_parses_units_and_spaces() {
        let schedule = parse_schedule("0s, 100ms,5m ,2h").unwrap();
        assert_eq!(
            schedule,
            vec![
                Duration::ZERO,
                Duration::from_millis(100),
                secs(300),
                secs(7200)
            ]
        );
    }

    #[test]
    fn schedule_rejects_bad_entries() {
        let err = parse_schedule("0s,soon").unwrap_err();
        assert!(err.contains("\"soon\""), "{err}");
        assert!(parse_schedule("").is_err());
        assert!(parse_schedule("0s,,5s").is_err());
        let err = parse_schedule("30d").unwrap_err();
        assert!(err.contains("maximum delay of 7d"), "{err}");
        assert!(parse_schedule(&vec!["1s"; 101].join(",")).is_err());
    }

    #[test]
    fn timeout_must_be_positive_and_bounded() {
        assert_eq!(parse_timeout("15s").unwrap(), secs(15));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("11m").is_err());
        let err = parse_timeout("30d").unwrap_err();
        assert_eq!(err, "\"30d\" is outside the range from 1ms to 10m");
    }

    #[test]
    fn next_delay_follows_the_schedule() {
        let schedule = [Duration::ZERO, secs(5), secs(300)];
        assert_eq!(next_delay(&schedule, 1, None, 0.0), Some(secs(5)));
        assert_eq!(next_delay(&schedule, 2, None, 0.0), Some(secs(300)));
        assert_eq!(next_delay(&schedule, 3, None, 0.0), None);
    }

    #[test]
    fn jitter_extends_by_at_most_a_tenth() {
        let schedule = [Duration::ZERO, secs(100)];
        assert_eq!(next_delay(&schedule, 1, None, 0.5), Some(secs(105)));
        assert_eq!(next_delay(&schedule, 1, None, 1.0), Some(secs(110)));
        assert_eq!(next_delay(&schedule, 1, None, 7.0), Some(secs(110)));
    }

    #[test]
    fn retry_after_lengthens_but_never_shortens() {
        let schedule = [Duration::ZERO, secs(5)];
        assert_eq!(
            next_delay(&schedule, 1, Some(secs(60)), 0.0),
            Some(secs(60))
        );
        assert_eq!(next_delay(&schedule, 1, Some(secs(1)), 0.0), Some(secs(5)));
    }

    #[test]
    fn retry_after_is_capped() {
        let schedule = [Duration::ZERO, secs(5)];
        assert_eq!(
            next_delay(&schedule, 1, Some(secs(30 * 24 * 3600)), 0.0),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + secs(1_445_412_480);
        assert_eq!(parse_retry_after("120", now), Some(secs(120)));
        // 2015-10-21T07:28:00Z is 1_445_412_480 + 120 seconds.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
