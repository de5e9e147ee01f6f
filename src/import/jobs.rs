//! Upserts of one creator's jobs against a single read of the jobs it
//! already has, and `--prune`, which closes the jobs a file no longer lists.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::apply::Change;
use super::validate::JobRecord;

/// The stored columns of a job other than its keys, for change detection.
#[derive(PartialEq)]
struct JobColumns {
    short_code: String,
    title: String,
    company: String,
    city: String,
    state: String,
    country: String,
    postal_code: String,
    description: String,
    apply_url: String,
    salary: Option<String>,
    job_type: Option<String>,
    category: Option<String>,
    posted_at: String,
    expires_at: Option<String>,
    status: String,
}

impl JobColumns {
    fn from_record(job: &JobRecord) -> JobColumns {
        JobColumns {
            short_code: job.short_code.clone(),
            title: job.title.clone(),
            company: job.company.clone(),
            city: job.city.clone(),
            state: job.state.clone(),
            country: job.country.clone(),
            postal_code: job.postal_code.clone(),
            description: job.description.clone(),
            apply_url: job.apply_url.clone(),
            salary: job.salary.clone(),
            job_type: job.job_type.clone(),
            category: job.category.clone(),
            posted_at: job.posted_at.clone(),
            expires_at: job.expires_at.clone(),
            status: job.status.clone(),
        }
    }

    /// Reads the columns from a row that starts with them at `offset`, in
    /// declaration order.
    fn from_row(row: &rusqlite::Row<'_>, offset: usize) -> rusqlite::Result<JobColumns> {
        Ok(JobColumns {
            short_code: row.get(offset)?,
            title: row.get(offset + 1)?,
            company: row.get(offset + 2)?,
            city: row.get(offset + 3)?,
            state: row.get(offset + 4)?,
            country: row.get(offset + 5)?,
            postal_code: row.get(offset + 6)?,
            description: row.get(offset + 7)?,
            apply_url: row.get(offset + 8)?,
            salary: row.get(offset + 9)?,
            job_type: row.get(offset + 10)?,
            category: row.get(offset + 11)?,
            posted_at: row.get(offset + 12)?,
            expires_at: row.get(offset + 13)?,
            status: row.get(offset + 14)?,
        })
    }
}

/// A stored job of the creator being imported.
pub struct StoredJob {
    id: i64,
    columns: JobColumns,
}

/// Reads all jobs of a creator, by job_id. One query per creator replaces
/// a look-up per job, which matters for files of 100,000 jobs.
pub fn read_jobs(
    conn: &Connection,
    creator_id: i64,
) -> rusqlite::Result<HashMap<String, StoredJob>> {
    let mut statement = conn.prepare_cached(
        "SELECT job_id, id, short_code, title, company, city, state, country, postal_code,
                description, apply_url, salary, job_type, category, posted_at,
                expires_at, status
         FROM jobs WHERE creator_id = ?1",
    )?;
    let rows = statement.query_map([creator_id], |row| {
        let job = StoredJob {
            id: row.get(1)?,
            columns: JobColumns::from_row(row, 2)?,
        };
        Ok((row.get(0)?, job))
    })?;
    rows.collect()
}

/// Turns a UNIQUE violation of `jobs.short_code` into an error that names
/// the job that has the short code. Other errors pass through.
fn short_code_clash(conn: &Connection, err: rusqlite::Error, short_code: &str) -> anyhow::Error {
    let unique_violation = matches!(
        &err,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    );
    if !unique_violation {
        return err.into();
    }
    let owner: rusqlite::Result<Option<String>> = conn
        .prepare_cached(
            "SELECT profiles.handle || ' job ' || jobs.job_id
             FROM jobs JOIN profiles ON profiles.id = jobs.creator_id
             WHERE jobs.short_code = ?1",
        )
        .and_then(|mut statement| {
            statement
                .query_row([short_code], |row| row.get(0))
                .optional()
        });
    match owner {
        Ok(Some(owner)) => anyhow::anyhow!("short_code {short_code:?} already belongs to {owner}"),
        _ => err.into(),
    }
}

/// Inserts or updates one job of the creator `creator_id`. `stored` is the
/// creator's job with the same job_id, when there is one. A short code
/// that another job has is reported by the UNIQUE constraint, which saves
/// a look-up per job.
pub fn upsert_job(
    conn: &Connection,
    creator_id: i64,
    job: &JobRecord,
    stored: Option<&StoredJob>,
    now: &str,
) -> anyhow::Result<Change> {
    let new = JobColumns::from_record(job);
    match stored {
        Some(stored) if stored.columns == new => Ok(Change::Unchanged),
        Some(stored) => {
            conn.prepare_cached(
                "UPDATE jobs SET short_code = ?1, title = ?2, company = ?3, city = ?4, state = ?5,
                     country = ?6, postal_code = ?7, description = ?8, apply_url = ?9,
                     salary = ?10, job_type = ?11, category = ?12, posted_at = ?13,
                     expires_at = ?14, status = ?15, updated_at = ?16
                 WHERE id = ?17",
            )?
            .execute(params![
                new.short_code,
                new.title,
                new.company,
                new.city,
                new.state,
                new.country,
                new.postal_code,
                new.description,
                new.apply_url,
                new.salary,
                new.job_type,
                new.category,
                new.posted_at,
                new.expires_at,
                new.status,
                now,
                stored.id
            ])
            .map_err(|err| short_code_clash(conn, err, &new.short_code))?;
            Ok(Change::Updated)
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO jobs (creator_id, job_id, short_code, title, company, city, state,
                     country, postal_code, description, apply_url, salary, job_type, category,
                     posted_at, expires_at, status, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)",
            )?
            .execute(params![
                creator_id,
                job.job_id,
                new.short_code,
                new.title,
                new.company,
                new.city,
                new.state,
                new.country,
                new.postal_code,
                new.description,
                new.apply_url,
                new.salary,
                new.job_type,
                new.category,
                new.posted_at,
                new.expires_at,
                new.status,
                now
            ])
            .map_err(|err| short_code_clash(conn, err, &new.short_code))?;
            Ok(Change::Added)
        }
    }
}

/// Closes the stored open jobs whose job_id is not in `listed`, and
/// returns how many it closed. `stored` is the creator's jobs as they were
/// before the import, and a job not listed was not touched by it.
pub fn close_unlisted(
    conn: &Connection,
    stored: &HashMap<String, StoredJob>,
    listed: &HashSet<&str>,
    now: &str,
) -> rusqlite::Result<usize> {
    let mut closed = 0;
    for (job_id, job) in stored {
        if job.columns.status != "open" || listed.contains(job_id.as_str()) {
            continue;
        }
        conn.prepare_cached("UPDATE jobs SET status = 'closed', updated_at = ?1 WHERE id = ?2")?
            .execute(params![now, job.id])?;
        closed += 1;
    }
    Ok(closed)
}
