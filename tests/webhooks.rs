//! Webhook delivery against a real receiver on 127.0.0.1: signatures,
//! retries, restarts, a receiver that hangs or is down, two servers on one
//! file, and the `webhooks` commands.

mod common;

use std::collections::HashSet;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::receiver::{Received, Receiver, free_port};
use common::*;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const SIGNING_KEY: &[u8] = b"webhook-test-signing-key-32bytes";
const RECEIVER_KEY: &str = "receiver-api-key";
/// How long a test waits for deliveries before it fails.
const DEADLINE: Duration = Duration::from_secs(60);

fn secret() -> String {
    format!("whsec_{}", STANDARD.encode(SIGNING_KEY))
}

/// Server options with the webhook URL, key, secret and a short timeout.
fn base_options(url: &str) -> ServerOptions {
    ServerOptions::default()
        .env("PARTNER_APPLICATION_WEBHOOK_URL", url)
        .env("PARTNER_APPLICATION_WEBHOOK_API_KEY", RECEIVER_KEY)
        .env("PARTNER_APPLICATION_WEBHOOK_SECRET", &secret())
        .env("PARTNER_APPLICATION_WEBHOOK_TIMEOUT", "2s")
}

/// `base_options` with a retry schedule such as `0s,100ms`.
fn webhook_options(url: &str, schedule: &str) -> ServerOptions {
    base_options(url).env("PARTNER_APPLICATION_WEBHOOK_SCHEDULE", schedule)
}

fn workspace() -> Workspace {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    workspace
}

/// Posts `count` applications, asserts each is accepted, returns their ids.
fn apply(server: &Server, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| {
            let reply = post(
                server,
                "/partner/applications",
                Some(KEY),
                Some("webhook-run"),
                &application_body("jiloma-rthgip"),
            );
            assert_eq!(reply.status, 201, "{}", reply.body);
            reply.json()["id"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Polls `check` until it holds, or panics after `DEADLINE`.
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < DEADLINE,
            "timed out after {DEADLINE:?} waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count_status(workspace: &Workspace, status: &str) -> i64 {
    workspace
        .open()
        .query_row(
            "SELECT count(*) FROM webhook_deliveries WHERE status = ?1",
            [status],
            |row| row.get(0),
        )
        .unwrap()
}

/// Recomputes the Standard Webhooks signature of a received request.
fn expected_signature(request: &Received) -> String {
    let id = request.header("webhook-id").expect("webhook-id header");
    let timestamp = request
        .header("webhook-timestamp")
        .expect("webhook-timestamp header");
    let mut mac = Hmac::<Sha256>::new_from_slice(SIGNING_KEY).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn application_ids(requests: &[Received]) -> Vec<String> {
    requests
        .iter()
        .map(|request| request.json()["data"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// Runs `webhooks ARGS` against the workspace database with `env`.
fn webhooks_cli(workspace: &Workspace, env: &[(&str, &str)], args: &[&str]) -> Output {
    command(workspace.path())
        .arg("--db")
        .arg(workspace.db())
        .arg("webhooks")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("running partner-api webhooks")
}

#[test]
fn receiver_gets_each_application_once_signed() {
    let receiver = Receiver::start();
    let workspace = workspace();
    let mut server = Server::start(&workspace, webhook_options(&receiver.url(), "0s,200ms"));

    let ids = apply(&server, 3);
    wait_until("3 deliveries are delivered", || {
        count_status(&workspace, "delivered") == 3
    });

    let received = receiver.received();
    assert_eq!(received.len(), 3, "each application is sent once");
    let mut sent_ids = application_ids(&received);
    sent_ids.sort();
    let mut accepted = ids.clone();
    accepted.sort();
    assert_eq!(sent_ids, accepted);

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for request in &received {
        let event = request.json();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hooks/applications");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("x-api-key"), Some(RECEIVER_KEY));
        assert_eq!(request.header("webhook-id"), event["id"].as_str());
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(event["type"], "application.created");
        assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));

        let timestamp: i64 = request
            .header("webhook-timestamp")
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (timestamp - now).abs() < 600,
            "timestamp {timestamp} is not now"
        );
        assert_eq!(
            request.header("webhook-signature"),
            Some(expected_signature(request).as_str())
        );

        let data = &event["data"];
        assert_eq!(data["creator_handle"], "jiloma");
        assert_eq!(data["sub_id"], "jiloma-rthgip");
        assert_eq!(data["job_id"], "job_12345");
        assert_eq!(data["applicant_email"], "candidate@example.com");
        assert_eq!(data["applicant_first_name"], "Alex");
        assert_eq!(data["applicant_last_name"], "Rivera");
        assert_eq!(data["partner_test_run_id"], "webhook-run");
    }

    let status = server.terminate();
    assert!(status.success(), "server exited with {status}");
}

#[test]
fn failing_receiver_gets_event_with_same_id() {
    let receiver = Receiver::start();
    receiver.fail_next(3, 500, None);
    let workspace = workspace();
    // The schedule comes from partner.toml here, to cover the file form.
    std::fs::write(
        workspace.path().join("partner.toml"),
        "[webhook]\nschedule = [\"0s\", \"50ms\", \"50ms\", \"50ms\", \"50ms\"]\n",
    )
    .unwrap();
    let server = Server::start(&workspace, base_options(&receiver.url()));

    let ids = apply(&server, 1);
    wait_until("the delivery is delivered", || {
        count_status(&workspace, "delivered") == 1
    });

    let received = receiver.received();
    assert_eq!(received.len(), 4, "three failures and one success");
    let first = &received[0];
    for request in &received {
        assert_eq!(request.header("webhook-id"), first.header("webhook-id"));
        assert_eq!(
            request.body, first.body,
            "every attempt sends the same bytes"
        );
        assert_eq!(
            request.header("webhook-signature"),
            Some(expected_signature(request).as_str())
        );
    }
    assert_eq!(application_ids(&received[..1]), ids);

    let shown = webhooks_cli(&workspace, &[], &["show", "1", "--json"]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["status"], "delivered");
    assert_eq!(shown["attempts"], 4);
    let codes: Vec<u64> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["status_code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 500, 200]);
    assert_eq!(shown["history"][0]["response_snippet"], "receiver failure");
}

#[test]
fn killed_server_delivers_after_restart() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hooks/applications");
    let schedule = format!("0s{}", ",300ms".repeat(40));
    let workspace = workspace();

    let server = Server::start(&workspace, webhook_options(&url, &schedule));
    let ids = apply(&server, 20);
    // Drop sends SIGKILL while the receiver is still down.
    drop(server);
    assert_eq!(workspace.count("webhook_deliveries"), 20);
    assert_eq!(count_status(&workspace, "delivered"), 0);

    let receiver = Receiver::start_on(port);
    let _server = Server::start(&workspace, webhook_options(&url, &schedule));
    wait_until("all 20 deliveries are delivered", || {
        count_status(&workspace, "delivered") == 20
    });

    let received = receiver.received();
    let sent: HashSet<String> = application_ids(&received).into_iter().collect();
    let accepted: HashSet<String> = ids.into_iter().collect();
    assert_eq!(sent, accepted, "every accepted application is delivered");
    assert_eq!(received.len(), 20, "no application is delivered twice");
}

#[test]
fn hanging_receiver_does_not_delay_applications() {
    let receiver = Receiver::start();
    receiver.hang(true);
    let workspace = workspace();
    let options =
        webhook_options(&receiver.url(), "0s,1s").env("PARTNER_APPLICATION_WEBHOOK_TIMEOUT", "60s");
    let server = Server::start(&workspace, options);

    apply(&server, 1);
    wait_until("the worker is waiting on the receiver", || {
        receiver.hanging() >= 1
    });

    let ids = apply(&server, 50);
    assert_eq!(ids.len(), 50);
    assert!(
        receiver.hanging() >= 1,
        "the receiver stopped hanging early"
    );
    assert_eq!(workspace.count("rxevents"), 51);
    assert_eq!(workspace.count("webhook_deliveries"), 51);

    receiver.hang(false);
    wait_until("all 51 deliveries are delivered", || {
        count_status(&workspace, "delivered") == 51
    });
}

#[test]
fn unreachable_url_fails_then_retry_delivers() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hooks/applications");
    let workspace = workspace();
    let server = Server::start(&workspace, webhook_options(&url, "0s,100ms,100ms"));

    apply(&server, 2);
    wait_until("both deliveries have failed", || {
        count_status(&workspace, "failed") == 2
    });

    let listed = webhooks_cli(&workspace, &[], &["list", "--status", "failed", "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for delivery in listed {
        assert_eq!(delivery["attempts"], 3);
        assert_ne!(delivery["last_result"], serde_json::Value::Null);
        assert!(
            !delivery["last_result"]
                .as_str()
                .unwrap()
                .starts_with("HTTP"),
            "an unreachable URL gives a connection error: {}",
            delivery["last_result"]
        );
    }

    let none = webhooks_cli(
        &workspace,
        &[],
        &["retry", "--failed", "--since", "2999-01-01"],
    );
    assert!(
        none.status.success(),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&none.stdout).trim(),
        "queued 0 failed webhook deliveries for another attempt"
    );

    let receiver = Receiver::start_on(port);
    let retried = webhooks_cli(&workspace, &[], &["retry", "--failed", "--since", "1h"]);
    assert!(
        retried.status.success(),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&retried.stdout).trim(),
        "queued 2 failed webhook deliveries for another attempt"
    );
    wait_until("both deliveries are delivered", || {
        count_status(&workspace, "delivered") == 2
    });
    assert_eq!(receiver.received().len(), 2);
    let attempts: i64 = workspace
        .open()
        .query_row("SELECT sum(attempts) FROM webhook_deliveries", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(attempts, 8, "three failed attempts and one retry each");
}

#[test]
fn two_servers_send_each_event_once() {
    let receiver = Receiver::start();
    let workspace = workspace();
    let first = Server::start(&workspace, webhook_options(&receiver.url(), "0s,100ms"));
    let second = Server::start(&workspace, webhook_options(&receiver.url(), "0s,100ms"));

    let mut ids = Vec::new();
    for _ in 0..15 {
        ids.extend(apply(&first, 1));
        ids.extend(apply(&second, 1));
    }
    wait_until("all 30 deliveries are delivered", || {
        count_status(&workspace, "delivered") == 30
    });

    let received = receiver.received();
    let sent: HashSet<String> = application_ids(&received).into_iter().collect();
    assert_eq!(sent, ids.into_iter().collect::<HashSet<_>>());
    assert_eq!(received.len(), 30, "an event was sent by both servers");
}

#[test]
fn retry_after_postpones_the_next_attempt() {
    let receiver = Receiver::start();
    receiver.fail_next(1, 503, Some("3"));
    let workspace = workspace();
    let _server = Server::start(&workspace, webhook_options(&receiver.url(), "0s,10ms"));

    apply(&_server, 1);
    wait_until("the first attempt is recorded", || {
        count_status(&workspace, "pending") == 1 && receiver.received().len() == 1
    });
    let (started, next): (String, String) = workspace
        .open()
        .query_row(
            "SELECT a.started_at, d.next_attempt_at
             FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    let started = chrono::DateTime::parse_from_rfc3339(&started).unwrap();
    let next = chrono::DateTime::parse_from_rfc3339(&next).unwrap();
    assert!(
        next - started >= chrono::Duration::milliseconds(2900),
        "next attempt {next} is less than Retry-After: 3 after {started}"
    );

    wait_until("the delivery is delivered", || {
        count_status(&workspace, "delivered") == 1
    });
}

#[test]
fn no_url_queues_no_deliveries() {
    let workspace = workspace();
    let server = Server::start(&workspace, ServerOptions::default());
    apply(&server, 2);
    assert_eq!(workspace.count("rxevents"), 2);
    assert_eq!(workspace.count("webhook_deliveries"), 0);
}

#[test]
fn test_command_sends_signed_event() {
    let receiver = Receiver::start();
    let workspace = workspace();
    let secret = secret();
    let env = [
        ("PARTNER_APPLICATION_WEBHOOK_URL", receiver.url()),
        (
            "PARTNER_APPLICATION_WEBHOOK_API_KEY",
            RECEIVER_KEY.to_string(),
        ),
        ("PARTNER_APPLICATION_WEBHOOK_SECRET", secret),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let output = webhooks_cli(&workspace, &env, &["test"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("result     HTTP 200"), "{stdout}");
    assert!(stdout.contains("response   ok"), "{stdout}");

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.json()["type"], "webhook.test");
    assert_eq!(request.header("x-api-key"), Some(RECEIVER_KEY));
    assert_eq!(
        request.header("webhook-signature"),
        Some(expected_signature(request).as_str())
    );
    assert_eq!(
        workspace.count("webhook_deliveries"),
        0,
        "a test event is not stored"
    );

    receiver.fail_next(1, 503, None);
    let output = webhooks_cli(&workspace, &env, &["test"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HTTP 503"), "{stderr}");
}

#[test]
fn invalid_webhook_settings_stop_start_up() {
    let workspace = workspace();
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "PARTNER_APPLICATION_WEBHOOK_SECRET",
            "c2VjcmV0LXZhbHVl",
            &["`webhook.secret` (from environment variable PARTNER_APPLICATION_WEBHOOK_SECRET)"],
        ),
        (
            "PARTNER_APPLICATION_WEBHOOK_SECRET",
            "whsec_c2hvcnQ=",
            &["decodes to 5 bytes, fewer than the 24 that Standard Webhooks requires"],
        ),
        (
            "PARTNER_APPLICATION_WEBHOOK_SCHEDULE",
            "0s,soon",
            &[
                "`webhook.schedule` (from environment variable \
                 PARTNER_APPLICATION_WEBHOOK_SCHEDULE)",
                "\"soon\" is not a duration",
                "(ms, s, m, h, d or w)",
            ],
        ),
        (
            "PARTNER_APPLICATION_WEBHOOK_TIMEOUT",
            "0s",
            &["`webhook.timeout` (from environment variable PARTNER_APPLICATION_WEBHOOK_TIMEOUT)"],
        ),
        (
            "PARTNER_APPLICATION_WEBHOOK_TIMEOUT",
            "30d",
            &["outside the range from 1ms to 10m"],
        ),
        (
            "PARTNER_APPLICATION_WEBHOOK_URL",
            "hook-user:hook-pass@hooks.example.com/x",
            &[
                "invalid value \"********@hooks.example.com/x\" for setting `webhook.url` \
                 (from environment variable PARTNER_APPLICATION_WEBHOOK_URL)",
            ],
        ),
    ];
    for (variable, value, expected) in cases {
        let server = command(workspace.path())
            .arg("--db")
            .arg(workspace.db())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env(
                "PARTNER_APPLICATION_WEBHOOK_URL",
                "http://127.0.0.1:9/hooks",
            )
            .env(variable, value)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = wait_for_exit(server, &format!("serve with {variable}={value}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{variable}={value} was accepted");
        for part in expected {
            assert!(stderr.contains(part), "{variable}: {stderr}");
        }
        assert!(
            !stderr.contains("7 days"),
            "{variable}: names the wrong limit: {stderr}"
        );
        for secret in ["c2VjcmV0LXZhbHVl", "c2hvcnQ", "hook-pass", "hook-user"] {
            assert!(
                !stderr.contains(secret),
                "the error repeats a secret: {stderr}"
            );
        }
    }
}

#[test]
fn secret_without_url_warns_at_start() {
    let workspace = workspace();
    let options = ServerOptions::default()
        .env("PARTNER_APPLICATION_WEBHOOK_SECRET", &secret())
        .env("PARTNER_APPLICATION_WEBHOOK_API_KEY", RECEIVER_KEY);
    let server = Server::start(&workspace, options);

    let warnings: Vec<&String> = server
        .startup_log
        .iter()
        .filter(|line| line.contains("WARN") && line.contains("`webhook.url` is not"))
        .collect();
    assert_eq!(warnings.len(), 2, "{:#?}", server.startup_log);
    assert!(
        warnings[0].contains("`webhook.api_key` is set"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].contains("`webhook.secret` is set"),
        "{}",
        warnings[1]
    );
    assert!(!warnings[1].contains(&secret()), "{}", warnings[1]);
}

#[test]
fn trace_log_hides_webhook_credentials() {
    let receiver = Receiver::start();
    let workspace = Workspace::new();
    let port = receiver.port();
    let url = format!("http://hook-user:hook-pass@127.0.0.1:{port}/hooks/applications");
    let env = [
        ("RUST_LOG", "trace"),
        ("PARTNER_APPLICATION_WEBHOOK_URL", url.as_str()),
        ("PARTNER_APPLICATION_WEBHOOK_API_KEY", RECEIVER_KEY),
    ];

    let output = webhooks_cli(&workspace, &env, &["test"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "POST http://********@127.0.0.1:{port}/hooks/applications"
        )),
        "{stdout}"
    );

    // The credentials do reach the receiver, so their absence below is
    // the masking at work.
    let received = receiver.received();
    let basic = format!("Basic {}", STANDARD.encode("hook-user:hook-pass"));
    assert_eq!(received[0].header("authorization"), Some(basic.as_str()));
    assert_eq!(received[0].header("x-api-key"), Some(RECEIVER_KEY));
    assert!(
        stderr.contains(" DEBUG ureq"),
        "ureq logs nothing at trace, so the check below proves nothing: {stderr}"
    );

    for secret in ["hook-pass", "hook-user", RECEIVER_KEY, basic.as_str()] {
        assert!(!stdout.contains(secret), "{secret} is printed: {stdout}");
        assert!(!stderr.contains(secret), "{secret} is logged: {stderr}");
    }
    let traced: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains(" TRACE ureq"))
        .collect();
    assert!(traced.is_empty(), "ureq traces the request: {traced:#?}");
}

#[test]
fn retry_and_list_check_their_arguments() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hooks/applications");
    let workspace = workspace();
    let server = Server::start(&workspace, webhook_options(&url, "0s"));
    apply(&server, 1);
    wait_until("the delivery has failed", || {
        count_status(&workspace, "failed") == 1
    });
    drop(server);

    for (args, expected) in [
        (
            vec!["retry"],
            "Usage: partner-api webhooks retry <ID|--failed>",
        ),
        (vec!["retry", "--since", "2h"], "<ID|--failed>"),
        (vec!["retry", "1", "--failed"], "cannot be used with"),
        (vec!["retry", "1", "--since", "2h"], "cannot be used with"),
        (
            vec!["list", "--limit", "0"],
            "expected a whole number of 1 or more",
        ),
    ] {
        let output = webhooks_cli(&workspace, &[], &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(output.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert_eq!(
        count_status(&workspace, "failed"),
        1,
        "a rejected command changed a delivery"
    );

    let listed = webhooks_cli(&workspace, &[], &["list", "--limit", "1"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("failed"), "{listed}");
    assert!(!listed.contains("no webhook deliveries"), "{listed}");

    let retried = webhooks_cli(&workspace, &[], &["retry", "--failed"]);
    assert!(
        retried.status.success(),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&retried.stdout).trim(),
        "queued 1 failed webhook delivery for another attempt"
    );
    assert_eq!(count_status(&workspace, "pending"), 1);
}
