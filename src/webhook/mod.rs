//! Webhook delivery of accepted applications: the events, their signatures,
//! the outbox rows written with each application, and the worker that sends
//! them with retries.

pub mod deliveries;
pub mod event;
pub mod outbox;
pub mod schedule;
pub mod send;
pub mod signing;
mod worker;

use std::time::Duration;

use anyhow::Context;

pub use signing::SigningSecret;
pub use worker::{Wakeup, Worker};

use crate::config::Settings;

/// The webhook settings, validated.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    /// Sent as `x-api-key` when set.
    pub api_key: Option<String>,
    /// Signs each attempt when set.
    pub secret: Option<SigningSecret>,
    /// Delays before attempt 1, 2, 3 and so on.
    pub schedule: Vec<Duration>,
    /// Time limit of one attempt.
    pub timeout: Duration,
}

impl WebhookConfig {
    /// Returns `None` when no webhook URL is configured.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<WebhookConfig>> {
        let Some(url) = &settings.webhook_url else {
            return Ok(None);
        };
        let secret = match &settings.webhook_secret {
            Some(text) => Some(
                SigningSecret::parse(text)
                    .map_err(anyhow::Error::msg)
                    .context("invalid setting `webhook.secret`")?,
            ),
            None => None,
        };
        Ok(Some(WebhookConfig {
            url: url.clone(),
            api_key: settings.webhook_api_key.clone(),
            secret,
            schedule: settings.webhook_schedule.clone(),
            timeout: settings.webhook_timeout,
        }))
    }

    /// Returns the URL's host for logs, which leave out the path and query
    /// because they may carry tokens.
    pub fn host(&self) -> String {
        self.url
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| uri.host().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Checks a webhook URL: absolute `http` or `https` with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|err| format!("not a valid URL ({err})"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err("expected an http:// or https:// URL".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_needs_http_scheme_and_host() {
        assert!(check_url("https://hooks.example.com/partner?token=1").is_ok());
        assert!(check_url("http://127.0.0.1:9000/").is_ok());
        assert!(check_url("ftp://example.com/").is_err());
        assert!(check_url("hooks.example.com/partner").is_err());
        assert!(check_url("https://").is_err());
    }
}
