//! The stored rows hold what the data mapping specifies: job_clicks with cid,
//! sub_id, click_source and query_string; rxevents with rxp, sub_id,
//! client_id and job_id.

mod common;

use common::*;

#[test]
fn click_row_holds_attribution() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());

    let reply = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        Some("partner-smoke-001"),
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.json()["id"].as_str().unwrap().to_string();

    let conn = workspace.open();
    let row: (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    ) = conn
        .query_row(
            "SELECT cid, sub_id, job_id, short_code, click_source, query_string,
                    partner_test_run_id, created_at
             FROM job_clicks WHERE id = ?1",
            [&id],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                    row.get(7)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(row.0, "jiloma");
    assert_eq!(row.1, "jiloma-rthgip");
    assert_eq!(row.2, "job_12345");
    assert_eq!(row.3, "abc123xy");
    assert_eq!(row.4, "partner-campaign");
    assert_eq!(
        row.5,
        "sub_id=jiloma-rthgip&source=partner-campaign&partner_test_run_id=partner-smoke-001"
    );
    assert_eq!(row.6, "partner-smoke-001");
    assert!(row.7.ends_with('Z'), "created_at {} is not UTC", row.7);

    let job_matches: bool = conn
        .query_row(
            "SELECT job_clicks.job_row_id = jobs.id FROM job_clicks, jobs
             WHERE job_clicks.id = ?1 AND jobs.short_code = 'abc123xy'",
            [&id],
            |row| row.get(0),
        )
        .unwrap();
    assert!(job_matches);
}

#[test]
fn click_query_string_encodes_special_characters() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());

    let mut body: serde_json::Value = serde_json::from_str(&click_body("jiloma-rthgip")).unwrap();
    body["source"] = serde_json::json!("spring sale & more");
    let reply = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        None,
        &body.to_string(),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);

    let (source, query): (String, String) = workspace
        .open()
        .query_row(
            "SELECT click_source, query_string FROM job_clicks",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(source, "spring sale & more");
    assert_eq!(query, "sub_id=jiloma-rthgip&source=spring+sale+%26+more");
}

#[test]
fn application_row_holds_attribution() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());

    let reply = post(
        &server,
        "/partner/applications",
        Some(KEY),
        Some("partner-smoke-001"),
        &application_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.json()["id"].as_str().unwrap().to_string();

    let conn = workspace.open();
    let row: (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    ) = conn
        .query_row(
            "SELECT rxp, sub_id, client_id, job_id, applicant_email, applicant_first_name,
                    applicant_last_name, partner_test_run_id
             FROM rxevents WHERE id = ?1",
            [&id],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                    row.get(7)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(row.0, "jiloma");
    assert_eq!(row.1, "jiloma-rthgip");
    assert_eq!(row.2, "partner:application");
    assert_eq!(row.3, "job_12345");
    assert_eq!(row.4, "candidate@example.com");
    assert_eq!(row.5, "Alex");
    assert_eq!(row.6, "Rivera");
    assert_eq!(row.7, "partner-smoke-001");
}

#[test]
fn event_without_test_run_id_stores_null() {
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
    assert_eq!(reply.status, 201);
    let (run_id, query): (Option<String>, String) = workspace
        .open()
        .query_row(
            "SELECT partner_test_run_id, query_string FROM job_clicks",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(run_id, None);
    assert!(!query.contains("partner_test_run_id"));
}

#[test]
fn database_uses_wal_and_schema_version() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let conn = workspace.open();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert!(version >= 1);
}
