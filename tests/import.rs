//! `partner-api import creators` run as a real process on a real SQLite
//! file: JSON and CSV, idempotence, rejection of bad files, dry run, prune,
//! and an import into the database of a server under click load.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;

fn csv_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/creators.csv")
}

fn import(workspace: &Workspace, args: &[&str]) -> Output {
    let mut all = vec!["import", "creators"];
    all.extend_from_slice(args);
    cli(workspace.path(), &workspace.db(), &all)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "import failed:\nstdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
}

/// Reads every row of the creator tables as text, for before/after
/// comparisons.
fn dump(workspace: &Workspace) -> Vec<String> {
    let conn = workspace.open();
    let mut lines = Vec::new();
    for table in ["profiles", "jobs"] {
        let mut statement = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY id"))
            .unwrap();
        let width = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                let mut cells = Vec::with_capacity(width);
                for i in 0..width {
                    let value: rusqlite::types::Value = row.get(i)?;
                    cells.push(format!("{value:?}"));
                }
                Ok(cells.join("|"))
            })
            .unwrap();
        for row in rows {
            lines.push(format!("{table}: {}", row.unwrap()));
        }
    }
    lines
}

fn job_status(workspace: &Workspace, job_id: &str) -> String {
    workspace
        .open()
        .query_row(
            "SELECT status FROM jobs WHERE job_id = ?1",
            [job_id],
            |row| row.get(0),
        )
        .unwrap()
}

fn jobs_version(workspace: &Workspace, handle: &str) -> i64 {
    workspace
        .open()
        .query_row(
            "SELECT jobs_version FROM profiles WHERE handle = ?1",
            [handle],
            |row| row.get(0),
        )
        .unwrap()
}

/// Fetches a creator's feed and returns its job_ids (`referencenumber`).
fn feed_job_ids(server: &Server, handle: &str) -> Vec<String> {
    let reply = get(server, &format!("/partner/feed/{handle}/xml"), Some(KEY));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let document = roxmltree::Document::parse(&reply.body).expect("feed is well-formed XML");
    document
        .descendants()
        .filter(|node| node.has_tag_name("referencenumber"))
        .map(|node| node.text().unwrap_or_default().to_string())
        .collect()
}

/// Writes a CSV file with `creators` creators of `jobs` jobs each.
fn write_generated_csv(path: &Path, creators: usize, jobs: usize) {
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer
        .write_record([
            "creator_handle",
            "creator_name",
            "job_id",
            "short_code",
            "title",
            "company",
            "city",
            "description",
            "apply_url",
            "posted_at",
        ])
        .unwrap();
    for c in 0..creators {
        for j in 0..jobs {
            writer
                .write_record([
                    format!("load-creator-{c}"),
                    format!("Load Creator {c}"),
                    format!("job-{j}"),
                    format!("load{c}x{j}"),
                    format!("Generated role {j}"),
                    "Load Test Staffing".into(),
                    "Dayton".into(),
                    "A generated job, with a comma.\nAnd a second line.".into(),
                    format!("https://jobs.example.com/load/{c}/{j}"),
                    "2026-11-20T09:00:00Z".into(),
                ])
                .unwrap();
        }
    }
    writer.flush().unwrap();
}

/// POSTs one click from a thread of its own; `Server` stays on the test
/// thread because it is not `Sync`.
fn post_click(base: &str) -> (u16, String) {
    let response = agent()
        .post(format!("{base}/partner/clicks"))
        .header("Content-Type", "application/json")
        .header("x-api-key", KEY)
        .header("x-partner-test-run-id", "import-load")
        .send(&click_body("jiloma-rthgip"))
        .expect("POST failed at the transport level");
    let status = response.status().as_u16();
    let body = response.into_body().read_to_string().unwrap_or_default();
    (status, body)
}

#[test]
fn json_import_is_idempotent() {
    let workspace = Workspace::new();
    let file = fixtures();

    let first = import(&workspace, &[file.to_str().unwrap()]);
    assert_success(&first);
    assert!(stdout(&first).contains("jobs:         241 added, 0 updated, 0 unchanged"));
    let before = dump(&workspace);

    let second = import(&workspace, &[file.to_str().unwrap()]);
    assert_success(&second);
    let report = stdout(&second);
    assert!(
        report.contains("creators:     0 added, 0 updated, 7 unchanged"),
        "{report}"
    );
    assert!(
        report.contains("sub-profiles: 0 added, 0 updated, 15 unchanged"),
        "{report}"
    );
    assert!(
        report.contains("jobs:         0 added, 0 updated, 241 unchanged"),
        "{report}"
    );
    assert_eq!(dump(&workspace), before);
}

#[test]
fn csv_import_is_idempotent() {
    let workspace = Workspace::new();
    let file = csv_fixtures();

    let first = import(&workspace, &[file.to_str().unwrap()]);
    assert_success(&first);
    let report = stdout(&first);
    assert!(report.contains("creators:     3 added"), "{report}");
    assert!(report.contains("sub-profiles: 4 added"), "{report}");
    assert!(report.contains("jobs:         20 added"), "{report}");
    let before = dump(&workspace);

    let second = import(&workspace, &[file.to_str().unwrap()]);
    assert_success(&second);
    let report = stdout(&second);
    assert!(
        report.contains("creators:     0 added, 0 updated, 3 unchanged"),
        "{report}"
    );
    assert!(
        report.contains("sub-profiles: 0 added, 0 updated, 4 unchanged"),
        "{report}"
    );
    assert!(
        report.contains("jobs:         0 added, 0 updated, 20 unchanged"),
        "{report}"
    );
    assert_eq!(dump(&workspace), before);
}

#[test]
fn csv_quoted_fields_are_stored_whole() {
    let workspace = Workspace::new();
    assert_success(&import(&workspace, &[csv_fixtures().to_str().unwrap()]));
    let conn = workspace.open();

    let description: String = conn
        .query_row(
            "SELECT description FROM jobs WHERE job_id = 'hl-1001'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        description.contains("1:5 ratio.\n\nThree 12-hour shifts"),
        "{description:?}"
    );

    let title: String = conn
        .query_row(
            "SELECT title FROM jobs WHERE job_id = 'hl-1003'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(title, "Unit Secretary, Emergency Department");

    let parent: String = conn
        .query_row(
            "SELECT p.handle FROM profiles s JOIN profiles p ON p.id = s.parent_id
             WHERE s.handle = 'harborline-campus'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(parent, "harborline");
    assert_eq!(job_status(&workspace, "hl-1006"), "closed");
}

#[test]
fn csv_with_bad_row_is_rejected_whole() {
    let workspace = Workspace::new();
    assert_success(&import(&workspace, &[csv_fixtures().to_str().unwrap()]));
    let before = dump(&workspace);

    // A valid change on line 2 and an invalid time on line 8 (hl-1005):
    // neither may be written.
    let text = std::fs::read_to_string(csv_fixtures())
        .unwrap()
        .replace("Registered Nurse - Med/Surg", "Registered Nurse - ICU")
        .replace("2026-12-01T11:20:00Z", "2026-12-01 11:20");
    let bad = workspace.path().join("bad.csv");
    std::fs::write(&bad, text).unwrap();

    let output = import(&workspace, &[bad.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("bad.csv"), "{message}");
    assert!(message.contains("line 8, column posted_at"), "{message}");
    assert!(message.contains("\"2026-12-01 11:20\""), "{message}");
    assert!(message.contains("nothing was imported"), "{message}");
    assert_eq!(dump(&workspace), before);
}

#[test]
fn csv_failing_mid_apply_rolls_back() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let before = dump(&workspace);

    // The last row (line 23) takes a short code of the JSON fixtures, which
    // only the database contains, so 19 jobs are written before it fails.
    let text = std::fs::read_to_string(csv_fixtures())
        .unwrap()
        .replace("fwd5q2wc", "abc123xy");
    let clash = workspace.path().join("clash.csv");
    std::fs::write(&clash, text).unwrap();

    let output = import(&workspace, &[clash.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("clash.csv: line 23"), "{message}");
    assert!(message.contains("\"abc123xy\""), "{message}");
    assert!(message.contains("jiloma job job_12345"), "{message}");
    assert_eq!(dump(&workspace), before);
}

#[test]
fn csv_header_errors_name_column() {
    let workspace = Workspace::new();
    let file = workspace.path().join("typo.csv");
    std::fs::write(
        &file,
        "creator_handle,creator_name,job_id,short_code,titel\n",
    )
    .unwrap();

    let output = import(&workspace, &[file.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("typo.csv: line 1 (header)"), "{message}");
    assert!(message.contains("\"titel\""), "{message}");
    assert!(
        !workspace.db().exists(),
        "a rejected file must not create the database"
    );
}

#[test]
fn csv_control_character_in_name_rejected() {
    let workspace = Workspace::new();
    let text = std::fs::read_to_string(csv_fixtures()).unwrap().replacen(
        "Harborline Health Careers",
        "Harbor\0line Health Careers",
        1,
    );
    let file = workspace.path().join("nul.csv");
    std::fs::write(&file, text).unwrap();

    let output = import(&workspace, &[file.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("line 2, column creator_name"), "{message}");
    assert!(message.contains("'\\0'"), "{message}");
    assert!(!workspace.db().exists());
}

#[test]
fn csv_invalid_utf8_names_column() {
    let workspace = Workspace::new();
    let mut bytes = std::fs::read(csv_fixtures()).unwrap();
    let at = bytes
        .windows(8)
        .position(|window| window == b"Portland")
        .unwrap();
    // Latin-1 for "Portland" with an accented o: not UTF-8.
    bytes[at + 1] = 0xF6;
    let file = workspace.path().join("latin1.csv");
    std::fs::write(&file, bytes).unwrap();

    let output = import(&workspace, &[file.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("latin1.csv: line 2"), "{message}");
    assert!(
        message.contains("column city is not valid UTF-8"),
        "{message}"
    );
    assert!(!workspace.db().exists());
}

#[test]
fn format_flag_overrides_extension() {
    let workspace = Workspace::new();
    let file = workspace.path().join("creators.txt");
    std::fs::copy(csv_fixtures(), &file).unwrap();

    let unknown = import(&workspace, &[file.to_str().unwrap()]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("--format"),
        "{}",
        stderr(&unknown)
    );

    let output = import(&workspace, &["--format", "csv", file.to_str().unwrap()]);
    assert_success(&output);
    assert_eq!(workspace.count("jobs"), 20);
}

#[test]
fn dry_run_without_database_creates_nothing() {
    let workspace = Workspace::new();
    let output = import(&workspace, &["--dry-run", csv_fixtures().to_str().unwrap()]);
    assert_success(&output);
    let report = stdout(&output);
    assert!(report.contains("nothing was written"), "{report}");
    assert!(report.contains("jobs:         20 added"), "{report}");
    assert!(!workspace.db().exists());
}

#[test]
fn dry_run_reports_changes_and_writes_nothing() {
    let workspace = Workspace::new();
    assert_success(&import(&workspace, &[csv_fixtures().to_str().unwrap()]));
    let before = dump(&workspace);

    // One updated title, one job (hl-1002) left out, one new job.
    let mut text = std::fs::read_to_string(csv_fixtures())
        .unwrap()
        .replace("Registered Nurse - Med/Surg", "Registered Nurse - ICU");
    let dropped: String = text
        .lines()
        .filter(|line| line.starts_with("harborline,,,hl-1002,"))
        .collect();
    assert!(!dropped.is_empty());
    text = text.replace(&format!("{dropped}\n"), "");
    text.push_str(
        "harborline,,,hl-1099,hl0new99,Night Nurse,Harborline Regional Hospital,Portland,ME,US,\
         04101,Nights.,https://careers.example.com/harborline/hl-1099,,,,2026-12-03,,\n",
    );
    let changed = workspace.path().join("changed.csv");
    std::fs::write(&changed, text).unwrap();

    let dry = import(
        &workspace,
        &["--dry-run", "--prune", changed.to_str().unwrap()],
    );
    assert_success(&dry);
    let report = stdout(&dry);
    assert!(
        report.contains("jobs:         1 added, 1 updated, 18 unchanged, 1 closed by --prune"),
        "{report}"
    );
    assert_eq!(dump(&workspace), before);

    let real = import(&workspace, &["--prune", changed.to_str().unwrap()]);
    assert_success(&real);
    let real_report = stdout(&real);
    let counts = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| line.contains(" added, "))
            .map(String::from)
            .collect()
    };
    assert_eq!(counts(&real_report), counts(&report));
    assert_ne!(dump(&workspace), before);
}

#[test]
fn prune_closes_jobs_missing_from_file() {
    let workspace = Workspace::new();
    assert_success(&import(&workspace, &[csv_fixtures().to_str().unwrap()]));
    let server = Server::start(&workspace, ServerOptions::default());
    assert!(feed_job_ids(&server, "harborline").contains(&"hl-1002".to_string()));
    let fernway_before = feed_job_ids(&server, "fernway-hospitality");
    assert_eq!(fernway_before.len(), 7);

    // The file lists harborline without hl-1002 and leaves fernway out.
    let text: String = std::fs::read_to_string(csv_fixtures())
        .unwrap()
        .split_inclusive('\n')
        .filter(|line| !line.starts_with("harborline,,,hl-1002,"))
        .filter(|line| !line.starts_with("fernway-hospitality,"))
        .collect();
    let smaller = workspace.path().join("smaller.csv");
    std::fs::write(&smaller, text).unwrap();

    let without_prune = import(&workspace, &[smaller.to_str().unwrap()]);
    assert_success(&without_prune);
    assert_eq!(job_status(&workspace, "hl-1002"), "open");
    let version_before = jobs_version(&workspace, "harborline");

    let pruned = import(&workspace, &["--prune", smaller.to_str().unwrap()]);
    assert_success(&pruned);
    let report = stdout(&pruned);
    assert!(report.contains("1 closed by --prune"), "{report}");
    assert_eq!(job_status(&workspace, "hl-1002"), "closed");
    assert_eq!(jobs_version(&workspace, "harborline"), version_before + 1);

    let harborline = feed_job_ids(&server, "harborline");
    assert!(
        !harborline.contains(&"hl-1002".to_string()),
        "{harborline:?}"
    );
    assert!(
        harborline.contains(&"hl-1001".to_string()),
        "{harborline:?}"
    );
    assert_eq!(feed_job_ids(&server, "fernway-hospitality"), fernway_before);

    let again = import(&workspace, &["--prune", smaller.to_str().unwrap()]);
    assert!(
        stdout(&again).contains("0 closed by --prune"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn import_under_click_load_loses_nothing() {
    const THREADS: usize = 64;
    const MAX_CLICKS_PER_THREAD: usize = 200;

    let workspace = Workspace::new();
    workspace.import_fixtures();
    let big = workspace.path().join("load.csv");
    write_generated_csv(&big, 10, 1000);
    let server = Server::start(&workspace, ServerOptions::default());

    let base = server.base.clone();
    let stop = AtomicBool::new(false);
    let replies: Mutex<Vec<(u16, String)>> = Mutex::new(Vec::new());
    let output = std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..MAX_CLICKS_PER_THREAD {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let reply = post_click(&base);
                    replies.lock().unwrap().push(reply);
                }
            });
        }

        // Start the import once every thread has had a reply, so that
        // requests are in flight for the whole import.
        let deadline = Instant::now() + Duration::from_secs(60);
        while replies.lock().unwrap().len() < THREADS && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = import(&workspace, &[big.to_str().unwrap()]);
        stop.store(true, Ordering::Relaxed);
        output
    });

    assert_success(&output);
    assert!(
        stdout(&output).contains("jobs:         10000 added"),
        "{}",
        stdout(&output)
    );
    assert!(!stderr(&output).contains("locked"), "{}", stderr(&output));

    let replies = replies.into_inner().unwrap();
    assert!(
        replies.len() > THREADS,
        "only {} clicks were sent",
        replies.len()
    );
    let conn = workspace.open();
    for (status, body) in replies.iter() {
        assert_eq!(*status, 201, "{body}");
        let id = serde_json::from_str::<serde_json::Value>(body).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let stored: bool = conn
            .query_row(
                "SELECT count(*) = 1 FROM job_clicks WHERE id = ?1",
                [&id],
                |row| row.get(0),
            )
            .unwrap();
        assert!(stored, "click {id} got 201 but has no row");
    }
}
