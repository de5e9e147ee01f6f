//! Every documented error cause, each in its own test: the status, the JSON
//! error code and field, and that nothing was written.

mod common;

use common::*;
use serde_json::json;

struct Fixture {
    workspace: Workspace,
    server: Server,
}

fn setup() -> Fixture {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());
    Fixture { workspace, server }
}

impl Fixture {
    /// Asserts the error response and that no event row was written.
    fn assert_rejected(&self, reply: &Reply, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(reply.status, status, "body: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let body = reply.json();
        assert_eq!(body["error"], code, "body: {}", reply.body);
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message missing: {}",
            reply.body
        );
        match field {
            Some(field) => assert_eq!(body["field"], field, "body: {}", reply.body),
            None => assert!(body.get("field").is_none(), "body: {}", reply.body),
        }
        assert_eq!(self.workspace.count("job_clicks"), 0, "a click was written");
        assert_eq!(
            self.workspace.count("rxevents"),
            0,
            "an application was written"
        );
    }

    fn click(&self, body: serde_json::Value) -> Reply {
        post(
            &self.server,
            "/partner/clicks",
            Some(KEY),
            None,
            &body.to_string(),
        )
    }

    fn application(&self, body: serde_json::Value) -> Reply {
        post(
            &self.server,
            "/partner/applications",
            Some(KEY),
            None,
            &body.to_string(),
        )
    }
}

fn click_json() -> serde_json::Value {
    serde_json::from_str(&click_body("jiloma-rthgip")).unwrap()
}

fn application_json() -> serde_json::Value {
    serde_json::from_str(&application_body("jiloma-rthgip")).unwrap()
}

#[test]
fn missing_key_is_401() {
    let f = setup();
    let reply = post(
        &f.server,
        "/partner/clicks",
        None,
        None,
        &click_body("jiloma-rthgip"),
    );
    f.assert_rejected(&reply, 401, "unauthorized", Some("x-api-key"));
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("missing")
    );
}

#[test]
fn invalid_key_is_401() {
    let f = setup();
    let reply = post(
        &f.server,
        "/partner/applications",
        Some("wrong-key"),
        None,
        &application_body("jiloma-rthgip"),
    );
    f.assert_rejected(&reply, 401, "unauthorized", Some("x-api-key"));
}

#[test]
fn feed_without_key_is_401() {
    let f = setup();
    let reply = get(&f.server, "/partner/feed/jiloma/xml", None);
    f.assert_rejected(&reply, 401, "unauthorized", Some("x-api-key"));
}

#[test]
fn empty_environment_key_is_not_accepted() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(
        &workspace,
        ServerOptions::default().env("SENDERCIRCLE_API_KEY", ""),
    );
    let reply = post(
        &server,
        "/partner/clicks",
        Some(""),
        None,
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 401);
    assert_eq!(workspace.count("job_clicks"), 0);
}

#[test]
fn unknown_creator_is_400() {
    let f = setup();
    let mut body = click_json();
    body["creator_handle"] = json!("nobody");
    body["sub_id"] = json!("nobody-x");
    let reply = f.click(body);
    f.assert_rejected(&reply, 400, "unknown_creator", Some("creator_handle"));
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("\"nobody\"")
    );
}

#[test]
fn sub_profile_is_not_a_creator() {
    let f = setup();
    let mut body = application_json();
    body["creator_handle"] = json!("jiloma-rthgip");
    body["sub_id"] = json!("jiloma-rthgip-x");
    f.assert_rejected(
        &f.application(body),
        400,
        "unknown_creator",
        Some("creator_handle"),
    );
}

#[test]
fn feed_of_unknown_creator_is_400() {
    let f = setup();
    let reply = get(&f.server, "/partner/feed/nobody/xml", Some(KEY));
    f.assert_rejected(&reply, 400, "unknown_creator", Some("creator_handle"));
}

#[test]
fn sub_id_with_wrong_prefix_is_400() {
    let f = setup();
    let mut body = click_json();
    body["sub_id"] = json!("acme-1");
    let reply = f.click(body);
    f.assert_rejected(&reply, 400, "invalid_sub_id", Some("sub_id"));
    assert_eq!(
        reply.json()["message"],
        "sub_id \"acme-1\" must start with \"jiloma-\""
    );
}

#[test]
fn sub_id_without_suffix_is_400() {
    let f = setup();
    let mut body = application_json();
    body["sub_id"] = json!("jiloma-");
    f.assert_rejected(&f.application(body), 400, "invalid_sub_id", Some("sub_id"));
}

#[test]
fn feed_with_invalid_sub_id_is_400() {
    let f = setup();
    let reply = get(
        &f.server,
        "/partner/feed/jiloma/xml?sub_id=acme-1",
        Some(KEY),
    );
    f.assert_rejected(&reply, 400, "invalid_sub_id", Some("sub_id"));
}

#[test]
fn unknown_sub_profile_is_400() {
    let f = setup();
    let mut body = click_json();
    body["sub_id"] = json!("jiloma-doesnotexist");
    let reply = f.click(body);
    f.assert_rejected(&reply, 400, "unknown_sub_id", Some("sub_id"));
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("jiloma-doesnotexist")
    );
}

#[test]
fn sub_profile_of_other_creator_is_400() {
    let f = setup();
    let reply = get(
        &f.server,
        "/partner/feed/jiloma/xml?sub_id=north-star-jobs-weekly",
        Some(KEY),
    );
    f.assert_rejected(&reply, 400, "invalid_sub_id", Some("sub_id"));
}

#[test]
fn feed_with_unknown_sub_profile_is_400() {
    let f = setup();
    let reply = get(
        &f.server,
        "/partner/feed/jiloma/xml?sub_id=jiloma-nope",
        Some(KEY),
    );
    f.assert_rejected(&reply, 400, "unknown_sub_id", Some("sub_id"));
}

#[test]
fn unknown_short_code_is_400() {
    let f = setup();
    let mut body = click_json();
    body["short_code"] = json!("zzzzzzzz");
    let reply = f.click(body);
    f.assert_rejected(&reply, 400, "unknown_short_code", Some("short_code"));
}

#[test]
fn short_code_of_other_creator_is_400() {
    let f = setup();
    let other: String = f
        .workspace
        .open()
        .query_row(
            "SELECT short_code FROM jobs JOIN profiles ON profiles.id = jobs.creator_id
             WHERE profiles.handle = 'north-star-jobs' LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let mut body = click_json();
    body["short_code"] = json!(other);
    f.assert_rejected(
        &f.click(body),
        400,
        "unknown_short_code",
        Some("short_code"),
    );
}

#[test]
fn job_id_not_matching_short_code_is_400() {
    let f = setup();
    let mut body = click_json();
    body["job_id"] = json!("job_99999");
    f.assert_rejected(&f.click(body), 400, "job_mismatch", Some("job_id"));
}

#[test]
fn application_for_unknown_job_is_400() {
    let f = setup();
    let mut body = application_json();
    body["job_id"] = json!("job_99999");
    f.assert_rejected(&f.application(body), 400, "unknown_job", Some("job_id"));
}

#[test]
fn malformed_json_is_400() {
    let f = setup();
    let reply = post(
        &f.server,
        "/partner/clicks",
        Some(KEY),
        None,
        "{\"creator_handle\": \"jiloma\",",
    );
    f.assert_rejected(&reply, 400, "invalid_json", Some("body"));
}

#[test]
fn json_that_is_not_an_object_is_400() {
    let f = setup();
    let reply = post(
        &f.server,
        "/partner/applications",
        Some(KEY),
        None,
        "[1, 2, 3]",
    );
    f.assert_rejected(&reply, 400, "invalid_json", Some("body"));
}

#[test]
fn empty_body_is_400() {
    let f = setup();
    let reply = post(&f.server, "/partner/clicks", Some(KEY), None, "");
    f.assert_rejected(&reply, 400, "invalid_json", Some("body"));
}

#[test]
fn each_missing_click_field_is_400() {
    let f = setup();
    for field in ["creator_handle", "sub_id", "job_id", "short_code"] {
        let mut body = click_json();
        body.as_object_mut().unwrap().remove(field);
        let reply = f.click(body);
        f.assert_rejected(&reply, 400, "missing_field", Some(field));
        assert!(reply.json()["message"].as_str().unwrap().contains(field));
    }
}

#[test]
fn each_missing_application_field_is_400() {
    let f = setup();
    for field in [
        "creator_handle",
        "sub_id",
        "job_id",
        "applicant_email",
        "applicant_first_name",
        "applicant_last_name",
    ] {
        let mut body = application_json();
        body.as_object_mut().unwrap().remove(field);
        f.assert_rejected(&f.application(body), 400, "missing_field", Some(field));
    }
}

#[test]
fn null_field_is_missing() {
    let f = setup();
    let mut body = click_json();
    body["job_id"] = json!(null);
    f.assert_rejected(&f.click(body), 400, "missing_field", Some("job_id"));
}

#[test]
fn wrongly_typed_fields_are_400() {
    let f = setup();
    for (field, value) in [
        ("creator_handle", json!(7)),
        ("sub_id", json!(["jiloma-rthgip"])),
        ("job_id", json!(12345)),
        ("short_code", json!({"code": "abc123xy"})),
        ("source", json!(true)),
    ] {
        let mut body = click_json();
        body[field] = value;
        let reply = f.click(body);
        f.assert_rejected(&reply, 400, "invalid_field", Some(field));
        assert!(
            reply.json()["message"]
                .as_str()
                .unwrap()
                .contains("must be a string")
        );
    }
}

#[test]
fn invalid_email_is_400() {
    let f = setup();
    let mut body = application_json();
    body["applicant_email"] = json!("not-an-email");
    let reply = f.application(body);
    f.assert_rejected(&reply, 400, "invalid_field", Some("applicant_email"));
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("not-an-email")
    );
}

#[test]
fn control_character_in_name_is_400() {
    let f = setup();
    let mut body = application_json();
    body["applicant_first_name"] = json!("Al\u{0}ex");
    f.assert_rejected(
        &f.application(body),
        400,
        "invalid_field",
        Some("applicant_first_name"),
    );
}

#[test]
fn oversized_id_is_400() {
    let f = setup();
    let mut body = click_json();
    body["job_id"] = json!("j".repeat(5000));
    let reply = f.click(body);
    f.assert_rejected(&reply, 400, "invalid_field", Some("job_id"));
    assert!(reply.body.len() < 1000, "the error echoes the huge value");
}

#[test]
fn invalid_test_run_id_is_400() {
    let f = setup();
    let reply = post(
        &f.server,
        "/partner/clicks",
        Some(KEY),
        Some("has space"),
        &click_body("jiloma-rthgip"),
    );
    f.assert_rejected(
        &reply,
        400,
        "invalid_test_run_id",
        Some("x-partner-test-run-id"),
    );
}

#[test]
fn oversized_body_is_413() {
    let f = setup();
    let mut body = application_json();
    body["applicant_last_name"] = json!("x".repeat(200_000));
    let reply = f.application(body);
    f.assert_rejected(&reply, 413, "payload_too_large", Some("body"));
}

#[test]
fn oversized_chunked_body_is_413() {
    use std::io::{Read, Write};

    let f = setup();
    let addr = f.server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /partner/clicks HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {KEY}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // 80 chunks of 1 KiB: more than the 64 KiB limit, with no length up front.
    let chunk = "x".repeat(1024);
    for _ in 0..80 {
        if write!(stream, "400\r\n{chunk}\r\n").is_err() {
            break;
        }
    }
    let _ = write!(stream, "0\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 413"), "response: {response}");
    assert!(
        response.contains("\"payload_too_large\""),
        "response: {response}"
    );
    assert_eq!(f.workspace.count("job_clicks"), 0);
}

#[test]
fn wrong_content_type_is_415() {
    let f = setup();
    let reply = common::agent()
        .post(f.server.url("/partner/clicks"))
        .header("x-api-key", KEY)
        .header("Content-Type", "text/plain")
        .send(click_body("jiloma-rthgip"))
        .unwrap();
    assert_eq!(reply.status().as_u16(), 415);
    assert_eq!(f.workspace.count("job_clicks"), 0);
}

#[test]
fn unknown_route_is_404_json() {
    let f = setup();
    let reply = get(&f.server, "/partner/nothing", Some(KEY));
    f.assert_rejected(&reply, 404, "not_found", None);
}

#[test]
fn wrong_method_is_405_with_allow() {
    let f = setup();
    let reply = get(&f.server, "/partner/clicks", Some(KEY));
    f.assert_rejected(&reply, 405, "method_not_allowed", None);
    assert_eq!(reply.header("allow"), Some("POST"));

    let reply = post(&f.server, "/partner/feed/jiloma/xml", Some(KEY), None, "{}");
    f.assert_rejected(&reply, 405, "method_not_allowed", None);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
}

#[test]
fn sub_profile_as_feed_handle_names_parent() {
    let f = setup();
    let reply = get(&f.server, "/partner/feed/jiloma-rthgip/xml", Some(KEY));
    f.assert_rejected(&reply, 400, "unknown_creator", Some("creator_handle"));
    let message = reply.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("sub-profile of \"jiloma\""), "{message}");
}

#[test]
fn empty_key_header_is_401() {
    let f = setup();
    let reply = post(
        &f.server,
        "/partner/clicks",
        Some(""),
        None,
        &click_body("jiloma-rthgip"),
    );
    f.assert_rejected(&reply, 401, "unauthorized", Some("x-api-key"));
    assert!(reply.json()["message"].as_str().unwrap().contains("empty"));
}
