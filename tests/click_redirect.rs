//! The public click URL `GET /j/:short_code` against a real server: a
//! click row per visit with the right attribution, none for HEAD or
//! crawlers, a 302 to the apply URL, and 400/404 JSON errors.

mod common;

use common::*;
use serde_json::json;

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                       (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const APPLY_URL: &str = "https://careers.example.com/marlow-finch/jobs/job_12345?ref=jiloma";

fn setup(options: ServerOptions) -> (Workspace, Server) {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, options);
    (workspace, server)
}

fn visit(server: &Server, method: &str, path: &str, user_agent: &str) -> RawReply {
    raw_request(server, method, path, &[("User-Agent", user_agent)])
}

/// One stored click, as the columns the route fills.
#[derive(Debug, PartialEq)]
struct ClickRow {
    job_row_id: i64,
    cid: String,
    sub_id: Option<String>,
    job_id: String,
    short_code: String,
    click_source: Option<String>,
    query_string: String,
    partner_test_run_id: Option<String>,
    api_key_name: String,
}

fn clicks(workspace: &Workspace) -> Vec<ClickRow> {
    let conn = workspace.open();
    let mut statement = conn
        .prepare(
            "SELECT job_row_id, cid, sub_id, job_id, short_code, click_source, query_string,
                    partner_test_run_id, api_key_name
             FROM job_clicks ORDER BY id",
        )
        .unwrap();
    statement
        .query_map([], |row| {
            Ok(ClickRow {
                job_row_id: row.get(0)?,
                cid: row.get(1)?,
                sub_id: row.get(2)?,
                job_id: row.get(3)?,
                short_code: row.get(4)?,
                click_source: row.get(5)?,
                query_string: row.get(6)?,
                partner_test_run_id: row.get(7)?,
                api_key_name: row.get(8)?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn job_row_id(workspace: &Workspace, short_code: &str) -> i64 {
    workspace
        .open()
        .query_row(
            "SELECT id FROM jobs WHERE short_code = ?1",
            [short_code],
            |row| row.get(0),
        )
        .unwrap()
}

#[test]
fn visit_records_click_and_redirects() {
    let (workspace, server) = setup(ServerOptions::default());

    let reply = visit(
        &server,
        "GET",
        "/j/abc123xy?sub_id=jiloma-rthgip&source=newsletter&utm_campaign=w49",
        BROWSER,
    );
    assert_eq!(reply.status, 302);
    assert_eq!(reply.header("location"), Some(APPLY_URL));
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    assert_eq!(
        clicks(&workspace),
        vec![ClickRow {
            job_row_id: job_row_id(&workspace, "abc123xy"),
            cid: "jiloma".into(),
            sub_id: Some("jiloma-rthgip".into()),
            job_id: "job_12345".into(),
            short_code: "abc123xy".into(),
            click_source: Some("newsletter".into()),
            query_string: "sub_id=jiloma-rthgip&source=newsletter&utm_campaign=w49".into(),
            partner_test_run_id: None,
            api_key_name: "public".into(),
        }]
    );
}

#[test]
fn visit_without_query_defaults_source_to_feed() {
    let (workspace, server) = setup(ServerOptions::default());

    let reply = visit(&server, "GET", "/j/abc123xy", BROWSER);
    assert_eq!(reply.status, 302);
    let rows = clicks(&workspace);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sub_id, None);
    assert_eq!(rows[0].click_source.as_deref(), Some("feed"));
    assert_eq!(rows[0].query_string, "");
}

#[test]
fn each_get_is_one_click() {
    let (workspace, server) = setup(ServerOptions::default());

    for user_agent in [BROWSER, "curl/8.5.0", ""] {
        let reply = visit(
            &server,
            "GET",
            "/j/abc123xy?sub_id=jiloma-rthgip",
            user_agent,
        );
        assert_eq!(reply.status, 302, "{user_agent:?}");
    }
    assert_eq!(clicks(&workspace).len(), 3);
}

#[test]
fn head_and_crawlers_are_not_recorded() {
    let (workspace, server) = setup(ServerOptions::default());
    let path = "/j/abc123xy?sub_id=jiloma-rthgip";

    let head = visit(&server, "HEAD", path, BROWSER);
    assert_eq!(head.status, 302);
    assert_eq!(head.header("location"), Some(APPLY_URL));
    assert!(head.body.is_empty());

    for crawler in [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Twitterbot/1.0",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "WhatsApp/2.23.20.0 A",
        "TelegramBot (like TwitterBot)",
    ] {
        let reply = visit(&server, "GET", path, crawler);
        assert_eq!(reply.status, 302, "{crawler}");
        assert_eq!(reply.header("location"), Some(APPLY_URL), "{crawler}");
    }
    assert!(clicks(&workspace).is_empty());

    visit(&server, "GET", path, BROWSER);
    assert_eq!(clicks(&workspace).len(), 1);
}

#[test]
fn invalid_sub_id_is_json_400() {
    let (workspace, server) = setup(ServerOptions::default());

    for (query, code, field) in [
        ("sub_id=acme-1", "invalid_sub_id", "sub_id"),
        ("sub_id=", "invalid_sub_id", "sub_id"),
        ("sub_id=jiloma-a%20b", "invalid_sub_id", "sub_id"),
        ("sub_id=jiloma-nobody", "unknown_sub_id", "sub_id"),
        ("sub_id=jiloma-e2e-smoke", "unknown_sub_id", "sub_id"),
        ("sub_id=north-star-jobs-weekly", "invalid_sub_id", "sub_id"),
        ("source=%01", "invalid_field", "source"),
    ] {
        for method in ["GET", "HEAD"] {
            let reply = visit(&server, method, &format!("/j/abc123xy?{query}"), BROWSER);
            assert_eq!(reply.status, 400, "{method} {query}");
            assert_eq!(reply.header("content-type"), Some("application/json"));
            assert_eq!(reply.header("location"), None);
            if method == "GET" {
                let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                assert_eq!(body["error"], code, "{query}");
                assert_eq!(body["field"], field, "{query}");
            }
        }
    }
    assert!(clicks(&workspace).is_empty());
}

#[test]
fn unknown_closed_and_expired_jobs_are_404() {
    let workspace = Workspace::new();
    let mut closed = job_json("closed", "codeclosed");
    closed["status"] = json!("closed");
    let mut expired = job_json("expired", "codeexpired");
    expired["posted_at"] = json!("2019-12-01T00:00:00Z");
    expired["expires_at"] = json!("2020-01-01T00:00:00Z");
    workspace.import_json(
        "jobs.json",
        &creator_json(
            "shop",
            &["shop-x"],
            vec![closed, expired, job_json("open", "codeopen")],
        ),
    );
    let server = Server::start(&workspace, ServerOptions::default());

    for (path, code) in [
        ("/j/nosuchcode", "unknown_short_code"),
        ("/j/%FF%FE", "unknown_short_code"),
        ("/j/codeclosed", "job_not_open"),
        ("/j/codeclosed?sub_id=shop-x", "job_not_open"),
        ("/j/codeexpired", "job_not_open"),
    ] {
        let reply = visit(&server, "GET", path, BROWSER);
        assert_eq!(reply.status, 404, "{path}");
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(body["error"], code, "{path}");
        assert_eq!(body["field"], "short_code", "{path}");
    }
    assert_eq!(visit(&server, "HEAD", "/j/codeclosed", BROWSER).status, 404);
    assert!(clicks(&workspace).is_empty());

    let open = visit(&server, "GET", "/j/codeopen?sub_id=shop-x", BROWSER);
    assert_eq!(open.status, 302);
    assert_eq!(clicks(&workspace).len(), 1);
}

#[test]
fn feed_url_leads_to_attributed_click() {
    let (workspace, server) = setup(ServerOptions::default());

    let feed = get(
        &server,
        "/partner/feed/jiloma/xml?sub_id=jiloma-partnerboard",
        Some(KEY),
    );
    assert_eq!(feed.status, 200);
    let document = roxmltree::Document::parse(&feed.body).unwrap();
    let url: String = document
        .descendants()
        .find(|node| node.has_tag_name("url"))
        .unwrap()
        .children()
        .filter_map(|node| node.text())
        .collect();
    let path = url
        .strip_prefix(&server.base)
        .expect("click URL on this server");

    let reply = visit(&server, "GET", path, BROWSER);
    assert_eq!(reply.status, 302);
    let rows = clicks(&workspace);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sub_id.as_deref(), Some("jiloma-partnerboard"));
    assert_eq!(rows[0].cid, "jiloma");
    assert_eq!(rows[0].click_source.as_deref(), Some("feed"));
    assert_eq!(
        rows[0].job_row_id,
        job_row_id(&workspace, &rows[0].short_code)
    );
}

#[test]
fn test_mode_accepts_e2e_sub_id_with_run_id() {
    let (workspace, server) =
        setup(ServerOptions::default().env("PARTNER_INTEGRATION_E2E", "true"));

    let reply = raw_request(
        &server,
        "GET",
        "/j/abc123xy?sub_id=jiloma-e2e-smoke",
        &[
            ("User-Agent", BROWSER),
            ("x-partner-test-run-id", "partner-smoke-001"),
        ],
    );
    assert_eq!(reply.status, 302);
    let rows = clicks(&workspace);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sub_id.as_deref(), Some("jiloma-e2e-smoke"));
    assert_eq!(
        rows[0].partner_test_run_id.as_deref(),
        Some("partner-smoke-001")
    );
}

#[test]
fn hostile_apply_url_is_encoded() {
    let workspace = Workspace::new();
    let mut job = job_json("odd", "codeodd");
    job["apply_url"] = json!("https://example.com/jobs/café?a=1&b=<x>&c=\"q\"#top");
    workspace.import_json("odd.json", &creator_json("odd", &[], vec![job]));
    let server = Server::start(&workspace, ServerOptions::default());

    let reply = visit(&server, "GET", "/j/codeodd", BROWSER);
    assert_eq!(reply.status, 302);
    assert_eq!(
        reply.header("location"),
        Some("https://example.com/jobs/caf%C3%A9?a=1&b=%3Cx%3E&c=%22q%22#top")
    );
}

#[test]
fn other_methods_are_405() {
    let (_workspace, server) = setup(ServerOptions::default());
    let reply = raw_request(&server, "POST", "/j/abc123xy", &[("Content-Length", "0")]);
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
}

#[test]
fn long_query_stores_attribution_only() {
    let (workspace, server) = setup(ServerOptions::default());
    let padding = "q".repeat(5000);
    let path = format!("/j/abc123xy?sub_id=jiloma-rthgip&source=mail&x={padding}");
    let reply = visit(&server, "GET", &path, "Mozilla/5.0");
    assert_eq!(reply.status, 302);

    let rows = clicks(&workspace);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].query_string, "sub_id=jiloma-rthgip&source=mail");
    assert_eq!(rows[0].sub_id.as_deref(), Some("jiloma-rthgip"));
}

#[test]
fn crawler_in_second_user_agent_is_not_recorded() {
    let (workspace, server) = setup(ServerOptions::default());
    let reply = raw_request(
        &server,
        "GET",
        "/j/abc123xy",
        &[
            ("User-Agent", "Mozilla/5.0"),
            ("User-Agent", "Googlebot/2.1"),
        ],
    );
    assert_eq!(reply.status, 302);
    assert!(clicks(&workspace).is_empty());
}

#[test]
fn bidi_override_in_source_is_400() {
    let (workspace, server) = setup(ServerOptions::default());
    let reply = visit(
        &server,
        "GET",
        "/j/abc123xy?source=%E2%80%AEevil",
        "Mozilla/5.0",
    );
    assert_eq!(reply.status, 400);
    assert!(clicks(&workspace).is_empty());
}
