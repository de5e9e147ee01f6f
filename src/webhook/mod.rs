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

/// Masks the credentials of a URL such as `https://user:password@host/`,
/// user included, because some services put a token there. A value
/// without `scheme://` is masked the same way, so that an invalid URL in
/// an error message keeps its password hidden too.
pub fn mask_url_credentials(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((_, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    format!("{scheme}********@{host}{path}")
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

    #[test]
    fn url_credentials_are_masked() {
        assert_eq!(
            mask_url_credentials("https://hooks:s3cret@example.com/in?x=1"),
            "https://********@example.com/in?x=1"
        );
        assert_eq!(
            mask_url_credentials("https://example.com/a@b"),
            "https://example.com/a@b"
        );
        assert_eq!(
            mask_url_credentials("https://token@example.com/"),
            "https://********@example.com/"
        );
        assert_eq!(
            mask_url_credentials("user:s3cret@example.com/in"),
            "********@example.com/in"
        );
        assert_eq!(
            mask_url_credentials("http://127.0.0.1:9/x"),
            "http://127.0.0.1:9/x"
        );
    }
}
