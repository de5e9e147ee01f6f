//! `partner-api export` against events recorded through the HTTP API of a
//! running server: each filter returns exactly the rows that the same
//! filter selects in SQL, as CSV and as JSON Lines.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::*;
use rusqlite::types::Value;

/// (creator_handle, job_id, short_code, sub_ids) of the events posted.
const CREATORS: &[(&str, &str, &str, &[&str])] = &[
    (
        "jiloma",
        "job_12345",
        "abc123xy",
        &["jiloma-rthgip", "jiloma-e2e-export"],
    ),
    (
        "north-star-jobs",
        "NSJ-2026-6628",
        "vpfw0980",
        &["north-star-jobs-weekly", "north-star-jobs-e2e-export"],
    ),
];
const TEST_RUN_IDS: &[Option<&str>] = &[None, Some("export-run-a"), Some("export-run-b")];
/// Rounds of events, a few milliseconds apart, so that rows differ in time.
const ROUNDS: usize = 3;

fn record_events(server: &Server) {
    for _ in 0..ROUNDS {
        for (creator, job_id, short_code, sub_ids) in CREATORS {
            for sub_id in *sub_ids {
                for test_run_id in TEST_RUN_IDS {
                    let click = serde_json::json!({
                        "creator_handle": creator,
                        "sub_id": sub_id,
                        "job_id": job_id,
                        "short_code": short_code,
                        "source": "newsletter, \"winter\" issue",
                    });
                    let reply = post(
                        server,
                        "/partner/clicks",
                        Some(KEY),
                        *test_run_id,
                        &click.to_string(),
                    );
                    assert_eq!(reply.status, 201, "{}", reply.body);

                    let application = serde_json::json!({
                        "creator_handle": creator,
                        "sub_id": sub_id,
                        "job_id": job_id,
                        "applicant_email": "candidate@example.com",
                        "applicant_first_name": "Alex",
                        "applicant_last_name": "Rivera, Jr.",
                    });
                    let reply = post(
                        server,
                        "/partner/applications",
                        Some(E2E_KEY),
                        *test_run_id,
                        &application.to_string(),
                    );
                    assert_eq!(reply.status, 201, "{}", reply.body);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// Selects the rows that match `sql_filter`, in export order.
fn expected_rows(
    workspace: &Workspace,
    table: &str,
    sql_filter: &str,
    params: &[String],
) -> (Vec<String>, Vec<Vec<Value>>) {
    let conn = workspace.open();
    let sql = format!("SELECT * FROM {table} WHERE {sql_filter} ORDER BY created_at, rowid");
    let mut statement = conn.prepare(&sql).unwrap();
    let columns: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(String::from)
        .collect();
    let rows = statement
        .query_map(rusqlite::params_from_iter(params), |row| {
            (0..columns.len()).map(|i| row.get::<_, Value>(i)).collect()
        })
        .unwrap()
        .collect::<Result<Vec<Vec<Value>>, _>>()
        .unwrap();
    (columns, rows)
}

fn csv_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Text(text) => text.clone(),
        other => panic!("unexpected value {other:?}"),
    }
}

fn json_value(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(n) => (*n).into(),
        Value::Text(text) => text.clone().into(),
        other => panic!("unexpected value {other:?}"),
    }
}

fn export(workspace: &Workspace, args: &[&str]) -> Output {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    let output = cli(workspace.path(), &workspace.db(), &all);
    assert!(
        output.status.success(),
        "export {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn parse_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|record| record.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// One filter as export flags and as the equivalent SQL condition.
struct Case {
    name: &'static str,
    flags: Vec<String>,
    sql: String,
    params: Vec<String>,
    /// Whether the filter must select some but not all rows.
    narrows: bool,
}

fn cases(workspace: &Workspace, table: &str, creator_column: &str) -> Vec<Case> {
    let (_, all) = expected_rows(workspace, table, "1", &[]);
    let time = |i: usize| csv_text(all[i].last().unwrap());
    let since = time(10);
    let until = time(all.len() - 10);
    let first_date = time(0)[..10].to_string();

    let case = |name, flags: &[&str], sql: &str, params: &[&str], narrows| Case {
        name,
        flags: flags.iter().map(|f| f.to_string()).collect(),
        sql: sql.to_string(),
        params: params.iter().map(|p| p.to_string()).collect(),
        narrows,
    };
    vec![
        case("all", &[], "1", &[], false),
        case(
            "creator",
            &["--creator", "north-star-jobs"],
            &format!("{creator_column} = ?1"),
            &["north-star-jobs"],
            true,
        ),
        case(
            "sub_id",
            &["--sub-id", "jiloma-e2e-export"],
            "sub_id = ?1",
            &["jiloma-e2e-export"],
            true,
        ),
        case(
            "test run id",
            &["--test-run-id", "export-run-a"],
            "partner_test_run_id = ?1",
            &["export-run-a"],
            true,
        ),
        case(
            "time range",
            &["--since", &since, "--until", &until],
            "created_at >= ?1 AND created_at < ?2",
            &[&since, &until],
            true,
        ),
        case(
            "all filters",
            &[
                "--since",
                &since,
                "--creator",
                "jiloma",
                "--sub-id",
                "jiloma-rthgip",
                "--test-run-id",
                "export-run-b",
            ],
            &format!(
                "created_at >= ?1 AND {creator_column} = ?2 AND sub_id = ?3 \
                 AND partner_test_run_id = ?4"
            ),
            &[&since, "jiloma", "jiloma-rthgip", "export-run-b"],
            true,
        ),
        case(
            "since date",
            &["--since", &first_date],
            "created_at >= ?1",
            &[&format!("{first_date}T00:00:00.000Z")],
            false,
        ),
        case(
            "until date",
            &["--until", &first_date],
            "created_at < ?1",
            &[&format!("{first_date}T00:00:00.000Z")],
            false,
        ),
    ]
}

/// Checks every filter case of one export command (`clicks` or
/// `applications`) against its table.
fn check_table(workspace: &Workspace, command: &str, table: &str, creator_column: &str) {
    let (_, all) = expected_rows(workspace, table, "1", &[]);
    let total = all.len();
    assert_eq!(total, ROUNDS * 2 * 2 * TEST_RUN_IDS.len());

    for case in cases(workspace, table, creator_column) {
        let (columns, expected) = expected_rows(workspace, table, &case.sql, &case.params);
        if case.narrows {
            assert!(
                !expected.is_empty() && expected.len() < total,
                "case {:?} selects {} of {total} rows",
                case.name,
                expected.len()
            );
        }
        let flags: Vec<&str> = case.flags.iter().map(String::as_str).collect();

        let file = workspace.path().join(format!("{command}.csv"));
        let mut args = vec![command, "--output", file.to_str().unwrap()];
        args.extend_from_slice(&flags);
        export(workspace, &args);
        let (header, rows) = parse_csv(&file);
        assert_eq!(header, columns, "case {:?}", case.name);
        let expected_csv: Vec<Vec<String>> = expected
            .iter()
            .map(|row| row.iter().map(csv_text).collect())
            .collect();
        assert_eq!(rows, expected_csv, "case {:?} as CSV", case.name);

        let mut args = vec![command, "--format", "jsonl"];
        args.extend_from_slice(&flags);
        let output = export(workspace, &args);
        let text = String::from_utf8(output.stdout).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
            .collect();
        let expected_json: Vec<serde_json::Value> = expected
            .iter()
            .map(|row| {
                let object: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .cloned()
                    .zip(row.iter().map(json_value))
                    .collect();
                serde_json::Value::Object(object)
            })
            .collect();
        assert_eq!(lines, expected_json, "case {:?} as JSON Lines", case.name);
    }
}

#[test]
fn export_filters_match_sql() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(
        &workspace,
        ServerOptions::default().env("PARTNER_INTEGRATION_E2E", "true"),
    );
    record_events(&server);

    // The server keeps running: the export reads beside it.
    check_table(&workspace, "clicks", "job_clicks", "cid");
    check_table(&workspace, "applications", "rxevents", "rxp");
}

#[test]
fn export_columns_include_attribution() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());
    let reply = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        Some("columns-run"),
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);

    let output = export(&workspace, &["clicks", "--format", "jsonl"]);
    let text = String::from_utf8(output.stdout).unwrap();
    let row: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(row["api_key_name"], "env:PARTNER_INTEGRATION_API_KEY");
    assert_eq!(row["partner_test_run_id"], "columns-run");
    assert_eq!(row["sub_id"], "jiloma-rthgip");
    let created_at = row["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.ends_with('Z'),
        "{created_at}"
    );
}

#[test]
fn export_rejects_invalid_time() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let output = cli(
        workspace.path(),
        &workspace.db(),
        &["export", "clicks", "--since", "yesterday"],
    );
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("--since"), "{message}");
    assert!(message.contains("\"yesterday\""), "{message}");
}

#[test]
fn export_needs_existing_database() {
    let workspace = Workspace::new();
    let output = cli(workspace.path(), &workspace.db(), &["export", "clicks"]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("does not exist"), "{message}");
    assert!(!workspace.db().exists());
}

#[test]
fn failed_export_leaves_no_file() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    workspace
        .open()
        .execute_batch("DROP TABLE rxevents")
        .unwrap();
    let target = workspace.path().join("applications.csv");
    std::fs::write(&target, "previous export\n").unwrap();

    let output = cli(
        workspace.path(),
        &workspace.db(),
        &[
            "export",
            "applications",
            "--output",
            target.to_str().unwrap(),
        ],
    );
    assert!(!output.status.success());
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "previous export\n"
    );
    let leftovers: Vec<String> = std::fs::read_dir(workspace.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".partner-export-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn export_rejects_database_files() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());
    let reply = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        None,
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);

    let db = workspace.db();
    let wal = workspace.path().join("partner.db-wal");
    let shm = workspace.path().join("partner.db-shm");
    let before = [identity(&db), identity(&wal), identity(&shm)];
    std::fs::create_dir(workspace.path().join("sub")).unwrap();
    std::os::unix::fs::symlink(&db, workspace.path().join("link.csv")).unwrap();

    // Relative paths run in the workspace, so each names a database file.
    for output in [
        "partner.db",
        "./partner.db",
        "sub/../partner.db",
        "link.csv",
        "partner.db-wal",
        "partner.db-shm",
        "partner.db-journal",
    ] {
        let output_run = cli(
            workspace.path(),
            &db,
            &["export", "clicks", "--output", output],
        );
        assert!(!output_run.status.success(), "export to {output} succeeded");
        let message = String::from_utf8_lossy(&output_run.stderr);
        assert!(message.contains(output), "{output}: {message}");
        assert!(
            message.contains("choose another file"),
            "{output}: {message}"
        );
    }

    let after = [identity(&db), identity(&wal), identity(&shm)];
    assert_eq!(after, before);
    assert!(!workspace.path().join("partner.db-journal").exists());

    // The server still writes into the file that the database reads.
    let reply = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        None,
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(workspace.count("job_clicks"), 2);
}

#[test]
fn export_rejects_non_regular_output() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let dir = workspace.path();

    let fifo = dir.join("fifo.csv");
    make_fifo(&fifo);
    let target = dir.join("target.csv");
    std::fs::write(&target, "kept\n").unwrap();
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let dangling = dir.join("dangling.csv");
    std::os::unix::fs::symlink(dir.join("missing.csv"), &dangling).unwrap();
    let folder = dir.join("folder.csv");
    std::fs::create_dir(&folder).unwrap();

    for (path, expected) in [
        (&fifo, "is a FIFO"),
        (&link, "is a symbolic link"),
        (&dangling, "is a symbolic link"),
        (&folder, "is a folder"),
    ] {
        let output = cli(
            dir,
            &workspace.db(),
            &["export", "clicks", "--output", path.to_str().unwrap()],
        );
        assert!(!output.status.success(), "export to {path:?} succeeded");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains(expected), "{path:?}: {message}");
    }

    let file_type = |path: &Path| std::fs::symlink_metadata(path).unwrap().file_type();
    use std::os::unix::fs::FileTypeExt;
    assert!(file_type(&fifo).is_fifo());
    assert!(file_type(&link).is_symlink());
    assert!(file_type(&dangling).is_symlink());
    assert!(file_type(&folder).is_dir());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept\n");
    assert!(!dir.join("missing.csv").exists());

    // A regular file is still replaced.
    let output = cli(
        dir,
        &workspace.db(),
        &["export", "clicks", "--output", target.to_str().unwrap()],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(std::fs::read_to_string(&target).unwrap().starts_with("id,"));
}

/// Adds a click of jiloma created `age` before now, with id `id`.
fn insert_click(workspace: &Workspace, id: &str, age: chrono::Duration) {
    let created_at =
        (chrono::Utc::now() - age).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    workspace
        .open()
        .execute(
            "INSERT INTO job_clicks (id, job_row_id, cid, sub_id, job_id, short_code,
                 click_source, query_string, partner_test_run_id, api_key_name, created_at)
             SELECT ?1, id, 'jiloma', 'jiloma-rthgip', job_id, short_code, NULL, '', NULL,
                 'env:PARTNER_INTEGRATION_API_KEY', ?2
             FROM jobs WHERE short_code = 'abc123xy'",
            [id, &created_at],
        )
        .unwrap();
}

fn exported_ids(output: &Output) -> Vec<String> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            row["id"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn export_accepts_age_as_time() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    insert_click(&workspace, "clk_3h", chrono::Duration::hours(3));
    insert_click(&workspace, "clk_1h", chrono::Duration::hours(1));
    insert_click(&workspace, "clk_10m", chrono::Duration::minutes(10));

    let output = export(
        &workspace,
        &["clicks", "--format", "jsonl", "--since", "2h"],
    );
    assert_eq!(exported_ids(&output), ["clk_1h", "clk_10m"]);
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("exported 2 clicks"), "{message}");

    let output = export(
        &workspace,
        &["clicks", "--format", "jsonl", "--since", "30m"],
    );
    assert_eq!(exported_ids(&output), ["clk_10m"]);
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("exported 1 click\n"), "{message}");

    let output = export(
        &workspace,
        &["clicks", "--format", "jsonl", "--until", "2h"],
    );
    assert_eq!(exported_ids(&output), ["clk_3h"]);

    let output = export(
        &workspace,
        &["clicks", "--format", "jsonl", "--since", "1d"],
    );
    assert_eq!(exported_ids(&output).len(), 3);
}

#[test]
fn export_singular_noun_for_one_row() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());
    let reply = post(
        &server,
        "/partner/applications",
        Some(KEY),
        None,
        &application_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);

    let file = workspace.path().join("applications.csv");
    let output = export(
        &workspace,
        &["applications", "--output", file.to_str().unwrap()],
    );
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains(&format!("exported 1 application to {}", file.display())),
        "{message}"
    );
}

#[test]
fn export_creator_rejects_sub_profile() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let output = cli(
        workspace.path(),
        &workspace.db(),
        &["export", "clicks", "--creator", "jiloma-rthgip"],
    );
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("sub-profile of \"jiloma\""), "{message}");
    assert!(message.contains("--sub-id jiloma-rthgip"), "{message}");
    assert!(message.contains("--creator jiloma "), "{message}");
}
