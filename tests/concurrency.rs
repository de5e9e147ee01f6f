//! Concurrent clicks while an import writes to the same file: every `201`
//! has its row, no request gets a 5xx, and the import succeeds.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::*;

/// Writes a creators file with one creator and `jobs` jobs.
fn bulk_file(workspace: &Workspace, jobs: usize) -> std::path::PathBuf {
    let jobs: Vec<serde_json::Value> = (0..jobs)
        .map(|i| {
            serde_json::json!({
                "job_id": format!("bulk-{i}"),
                "short_code": format!("bk{i:06}"),
                "title": format!("Warehouse Associate {i}"),
                "company": "Bulk & Co",
                "city": "Columbus",
                "state": "OH",
                "country": "US",
                "postal_code": "43215",
                "description": "Pick, pack and ship orders. ".repeat(20),
                "apply_url": format!("https://jobs.example.com/apply?id={i}"),
                "salary": null,
                "job_type": "full-time",
                "category": "Warehouse",
                "posted_at": "2026-11-20T09:00:00Z",
                "expires_at": null,
                "status": "open"
            })
        })
        .collect();
    let file = serde_json::json!({
        "creators": [{"handle": "bulk", "name": "Bulk Hiring", "sub_profiles": [], "jobs": jobs}]
    });
    let path = workspace.path().join("bulk.json");
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

#[test]
fn clicks_during_import_are_all_committed() {
    const CLIENTS: usize = 64;
    const CLICKS_PER_CLIENT: usize = 5;

    let workspace = Workspace::new();
    workspace.import_fixtures();
    let bulk = bulk_file(&workspace, 20_000);
    let server = Server::start(&workspace, ServerOptions::default());
    let base = server.base.clone();

    let start = Arc::new(Barrier::new(CLIENTS + 1));
    let importer = {
        let start = start.clone();
        let dir = workspace.path().to_path_buf();
        let db = workspace.db();
        thread::spawn(move || {
            start.wait();
            cli(&dir, &db, &["import", "creators", bulk.to_str().unwrap()])
        })
    };

    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let start = start.clone();
            let base = base.clone();
            thread::spawn(move || {
                let agent = agent();
                start.wait();
                let mut results = Vec::new();
                for i in 0..CLICKS_PER_CLIENT {
                    let response = agent
                        .post(format!("{base}/partner/clicks"))
                        .header("Content-Type", "application/json")
                        .header("x-api-key", KEY)
                        .header("x-partner-test-run-id", format!("client-{client}-{i}"))
                        .send(click_body("jiloma-rthgip"))
                        .expect("transport error");
                    let status = response.status().as_u16();
                    let body = response.into_body().read_to_string().unwrap();
                    results.push((status, body));
                }
                results
            })
        })
        .collect();

    let mut ids = Vec::new();
    for client in clients {
        for (status, body) in client.join().unwrap() {
            assert_eq!(status, 201, "click failed during import: {body}");
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            ids.push(json["id"].as_str().unwrap().to_string());
        }
    }
    let import = importer.join().unwrap();
    let stderr = String::from_utf8_lossy(&import.stderr);
    assert!(import.status.success(), "import failed: {stderr}");
    assert!(
        !stderr.contains("locked"),
        "import saw a locked database: {stderr}"
    );

    assert_eq!(ids.len(), CLIENTS * CLICKS_PER_CLIENT);
    let conn = workspace.open();
    for id in &ids {
        let found: bool = conn
            .query_row(
                "SELECT count(*) = 1 FROM job_clicks WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .unwrap();
        assert!(found, "click {id} was acknowledged but is not stored");
    }
    assert_eq!(workspace.count("job_clicks"), ids.len() as i64);
    let bulk_jobs: i64 = conn
        .query_row(
            "SELECT count(*) FROM jobs JOIN profiles ON profiles.id = jobs.creator_id
             WHERE profiles.handle = 'bulk'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(bulk_jobs, 20_000);
}
