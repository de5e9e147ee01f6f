//! API keys in `api_keys`: creation, rotation, revocation and listing for
//! the CLI, and the look-up by hash that authenticates requests.
//!
//! A key is shown once, when it is created; only its SHA-256 and its first
//! characters are stored. Names are unique among current keys (neither
//! revoked nor replaced by a rotation). That check runs inside the
//! `BEGIN IMMEDIATE` transaction that inserts the key, and SQLite runs one
//! such transaction at a time, so two concurrent commands cannot both pass it.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::format_time;
use crate::duration;

/// The start of every issued key, so that a leaked key is recognisable in
/// logs, pastes and secret scanners.
pub const KEY_PREFIX: &str = "pk_live_";
/// Random bytes in a key: 192 bits from the operating system's generator,
/// written as 48 hex digits.
const KEY_RANDOM_BYTES: usize = 24;
/// Characters of a key kept for listings: `pk_live_` and 4 hex digits.
const DISPLAY_PREFIX_CHARS: usize = 12;
const MAX_NAME_CHARS: usize = 64;
/// A key that stops working within this time is listed as `expiring`.
const EXPIRING_WITHIN: TimeDelta = TimeDelta::days(7);
/// The shortest lifetime of a new key. It keeps a key from expiring
/// before it is printed, and is short enough for tests of expiry.
pub const MIN_LIFETIME: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "invalid key name {0:?}: use 1 to 64 letters, digits, '.', '_' or '-', \
         starting with a letter or digit"
    )]
    InvalidName(String),
    #[error(
        "a key named {name:?} already exists ({status}); run `partner-api keys rotate {name}` \
         to replace it, or `partner-api keys revoke {name}` first"
    )]
    NameTaken { name: String, status: KeyStatus },
    #[error("no current key named {0:?}; `partner-api keys list` shows the names")]
    NotFound(String),
    #[error("no key named {0:?} is left to revoke; `partner-api keys list` shows the names")]
    NothingToRevoke(String),
    #[error("{option} {duration} ends after the year 9999; choose a shorter duration")]
    DurationTooLong {
        option: &'static str,
        duration: String,
    },
    #[error(
        "a key's lifetime must be at least {}, not {lifetime}",
        duration::format(MIN_LIFETIME)
    )]
    LifetimeTooShort { lifetime: String },
    #[error(
        "the current key of {name:?} was created with a lifetime of {lifetime}, shorter than \
         the minimum of {}; give the new key a lifetime with --expires-in, such as \
         --expires-in 90d",
        duration::format(MIN_LIFETIME)
    )]
    InheritedLifetimeTooShort { name: String, lifetime: String },
    #[error("cannot read random bytes from the operating system: {0}")]
    Random(getrandom::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The state of a key as `keys list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    /// Stops working within 7 days, or was replaced and is in its grace
    /// period.
    Expiring,
    Expired,
    Revoked,
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyStatus::Active => "active",
            KeyStatus::Expiring => "expiring",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        })
    }
}

/// Derives a key's status from its stored times. Times are stored
/// RFC 3339 strings, whose text order is time order.
pub fn key_status(
    revoked_at: Option<&str>,
    expires_at: Option<&str>,
    replaced: bool,
    now: DateTime<Utc>,
) -> KeyStatus {
    if revoked_at.is_some() {
        return KeyStatus::Revoked;
    }
    let Some(expires_at) = expires_at else {
        return KeyStatus::Active;
    };
    if expires_at <= format_time(now).as_str() {
        return KeyStatus::Expired;
    }
    if replaced || expires_at <= format_time(now + EXPIRING_WITHIN).as_str() {
        return KeyStatus::Expiring;
    }
    KeyStatus::Active
}

/// A newly issued key.
#[derive(Debug)]
pub struct IssuedKey {
    pub name: String,
    /// The key itself. It is not stored, so this is the only copy.
    pub key: String,
    pub prefix: String,
    pub expires_at: Option<String>,
    /// The time from creation to `expires_at`.
    pub lifetime: Option<Duration>,
}

/// The outcome of a rotation.
#[derive(Debug)]
pub struct Rotation {
    pub new: IssuedKey,
    pub old_prefix: String,
    /// When the replaced key stops working, or stopped: an expired key
    /// keeps its expiry.
    pub old_expires_at: String,
    /// Whether the replaced key no longer works at the rotation's time.
    pub old_stopped: bool,
}

/// One row of `keys list`. It carries no key and no hash.
#[derive(Debug, Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub prefix: String,
    pub status: KeyStatus,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// The display prefix of the key that replaced this one.
    pub replaced_by: Option<String>,
}

/// SHA-256 of a key, as presented by a client or configured.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Checks that a name is 1 to 64 ASCII letters, digits, `.`, `_` or `-`,
/// starting with a letter or digit, because it is stored with every row a
/// key makes as `key:<name>`.
pub fn check_name(name: &str) -> Result<(), KeyError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(KeyError::InvalidName(name.to_string()))
    }
}

/// Adds a user-given duration to `start`, keeping the result within years
/// that the stored text format orders correctly.
fn add_duration(
    start: DateTime<Utc>,
    duration: Duration,
    option: &'static str,
) -> Result<DateTime<Utc>, KeyError> {
    TimeDelta::from_std(duration)
        .ok()
        .and_then(|delta| start.checked_add_signed(delta))
        .filter(|end| end.year() <= 9999)
        .ok_or_else(|| KeyError::DurationTooLong {
            option,
            duration: duration::format(duration),
        })
}

/// Checks that a requested key lifetime is at least `MIN_LIFETIME`.
pub fn check_lifetime(lifetime: Duration) -> Result<(), KeyError> {
    if lifetime < MIN_LIFETIME {
        return Err(KeyError::LifetimeTooShort {
            lifetime: duration::format(lifetime),
        });
    }
    Ok(())
}

/// The current key of a name: neither revoked nor replaced.
struct CurrentKey {
    id: i64,
    prefix: String,
    created_at: String,
    expires_at: Option<String>,
}

fn find_current(conn: &Connection, name: &str) -> rusqlite::Result<Option<CurrentKey>> {
    conn.query_row(
        "SELECT id, prefix, created_at, expires_at FROM api_keys
         WHERE name = ?1 AND revoked_at IS NULL AND replaced_by IS NULL",
        [name],
        |row| {
            Ok(CurrentKey {
                id: row.get(0)?,
                prefix: row.get(1)?,
                created_at: row.get(2)?,
                expires_at: row.get(3)?,
            })
        },
    )
    .optional()
}

/// Generates a key and inserts its hash; returns the new row's id.
fn insert_key(
    conn: &Connection,
    name: &str,
    lifetime: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<(i64, IssuedKey), KeyError> {
    let expires_at = match lifetime {
        Some(lifetime) => Some(format_time(add_duration(now, lifetime, "--expires-in")?)),
        None => None,
    };

    let mut random = [0u8; KEY_RANDOM_BYTES];
    getrandom::fill(&mut random).map_err(KeyError::Random)?;
    let key = format!("{KEY_PREFIX}{}", hex::encode(random));
    let prefix = key[..DISPLAY_PREFIX_CHARS].to_string();

    conn.execute(
        "INSERT INTO api_keys (name, prefix, hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            name,
            prefix,
            hex::encode(hash_key(&key)),
            format_time(now),
            expires_at
        ],
    )?;
    let issued = IssuedKey {
        name: name.to_string(),
        key,
        prefix,
        expires_at,
        lifetime,
    };
    Ok((conn.last_insert_rowid(), issued))
}

/// Creates a key named `name`, valid for `expires_in` (at least
/// `MIN_LIFETIME`) or without end.
pub fn create(
    conn: &mut Connection,
    name: &str,
    expires_in: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<IssuedKey, KeyError> {
    check_name(name)?;
    if let Some(lifetime) = expires_in {
        check_lifetime(lifetime)?;
    }

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(existing) = find_current(&tx, name)? {
        let status = key_status(None, existing.expires_at.as_deref(), false, now);
        return Err(KeyError::NameTaken {
            name: name.to_string(),
            status,
        });
    }
    let (_, issued) = insert_key(&tx, name, expires_in, now)?;
    tx.commit()?;
    Ok(issued)
}

/// Issues a new key for `name` and lets the current one work for `grace`
/// more (or until its own expiry, when that comes first). Without
/// `expires_in`, the new key gets the lifetime the old one was created
/// with, which must be at least `MIN_LIFETIME`.
pub fn rotate(
    conn: &mut Connection,
    name: &str,
    grace: Duration,
    expires_in: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<Rotation, KeyError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(old) = find_current(&tx, name)? else {
        return Err(KeyError::NotFound(name.to_string()));
    };

    let lifetime = match (expires_in, &old.expires_at) {
        (Some(lifetime), _) => {
            check_lifetime(lifetime)?;
            Some(lifetime)
        }
        (None, Some(expires_at)) => Some(inherited_lifetime(name, &old.created_at, expires_at)?),
        (None, None) => None,
    };
    let grace_end = format_time(add_duration(now, grace, "--grace")?);
    let old_expires_at = match old.expires_at {
        Some(expires_at) if expires_at < grace_end => expires_at,
        _ => grace_end,
    };
    let old_stopped = old_expires_at <= format_time(now);

    let (new_id, new) = insert_key(&tx, name, lifetime, now)?;
    tx.execute(
        "UPDATE api_keys SET replaced_by = ?2, expires_at = ?3 WHERE id = ?1",
        params![old.id, new_id, old_expires_at],
    )?;
    tx.commit()?;
    Ok(Rotation {
        new,
        old_prefix: old.prefix,
        old_expires_at,
        old_stopped,
    })
}

/// Computes the lifetime a key was created with, from its stored times.
/// A lifetime under `MIN_LIFETIME`, possible for keys created before the
/// minimum existed, or times that do not parse are an error, so that a
/// rotation never issues a key that is expired on arrival.
fn inherited_lifetime(
    name: &str,
    created_at: &str,
    expires_at: &str,
) -> Result<Duration, KeyError> {
    let created = DateTime::parse_from_rfc3339(created_at).ok();
    let expires = DateTime::parse_from_rfc3339(expires_at).ok();
    let lifetime = created
        .zip(expires)
        .and_then(|(created, expires)| (expires - created).to_std().ok());
    match lifetime {
        Some(lifetime) if lifetime >= MIN_LIFETIME => Ok(lifetime),
        _ => Err(KeyError::InheritedLifetimeTooShort {
            name: name.to_string(),
            lifetime: lifetime.map_or_else(
                || format!("unknown length (from {created_at} to {expires_at})"),
                duration::format,
            ),
        }),
    }
}

/// Revokes every key of `name` that is not revoked yet, the current one and
/// any still in a rotation's grace period; returns their display prefixes.
pub fn revoke(conn: &Connection, name: &str, now: DateTime<Utc>) -> Result<Vec<String>, KeyError> {
    let mut statement = conn.prepare(
        "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL
         RETURNING prefix",
    )?;
    let prefixes = statement
        .query_map(params![name, format_time(now)], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    if prefixes.is_empty() {
        return Err(KeyError::NothingToRevoke(name.to_string()));
    }
    Ok(prefixes)
}

/// Lists every key, revoked and expired ones included, by name and age.
pub fn list(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Vec<KeyInfo>> {
    let mut statement = conn.prepare(
        "SELECT k.name, k.prefix, k.created_at, k.expires_at, k.last_used_at, k.revoked_at,
                successor.prefix
         FROM api_keys AS k LEFT JOIN api_keys AS successor ON successor.id = k.replaced_by
         ORDER BY k.name, k.created_at, k.id",
    )?;
    let rows = statement.query_map([], |row| {
        let expires_at: Option<String> = row.get(3)?;
        let revoked_at: Option<String> = row.get(5)?;
        let replaced_by: Option<String> = row.get(6)?;
        let status = key_status(
            revoked_at.as_deref(),
            expires_at.as_deref(),
            replaced_by.is_some(),
            now,
        );
        Ok(KeyInfo {
            name: row.get(0)?,
            prefix: row.get(1)?,
            status,
            created_at: row.get(2)?,
            expires_at,
            last_used_at: row.get(4)?,
            revoked_at,
            replaced_by,
        })
    })?;
    rows.collect()
}

/// Finds the key with this hash that works at `now` (a stored time);
/// returns its id and name.
pub fn find_usable(
    conn: &Connection,
    hash: &[u8; 32],
    now: &str,
) -> rusqlite::Result<Option<(i64, String)>> {
    conn.prepare_cached(
        "SELECT id, name FROM api_keys
         WHERE hash = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)",
    )?
    .query_row(params![hex::encode(hash), now], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .optional()
}

/// Counts the keys that work at `now`, for the server's start-up check.
pub fn count_usable(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM api_keys
         WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)",
        [format_time(now)],
        |row| row.get(0),
    )
}

/// Stores each key's last use, `(id, time)`, unless a later one is stored.
pub fn record_last_used(conn: &Connection, uses: &[(i64, String)]) -> rusqlite::Result<()> {
    let mut statement = conn.prepare_cached(
        "UPDATE api_keys SET last_used_at = ?2
         WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
    )?;
    for (id, used_at) in uses {
        statement.execute(params![id, used_at])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::apply(&mut conn).unwrap();
        conn
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn names_follow_the_rule() {
        for name in ["acme", "Acme-2", "jobs.example_com", "a"] {
            assert!(check_name(name).is_ok(), "{name}");
        }
        let too_long = "a".repeat(65);
        for name in [
            "",
            "-acme",
            ".acme",
            "acme corp",
            "acme/1",
            "ácme",
            too_long.as_str(),
        ] {
            assert!(check_name(name).is_err(), "{name}");
        }
    }

    #[test]
    fn status_follows_times() {
        let now = at("2026-06-01T12:00:00Z");
        let status = |revoked, expires, replaced| key_status(revoked, expires, replaced, now);
        assert_eq!(status(None, None, false), KeyStatus::Active);
        assert_eq!(
            status(None, Some("2026-07-01T00:00:00.000Z"), false),
            KeyStatus::Active
        );
        assert_eq!(
            status(None, Some("2026-06-05T00:00:00.000Z"), false),
            KeyStatus::Expiring
        );
        assert_eq!(
            status(None, Some("2026-07-01T00:00:00.000Z"), true),
            KeyStatus::Expiring
        );
        assert_eq!(
            status(None, Some("2026-06-01T12:00:00.000Z"), false),
            KeyStatus::Expired
        );
        assert_eq!(
            status(Some("2026-05-01T00:00:00.000Z"), None, false),
            KeyStatus::Revoked
        );
    }

    #[test]
    fn created_key_is_found_by_its_hash_only() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        let issued = create(&mut conn, "acme", None, now).unwrap();

        assert!(issued.key.starts_with(KEY_PREFIX));
        assert_eq!(issued.key.len(), KEY_PREFIX.len() + 2 * KEY_RANDOM_BYTES);
        assert!(issued.key.starts_with(&issued.prefix));
        let found = find_usable(&conn, &hash_key(&issued.key), "2026-06-01T12:00:01.000Z");
        assert_eq!(found.unwrap().map(|(_, name)| name), Some("acme".into()));

        let stored: String = conn
            .query_row(
                "SELECT group_concat(hash || prefix) FROM api_keys",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert!(!stored.contains(&issued.key));
    }

    #[test]
    fn create_rejects_a_current_name() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        create(&mut conn, "acme", None, now).unwrap();

        let err = create(&mut conn, "acme", None, now).unwrap_err();
        assert!(matches!(err, KeyError::NameTaken { .. }), "{err}");

        revoke(&conn, "acme", now).unwrap();
        assert!(create(&mut conn, "acme", None, now).is_ok());
    }

    #[test]
    fn rotation_keeps_the_old_key_for_the_grace() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        let old = create(
            &mut conn,
            "acme",
            Some(Duration::from_secs(30 * 86400)),
            now,
        )
        .unwrap();

        let rotation = rotate(&mut conn, "acme", Duration::from_secs(3600), None, now).unwrap();
        assert_eq!(rotation.old_expires_at, "2026-06-01T13:00:00.000Z");
        assert_eq!(
            rotation.new.expires_at.as_deref(),
            Some("2026-07-01T12:00:00.000Z")
        );

        let old_hash = hash_key(&old.key);
        let new_hash = hash_key(&rotation.new.key);
        let during = "2026-06-01T12:59:59.000Z";
        let after = "2026-06-01T13:00:00.000Z";
        assert!(find_usable(&conn, &old_hash, during).unwrap().is_some());
        assert!(find_usable(&conn, &old_hash, after).unwrap().is_none());
        assert!(find_usable(&conn, &new_hash, after).unwrap().is_some());

        let keys = list(&conn, now).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].status, KeyStatus::Expiring);
        assert_eq!(
            keys[0].replaced_by.as_deref(),
            Some(rotation.new.prefix.as_str())
        );
        assert_eq!(keys[1].status, KeyStatus::Active);
    }

    #[test]
    fn rotation_never_extends_the_old_expiry() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        create(&mut conn, "acme", Some(Duration::from_secs(60)), now).unwrap();

        let rotation = rotate(&mut conn, "acme", Duration::from_secs(86400), None, now).unwrap();
        assert_eq!(rotation.old_expires_at, "2026-06-01T12:01:00.000Z");
    }

    #[test]
    fn lifetime_under_a_second_is_rejected() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        for lifetime in [
            Duration::ZERO,
            Duration::from_millis(1),
            Duration::from_millis(999),
        ] {
            let err = create(&mut conn, "acme", Some(lifetime), now).unwrap_err();
            assert!(matches!(err, KeyError::LifetimeTooShort { .. }), "{err}");
        }
        assert!(create(&mut conn, "acme", Some(MIN_LIFETIME), now).is_ok());

        let err = rotate(&mut conn, "acme", Duration::ZERO, Some(Duration::ZERO), now).unwrap_err();
        assert!(matches!(err, KeyError::LifetimeTooShort { .. }), "{err}");
    }

    #[test]
    fn rotation_rejects_an_inherited_tiny_lifetime() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        create(&mut conn, "acme", Some(Duration::from_secs(60)), now).unwrap();
        // A key stored with a lifetime under the minimum.
        conn.execute(
            "UPDATE api_keys SET expires_at = '2026-06-01T12:00:00.001Z'",
            [],
        )
        .unwrap();

        let later = at("2026-06-01T13:00:00Z");
        let err = rotate(&mut conn, "acme", Duration::from_secs(3600), None, later).unwrap_err();
        assert!(
            matches!(err, KeyError::InheritedLifetimeTooShort { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("lifetime of 1ms"), "{err}");
        assert_eq!(list(&conn, later).unwrap().len(), 1, "a key was issued");

        let explicit = Some(Duration::from_secs(86_400));
        let rotation = rotate(
            &mut conn,
            "acme",
            Duration::from_secs(3600),
            explicit,
            later,
        )
        .unwrap();
        assert_eq!(
            rotation.new.expires_at.as_deref(),
            Some("2026-06-02T13:00:00.000Z")
        );
    }

    #[test]
    fn rotation_of_an_expired_key_says_so() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        create(&mut conn, "acme", Some(Duration::from_secs(60)), now).unwrap();

        let later = at("2026-06-01T13:00:00Z");
        let rotation = rotate(&mut conn, "acme", Duration::from_secs(3600), None, later).unwrap();
        assert!(rotation.old_stopped);
        assert_eq!(rotation.old_expires_at, "2026-06-01T12:01:00.000Z");
        assert_eq!(
            rotation.new.expires_at.as_deref(),
            Some("2026-06-01T13:01:00.000Z")
        );
        assert_eq!(rotation.new.lifetime, Some(Duration::from_secs(60)));

        let again = rotate(&mut conn, "acme", Duration::from_secs(10), None, later).unwrap();
        assert!(
            !again.old_stopped,
            "the key replaced now works for the grace"
        );
        let at_once = rotate(&mut conn, "acme", Duration::ZERO, None, later).unwrap();
        assert!(at_once.old_stopped, "a grace of 0s stops the key at once");
    }

    #[test]
    fn revoke_covers_keys_in_grace() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        create(&mut conn, "acme", None, now).unwrap();
        rotate(&mut conn, "acme", Duration::from_secs(3600), None, now).unwrap();

        assert_eq!(revoke(&conn, "acme", now).unwrap().len(), 2);
        assert!(matches!(
            revoke(&conn, "acme", now),
            Err(KeyError::NothingToRevoke(_))
        ));
        assert!(matches!(
            rotate(&mut conn, "acme", Duration::ZERO, None, now),
            Err(KeyError::NotFound(_))
        ));
    }

    #[test]
    fn far_expiry_is_rejected() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        let err = create(
            &mut conn,
            "acme",
            Some(Duration::from_secs(10_000 * 365 * 86400)),
            now,
        )
        .unwrap_err();
        assert!(matches!(err, KeyError::DurationTooLong { .. }), "{err}");
    }

    #[test]
    fn last_use_only_moves_forward() {
        let mut conn = database();
        let now = at("2026-06-01T12:00:00Z");
        let issued = create(&mut conn, "acme", None, now).unwrap();
        let (id, _) = find_usable(&conn, &hash_key(&issued.key), "2026-06-01T12:00:01.000Z")
            .unwrap()
            .unwrap();

        record_last_used(&conn, &[(id, "2026-06-01T12:05:00.000Z".into())]).unwrap();
        record_last_used(&conn, &[(id, "2026-06-01T12:04:00.000Z".into())]).unwrap();
        let keys = list(&conn, now).unwrap();
        assert_eq!(
            keys[0].last_used_at.as_deref(),
            Some("2026-06-01T12:05:00.000Z")
        );
    }
}
