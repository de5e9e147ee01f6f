//! Look-ups that the HTTP handlers make on a pooled read connection.

use rusqlite::{Connection, OptionalExtension, params};

/// A parent creator profile.
#[derive(Debug, Clone)]
pub struct Creator {
    pub id: i64,
    pub handle: String,
    pub name: String,
    pub jobs_version: i64,
    pub updated_at: String,
}

/// A job's identity, enough to attribute an event to it.
#[derive(Debug, Clone)]
pub struct JobRef {
    pub row_id: i64,
    pub job_id: String,
    pub short_code: String,
}

/// Finds a parent creator by handle. Sub-profiles are not creators.
pub fn find_creator(conn: &Connection, handle: &str) -> rusqlite::Result<Option<Creator>> {
    conn.prepare_cached(
        "SELECT id, handle, name, jobs_version, updated_at
         FROM profiles WHERE handle = ?1 AND parent_id IS NULL",
    )?
    .query_row([handle], |row| {
        Ok(Creator {
            id: row.get(0)?,
            handle: row.get(1)?,
            name: row.get(2)?,
            jobs_version: row.get(3)?,
            updated_at: row.get(4)?,
        })
    })
    .optional()
}

/// Tells whether `handle` is a sub-profile of the creator `creator_id`.
pub fn is_sub_profile(conn: &Connection, creator_id: i64, handle: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM profiles WHERE handle = ?1 AND parent_id = ?2")?
        .exists(params![handle, creator_id])
}

/// Finds the creator's job with this short code, open or closed.
pub fn find_job_by_short_code(
    conn: &Connection,
    creator_id: i64,
    short_code: &str,
) -> rusqlite::Result<Option<JobRef>> {
    conn.prepare_cached(
        "SELECT id, job_id, short_code FROM jobs WHERE short_code = ?1 AND creator_id = ?2",
    )?
    .query_row(params![short_code, creator_id], job_ref)
    .optional()
}

/// Finds the creator's job with this job_id, open or closed.
pub fn find_job(
    conn: &Connection,
    creator_id: i64,
    job_id: &str,
) -> rusqlite::Result<Option<JobRef>> {
    conn.prepare_cached(
        "SELECT id, job_id, short_code FROM jobs WHERE job_id = ?1 AND creator_id = ?2",
    )?
    .query_row(params![job_id, creator_id], job_ref)
    .optional()
}

fn job_ref(row: &rusqlite::Row<'_>) -> rusqlite::Result<JobRef> {
    Ok(JobRef {
        row_id: row.get(0)?,
        job_id: row.get(1)?,
        short_code: row.get(2)?,
    })
}
