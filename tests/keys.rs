//! Stored API keys against a running server: `partner-api keys …` changes
//! which keys the server accepts from the next request on, with no restart.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// How long a test waits for something that the server does on a timer
/// (key expiry, the last-use flush) before it gives up.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

fn setup() -> (Workspace, Server) {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());
    (workspace, server)
}

/// Runs `partner-api keys ARGS` and returns its standard output; panics with
/// the error output when it fails.
fn keys(workspace: &Workspace, args: &[&str]) -> String {
    let mut full = vec!["keys"];
    full.extend_from_slice(args);
    let output = cli(workspace.path(), &workspace.db(), &full);
    assert!(
        output.status.success(),
        "keys {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Creates a key and returns it.
fn create_key(workspace: &Workspace, args: &[&str]) -> String {
    let mut full = vec!["create"];
    full.extend_from_slice(args);
    keys(workspace, &full).trim().to_string()
}

fn click_status(server: &Server, key: &str) -> u16 {
    post(
        server,
        "/partner/clicks",
        Some(key),
        None,
        &click_body("jiloma-rthgip"),
    )
    .status
}

fn list_json(workspace: &Workspace) -> Vec<serde_json::Value> {
    let text = keys(workspace, &["list", "--json"]);
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}

/// Polls `done` until it returns true; panics after `WAIT_LIMIT`.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < WAIT_LIMIT,
            "{what} did not happen within {WAIT_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Sends clicks with `key` until one gets 401; panics after `WAIT_LIMIT`.
fn wait_for_rejection(server: &Server, key: &str) {
    wait_until("rejection of the key", || match click_status(server, key) {
        401 => true,
        201 => false,
        other => panic!("unexpected status {other}"),
    });
}

#[test]
fn key_created_while_serving_works_at_once() {
    let (workspace, server) = setup();
    let key = create_key(&workspace, &["--name", "acme"]);
    assert!(key.starts_with("pk_live_"), "{key}");

    let click = post(
        &server,
        "/partner/clicks",
        Some(&key),
        None,
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(click.status, 201, "{}", click.body);
    let application = post(
        &server,
        "/partner/applications",
        Some(&key),
        None,
        &application_body("jiloma-rthgip"),
    );
    assert_eq!(application.status, 201, "{}", application.body);
    let feed = get(&server, "/partner/feed/jiloma/xml", Some(&key));
    assert_eq!(feed.status, 200, "{}", feed.body);

    let conn = workspace.open();
    let click_caller: String = conn
        .query_row(
            "SELECT api_key_name FROM job_clicks WHERE id = ?1",
            [click.json()["id"].as_str().unwrap()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(click_caller, "key:acme");
    let application_caller: String = conn
        .query_row(
            "SELECT api_key_name FROM rxevents WHERE id = ?1",
            [application.json()["id"].as_str().unwrap()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(application_caller, "key:acme");
}

#[test]
fn environment_keys_still_work_beside_stored_ones() {
    let (workspace, server) = setup();
    create_key(&workspace, &["--name", "acme"]);

    assert_eq!(click_status(&server, KEY), 201);
    assert_eq!(click_status(&server, LEGACY_KEY), 201);
    assert_eq!(click_status(&server, "pk_live_not-a-real-key"), 401);
}

#[test]
fn revoked_key_is_rejected_on_next_request() {
    let (workspace, server) = setup();
    let key = create_key(&workspace, &["--name", "acme"]);
    assert_eq!(click_status(&server, &key), 201);

    let output = keys(&workspace, &["revoke", "acme"]);
    assert!(output.contains("revoked key \"acme\""), "{output}");

    let rejected = post(
        &server,
        "/partner/clicks",
        Some(&key),
        None,
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(rejected.status, 401);
    assert_eq!(rejected.json()["error"], "unauthorized");
    assert_eq!(list_json(&workspace)[0]["status"], "revoked");
}

#[test]
fn rotation_keeps_old_key_for_the_grace() {
    let (workspace, server) = setup();
    let old = create_key(&workspace, &["--name", "acme"]);

    let new = keys(&workspace, &["rotate", "acme", "--grace", "4s"])
        .trim()
        .to_string();
    assert_ne!(new, old);
    assert_eq!(click_status(&server, &old), 201, "old key during the grace");
    assert_eq!(click_status(&server, &new), 201, "new key");

    wait_for_rejection(&server, &old);
    assert_eq!(click_status(&server, &new), 201, "new key after the grace");

    let listed = list_json(&workspace);
    let statuses: Vec<&str> = listed
        .iter()
        .map(|key| key["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["expired", "active"]);
    assert_eq!(listed[0]["replaced_by"], listed[1]["prefix"]);
}

#[test]
fn key_stops_at_its_expiry() {
    let (workspace, server) = setup();
    let key = create_key(&workspace, &["--name", "short-lived", "--expires-in", "3s"]);
    assert_eq!(click_status(&server, &key), 201);

    wait_for_rejection(&server, &key);
    assert_eq!(list_json(&workspace)[0]["status"], "expired");
}

#[test]
fn list_json_has_no_key_material() {
    let (workspace, server) = setup();
    let key = create_key(&workspace, &["--name", "acme", "--expires-in", "30d"]);
    assert_eq!(click_status(&server, &key), 201);

    let text = keys(&workspace, &["list", "--json"]);
    let hash: String = workspace
        .open()
        .query_row("SELECT hash FROM api_keys", [], |row| row.get(0))
        .unwrap();
    assert!(!text.contains(&key), "the key is listed: {text}");
    assert!(!text.contains(&hash), "the hash is listed: {text}");
    assert!(
        !text.contains(&key[..20]),
        "a long part of the key is listed"
    );

    let listed: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let fields: Vec<&String> = listed[0].as_object().unwrap().keys().collect();
    assert!(!fields.iter().any(|field| field.contains("hash")));
    assert!(!fields.iter().any(|field| *field == "key"));
    assert_eq!(listed[0]["name"], "acme");
    assert_eq!(listed[0]["prefix"], &key[..12]);
    assert_eq!(listed[0]["status"], "active");

    let table = keys(&workspace, &["list"]);
    assert!(!table.contains(&key[..20]), "{table}");
    assert!(table.contains("acme"), "{table}");
}

#[test]
fn last_use_is_written_while_serving() {
    let (workspace, server) = setup();
    let key = create_key(&workspace, &["--name", "acme"]);
    assert!(list_json(&workspace)[0]["last_used_at"].is_null());
    assert_eq!(click_status(&server, &key), 201);

    wait_until("the write of last_used_at", || {
        !list_json(&workspace)[0]["last_used_at"].is_null()
    });
}

#[test]
fn last_use_is_written_at_shutdown() {
    let (workspace, mut server) = setup();
    let key = create_key(&workspace, &["--name", "acme"]);
    assert_eq!(click_status(&server, &key), 201);

    assert!(server.terminate().success());
    assert!(!list_json(&workspace)[0]["last_used_at"].is_null());
}

#[test]
fn create_rejects_a_taken_name() {
    let workspace = Workspace::new();
    create_key(&workspace, &["--name", "acme"]);

    let output = cli(
        workspace.path(),
        &workspace.db(),
        &["keys", "create", "--name", "acme"],
    );
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "a key was printed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"acme\" already exists"), "{stderr}");
    assert_eq!(workspace.count("api_keys"), 1);
}

#[test]
fn bad_names_and_durations_are_rejected() {
    let workspace = Workspace::new();
    create_key(&workspace, &["--name", "other"]);
    for (args, expected) in [
        (
            vec!["keys", "create", "--name", "acme corp"],
            "invalid key name \"acme corp\"",
        ),
        (
            vec![
                "keys",
                "create",
                "--name",
                "acme",
                "--expires-in",
                "3 fortnights",
            ],
            "--expires-in",
        ),
        (
            vec!["keys", "create", "--name", "acme", "--expires-in", "0s"],
            "a key's lifetime must be at least 1s, not 0s",
        ),
        (
            vec!["keys", "create", "--name", "acme", "--expires-in", "1ms"],
            "a key's lifetime must be at least 1s, not 1ms",
        ),
        (
            vec![
                "keys",
                "create",
                "--name",
                "acme",
                "--expires-in",
                "2 months",
            ],
            "(ms, s, m, h, d or w)",
        ),
        (
            vec!["keys", "rotate", "other", "--expires-in", "999ms"],
            "a key's lifetime must be at least 1s, not 999ms",
        ),
        (
            vec!["keys", "rotate", "nobody"],
            "no current key named \"nobody\"",
        ),
        (vec!["keys", "revoke", "nobody"], "\"nobody\""),
    ] {
        let output = cli(workspace.path(), &workspace.db(), &args);
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert_eq!(workspace.count("api_keys"), 1);
}

/// Runs `partner-api keys ARGS` and returns the output, successful or not.
fn keys_output(workspace: &Workspace, args: &[&str]) -> (bool, String, String) {
    let mut full = vec!["keys"];
    full.extend_from_slice(args);
    let output = cli(workspace.path(), &workspace.db(), &full);
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn short_lifetime_gets_a_warning() {
    let workspace = Workspace::new();

    let (success, key, stderr) = keys_output(
        &workspace,
        &["create", "--name", "brief", "--expires-in", "30m"],
    );
    assert!(success, "{stderr}");
    assert!(key.starts_with("pk_live_"), "{key}");
    assert!(
        stderr.contains("warning: the key stops working in 30m"),
        "{stderr}"
    );

    let (success, _, stderr) = keys_output(
        &workspace,
        &["create", "--name", "long", "--expires-in", "2h"],
    );
    assert!(success, "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn rotating_an_expired_key_says_it_stopped() {
    let (workspace, server) = setup();
    let old = create_key(&workspace, &["--name", "acme", "--expires-in", "1s"]);
    wait_for_rejection(&server, &old);

    let (success, new, stderr) =
        keys_output(&workspace, &["rotate", "acme", "--expires-in", "30d"]);
    assert!(success, "{stderr}");
    assert!(stderr.contains("old key pk_live_"), "{stderr}");
    assert!(stderr.contains("… stopped working at "), "{stderr}");
    assert!(!stderr.contains("works until"), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(click_status(&server, new.trim()), 201, "new key");
    assert_eq!(click_status(&server, &old), 401, "old key");

    let listed = list_json(&workspace);
    let statuses: Vec<&str> = listed
        .iter()
        .map(|key| key["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["expired", "active"]);
}

#[test]
fn rotation_rejects_an_inherited_tiny_lifetime() {
    let (workspace, server) = setup();
    let old = create_key(&workspace, &["--name", "acme", "--expires-in", "1h"]);
    // A key stored with a lifetime of 1ms, which older versions of
    // `keys create` accepted.
    workspace
        .open()
        .execute(
            "UPDATE api_keys SET expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0.001 seconds')",
            [],
        )
        .unwrap();
    assert_eq!(click_status(&server, &old), 401);

    let (success, stdout, stderr) = keys_output(&workspace, &["rotate", "acme"]);
    assert!(!success, "the rotation passed on a 1ms lifetime: {stderr}");
    assert!(stdout.is_empty(), "a key was printed: {stdout}");
    assert!(stderr.contains("a lifetime of 1ms"), "{stderr}");
    assert!(stderr.contains("--expires-in"), "{stderr}");
    assert_eq!(workspace.count("api_keys"), 1);

    let (success, new, stderr) =
        keys_output(&workspace, &["rotate", "acme", "--expires-in", "90d"]);
    assert!(success, "{stderr}");
    assert_eq!(click_status(&server, new.trim()), 201);
}
