//! The documented partner flow against a real server: feed, click,
//! application, with each accepted key and with and without a test run id.

mod common;

use common::*;

fn setup(options: ServerOptions) -> (Workspace, Server) {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, options);
    (workspace, server)
}

#[test]
fn flow_works_with_each_environment_key() {
    let (workspace, server) = setup(ServerOptions::default());

    for (key, caller) in [
        (KEY, "env:PARTNER_INTEGRATION_API_KEY"),
        (E2E_KEY, "env:PARTNER_INTEGRATION_E2E_API_KEY"),
        (LEGACY_KEY, "env:SENDERCIRCLE_API_KEY"),
    ] {
        let feed = get(
            &server,
            "/partner/feed/jiloma/xml?sub_id=jiloma-rthgip",
            Some(key),
        );
        assert_eq!(feed.status, 200, "{}", feed.body);
        assert_eq!(
            feed.header("content-type"),
            Some("application/xml; charset=utf-8")
        );
        roxmltree::Document::parse(&feed.body).expect("feed is well-formed XML");

        let click = post(
            &server,
            "/partner/clicks",
            Some(key),
            None,
            &click_body("jiloma-rthgip"),
        );
        assert_eq!(click.status, 201, "{}", click.body);
        let click = click.json();
        assert_eq!(click["kind"], "job_click");
        assert_eq!(click["partner_test_run_id"], serde_json::Value::Null);

        let application = post(
            &server,
            "/partner/applications",
            Some(key),
            None,
            &application_body("jiloma-rthgip"),
        );
        assert_eq!(application.status, 201, "{}", application.body);
        let application = application.json();
        assert_eq!(application["kind"], "rx_event");

        let conn = workspace.open();
        let click_caller: String = conn
            .query_row(
                "SELECT api_key_name FROM job_clicks WHERE id = ?1",
                [click["id"].as_str().unwrap()],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(click_caller, caller);
        let application_caller: String = conn
            .query_row(
                "SELECT api_key_name FROM rxevents WHERE id = ?1",
                [application["id"].as_str().unwrap()],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(application_caller, caller);
    }
    assert_eq!(workspace.count("job_clicks"), 3);
    assert_eq!(workspace.count("rxevents"), 3);
}

#[test]
fn responses_match_documented_shape() {
    let (_workspace, server) = setup(ServerOptions::default());

    let click = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        Some("partner-smoke-001"),
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(click.status, 201);
    let body = click.json();
    let id = body["id"].as_str().unwrap();
    let uuid = uuid::Uuid::parse_str(id).expect("id is a UUID");
    assert_eq!(uuid.get_version_num(), 7);
    assert_eq!(
        body,
        serde_json::json!({
            "id": id,
            "kind": "job_click",
            "creator_handle": "jiloma",
            "sub_id": "jiloma-rthgip",
            "job_id": "job_12345",
            "partner_test_run_id": "partner-smoke-001",
        })
    );

    let application = post(
        &server,
        "/partner/applications",
        Some(KEY),
        Some("partner-smoke-001"),
        &application_body("jiloma-rthgip"),
    );
    assert_eq!(application.status, 201);
    let body = application.json();
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "id": id,
            "kind": "rx_event",
            "creator_handle": "jiloma",
            "sub_id": "jiloma-rthgip",
            "job_id": "job_12345",
            "partner_test_run_id": "partner-smoke-001",
        })
    );
}

#[test]
fn test_mode_accepts_e2e_sub_id_without_profile() {
    let (workspace, server) =
        setup(ServerOptions::default().env("PARTNER_INTEGRATION_E2E", "true"));

    let feed = get(
        &server,
        "/partner/feed/jiloma/xml?sub_id=jiloma-e2e-smoke",
        Some(KEY),
    );
    assert_eq!(feed.status, 200, "{}", feed.body);
    assert!(feed.body.contains("sub_id=jiloma-e2e-smoke"));

    let click = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        Some("run-7"),
        &click_body("jiloma-e2e-smoke"),
    );
    assert_eq!(click.status, 201, "{}", click.body);
    let application = post(
        &server,
        "/partner/applications",
        Some(KEY),
        Some("run-7"),
        &application_body("jiloma-e2e-smoke"),
    );
    assert_eq!(application.status, 201, "{}", application.body);

    let stored: String = workspace
        .open()
        .query_row("SELECT sub_id FROM rxevents", [], |row| row.get(0))
        .unwrap();
    assert_eq!(stored, "jiloma-e2e-smoke");
}

#[test]
fn e2e_sub_id_rejected_outside_test_mode() {
    let (workspace, server) = setup(ServerOptions::default());

    let click = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        None,
        &click_body("jiloma-e2e-smoke"),
    );
    assert_eq!(click.status, 400);
    assert_eq!(click.json()["error"], "unknown_sub_id");
    assert_eq!(workspace.count("job_clicks"), 0);
}
