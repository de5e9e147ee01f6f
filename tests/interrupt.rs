//! SIGTERM or SIGINT during `export --output` or `backup` removes the
//! hidden temporary files, which may contain applicant data, and the
//! process ends by the signal.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Clicks added so that the command runs long enough to be interrupted.
const CLICKS: u32 = 400_000;

/// Imports the fixtures and adds `CLICKS` clicks with one SQL statement.
fn large_workspace() -> Workspace {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    workspace
        .open()
        .execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO job_clicks (id, job_row_id, cid, sub_id, job_id, short_code,
                 click_source, query_string, partner_test_run_id, api_key_name, created_at)
             SELECT printf('clk_%08d', i), job.id, 'jiloma', 'jiloma-rthgip', job.job_id,
                 job.short_code, 'newsletter', 'utm_source=partner', NULL,
                 'env:PARTNER_INTEGRATION_API_KEY', '2026-12-01T09:30:00.000Z'
             FROM n, (SELECT id, job_id, short_code FROM jobs ORDER BY id LIMIT 1) AS job",
            [CLICKS],
        )
        .unwrap();
    workspace
}

/// Names of the files in `dir` that start with `prefix`.
fn files_starting_with(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix))
        .collect()
}

/// Runs `args` against the workspace's database, sends `signal` once a
/// temporary file whose name starts with `prefix` has data in it, and
/// returns the exit status.
fn interrupt(
    workspace: &Workspace,
    args: &[&str],
    prefix: &str,
    signal: &str,
) -> std::process::ExitStatus {
    let mut child = command(workspace.path())
        .arg("--db")
        .arg(workspace.db())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting partner-api");

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{args:?} ended with {status} before the signal; raise CLICKS");
        }
        assert!(Instant::now() < deadline, "{args:?} made no temporary file");
        let started = files_starting_with(workspace.path(), prefix)
            .iter()
            .any(|name| std::fs::metadata(workspace.path().join(name)).is_ok_and(|m| m.len() > 0));
        if started {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }

    let pid = child.id().to_string();
    let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
    assert!(sent.success());
    child.wait().unwrap()
}

#[test]
fn sigterm_during_export_removes_temp_file() {
    let workspace = large_workspace();
    let target = workspace.path().join("clicks.csv");

    let status = interrupt(
        &workspace,
        &["export", "clicks", "--output", target.to_str().unwrap()],
        ".partner-export-",
        "-TERM",
    );

    assert_eq!(status.signal(), Some(15), "{status}");
    let leftovers = files_starting_with(workspace.path(), ".partner-export-");
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!target.exists());
}

#[test]
fn sigint_during_backup_removes_temp_files() {
    let workspace = large_workspace();
    let target = workspace.path().join("copy.db");

    let status = interrupt(
        &workspace,
        &["backup", target.to_str().unwrap()],
        ".partner-backup-",
        "-INT",
    );

    assert_eq!(status.signal(), Some(2), "{status}");
    let leftovers = files_starting_with(workspace.path(), ".partner-backup-");
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!target.exists());
}
