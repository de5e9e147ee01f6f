//! `partner-api keys …`: issue, list, rotate and revoke the API keys that
//! partners send in `x-api-key`.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::config::Settings;
use crate::duration;
use crate::store::{self, keys};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key for a partner and print it
    ///
    /// The key is printed once, alone on standard output, so that
    /// `KEY=$(partner-api keys create --name acme)` captures it. Only its
    /// SHA-256 and its first 12 characters are stored: a lost key cannot be
    /// shown again, only rotated. A running server accepts the key on its
    /// next request.
    #[command(after_help = "Example: partner-api keys create --name acme --expires-in 90d")]
    Create {
        /// Partner name: 1 to 64 letters, digits, '.', '_' or '-'. Rows
        /// that the key creates record it as `key:<name>`
        #[arg(long)]
        name: String,

        /// Make the key stop working after this long, such as 90m, 12h or
        /// 30d; at least 1s [default: never]
        #[arg(long, value_name = "DURATION", value_parser = parse_lifetime)]
        expires_in: Option<Duration>,
    },

    /// List every key with its status and last use
    ///
    /// Status is active, expiring (stops within 7 days, or was rotated and
    /// is in its grace period), expired or revoked. Last use is written by
    /// the server every few seconds and when it stops, so it can lag
    /// requests. No key or hash is ever printed.
    List {
        /// Print a JSON array for scripts instead of a table
        #[arg(long)]
        json: bool,
    },

    /// Revoke a partner's keys
    ///
    /// Revokes the current key and any key still in a rotation's grace
    /// period. A running server rejects them from its next request on.
    Revoke {
        /// Partner name, as given to `keys create`
        name: String,
    },

    /// Issue a new key for a partner and retire the old one after a grace period
    ///
    /// Prints the new key as `keys create` does. The old key keeps working
    /// for the grace period, so that the partner can switch without
    /// downtime, and then stops. It never works longer than it would have
    /// without the rotation.
    #[command(after_help = "Example: partner-api keys rotate acme --grace 48h")]
    Rotate {
        /// Partner name, as given to `keys create`
        name: String,

        /// How long the old key keeps working, such as 0s, 30m or 48h
        #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = duration::parse)]
        grace: Duration,

        /// Lifetime of the new key; at least 1s [default: the old key's
        /// lifetime, or never when the old key had no expiry]
        #[arg(long, value_name = "DURATION", value_parser = parse_lifetime)]
        expires_in: Option<Duration>,
    },
}

/// A key lifetime under this gets a warning, because installing a new
/// key usually takes a partner longer. A shorter one is still allowed,
/// for tests and demonstrations.
const SHORT_LIFETIME: Duration = Duration::from_secs(3600);

fn parse_lifetime(text: &str) -> Result<Duration, String> {
    let lifetime = duration::parse(text)?;
    keys::check_lifetime(lifetime).map_err(|err| err.to_string())?;
    Ok(lifetime)
}

/// Warns on standard error when a new key expires within `SHORT_LIFETIME`.
fn warn_if_short(issued: &keys::IssuedKey) {
    let (Some(lifetime), Some(expires_at)) = (issued.lifetime, &issued.expires_at) else {
        return;
    };
    if lifetime < SHORT_LIFETIME {
        eprintln!(
            "warning: the key stops working in {}, at {expires_at}; installing a key \
             usually takes a partner longer",
            duration::format(lifetime)
        );
    }
}

pub fn run(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let now = Utc::now();
    let mut out = std::io::stdout().lock();
    match command {
        KeysCommand::Create { name, expires_in } => {
            keys::check_name(&name)?;
            let mut conn = store::open_writable(&settings.db, settings.synchronous_full)?;
            let issued = keys::create(&mut conn, &name, expires_in, now)?;
            writeln!(out, "{}", issued.key)?;
            eprintln!(
                "created key {:?} ({}…) in {}, {}",
                issued.name,
                issued.prefix,
                settings.db.display(),
                expiry_phrase(issued.expires_at.as_deref())
            );
            warn_if_short(&issued);
            eprintln!("This is the only time the key is shown; store it now.");
            Ok(())
        }
        KeysCommand::List { json } => {
            let conn = store::open_existing(&settings.db)?;
            let list = keys::list(&conn, now)?;
            if json {
                let text = serde_json::to_string_pretty(&list).context("cannot write JSON")?;
                writeln!(out, "{text}")?;
            } else {
                print_table(&mut out, &list)?;
            }
            Ok(())
        }
        KeysCommand::Revoke { name } => {
            let conn = store::open_existing(&settings.db)?;
            let prefixes = keys::revoke(&conn, &name, now)?;
            let shown: Vec<String> = prefixes.iter().map(|p| format!("{p}…")).collect();
            writeln!(out, "revoked key {name:?}: {}", shown.join(", "))?;
            Ok(())
        }
        KeysCommand::Rotate {
            name,
            grace,
            expires_in,
        } => {
            let mut conn = store::open_existing(&settings.db)?;
            let rotation = keys::rotate(&mut conn, &name, grace, expires_in, now)?;
            writeln!(out, "{}", rotation.new.key)?;
            let old_state = if rotation.old_stopped {
                "stopped working at"
            } else {
                "works until"
            };
            eprintln!(
                "rotated key {name:?}: new key {}…, {}; old key {}… {old_state} {}",
                rotation.new.prefix,
                expiry_phrase(rotation.new.expires_at.as_deref()),
                rotation.old_prefix,
                rotation.old_expires_at
            );
            warn_if_short(&rotation.new);
            eprintln!("This is the only time the new key is shown; store it now.");
            Ok(())
        }
    }
}

fn expiry_phrase(expires_at: Option<&str>) -> String {
    match expires_at {
        Some(time) => format!("expires {time}"),
        None => "no expiry".to_string(),
    }
}

/// Shortens a stored time to the second for the table; times are UTC.
fn table_time(time: Option<&str>) -> String {
    let Some(time) = time else {
        return "-".to_string();
    };
    match DateTime::parse_from_rfc3339(time) {
        Ok(parsed) => parsed.format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => time.to_string(),
    }
}

fn print_table(out: &mut impl Write, list: &[keys::KeyInfo]) -> std::io::Result<()> {
    if list.is_empty() {
        return writeln!(
            out,
            "no keys; create one with `partner-api keys create --name NAME`"
        );
    }

    let header = [
        "NAME",
        "PREFIX",
        "STATUS",
        "CREATED (UTC)",
        "EXPIRES (UTC)",
        "LAST USED (UTC)",
    ];
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|key| {
            vec![
                key.name.clone(),
                format!("{}…", key.prefix),
                key.status.to_string(),
                table_time(Some(&key.created_at)),
                table_time(key.expires_at.as_deref()),
                table_time(key.last_used_at.as_deref()),
            ]
        })
        .collect();
    super::table::print(out, &header, &rows)
}
