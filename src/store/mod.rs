//! The SQLite file: connection settings, schema migrations, the read pool
//! and the single writer.

pub mod keys;
mod migrate;
pub mod reads;
pub mod writer;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};

pub use writer::{Writer, WriterStopped};

/// How long a connection waits for another one's write lock before it
/// reports `SQLITE_BUSY`. Imports of large files hold the lock for seconds,
/// so this is generous.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

pub type Pool = r2d2::Pool<SqliteConnectionManager>;

/// Errors from the store that the HTTP layer maps to responses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("write not committed: {0}")]
    CommitFailed(String),
    #[error("the database writer has stopped")]
    WriterGone,
}

/// Sets the per-connection pragmas that every connection needs.
fn configure(conn: &Connection, synchronous_full: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(
        None,
        "synchronous",
        if synchronous_full { "FULL" } else { "NORMAL" },
    )?;
    Ok(())
}

/// Opens a read-write connection with the project's settings, creating the
/// file when it does not exist, switching it to WAL and applying the schema.
pub fn open_writable(path: &Path, synchronous_full: bool) -> anyhow::Result<Connection> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        anyhow::bail!(
            "cannot create database {}: folder {} does not exist",
            path.display(),
            parent.display()
        );
    }
    let mut conn = Connection::open(path)
        .with_context(|| format!("cannot open database {}", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .with_context(|| format!("cannot switch {} to WAL", path.display()))?;
    if !mode.eq_ignore_ascii_case("wal") {
        anyhow::bail!(
            "database {} stays in journal mode {mode}; WAL is required",
            path.display()
        );
    }
    configure(&conn, synchronous_full)?;
    migrate::apply(&mut conn)
        .with_context(|| format!("cannot apply the schema to {}", path.display()))?;
    Ok(conn)
}

/// Opens an existing database for reading only, for commands that must not
/// create a file (export, backup, listings).
pub fn open_existing(path: &Path) -> anyhow::Result<Connection> {
    if !path.exists() {
        anyhow::bail!(
            "database {} does not exist; pass --db or set {}",
            path.display(),
            crate::config::ENV_DB
        );
    }
    open_writable(path, false)
}

/// Opens an existing database read-only, for commands that copy data out
/// (export, backup). It neither creates the file nor migrates it, and in
/// WAL mode it reads a consistent snapshot without blocking the server.
pub fn open_read_only(path: &Path) -> anyhow::Result<Connection> {
    if !path.exists() {
        anyhow::bail!(
            "database {} does not exist; pass --db or set {}",
            path.display(),
            crate::config::ENV_DB
        );
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open database {} for reading", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Opens an existing database for a dry run: read-write, because the dry
/// run writes inside a transaction that it rolls back, but without
/// creating the file or upgrading its schema, which would be real writes.
pub fn open_for_dry_run(path: &Path, synchronous_full: bool) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open database {}", path.display()))?;
    configure(&conn, synchronous_full)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let latest = migrate::latest_version();
    if version != latest {
        anyhow::bail!(
            "database {} has schema version {version} and this binary writes {latest}; \
             a dry run does not upgrade it, so run the import without --dry-run, or start \
             the server once",
            path.display()
        );
    }
    Ok(conn)
}

/// Opens an empty in-memory database with the current schema, for a dry
/// run when the database file does not exist yet.
pub fn open_in_memory() -> anyhow::Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    configure(&conn, false)?;
    migrate::apply(&mut conn)?;
    Ok(conn)
}

/// Builds the read pool. Call after `open_writable`, which sets WAL once.
pub fn read_pool(path: &Path, size: u32) -> anyhow::Result<Pool> {
    let manager = SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(|conn| {
            configure(conn, false)?;
            conn.pragma_update(None, "query_only", true)
        });
    r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(30))
        .build(manager)
        .context("cannot open the read connection pool")
}

/// The database handles a server holds: the read pool and the writer.
#[derive(Clone)]
pub struct Store {
    pub pool: Pool,
    pub writer: Writer,
    /// Signals that the writer thread has ended, for a clean shutdown.
    pub writer_stopped: Arc<WriterStopped>,
}

impl Store {
    pub fn open(path: &Path, synchronous_full: bool) -> anyhow::Result<Store> {
        let conn = open_writable(path, synchronous_full)?;
        let pool = read_pool(path, 16)?;
        let (writer, writer_stopped) = Writer::start(conn);
        Ok(Store {
            pool,
            writer,
            writer_stopped: Arc::new(writer_stopped),
        })
    }
}

/// Returns the current time as stored: RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    format_time(chrono::Utc::now())
}

pub fn format_time(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
