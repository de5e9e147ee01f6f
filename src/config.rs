//! Effective settings: each one from a command-line flag, an environment
//! variable, `partner.toml` or the built-in default, in that order.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::webhook;

pub const DEFAULT_CONFIG_FILE: &str = "partner.toml";
pub const DEFAULT_DB: &str = "partner.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The origin of an effective setting, for `config check`.
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
#[serde(deny_unknown_fields, expecting = "a [keys] table")]
pub struct FileKeys {
    pub integration: Option<String>,
    pub e2e: Option<String>,
    pub legacy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [limits] table")]
pub struct FileLimits {
    pub max_body_bytes: Option<usize>,
    pub header_read_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [webhook] table")]
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
    /// The origin of each setting, by name, for `config check`.
    pub sources: BTreeMap<&'static str, Source>,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
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

/// A setting whose value is invalid. `Settings::resolve` adds where the
/// value came from.
#[derive(Debug, thiserror::Error)]
#[error("invalid value {value:?} for setting `{setting}`: {reason}")]
pub struct InvalidSetting {
    pub setting: String,
    pub value: String,
    pub reason: String,
}

fn invalid(setting: &str, value: &str, reason: impl fmt::Display) -> anyhow::Error {
    InvalidSetting {
        setting: setting.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
    .into()
}

fn parse_setting<T: std::str::FromStr>(setting: &str, value: &str) -> anyhow::Result<T>
where
    T::Err: fmt::Display,
{
    value.parse().map_err(|err| invalid(setting, value, err))
}

/// Parses a count or size that must be at least 1, because 0 would stop
/// the server from serving anything.
fn parse_positive<T>(setting: &str, value: &str) -> anyhow::Result<T>
where
    T: std::str::FromStr + PartialEq + Default,
    T::Err: fmt::Display,
{
    let number: T = parse_setting(setting, value)?;
    if number == T::default() {
        return Err(invalid(setting, value, "must be at least 1"));
    }
    Ok(number)
}

fn parse_bool(setting: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(invalid(setting, value, "expected true, false, 1 or 0")),
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
    let file = parse_file(&text).map_err(|err| {
        anyhow::anyhow!(
            "invalid config file {}, {err}; partner.toml.example lists every key",
            path.display()
        )
    })?;
    Ok((file, Some(path)))
}

/// Parses the text of a config file. An error names the line and the full
/// key at fault, such as `limits.max_connections`.
pub fn parse_file(text: &str) -> Result<FileConfig, String> {
    let deserializer =
        toml::Deserializer::parse(text).map_err(|err| describe_toml_error(text, &err, None))?;
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let key = err.path().to_string();
        describe_toml_error(text, err.inner(), Some(&key))
    })
}

/// Writes a TOML error as one line: `line N, key `a.b`: message`.
fn describe_toml_error(text: &str, err: &toml::de::Error, key: Option<&str>) -> String {
    let mut place = Vec::new();
    if let Some(span) = err.span() {
        let before = text.get(..span.start).unwrap_or(text);
        place.push(format!("line {}", before.matches('\n').count() + 1));
    }
    // The path of an error at the top level is ".".
    if let Some(key) = key.filter(|key| *key != ".") {
        place.push(format!("key `{key}`"));
    }
    // serde names Rust's integer types; a person editing TOML needs the kind.
    let message = err
        .message()
        .trim_end()
        .replace("expected usize", "expected a whole number")
        .replace("expected u64", "expected a whole number");
    if place.is_empty() {
        message.to_string()
    } else {
        format!("{}: {message}", place.join(", "))
    }
}

/// Names where a value came from, with the path of a config file.
fn describe_origin(source: Source, config_file: Option<&Path>) -> String {
    match (source, config_file) {
        (Source::File, Some(path)) => format!("config file {}", path.display()),
        (source, _) => source.to_string(),
    }
}

/// Adds where an invalid value came from to its error.
fn name_source(
    err: anyhow::Error,
    sources: &BTreeMap<&'static str, Source>,
    config_file: Option<&Path>,
) -> anyhow::Error {
    let Some(invalid) = err.downcast_ref::<InvalidSetting>() else {
        return err;
    };
    let Some(source) = sources.get(invalid.setting.as_str()) else {
        return err;
    };
    let origin = describe_origin(*source, config_file);
    anyhow::anyhow!(
        "invalid value {:?} for setting `{}` (from {origin}): {}",
        invalid.value,
        invalid.setting,
        invalid.reason
    )
}

impl Settings {
    /// Describes settings that have no effect, for `config check` and the
    /// server's start-up log. They are not errors, because a shared
    /// config file may leave the URL to each environment.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.webhook_url.is_some() {
            return warnings;
        }
        for (setting, value) in [
            ("webhook.api_key", &self.webhook_api_key),
            ("webhook.secret", &self.webhook_secret),
        ] {
            let Some(source) = self.sources.get(setting).filter(|_| value.is_some()) else {
                continue;
            };
            warnings.push(format!(
                "`{setting}` is set (from {}) but `webhook.url` is not, so no webhook is \
                 sent; set {ENV_WEBHOOK_URL} or `url` under [webhook]",
                describe_origin(*source, self.config_file.as_deref())
            ));
        }
        warnings
    }

    /// Builds the effective settings from flags, environment and file. An
    /// invalid value is an error naming the setting and its source.
    pub fn resolve(overrides: &Overrides) -> anyhow::Result<Settings> {
        let (file, config_file) = load_file(overrides.config.as_deref())?;
        let mut sources = BTreeMap::new();
        let resolved = Settings::resolve_values(overrides, file, &mut sources);
        let mut settings =
            resolved.map_err(|err| name_source(err, &sources, config_file.as_deref()))?;
        settings.sources = sources;
        settings.config_file = config_file;
        Ok(settings)
    }

    fn resolve_values(
        overrides: &Overrides,
        file: FileConfig,
        sources: &mut BTreeMap<&'static str, Source>,
    ) -> anyhow::Result<Settings> {
        let mut r = Resolver { sources };

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
            Some(other) => return Err(invalid("synchronous", other, "expected normal or full")),
        };

        let public_url = r
            .pick("public_url", None, ENV_PUBLIC_URL, file.public_url)
            .map(|url| url.trim_end_matches('/').to_string());
        if let Some(url) = &public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid(
                "public_url",
                url,
                "expected an http:// or https:// URL",
            ));
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
            Some(value) => parse_positive("limits.max_body_bytes", &value)?,
            None => 64 * 1024,
        };
        let header_read_timeout = match r.pick(
            "limits.header_read_timeout_secs",
            None,
            ENV_HEADER_READ_TIMEOUT,
            file.limits.header_read_timeout_secs.map(|n| n.to_string()),
        ) {
            Some(value) => {
                Duration::from_secs(parse_positive("limits.header_read_timeout_secs", &value)?)
            }
            None => Duration::from_secs(10),
        };
        let max_connections = match r.pick(
            "limits.max_connections",
            None,
            ENV_MAX_CONNECTIONS,
            file.limits.max_connections.map(|n| n.to_string()),
        ) {
            Some(value) => parse_positive("limits.max_connections", &value)?,
            None => 1024,
        };

        let webhook_url = r.pick("webhook.url", None, ENV_WEBHOOK_URL, file.webhook.url);
        if let Some(url) = &webhook_url
            && let Err(reason) = webhook::check_url(url)
        {
            // A password in the URL stays out of the message.
            let shown = webhook::mask_url_credentials(url);
            return Err(invalid("webhook.url", &shown, reason));
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
            anyhow::bail!("invalid value for setting `webhook.secret` (from {source}): {reason}");
        }
        let webhook_schedule = match r.pick(
            "webhook.schedule",
            None,
            ENV_WEBHOOK_SCHEDULE,
            file.webhook.schedule.map(|delays| delays.join(",")),
        ) {
            Some(text) => webhook::schedule::parse_schedule(&text)
                .map_err(|reason| invalid("webhook.schedule", &text, reason))?,
            None => webhook::schedule::default_schedule(),
        };
        let webhook_timeout = match r.pick(
            "webhook.timeout",
            None,
            ENV_WEBHOOK_TIMEOUT,
            file.webhook.timeout,
        ) {
            Some(text) => webhook::schedule::parse_timeout(&text)
                .map_err(|reason| invalid("webhook.timeout", &text, reason))?,
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
            sources: BTreeMap::new(),
            config_file: None,
        })
    }
}
