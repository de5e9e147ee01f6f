//! Writes validated records: one `BEGIN IMMEDIATE` transaction for the whole
//! file, so that a failure leaves the database as it was.

use std::collections::{HashMap, HashSet};
use std::fmt;

use anyhow::Context;
use indicatif::ProgressBar;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::jobs;
use super::validate::CreatorRecord;
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

#[derive(Clone, Copy)]
pub enum Change {
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

        // A creator added just now has no jobs yet.
        let stored = match change {
            Change::Added => HashMap::new(),
            _ => jobs::read_jobs(&tx, creator_id)?,
        };
        let mut jobs_changed = false;
        for job in &creator.jobs {
            let change = jobs::upsert_job(&tx, creator_id, job, stored.get(&job.job_id), &now)
                .with_context(|| format!("{file}: {}", job.position))?;
            jobs_changed |= !matches!(change, Change::Unchanged);
            report.jobs.count(change);
            progress.inc(1);
        }

        if let Some(pruned) = report.pruned.as_mut() {
            let listed: HashSet<&str> = creator.jobs.iter().map(|j| j.job_id.as_str()).collect();
            let closed = jobs::close_unlisted(&tx, &stored, &listed, &now)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One creator, "acme", with jobs given as (job_id, short_code).
    fn acme(jobs: &[(&str, &str)]) -> Vec<CreatorRecord> {
        let jobs: Vec<serde_json::Value> = jobs
            .iter()
            .map(|(job_id, short_code)| {
                serde_json::json!({
                    "job_id": job_id,
                    "short_code": short_code,
                    "title": "Cook",
                    "company": "Acme",
                    "apply_url": "https://jobs.example.com/acme",
                    "posted_at": "2026-11-20",
                })
            })
            .collect();
        let text = serde_json::json!({
            "creators": [{"handle": "acme", "name": "Acme", "jobs": jobs}]
        });
        crate::import::parse_json("acme.json", &text.to_string()).unwrap()
    }

    fn run(
        conn: &mut Connection,
        records: &[CreatorRecord],
        options: ApplyOptions,
    ) -> anyhow::Result<ImportReport> {
        apply(conn, records, "acme.json", options, &ProgressBar::hidden())
    }

    fn statuses(conn: &Connection) -> Vec<(String, String)> {
        conn.prepare("SELECT job_id, status FROM jobs ORDER BY job_id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn short_code_taken_by_sibling_is_named() {
        let mut conn = store::open_in_memory().unwrap();
        run(
            &mut conn,
            &acme(&[("j1", "c1"), ("j2", "c2")]),
            ApplyOptions::default(),
        )
        .unwrap();

        let err = run(&mut conn, &acme(&[("j1", "c2")]), ApplyOptions::default()).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("creators[0].jobs[0]"), "{message}");
        assert!(
            message.contains("short_code \"c2\" already belongs to acme job j2"),
            "{message}"
        );
    }

    #[test]
    fn dry_run_leaves_database_unchanged() {
        let mut conn = store::open_in_memory().unwrap();
        let options = ApplyOptions {
            dry_run: true,
            prune: false,
        };
        let report = run(&mut conn, &acme(&[("j1", "c1")]), options).unwrap();
        assert_eq!(report.jobs.added, 1);
        assert!(statuses(&conn).is_empty());
    }

    #[test]
    fn prune_closes_only_unlisted_open_jobs() {
        let mut conn = store::open_in_memory().unwrap();
        run(
            &mut conn,
            &acme(&[("j1", "c1"), ("j2", "c2"), ("j3", "c3")]),
            ApplyOptions::default(),
        )
        .unwrap();
        let prune = ApplyOptions {
            prune: true,
            dry_run: false,
        };

        let report = run(&mut conn, &acme(&[("j1", "c1")]), prune).unwrap();
        assert_eq!(report.pruned, Some(2));
        assert_eq!(
            statuses(&conn),
            [
                ("j1".to_string(), "open".to_string()),
                ("j2".to_string(), "closed".to_string()),
                ("j3".to_string(), "closed".to_string()),
            ]
        );

        let again = run(&mut conn, &acme(&[("j1", "c1")]), prune).unwrap();
        assert_eq!(again.pruned, Some(0));
    }
}
