//! `partner-api backup` of the database of a running server under write
//! load, the overwrite guard, and a restore by copying the file back.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;

fn backup(workspace: &Workspace, args: &[&str]) -> Output {
    let mut all = vec!["backup"];
    all.extend_from_slice(args);
    cli(workspace.path(), &workspace.db(), &all)
}

fn open(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("opening the backup")
}

fn integrity(conn: &rusqlite::Connection) -> String {
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap()
}

/// POSTs one click from a thread of its own and returns the new id, or
/// the status and body of a failure.
fn post_click(base: &str) -> Result<String, String> {
    let response = agent()
        .post(format!("{base}/partner/clicks"))
        .header("Content-Type", "application/json")
        .header("x-api-key", KEY)
        .send(&click_body("jiloma-rthgip"))
        .expect("POST failed at the transport level");
    let status = response.status().as_u16();
    let body = response.into_body().read_to_string().unwrap_or_default();
    if status != 201 {
        return Err(format!("{status}: {body}"));
    }
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    Ok(reply["id"].as_str().unwrap().to_string())
}

#[test]
fn backup_under_write_load_is_complete() {
    const MAX_CLICKS: usize = 5000;

    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());
    let base = server.base.clone();
    let target = workspace.path().join("backup.db");

    let stop = AtomicBool::new(false);
    let ids: Mutex<Vec<Result<String, String>>> = Mutex::new(Vec::new());
    let (acknowledged, output) = std::thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..MAX_CLICKS {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let result = post_click(&base);
                ids.lock().unwrap().push(result);
            }
        });

        let deadline = Instant::now() + Duration::from_secs(60);
        while ids.lock().unwrap().len() < 50 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Every click acknowledged before the backup starts must be in it.
        let acknowledged: Vec<String> = ids
            .lock()
            .unwrap()
            .iter()
            .filter_map(|result| result.clone().ok())
            .collect();
        let output = backup(&workspace, &[target.to_str().unwrap()]);
        stop.store(true, Ordering::Relaxed);
        (acknowledged, output)
    });

    assert!(
        output.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("backup.db"), "{report}");
    assert!(report.contains("integrity_check ok"), "{report}");

    let failures: Vec<String> = ids
        .into_inner()
        .unwrap()
        .into_iter()
        .filter_map(Result::err)
        .collect();
    assert!(failures.is_empty(), "clicks failed: {failures:?}");
    assert!(acknowledged.len() >= 50);

    let copy = open(&target);
    assert_eq!(integrity(&copy), "ok");
    for id in &acknowledged {
        let stored: bool = copy
            .query_row(
                "SELECT count(*) = 1 FROM job_clicks WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .unwrap();
        assert!(
            stored,
            "click {id} was acknowledged before the backup but is not in it"
        );
    }
    let jobs: i64 = copy
        .query_row("SELECT count(*) FROM jobs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(jobs, 241);

    let leftovers: Vec<String> = std::fs::read_dir(workspace.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".partner-backup-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn backup_keeps_existing_file_without_force() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let target = workspace.path().join("existing.db");
    std::fs::write(&target, "not a database").unwrap();

    let refused = backup(&workspace, &[target.to_str().unwrap()]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("already exists"), "{message}");
    assert!(message.contains("--force"), "{message}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not a database");

    let forced = backup(&workspace, &["--force", target.to_str().unwrap()]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(integrity(&open(&target)), "ok");
}

#[test]
fn backup_rejects_database_itself() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let before = std::fs::read(workspace.db()).unwrap();

    let output = backup(&workspace, &["--force", workspace.db().to_str().unwrap()]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("is the database itself"), "{message}");
    assert_eq!(std::fs::read(workspace.db()).unwrap(), before);
}

#[test]
fn restored_backup_serves_feed() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let target = workspace.path().join("restore.db");
    let mut server = Server::start(&workspace, ServerOptions::default());
    let reply = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        None,
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let click_id = reply.json()["id"].as_str().unwrap().to_string();

    let output = backup(&workspace, &[target.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The README's restore steps: stop, copy over, remove -wal/-shm, start.
    assert!(server.terminate().success());
    std::fs::copy(&target, workspace.db()).unwrap();
    for suffix in ["-wal", "-shm"] {
        let side = format!("{}{suffix}", workspace.db().display());
        let _ = std::fs::remove_file(side);
    }
    let server = Server::start(&workspace, ServerOptions::default());

    let feed = get(&server, "/partner/feed/jiloma/xml", Some(KEY));
    assert_eq!(feed.status, 200, "{}", feed.body);
    let stored: bool = workspace
        .open()
        .query_row(
            "SELECT count(*) = 1 FROM job_clicks WHERE id = ?1",
            [&click_id],
            |row| row.get(0),
        )
        .unwrap();
    assert!(stored);
}

#[test]
fn backup_force_rejects_database_files() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());
    let first = post_click(&server.base).unwrap();

    let db = workspace.db();
    let wal = workspace.path().join("partner.db-wal");
    let shm = workspace.path().join("partner.db-shm");
    let before = [identity(&db), identity(&wal), identity(&shm)];
    std::os::unix::fs::symlink(&wal, workspace.path().join("wal-link.db")).unwrap();

    for target in [
        "partner.db-wal",
        "partner.db-shm",
        "partner.db-journal",
        "./partner.db",
        "wal-link.db",
    ] {
        let output = cli(workspace.path(), &db, &["backup", "--force", target]);
        assert!(!output.status.success(), "backup to {target} succeeded");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains(target), "{target}: {message}");
        assert!(
            message.contains("choose another file"),
            "{target}: {message}"
        );
    }

    let after = [identity(&db), identity(&wal), identity(&shm)];
    assert_eq!(after, before);
    assert!(!workspace.path().join("partner.db-journal").exists());

    // Both acknowledged clicks are in the database the server writes.
    let second = post_click(&server.base).unwrap();
    drop(server);
    let conn = workspace.open();
    for id in [&first, &second] {
        let stored: bool = conn
            .query_row(
                "SELECT count(*) = 1 FROM job_clicks WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .unwrap();
        assert!(stored, "click {id} is not in the database");
    }
}

#[test]
fn backup_force_rejects_non_regular_file() {
    use std::os::unix::fs::FileTypeExt;

    let workspace = Workspace::new();
    workspace.import_fixtures();
    let dir = workspace.path();

    let fifo = dir.join("fifo.db");
    make_fifo(&fifo);
    let target = dir.join("target.db");
    std::fs::write(&target, "kept").unwrap();
    let link = dir.join("link.db");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    for (path, expected) in [(&fifo, "is a FIFO"), (&link, "is a symbolic link")] {
        for force in [true, false] {
            let mut args = vec!["backup", path.to_str().unwrap()];
            if force {
                args.push("--force");
            }
            let output = cli(dir, &workspace.db(), &args);
            assert!(!output.status.success(), "{args:?} succeeded");
            let message = String::from_utf8_lossy(&output.stderr);
            assert!(message.contains(expected), "{args:?}: {message}");
        }
    }

    let file_type = |path: &Path| std::fs::symlink_metadata(path).unwrap().file_type();
    assert!(file_type(&fifo).is_fifo());
    assert!(file_type(&link).is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept");
}
