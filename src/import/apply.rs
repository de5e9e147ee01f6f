//! Writes validated records: one `BEGIN IMMEDIATE` transaction for the whole
//! file, so that a failure leaves the database as it was.

use std::collections::HashSet;
use std::fmt;

use anyhow::Context;
use indicatif::ProgressBar;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::validate::{CreatorRecord, JobRecord};
use crate::store;

/// Added, updated and unchanged records of one kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} added, {} updated, {} unchanged",
            self.added, self.updated, self.unchanged
        )
    }
}

/// The changes of an import, or of a dry run, by kind of record.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    pub creators: Counts,
    pub sub_profiles: Counts,
    pub jobs: Counts,
    /// Open jobs closed because the file no longer lists them; `None`
    /// unless `--prune` was given.
    pub pruned: Option<usize>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "creators:     {}", self.creators)?;
        writeln!(f, "sub-profiles: {}", self.sub_profiles)?;
        write!(f, "jobs:         {}", self.jobs)?;
        if let Some(pruned) = self.pruned {
            write!(f, ", {pruned} closed by --prune")?;
        }
        Ok(())
    }
}

/// Options of `apply`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ApplyOptions {
    /// Close the open jobs of each imported creator that the file does not
    /// list.
    pub prune: bool,
    /// Roll the transaction back instead of committing it.
    pub dry_run: bool,
}

enum Change {
    Added,
    Updated,
    Unchanged,
}

impl Counts {
    fn count(&mut self, change: Change) {
        match change {
            Change::Added => self.added += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

/// Inserts or renames one profile. `parent` is `None` for a creator.
fn upsert_profile(
    conn: &Connection,
    handle: &str,
    name: &str,
    parent: Option<(i64, &str)>,
    now: &str,
) -> anyhow::Result<(i64, Change)> {
    let existing: Option<(i64, String, Option<i64>)> = conn
        .prepare_cached("SELECT id, name, parent_id FROM profiles WHERE handle = ?1")?
        .query_row([handle], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    let parent_id = parent.map(|(id, _)| id);

    let Some((id, old_name, old_parent)) = existing else {
        conn.prepare_cached(
            "INSERT INTO profiles (handle, parent_id, name, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
        )?
        .execute(params![handle, parent_id, name, now])?;
        return Ok((conn.last_insert_rowid(), Change::Added));
    };

    if old_parent != parent_id {
        match parent {
            Some((_, parent_handle)) => anyhow::bail!(
                "handle {handle:?} already exists and is not a sub-profile of {parent_handle:?}"
            ),
            None => anyhow::bail!("handle {handle:?} already exists as a sub-profile"),
        }
    }
    if old_name == name {
        return Ok((id, Change::Unchanged));
    }
    conn.prepare_cached("UPDATE profiles SET name = ?1, updated_at = ?2 WHERE id = ?3")?
        .execute(params![name, now, id])?;
    Ok((id, Change::Updated))
}

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

fn upsert_job(
    conn: &Connection,
    creator_id: i64,
    job: &JobRecord,
    now: &str,
) -> anyhow::Result<Change> {
    let existing: Option<(i64, JobColumns)> = conn
        .prepare_cached(
            "SELECT id, short_code, title, company, city, state, country, postal_code,
                    description, apply_url, salary, job_type, category, posted_at,
                    expires_at, status
             FROM jobs WHERE creator_id = ?1 AND job_id = ?2",
        )?
        .query_row(params![creator_id, job.job_id], |row| {
            Ok((row.get(0)?, JobColumns::from_row(row, 1)?))
        })
        .optional()?;

    let taken_by: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT jobs.id, profiles.handle || ' job ' || jobs.job_id
             FROM jobs JOIN profiles ON profiles.id = jobs.creator_id
             WHERE jobs.short_code = ?1",
        )?
        .query_row([&job.short_code], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    if let Some((taken_id, owner)) = taken_by
        && existing.as_ref().is_none_or(|(id, _)| *id != taken_id)
    {
        anyhow::bail!("short_code {:?} already belongs to {owner}", job.short_code);
    }

    let new = JobColumns::from_record(job);
    match existing {
        Some((_, old)) if old == new => Ok(Change::Unchanged),
        Some((id, _)) => {
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
                id
            ])?;
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
            ])?;
            Ok(Change::Added)
        }
    }
}

/// Closes the creator's open jobs whose job_id is not in `listed`, and
/// returns how many it closed.
fn prune_jobs(
    conn: &Connection,
    creator_id: i64,
    listed: &HashSet<&str>,
    now: &str,
) -> anyhow::Result<usize> {
    let open: Vec<(i64, String)> = conn
        .prepare_cached("SELECT id, job_id FROM jobs WHERE creator_id = ?1 AND status = 'open'")?
        .query_map([creator_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;

    let mut closed = 0;
    for (id, job_id) in open {
        if listed.contains(job_id.as_str()) {
            continue;
        }
        conn.prepare_cached("UPDATE jobs SET status = 'closed', updated_at = ?1 WHERE id = ?2")?
            .execute(params![now, id])?;
        closed += 1;
    }
    Ok(closed)
}

/// Upserts every record in one transaction and bumps `jobs_version` of each
/// creator whose jobs changed. `file` names the source in error messages.
/// In a dry run the transaction is rolled back, so the report lists what
/// the import would change and the database keeps what it had.
pub fn apply(
    conn: &mut Connection,
    creators: &[CreatorRecord],
    file: &str,
    options: ApplyOptions,
    progress: &ProgressBar,
) -> anyhow::Result<ImportReport> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .context("cannot start the import transaction")?;
    let now = store::now();
    let mut report = ImportReport {
        pruned: options.prune.then_some(0),
        ..ImportReport::default()
    };

    for creator in creators {
        let (creator_id, change) = upsert_profile(&tx, &creator.handle, &creator.name, None, &now)
            .with_context(|| format!("{file}: {}", creator.position.field("handle")))?;
        report.creators.count(change);

        for sub in &creator.sub_profiles {
            let (_, change) = upsert_profile(
                &tx,
                &sub.handle,
                &sub.name,
                Some((creator_id, &creator.handle)),
                &now,
            )
            .with_context(|| format!("{file}: {}", sub.position.field("handle")))?;
            report.sub_profiles.count(change);
        }

        let mut jobs_changed = false;
        for job in &creator.jobs {
            let change = upsert_job(&tx, creator_id, job, &now)
                .with_context(|| format!("{file}: {}", job.position))?;
            jobs_changed |= !matches!(change, Change::Unchanged);
            report.jobs.count(change);
            progress.inc(1);
        }

        if let Some(pruned) = report.pruned.as_mut() {
            let listed: HashSet<&str> = creator.jobs.iter().map(|j| j.job_id.as_str()).collect();
            let closed = prune_jobs(&tx, creator_id, &listed, &now).with_context(|| {
                format!("{file}: cannot close the jobs of {:?}", creator.handle)
            })?;
            *pruned += closed;
            jobs_changed |= closed > 0;
        }

        if jobs_changed {
            tx.prepare_cached(
                "UPDATE profiles SET jobs_version = jobs_version + 1, updated_at = ?1 WHERE id = ?2",
            )?
            .execute(params![now, creator_id])?;
        }
    }

    if options.dry_run {
        tx.rollback().context("cannot roll back the dry run")?;
    } else {
        tx.commit().context("cannot commit the import")?;
    }
    Ok(report)
}
