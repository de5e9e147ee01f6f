//! Applies `schema.sql` version by version, recording the last one applied
//! in `PRAGMA user_version`.

use anyhow::{Context, bail};
use rusqlite::{Connection, TransactionBehavior};

const SCHEMA: &str = include_str!("../../schema.sql");
const VERSION_MARKER: &str = "-- version: ";

/// Splits the schema into `(version, statements)` sections, in file order.
fn sections() -> Vec<(i64, String)> {
    let mut sections: Vec<(i64, String)> = Vec::new();
    for line in SCHEMA.lines() {
        if let Some(number) = line.strip_prefix(VERSION_MARKER) {
            let version = number
                .trim()
                .parse()
                .expect("schema.sql version markers are integers");
            sections.push((version, String::new()));
        } else if let Some((_, sql)) = sections.last_mut() {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    sections
}

/// The schema version this binary writes.
pub fn latest_version() -> i64 {
    sections().last().map(|(version, _)| *version).unwrap_or(0)
}

/// Brings the database up to the latest version. A file written by a newer
/// binary is rejected rather than guessed at.
pub fn apply(conn: &mut Connection) -> anyhow::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let latest = latest_version();
    if current > latest {
        bail!(
            "the database has schema version {current}, newer than this binary's {latest}; \
             upgrade partner-api"
        );
    }
    if current == latest {
        return Ok(());
    }
    if current == 0 {
        let tables: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |row| row.get(0),
        )?;
        if tables > 0 {
            bail!(
                "the file has {tables} table(s) but no partner-api schema version; \
                 it is not a partner-api database, so pass the right file with --db"
            );
        }
    }

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process may have migrated while this one waited for the lock.
    let current: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (version, sql) in sections() {
        if version <= current {
            continue;
        }
        tx.execute_batch(&sql)
            .with_context(|| format!("schema version {version} failed"))?;
        tx.pragma_update(None, "user_version", version)?;
        // A dry run migrates an in-memory copy, which is not news.
        if tx.path().is_some_and(|path| !path.is_empty()) {
            tracing::info!(version, "applied schema version");
        } else {
            tracing::debug!(version, "applied schema version in memory");
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Version numbers may have gaps: `apply` runs every section above the
    // stored version, in file order.
    #[test]
    fn versions_increase_from_one() {
        let versions: Vec<i64> = sections().iter().map(|(v, _)| *v).collect();
        assert_eq!(versions.first(), Some(&1));
        assert!(versions.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn foreign_database_is_rejected() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT)")
            .unwrap();
        let err = apply(&mut conn).unwrap_err().to_string();
        assert!(err.contains("not a partner-api database"), "{err}");
    }

    #[test]
    fn apply_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, latest_version());
    }
}
