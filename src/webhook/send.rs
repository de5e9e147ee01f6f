//! One HTTP attempt: POST the event body to the webhook URL with the
//! configured headers and report what happened.

use std::io::Read;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::WebhookConfig;
use super::schedule::parse_retry_after;

/// The maximum number of response body bytes kept with an attempt.
pub const SNIPPET_BYTES: usize = 500;
/// The maximum time to wait for a TCP (and TLS) connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The result of one attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Why no response arrived: connection refused, timed out and so on.
    pub error: Option<String>,
    /// From the start of the request to the end of reading the snippet.
    pub latency: Duration,
    /// The start of the response body, at most `SNIPPET_BYTES` bytes.
    pub snippet: Option<String>,
    /// The wait the receiver asked for with `Retry-After` on a 429 or 503.
    pub retry_after: Option<Duration>,
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }

    /// Formats a one-line summary for logs and listings: `HTTP 503` or the
    /// error.
    pub fn summary(&self) -> String {
        match (self.status, &self.error) {
            (Some(status), _) => format!("HTTP {status}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "no response".into(),
        }
    }
}

/// Sends events to the configured URL; shared by the worker's threads.
pub struct Sender {
    agent: ureq::Agent,
    config: WebhookConfig,
}

impl Sender {
    pub fn new(config: WebhookConfig) -> Sender {
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_connect(Some(CONNECT_TIMEOUT.min(config.timeout)))
                .timeout_global(Some(config.timeout))
                .user_agent(concat!("partner-api/", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        Sender { agent, config }
    }

    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// POSTs `body` once. `webhook-id` and `webhook-timestamp` are always
    /// sent and `webhook-signature` when a secret is configured; the
    /// timestamp is the time of this attempt, as Standard Webhooks requires.
    pub fn send(&self, event_id: &str, body: &str) -> Outcome {
        let timestamp = unix_seconds(SystemTime::now());
        let mut request = self
            .agent
            .post(&self.config.url)
            .header("content-type", "application/json")
            .header("webhook-id", event_id)
            .header("webhook-timestamp", timestamp.to_string());
        if let Some(key) = &self.config.api_key {
            request = request.header("x-api-key", key);
        }
        if let Some(secret) = &self.config.secret {
            let signature = secret.sign(event_id, timestamp, body.as_bytes());
            request = request.header("webhook-signature", signature);
        }

        let started = Instant::now();
        let response = match request.send(body) {
            Ok(response) => response,
            Err(err) => {
                return Outcome {
                    status: None,
                    error: Some(describe_error(&err)),
                    latency: started.elapsed(),
                    snippet: None,
                    retry_after: None,
                };
            }
        };

        let status = response.status().as_u16();
        let retry_after = if status == 429 || status == 503 {
            response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, SystemTime::now()))
        } else {
            None
        };
        let snippet = read_snippet(response.into_body());
        Outcome {
            status: Some(status),
            error: None,
            latency: started.elapsed(),
            snippet,
            retry_after,
        }
    }
}

fn unix_seconds(time: SystemTime) -> i64 {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

fn describe_error(err: &ureq::Error) -> String {
    match err {
        ureq::Error::Timeout(_) => format!("timed out ({err})"),
        ureq::Error::HostNotFound => "host not found".into(),
        _ => err.to_string(),
    }
}

/// Reads at most `SNIPPET_BYTES` of the body. A body that breaks off
/// early keeps what arrived; an empty body gives `None`.
fn read_snippet(body: ureq::Body) -> Option<String> {
    let mut bytes = Vec::with_capacity(SNIPPET_BYTES);
    let _ = body
        .into_reader()
        .take(SNIPPET_BYTES as u64)
        .read_to_end(&mut bytes);
    if bytes.is_empty() {
        return None;
    }
    Some(truncate_utf8(
        &String::from_utf8_lossy(&bytes),
        SNIPPET_BYTES,
    ))
}

/// Cuts `text` to at most `max` bytes on a character boundary. Replacement
/// characters from lossy decoding can make the text longer than its bytes.
fn truncate_utf8(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_whole_characters() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }

    #[test]
    fn summary_prefers_the_status() {
        let outcome = Outcome {
            status: Some(503),
            error: None,
            latency: Duration::ZERO,
            snippet: None,
            retry_after: None,
        };
        assert_eq!(outcome.summary(), "HTTP 503");
        assert!(!outcome.is_success());
    }
}
