//! Server lifecycle and limits: demo mode, shutdown on SIGTERM, the header
//! read timeout and a database file created on first start.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn serve_creates_missing_database() {
    let workspace = Workspace::new();
    assert!(!workspace.db().exists());
    let server = Server::start(&workspace, ServerOptions::default());
    assert!(workspace.db().exists());
    let reply = get(&server, "/health", None);
    assert_eq!(reply.status, 200);
}

#[test]
fn sigterm_stops_cleanly() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let mut server = Server::start(&workspace, ServerOptions::default());
    let reply = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        None,
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 201);

    let status = server.terminate();
    assert!(status.success(), "exit status {status}");
    // Every connection closed, so SQLite checkpointed and removed the WAL.
    let wal = workspace.path().join("partner.db-wal");
    assert!(!wal.exists(), "{} was left behind", wal.display());
    assert_eq!(workspace.count("job_clicks"), 1);
}

#[test]
fn sigterm_finishes_in_flight_request() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let mut server = Server::start(&workspace, ServerOptions::default());
    let addr = server.base.trim_start_matches("http://").to_string();

    // A request whose body is still on its way when SIGTERM arrives.
    let body = click_body("jiloma-rthgip");
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /partner/clicks HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let pid = server.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    stream.write_all(&body.as_bytes()[10..]).unwrap();

    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "response: {response}");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    assert_eq!(workspace.count("job_clicks"), 1);
}

#[test]
fn slow_headers_are_cut_off() {
    let workspace = Workspace::new();
    let server = Server::start(
        &workspace,
        ServerOptions::default().env("PARTNER_API_HEADER_READ_TIMEOUT_SECS", "1"),
    );
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();

    let started = Instant::now();
    let mut buffer = Vec::new();
    // The server closes the connection once the timeout passes; a read
    // that times out instead means the limit did not apply.
    let result = stream.read_to_end(&mut buffer);
    assert!(result.is_ok(), "connection stayed open: {result:?}");
    assert!(started.elapsed() < Duration::from_secs(20));

    // The server still serves others.
    assert_eq!(get(&server, "/health", None).status, 200);
}

#[test]
fn demo_serves_fixtures_with_demo_key() {
    let workspace = Workspace::new();
    let server = Server::start(
        &workspace,
        ServerOptions {
            env: Vec::new(),
            args: vec!["--demo".into()],
        },
    );

    let feed = get(
        &server,
        "/partner/feed/jiloma/xml?sub_id=jiloma-e2e-smoke",
        Some("demo-partner-key"),
    );
    assert_eq!(feed.status, 200, "{}", feed.body);
    let document = roxmltree::Document::parse(&feed.body).expect("feed is well-formed XML");
    let references: Vec<&str> = document
        .descendants()
        .filter(|node| node.has_tag_name("referencenumber"))
        .filter_map(|node| node.text())
        .collect();
    assert!(references.contains(&"job_12345"), "{references:?}");

    let click = post(
        &server,
        "/partner/clicks",
        Some("demo-partner-key"),
        Some("partner-smoke-001"),
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(click.status, 201, "{}", click.body);
    // An explicit --db wins over the demo's own file.
    assert_eq!(workspace.count("job_clicks"), 1);
}

#[test]
fn invalid_listen_address_is_reported() {
    let workspace = Workspace::new();
    let output = cli(
        workspace.path(),
        &workspace.db(),
        &["serve", "--listen", "localhost-8080"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("localhost-8080"), "{stderr}");
}

#[test]
fn held_write_lock_gives_503() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());

    // Another process holds the write lock for longer than a write waits.
    let blocker = workspace.open();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let reply = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        None,
        &click_body("jiloma-rthgip"),
    );
    blocker.execute_batch("ROLLBACK").unwrap();

    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json()["error"], "unavailable");
    assert_eq!(workspace.count("job_clicks"), 0);

    let reply = post(
        &server,
        "/partner/clicks",
        Some(KEY),
        None,
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
}

#[test]
fn slow_body_gets_408() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(
        &workspace,
        ServerOptions::default().env("PARTNER_API_HEADER_READ_TIMEOUT_SECS", "1"),
    );
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST /partner/clicks HTTP/1.1\r\nHost: {addr}\r\nx-api-key: {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    )
    .unwrap();

    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 408"), "response: {response}");
    assert!(
        response.contains("\"request_timeout\""),
        "response: {response}"
    );
    assert_eq!(workspace.count("job_clicks"), 0);
}
