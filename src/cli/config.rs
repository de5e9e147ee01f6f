//! `partner-api config check`: shows every effective setting, its value
//! with secrets masked, and where it came from.

use std::io::Write;

use clap::{Args, Subcommand};

use crate::config::{
    DEFAULT_CONFIG_FILE, ENV_CONFIG, ENV_KEY_E2E, ENV_KEY_INTEGRATION, ENV_KEY_LEGACY, Overrides,
    Settings,
};
use crate::duration;
use crate::webhook::mask_url_credentials;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration and print every effective setting
    ///
    /// Each setting comes from a command-line flag, then an environment
    /// variable, then the config file, then the built-in default. Secrets
    /// are masked. Exits with status 1 and names the key, the value and
    /// its source when the configuration is invalid.
    Check(CheckArgs),
}

#[derive(Args)]
pub struct CheckArgs {
    /// Check with this listen address, as `serve --listen` would use it
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

/// Secrets shorter than this are masked whole, because their first
/// characters would be a large share of them.
const MIN_PARTLY_SHOWN_CHARS: usize = 16;
const SHOWN_CHARS: usize = 4;
const NOT_SET: &str = "(not set)";

pub fn run(mut overrides: Overrides, command: ConfigCommand) -> anyhow::Result<()> {
    let ConfigCommand::Check(args) = command;
    overrides.listen = args.listen;
    let settings = Settings::resolve(&overrides)?;
    let mut out = std::io::stdout().lock();

    match &settings.config_file {
        Some(path) => writeln!(out, "config file: {}", path.display()),
        None => writeln!(
            out,
            "config file: none (./{DEFAULT_CONFIG_FILE} does not exist; choose one with --config or {ENV_CONFIG})"
        ),
    }?;
    writeln!(out)?;

    let rows: Vec<Vec<String>> = effective_values(&settings)
        .into_iter()
        .map(|(setting, value)| {
            let source = settings
                .sources
                .get(setting)
                .map_or_else(|| "default".to_string(), ToString::to_string);
            vec![setting.to_string(), value, source]
        })
        .collect();
    super::table::print(&mut out, &["SETTING", "VALUE", "SOURCE"], &rows)?;

    for warning in settings.warnings() {
        eprintln!("warning: {warning}");
    }
    writeln!(out)?;
    writeln!(out, "The configuration is valid.")?;
    Ok(())
}

/// Lists every setting by its `partner.toml` key, with its value as shown.
fn effective_values(settings: &Settings) -> Vec<(&'static str, String)> {
    let env_key = |variable: &str| {
        let key = settings
            .env_keys
            .iter()
            .find(|key| key.variable == variable);
        key.map_or_else(|| NOT_SET.to_string(), |key| mask(&key.value))
    };
    let optional = |value: &Option<String>, show: fn(&str) -> String| {
        value.as_deref().map_or_else(|| NOT_SET.to_string(), show)
    };

    vec![
        ("database", settings.db.display().to_string()),
        ("listen", settings.listen.to_string()),
        (
            "synchronous",
            if settings.synchronous_full {
                "full"
            } else {
                "normal"
            }
            .to_string(),
        ),
        ("public_url", optional(&settings.public_url, str::to_string)),
        ("keys.integration", env_key(ENV_KEY_INTEGRATION)),
        ("keys.e2e", env_key(ENV_KEY_E2E)),
        ("keys.legacy", env_key(ENV_KEY_LEGACY)),
        ("e2e", settings.e2e.to_string()),
        ("limits.max_body_bytes", settings.max_body_bytes.to_string()),
        (
            "limits.header_read_timeout_secs",
            settings.header_read_timeout.as_secs().to_string(),
        ),
        (
            "limits.max_connections",
            settings.max_connections.to_string(),
        ),
        (
            "webhook.url",
            optional(&settings.webhook_url, mask_url_credentials),
        ),
        ("webhook.api_key", optional(&settings.webhook_api_key, mask)),
        ("webhook.secret", optional(&settings.webhook_secret, mask)),
        (
            "webhook.schedule",
            settings
                .webhook_schedule
                .iter()
                .map(|delay| duration::format(*delay))
                .collect::<Vec<_>>()
                .join(","),
        ),
        (
            "webhook.timeout",
            duration::format(settings.webhook_timeout),
        ),
    ]
}

/// Shows the first 4 characters and the length of a secret, or only
/// asterisks when it is short.
fn mask(secret: &str) -> String {
    let length = secret.chars().count();
    if length < MIN_PARTLY_SHOWN_CHARS {
        return "********".to_string();
    }
    let shown: String = secret.chars().take(SHOWN_CHARS).collect();
    format!("{shown}…({length} chars)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resolved_setting_is_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.toml");
        std::fs::write(&path, "").unwrap();
        let overrides = Overrides {
            config: Some(path),
            ..Overrides::default()
        };
        let settings = Settings::resolve(&overrides).unwrap();

        let shown: Vec<&str> = effective_values(&settings)
            .into_iter()
            .map(|(setting, _)| setting)
            .collect();
        let resolved: Vec<&str> = settings.sources.keys().copied().collect();
        let mut shown_sorted = shown.clone();
        shown_sorted.sort_unstable();
        assert_eq!(shown_sorted, resolved);
    }

    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            mask("pk_live_0123456789abcdef0123456789ab"),
            "pk_l…(36 chars)"
        );
        assert_eq!(mask("short-secret"), "********");
    }
}
