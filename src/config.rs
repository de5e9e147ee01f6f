//! Effective settings: each one from a command-line flag, an environment
//! variable, `partner.toml` or the built-in default, in that order.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::webhook;

pub const DEFAULT_CONFIG_FILE: &str = "partner.toml";
pub const DEFAULT_DB: &str = "partner.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Where an effective setting came from, for `config check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env(&'static str),
    File,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("command-line flag"),
            Source::Env(name) => write!(f, "environment variable {name}"),
            Source::File => f.write_str("config file"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// The contents of `partner.toml`. Every key is optional; an unknown key is
/// an error so that a typo never falls back to a default silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database: Option<PathBuf>,
    /// `normal` or `full`: SQLite's `synchronous` setting.
    pub synchronous: Option<String>,
    /// Base URL of the public click links in feeds, for example
    /// `https://jobs.example.com` behind a proxy.
    pub public_url: Option<String>,
    #[serde(default)]
    pub keys: FileKeys,
    /// Accept `-e2e-` sub_ids without a sub-profile.
    pub e2e: Option<bool>,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub webhook: FileWebhook,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileKeys {
    pub integration: Option<String>,
    pub e2e: Option<String>,
    pub legacy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub max_body_bytes: Option<usize>,
    pub header_read_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileWebhook {
    pub url: Option<String>,
    pub api_key: Option<String>,
    pub secret: Option<String>,
    /// Delays before attempt 1, 2, 3 and so on, such as `["0s", "5s", "5m"]`.
    pub schedule: Option<Vec<String>>,
    /// Time limit of one attempt, such as `15s`.
    pub timeout: Option<String>,
}

/// Flags that override the environment and the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub db: Option<PathBuf>,
    pub listen: Option<String>,
}

/// One of the accepted environment keys: the variable's name and its value.
#[derive(Clone)]
pub struct EnvKey {
    pub variable: &'static str,
    pub value: String,
}

#[derive(Clone)]
pub struct Settings {
    pub db: PathBuf,
    pub listen: SocketAddr,
    pub synchronous_full: bool,
    pub public_url: Option<String>,
    pub env_keys: Vec<EnvKey>,
    pub e2e: bool,
    pub max_body_bytes: usize,
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub webhook_url: Option<String>,
    pub webhook_api_key: Option<String>,
    pub webhook_secret: Option<String>,
    /// Delays before attempt 1, 2, 3 and so on of each webhook delivery.
    pub webhook_schedule: Vec<Duration>,
    pub webhook_timeout: Duration,
    /// Where each setting came from, by name, for `config check`.
    pub sources: BTreeMap<&'static str, Source>,
}

pub const ENV_CONFIG: &str = "PARTNER_API_CONFIG";
pub const ENV_DB: &str = "PARTNER_API_DB";
pub const ENV_LISTEN: &str = "PARTNER_API_LISTEN";
pub const ENV_SYNCHRONOUS: &str = "PARTNER_API_SYNCHRONOUS";
pub const ENV_PUBLIC_URL: &str = "PARTNER_API_PUBLIC_URL";
pub const ENV_KEY_INTEGRATION: &str = "PARTNER_INTEGRATION_API_KEY";
pub const ENV_KEY_E2E: &str = "PARTNER_INTEGRATION_E2E_API_KEY";
pub const ENV_KEY_LEGACY: &str = "SENDERCIRCLE_API_KEY";
pub const ENV_E2E: &str = "PARTNER_INTEGRATION_E2E";
pub const ENV_MAX_BODY_BYTES: &str = "PARTNER_API_MAX_BODY_BYTES";
pub const ENV_HEADER_READ_TIMEOUT: &str = "PARTNER_API_HEADER_READ_TIMEOUT_SECS";
pub const ENV_MAX_CONNECTIONS: &str = "PARTNER_API_MAX_CONNECTIONS";
pub const ENV_WEBHOOK_URL: &str = "PARTNER_APPLICATION_WEBHOOK_URL";
pub const ENV_WEBHOOK_API_KEY: &str = "PARTNER_APPLICATION_WEBHOOK_API_KEY";
pub const ENV_WEBHOOK_SECRET: &str = "PARTNER_APPLICATION_WEBHOOK_SECRET";
pub const ENV_WEBHOOK_SCHEDULE: &str = "PARTNER_APPLICATION_WEBHOOK_SCHEDULE";
pub const ENV_WEBHOOK_TIMEOUT: &str = "PARTNER_APPLICATION_WEBHOOK_TIMEOUT";

/// Reads an environment variable, treating an empty value as unset.
fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Resolves one setting through flag, environment, file and default.
struct Resolver<'a> {
    sources: &'a mut BTreeMap<&'static str, Source>,
}

impl Resolver<'_> {
    fn pick(
        &mut self,
        setting: &'static str,
        flag: Option<String>,
        env: &'static str,
        file: Option<String>,
    ) -> Option<String> {
        let (value, source) = if let Some(value) = flag {
            (Some(value), Source::Flag)
        } else if let Some(value) = env_value(env) {
            (Some(value), Source::Env(env))
        } else if let Some(value) = file {
            (Some(value), Source::File)
        } else {
            (None, Source::Default)
        };
        self.sources.insert(setting, source);
        value
    }
}

fn parse_setting<T: std::str::FromStr>(setting: &str, value: &str) -> anyhow::Result<T>
where
    T::Err: fmt::Display,
{
    value
        .parse()
        .map_err(|err| anyhow::anyhow!("invalid value {value:?} for setting `{setting}`: {err}"))
}

fn parse_bool(setting: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => bail!("invalid value {value:?} for setting `{setting}`: expected true or false"),
    }
}

/// Loads the config file: the `--config` path or `PARTNER_API_CONFIG` must
/// exist; the default `./partner.toml` is read only when it exists.
pub fn load_file(path: Option<&Path>) -> anyhow::Result<(FileConfig, Option<PathBuf>)> {
    let explicit = path
        .map(Path::to_path_buf)
        .or_else(|| env_value(ENV_CONFIG).map(PathBuf::from));
    let path = match explicit {
        Some(path) => path,
        None => {
            let default = PathBuf::from(DEFAULT_CONFIG_FILE);
            if !default.exists() {
                return Ok((FileConfig::default(), None));
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let file: FileConfig = toml::from_str(&text)
        .map_err(|err| anyhow::anyhow!("invalid config file {}: {err}", path.display()))?;
    Ok((file, Some(path)))
}

impl Settings {
    /// Builds the effective settings from flags, environment and file.
    pub fn resolve(overrides: &Overrides) -> anyhow::Result<Settings> {
        let (file, _) = load_file(overrides.config.as_deref())?;
        let mut sources = BTreeMap::new();
        let mut r = Resolver {
            sources: &mut sources,
        };

        let db = r
            .pick(
                "database",
                overrides.db.as_ref().map(|p| p.display().to_string()),
                ENV_DB,
                file.database.map(|p| p.display().to_string()),
            )
            .unwrap_or_else(|| DEFAULT_DB.to_string());

        let listen = r
            .pick("listen", overrides.listen.clone(), ENV_LISTEN, file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen: SocketAddr = parse_setting("listen", &listen)?;

        let synchronous_full = match r
            .pick("synchronous", None, ENV_SYNCHRONOUS, file.synchronous)
            .as_deref()
        {
            None | Some("normal") => false,
            Some("full") => true,
            Some(other) => {
                bail!("invalid value {other:?} for setting `synchronous`: expected normal or full")
            }
        };

        let public_url = r
            .pick("public_url", None, ENV_PUBLIC_URL, file.public_url)
            .map(|url| url.trim_end_matches('/').to_string());
        if let Some(url) = &public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!(
                "invalid value {url:?} for setting `public_url`: expected an http:// or https:// URL"
            );
        }

        let mut env_keys = Vec::new();
        for (setting, variable, file_value) in [
            (
                "keys.integration",
                ENV_KEY_INTEGRATION,
                file.keys.integration,
            ),
            ("keys.e2e", ENV_KEY_E2E, file.keys.e2e),
            ("keys.legacy", ENV_KEY_LEGACY, file.keys.legacy),
        ] {
            let file_value = file_value.filter(|value| !value.is_empty());
            if let Some(value) = r.pick(setting, None, variable, file_value) {
                env_keys.push(EnvKey { variable, value });
            }
        }

        let e2e = match r.pick("e2e", None, ENV_E2E, file.e2e.map(|b| b.to_string())) {
            Some(value) => parse_bool("e2e", &value)?,
            None => false,
        };

        let max_body_bytes = match r.pick(
            "limits.max_body_bytes",
            None,
            ENV_MAX_BODY_BYTES,
            file.limits.max_body_bytes.map(|n| n.to_string()),
        ) {
            Some(value) => parse_setting("limits.max_body_bytes", &value)?,
            None => 64 * 1024,
        };
        let header_read_timeout = match r.pick(
            "limits.header_read_timeout_secs",
            None,
            ENV_HEADER_READ_TIMEOUT,
            file.limits.header_read_timeout_secs.map(|n| n.to_string()),
        ) {
            Some(value) => {
                Duration::from_secs(parse_setting("limits.header_read_timeout_secs", &value)?)
            }
            None => Duration::from_secs(10),
        };
        let max_connections = match r.pick(
            "limits.max_connections",
            None,
            ENV_MAX_CONNECTIONS,
            file.limits.max_connections.map(|n| n.to_string()),
        ) {
            Some(value) => parse_setting("limits.max_connections", &value)?,
            None => 1024,
        };

        let webhook_url = r.pick("webhook.url", None, ENV_WEBHOOK_URL, file.webhook.url);
        if let Some(url) = &webhook_url
            && let Err(reason) = webhook::check_url(url)
        {
            bail!("invalid value {url:?} for setting `webhook.url`: {reason}");
        }
        let webhook_api_key = r.pick(
            "webhook.api_key",
            None,
            ENV_WEBHOOK_API_KEY,
            file.webhook.api_key,
        );
        let webhook_secret = r.pick(
            "webhook.secret",
            None,
            ENV_WEBHOOK_SECRET,
            file.webhook.secret,
        );
        if let Some(secret) = &webhook_secret
            && let Err(reason) = webhook::SigningSecret::parse(secret)
        {
            // The value is a secret, so the message names where it came
            // from instead of repeating it.
            let source = r.sources["webhook.secret"];
            bail!("invalid value for setting `webhook.secret` (from {source}): {reason}");
        }
        let webhook_schedule = match r.pick(
            "webhook.schedule",
            None,
            ENV_WEBHOOK_SCHEDULE,
            file.webhook.schedule.map(|delays| delays.join(",")),
        ) {
            Some(text) => webhook::schedule::parse_schedule(&text).map_err(|reason| {
                anyhow::anyhow!("invalid value {text:?} for setting `webhook.schedule`: {reason}")
            })?,
            None => webhook::schedule::default_schedule(),
        };
        let webhook_timeout = match r.pick(
            "webhook.timeout",
            None,
            ENV_WEBHOOK_TIMEOUT,
            file.webhook.timeout,
        ) {
            Some(text) => webhook::schedule::parse_timeout(&text).map_err(|reason| {
                anyhow::anyhow!("invalid value {text:?} for setting `webhook.timeout`: {reason}")
            })?,
            None => webhook::schedule::DEFAULT_TIMEOUT,
        };

        Ok(Settings {
            db: PathBuf::from(db),
            listen,
            synchronous_full,
            public_url,
            env_keys,
            e2e,
            max_body_bytes,
            header_read_timeout,
            max_connections,
            webhook_url,
            webhook_api_key,
            webhook_secret,
            webhook_schedule,
            webhook_timeout,
            sources,
        })
    }
}
