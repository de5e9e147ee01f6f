//! `import creators` with JSON files: idempotent upserts, and a bad file
//! rejected whole with the position of the bad record.

mod common;

use common::*;

fn run_import(workspace: &Workspace, file: &std::path::Path) -> std::process::Output {
    cli(
        workspace.path(),
        &workspace.db(),
        &["import", "creators", file.to_str().unwrap()],
    )
}

/// Lists every row of the profiles and jobs tables, for before/after comparisons.
fn snapshot(workspace: &Workspace) -> Vec<String> {
    let conn = workspace.open();
    let mut rows = Vec::new();
    for sql in [
        "SELECT handle || '|' || name || '|' || ifnull(parent_id, '') || '|' || jobs_version || '|' || updated_at FROM profiles ORDER BY id",
        "SELECT job_id || '|' || short_code || '|' || title || '|' || status || '|' || updated_at FROM jobs ORDER BY id",
    ] {
        let mut statement = conn.prepare(sql).unwrap();
        let found = statement
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap();
        rows.extend(found.map(Result::unwrap));
    }
    rows
}

#[test]
fn fixtures_import_counts_every_record() {
    let workspace = Workspace::new();
    let output = run_import(&workspace, &fixtures());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("jobs:         241 added, 0 updated, 0 unchanged"),
        "{stdout}"
    );
    assert_eq!(workspace.count("jobs"), 241);
    assert_eq!(workspace.count("profiles WHERE parent_id IS NULL"), 7);
}

#[test]
fn second_import_changes_nothing() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let before = snapshot(&workspace);

    let output = run_import(&workspace, &fixtures());
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("creators:     0 added, 0 updated, 7 unchanged"),
        "{stdout}"
    );
    assert!(
        stdout.contains("jobs:         0 added, 0 updated, 241 unchanged"),
        "{stdout}"
    );
    assert_eq!(snapshot(&workspace), before);
}

#[test]
fn changed_job_is_updated_and_bumps_version() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let version = |workspace: &Workspace| -> i64 {
        workspace
            .open()
            .query_row(
                "SELECT jobs_version FROM profiles WHERE handle = 'jiloma'",
                [],
                |row| row.get(0),
            )
            .unwrap()
    };
    let before = version(&workspace);

    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures()).unwrap()).unwrap();
    let creators = file["creators"].as_array_mut().unwrap();
    let jiloma = creators
        .iter_mut()
        .find(|c| c["handle"] == "jiloma")
        .unwrap();
    let job = jiloma["jobs"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|j| j["job_id"] == "job_12345")
        .unwrap();
    job["title"] = serde_json::json!("Warehouse Lead - Night Shift");
    let path = workspace.path().join("edited.json");
    std::fs::write(&path, file.to_string()).unwrap();

    let output = run_import(&workspace, &path);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("jobs:         0 added, 1 updated, 240 unchanged"),
        "{stdout}"
    );
    assert_eq!(version(&workspace), before + 1);
    let title: String = workspace
        .open()
        .query_row(
            "SELECT title FROM jobs WHERE job_id = 'job_12345'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(title, "Warehouse Lead - Night Shift");
}

#[test]
fn bad_record_rejects_whole_file() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let before = snapshot(&workspace);

    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures()).unwrap()).unwrap();
    // A new job that would be added, then a bad one after it.
    let jobs = file["creators"][0]["jobs"].as_array_mut().unwrap();
    let mut added = jobs[0].clone();
    added["job_id"] = serde_json::json!("job_new_1");
    added["short_code"] = serde_json::json!("newcode1");
    jobs.push(added);
    jobs[3]["posted_at"] = serde_json::json!("2026-11-20 09:00");
    let path = workspace.path().join("bad.json");
    std::fs::write(&path, file.to_string()).unwrap();

    let output = run_import(&workspace, &path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("creators[0].jobs[3].posted_at"), "{stderr}");
    assert!(stderr.contains("2026-11-20 09:00"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(snapshot(&workspace), before);
}

#[test]
fn short_code_taken_by_other_creator_rejects_file() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let before = snapshot(&workspace);

    let file = serde_json::json!({"creators": [{
        "handle": "newcomer", "name": "Newcomer", "sub_profiles": [],
        "jobs": [{
            "job_id": "n-1", "short_code": "abc123xy", "title": "Cook", "company": "Diner",
            "apply_url": "https://diner.example.com/apply", "posted_at": "2026-11-01",
            "salary": null, "job_type": null, "category": null, "expires_at": null
        }]
    }]});
    let path = workspace.path().join("taken.json");
    std::fs::write(&path, file.to_string()).unwrap();

    let output = run_import(&workspace, &path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("creators[0].jobs[0]"), "{stderr}");
    assert!(stderr.contains("abc123xy"), "{stderr}");
    assert_eq!(snapshot(&workspace), before);
}

#[test]
fn malformed_json_names_line() {
    let workspace = Workspace::new();
    let path = workspace.path().join("broken.json");
    std::fs::write(
        &path,
        "{\n  \"creators\": [\n    {\"handle\": \"x\",}\n  ]\n}\n",
    )
    .unwrap();
    let output = run_import(&workspace, &path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
}

#[test]
fn sub_profile_with_wrong_prefix_is_rejected() {
    let workspace = Workspace::new();
    let file = serde_json::json!({"creators": [{
        "handle": "acme", "name": "Acme",
        "sub_profiles": [{"handle": "other-weekly", "name": "Weekly"}],
        "jobs": []
    }]});
    let path = workspace.path().join("prefix.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let output = run_import(&workspace, &path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("creators[0].sub_profiles[0].handle"),
        "{stderr}"
    );
    assert!(stderr.contains("\"acme-\""), "{stderr}");
}

#[test]
fn wrong_type_names_field_path() {
    let workspace = Workspace::new();
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures()).unwrap()).unwrap();
    file["creators"][1]["jobs"][2]["salary"] = serde_json::json!(5);
    let path = workspace.path().join("typed.json");
    std::fs::write(&path, file.to_string()).unwrap();

    let output = run_import(&workspace, &path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("creators[1].jobs[2].salary"), "{stderr}");
    assert!(!workspace.db().exists() || workspace.count("jobs") == 0);
}

#[test]
fn unsafe_apply_url_is_rejected() {
    let workspace = Workspace::new();
    let file = serde_json::json!({"creators": [{
        "handle": "acme", "name": "Acme", "sub_profiles": [],
        "jobs": [{
            "job_id": "a-1", "short_code": "acme0001", "title": "Cook", "company": "Acme",
            "apply_url": "https://x\"><script>", "posted_at": "2026-11-01",
            "salary": null, "job_type": null, "category": null, "expires_at": null
        }]
    }]});
    let path = workspace.path().join("url.json");
    std::fs::write(&path, file.to_string()).unwrap();

    let output = run_import(&workspace, &path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("creators[0].jobs[0].apply_url"), "{stderr}");
}

#[test]
fn control_characters_in_names_are_rejected() {
    let workspace = Workspace::new();
    let mut file = creator_json(
        "acme",
        &["acme-weekly"],
        vec![job_json("job-1", "code0001")],
    );
    file["creators"][0]["name"] = serde_json::json!("Acme\u{7}Jobs");
    file["creators"][0]["sub_profiles"][0]["name"] = serde_json::json!("Acme\u{0}Weekly");
    // Job text keeps its control characters: the feed writer removes them.
    file["creators"][0]["jobs"][0]["title"] = serde_json::json!("Cook\u{7}");
    let path = workspace.path().join("controls.json");
    std::fs::write(&path, file.to_string()).unwrap();

    let output = run_import(&workspace, &path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("2 invalid value(s)"), "{stderr}");
    assert!(stderr.contains("creators[0].name"), "{stderr}");
    assert!(stderr.contains("'\\u{7}'"), "{stderr}");
    assert!(
        stderr.contains("creators[0].sub_profiles[0].name"),
        "{stderr}"
    );
    assert!(stderr.contains("'\\0'"), "{stderr}");
    assert!(!stderr.contains("title"), "{stderr}");
    assert!(!workspace.db().exists());
}

#[test]
fn expiry_before_posting_is_rejected() {
    let workspace = Workspace::new();
    let mut expired = job_json("job-1", "code0001");
    expired["posted_at"] = serde_json::json!("2026-11-02T14:30:00Z");
    expired["expires_at"] = serde_json::json!("2026-11-02T15:30:00+02:00");
    let mut same_time = job_json("job-2", "code0002");
    same_time["expires_at"] = same_time["posted_at"].clone();
    let file = creator_json("acme", &[], vec![expired, same_time]);
    let path = workspace.path().join("expiry.json");
    std::fs::write(&path, file.to_string()).unwrap();

    let output = run_import(&workspace, &path);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1 invalid value(s)"), "{stderr}");
    assert!(
        stderr.contains("creators[0].jobs[0].expires_at"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2026-11-02T13:30:00.000Z is before posted_at 2026-11-02T14:30:00.000Z"),
        "{stderr}"
    );
    assert!(!workspace.db().exists());
}
