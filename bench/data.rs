//! Data for the benchmark scripts in bench/: generated creators files,
//! a baseline that inserts the same jobs with no checks, and a database
//! filled with clicks.
//!
//! Usage:
//!   bench-data creators JOBS FILE    write JOBS jobs as .json or .csv
//!   bench-data raw-insert FILE DB    insert a generated .json file as is
//!   bench-data clicks ROWS DB        add ROWS job_clicks rows to DB

use std::path::Path;

use anyhow::{Context, bail};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

const SCHEMA: &str = include_str!("../schema.sql");
/// Jobs per generated creator, so that 100,000 jobs make 100 creators.
const JOBS_PER_CREATOR: usize = 1000;

#[derive(Serialize, Deserialize)]
struct File {
    creators: Vec<Creator>,
}

#[derive(Serialize, Deserialize)]
struct Creator {
    handle: String,
    name: String,
    sub_profiles: Vec<SubProfile>,
    jobs: Vec<Job>,
}

#[derive(Serialize, Deserialize)]
struct SubProfile {
    handle: String,
    name: String,
}

#[derive(Serialize, Deserialize)]
struct Job {
    job_id: String,
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
    status: Option<String>,
}

fn generate(jobs: usize) -> File {
    let creator_count = jobs.div_ceil(JOBS_PER_CREATOR);
    let mut creators = Vec::with_capacity(creator_count);
    for c in 0..creator_count {
        let handle = format!("bench-creator-{c}");
        let first = c * JOBS_PER_CREATOR;
        let last = jobs.min(first + JOBS_PER_CREATOR);
        let jobs = (first..last)
            .map(|j| Job {
                job_id: format!("job-{j}"),
                short_code: format!("b{j:07}"),
                title: format!("Warehouse Associate {}", j % 97),
                company: format!("Bench Logistics {}", j % 13),
                city: "Columbus".into(),
                state: "OH".into(),
                country: "US".into(),
                postal_code: "43215".into(),
                description: format!(
                    "Pick, pack and ship orders on the {} shift. Weekly pay, benefits \
                     from day one, forklift training for anyone who wants it, and \
                     paid time off that starts accruing on the first day.\n\nJob {j}.",
                    ["day", "evening", "night"][j % 3]
                ),
                apply_url: format!("https://careers.example.com/bench/{c}/{j}?ref=feed"),
                salary: Some("$19.50 - $22.00 per hour".into()),
                job_type: Some("full-time".into()),
                category: Some("Warehouse & Logistics".into()),
                posted_at: "2026-11-20T09:00:00Z".into(),
                expires_at: (j % 4 == 0).then(|| "2027-03-01T00:00:00Z".into()),
                status: Some("open".into()),
            })
            .collect();
        creators.push(Creator {
            sub_profiles: vec![
                SubProfile {
                    handle: format!("{handle}-weekly"),
                    name: format!("Bench Creator {c} Weekly"),
                },
                SubProfile {
                    handle: format!("{handle}-partner"),
                    name: format!("Bench Creator {c} on Partner Board"),
                },
            ],
            handle,
            name: format!("Bench Creator {c}"),
            jobs,
        });
    }
    File { creators }
}

/// Writes the file in the CSV layout: one row per job, the sub-profiles on
/// each creator's first row.
fn write_csv(file: &File, path: &Path) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record([
        "creator_handle",
        "creator_name",
        "sub_profiles",
        "job_id",
        "short_code",
        "title",
        "company",
        "city",
        "state",
        "country",
        "postal_code",
        "description",
        "apply_url",
        "salary",
        "job_type",
        "category",
        "posted_at",
        "expires_at",
        "status",
    ])?;
    for creator in &file.creators {
        let subs: Vec<String> = creator
            .sub_profiles
            .iter()
            .map(|s| format!("{}:{}", s.handle, s.name))
            .collect();
        for (i, job) in creator.jobs.iter().enumerate() {
            let optional = |value: &Option<String>| value.clone().unwrap_or_default();
            writer.write_record([
                creator.handle.clone(),
                creator.name.clone(),
                if i == 0 {
                    subs.join("|")
                } else {
                    String::new()
                },
                job.job_id.clone(),
                job.short_code.clone(),
                job.title.clone(),
                job.company.clone(),
                job.city.clone(),
                job.state.clone(),
                job.country.clone(),
                job.postal_code.clone(),
                job.description.clone(),
                job.apply_url.clone(),
                optional(&job.salary),
                optional(&job.job_type),
                optional(&job.category),
                job.posted_at.clone(),
                optional(&job.expires_at),
                optional(&job.status),
            ])?;
        }
    }
    writer.flush()?;
    Ok(())
}

/// Inserts the rows of a generated JSON file as the baseline does: one
/// prepared statement per table, one transaction, and none of the
/// import's validation, change detection or conflict checks.
fn raw_insert(path: &Path, db: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let file: File = serde_json::from_str(&text)?;
    let mut conn = Connection::open(db)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(SCHEMA)?;

    let now = "2026-12-01T00:00:00.000Z";
    let tx = conn.transaction()?;
    {
        let mut profile = tx.prepare(
            "INSERT INTO profiles (handle, parent_id, name, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
        )?;
        let mut job = tx.prepare(
            "INSERT INTO jobs (creator_id, job_id, short_code, title, company, city, state,
                 country, postal_code, description, apply_url, salary, job_type, category,
                 posted_at, expires_at, status, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18)",
        )?;
        for creator in &file.creators {
            profile.execute(params![creator.handle, None::<i64>, creator.name, now])?;
            let creator_id = tx.last_insert_rowid();
            for sub in &creator.sub_profiles {
                profile.execute(params![sub.handle, creator_id, sub.name, now])?;
            }
            for j in &creator.jobs {
                job.execute(params![
                    creator_id,
                    j.job_id,
                    j.short_code,
                    j.title,
                    j.company,
                    j.city,
                    j.state,
                    j.country,
                    j.postal_code,
                    j.description,
                    j.apply_url,
                    j.salary,
                    j.job_type,
                    j.category,
                    j.posted_at,
                    j.expires_at,
                    j.status.as_deref().unwrap_or("open"),
                    now
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Adds `rows` clicks on the database's jobs, spread over the 30 days
/// before 2026-12-01, in one transaction.
fn add_clicks(rows: usize, db: &Path) -> anyhow::Result<()> {
    let mut conn = Connection::open(db)?;
    let jobs: Vec<(i64, String, String, String)> = conn
        .prepare(
            "SELECT jobs.id, profiles.handle, jobs.job_id, jobs.short_code
             FROM jobs JOIN profiles ON profiles.id = jobs.creator_id ORDER BY jobs.id",
        )?
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if jobs.is_empty() {
        bail!("{} has no jobs; import creators first", db.display());
    }

    let start = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")?.to_utc();
    let step_ms = (30 * 24 * 3600 * 1000) / rows.max(1) as i64;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO job_clicks (id, job_row_id, cid, sub_id, job_id, short_code,
                 click_source, query_string, partner_test_run_id, api_key_name, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for i in 0..rows {
            let (row_id, handle, job_id, short_code) = &jobs[i % jobs.len()];
            let sub_id = format!("{handle}-bench{}", i % 7);
            let created_at = start + chrono::Duration::milliseconds(step_ms * i as i64);
            insert.execute(params![
                uuid::Uuid::now_v7().to_string(),
                row_id,
                handle,
                sub_id,
                job_id,
                short_code,
                "bench",
                format!("sub_id={sub_id}&source=bench"),
                None::<String>,
                "env:PARTNER_INTEGRATION_API_KEY",
                created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn number(text: &str) -> anyhow::Result<usize> {
    text.replace('_', "")
        .parse()
        .with_context(|| format!("{text:?} is not a count"))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["creators", jobs, path] => {
            let file = generate(number(jobs)?);
            let path = Path::new(path);
            if path.extension().is_some_and(|e| e == "csv") {
                write_csv(&file, path)
            } else {
                let out = std::io::BufWriter::new(std::fs::File::create(path)?);
                serde_json::to_writer(out, &file)?;
                Ok(())
            }
        }
        ["raw-insert", path, db] => raw_insert(Path::new(path), Path::new(db)),
        ["clicks", rows, db] => add_clicks(number(rows)?, Path::new(db)),
        _ => bail!("usage: bench-data creators JOBS FILE | raw-insert FILE DB | clicks ROWS DB"),
    }
}
