//! Look-ups that the HTTP handlers make on a pooled read connection.

use rusqlite::{Connection, OptionalExtension, params};

use crate::feed::FeedJob;

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

/// Finds the parent creator's handle of the sub-profile `handle`.
pub fn find_parent_handle(conn: &Connection, handle: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT parent.handle FROM profiles AS sub
         JOIN profiles AS parent ON parent.id = sub.parent_id
         WHERE sub.handle = ?1",
    )?
    .query_row([handle], |row| row.get(0))
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

/// A job found by its public short code, with what the click URL needs.
#[derive(Debug, Clone)]
pub struct ClickTarget {
    pub job: JobRef,
    pub creator_handle: String,
    pub apply_url: String,
    /// Status `open` and not past `expires_at` at the time of the look-up.
    pub open: bool,
}

/// Finds the job with this short code across all creators, whose short
/// codes are unique. `now` is the stored form of the current
/// time, for the expiry check.
pub fn find_click_target(
    conn: &Connection,
    short_code: &str,
    now: &str,
) -> rusqlite::Result<Option<ClickTarget>> {
    conn.prepare_cached(
        "SELECT jobs.id, jobs.job_id, jobs.short_code, profiles.handle, jobs.apply_url,
                jobs.status = 'open' AND (jobs.expires_at IS NULL OR jobs.expires_at > ?2)
         FROM jobs JOIN profiles ON profiles.id = jobs.creator_id
         WHERE jobs.short_code = ?1",
    )?
    .query_row(params![short_code, now], |row| {
        Ok(ClickTarget {
            job: job_ref(row)?,
            creator_handle: row.get(3)?,
            apply_url: row.get(4)?,
            open: row.get(5)?,
        })
    })
    .optional()
}

/// The times that decide whether a creator's feed changed. All are stored
/// time text, `None` when no job qualifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedTimes {
    /// The latest `updated_at` of any of the creator's jobs, open or not.
    pub last_job_change: Option<String>,
    /// The latest `expires_at` of an open job that is already past: the
    /// last time a job left the feed by expiring.
    pub last_expiry: Option<String>,
    /// The earliest `expires_at` of an open job still in the future: the
    /// next time a job leaves the feed without a write.
    pub next_expiry: Option<String>,
}

/// Reads the creator's `FeedTimes` as of `now`. Each is one index probe
/// (`jobs_changed`, `jobs_expiry`), whatever the number of jobs.
pub fn feed_times(conn: &Connection, creator_id: i64, now: &str) -> rusqlite::Result<FeedTimes> {
    let last_job_change = conn
        .prepare_cached(
            "SELECT updated_at FROM jobs WHERE creator_id = ?1
             ORDER BY updated_at DESC LIMIT 1",
        )?
        .query_row([creator_id], |row| row.get(0))
        .optional()?;
    let last_expiry = conn
        .prepare_cached(
            "SELECT expires_at FROM jobs
             WHERE creator_id = ?1 AND status = 'open' AND expires_at <= ?2
             ORDER BY expires_at DESC LIMIT 1",
        )?
        .query_row(params![creator_id, now], |row| row.get(0))
        .optional()?;
    let next_expiry = conn
        .prepare_cached(
            "SELECT expires_at FROM jobs
             WHERE creator_id = ?1 AND status = 'open' AND expires_at > ?2
             ORDER BY expires_at LIMIT 1",
        )?
        .query_row(params![creator_id, now], |row| row.get(0))
        .optional()?;
    Ok(FeedTimes {
        last_job_change,
        last_expiry,
        next_expiry,
    })
}

/// Calls `each` with the creator's open jobs (status `open` and not past
/// `expires_at` at `now`), newest first, one row at a time so that memory
/// does not grow with the number of jobs. `url` is left empty for the
/// caller. Stops at the first error of `each`.
pub fn for_each_open_job<E: From<rusqlite::Error>>(
    conn: &Connection,
    creator_id: i64,
    now: &str,
    mut each: impl FnMut(FeedJob) -> Result<(), E>,
) -> Result<(), E> {
    let mut statement = conn.prepare_cached(
        "SELECT job_id, short_code, title, company, city, state, country, postal_code,
                description, salary, job_type, category, posted_at
         FROM jobs
         WHERE creator_id = ?1 AND status = 'open'
           AND (expires_at IS NULL OR expires_at > ?2)
         ORDER BY posted_at DESC, id",
    )?;
    let mut rows = statement.query(params![creator_id, now])?;
    while let Some(row) = rows.next()? {
        let job = FeedJob {
            job_id: row.get(0)?,
            short_code: row.get(1)?,
            title: row.get(2)?,
            company: row.get(3)?,
            city: row.get(4)?,
            state: row.get(5)?,
            country: row.get(6)?,
            postal_code: row.get(7)?,
            description: row.get(8)?,
            salary: row.get(9)?,
            job_type: row.get(10)?,
            category: row.get(11)?,
            posted_at: row.get(12)?,
            url: String::new(),
        };
        each(job)?;
    }
    Ok(())
}

fn job_ref(row: &rusqlite::Row<'_>) -> rusqlite::Result<JobRef> {
    Ok(JobRef {
        row_id: row.get(0)?,
        job_id: row.get(1)?,
        short_code: row.get(2)?,
    })
}
