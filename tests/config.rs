//! Configuration through the real binary. The tests cover the precedence of
//! flag, environment, file and default, errors that name the key, masked
//! secrets in `config check`, and a server that reads the file.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};

use common::*;

/// Runs `partner-api ARGS config check` in `dir` with the given environment.
fn config_check(dir: &Path, global_args: &[&str], env: &[(&str, &str)]) -> Output {
    command(dir)
        .args(global_args)
        .args(["config", "check"])
        .envs(env.iter().copied())
        .output()
        .expect("running partner-api config check")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Returns the value and source columns of a setting's row in `config check`.
fn setting_row(output: &Output, setting: &str) -> (String, String) {
    assert!(
        output.status.success(),
        "config check failed: {}",
        stderr(output)
    );
    let text = stdout(output);
    let line = text
        .lines()
        .find(|line| line.split_whitespace().next() == Some(setting))
        .unwrap_or_else(|| panic!("no row for {setting} in:\n{text}"));
    let columns: Vec<&str> = line.split("  ").filter(|c| !c.is_empty()).collect();
    assert_eq!(columns.len(), 3, "row {line:?}");
    (columns[1].trim().to_string(), columns[2].trim().to_string())
}

#[test]
fn precedence_is_flag_env_file_default() {
    let workspace = Workspace::new();
    let dir = workspace.path();
    std::fs::write(
        dir.join("partner.toml"),
        "database = \"file.db\"\nlisten = \"127.0.0.1:7001\"\n",
    )
    .unwrap();
    let env = [
        ("PARTNER_API_DB", "env.db"),
        ("PARTNER_API_LISTEN", "127.0.0.1:7002"),
    ];

    let flag = config_check(dir, &["--db", "flag.db"], &env);
    assert_eq!(
        setting_row(&flag, "database"),
        ("flag.db".into(), "command-line flag".into())
    );
    let listen_flag = command(dir)
        .args(["config", "check", "--listen", "127.0.0.1:7003"])
        .envs(env)
        .output()
        .unwrap();
    assert_eq!(
        setting_row(&listen_flag, "listen"),
        ("127.0.0.1:7003".into(), "command-line flag".into())
    );

    let from_env = config_check(dir, &[], &env);
    assert_eq!(
        setting_row(&from_env, "database"),
        (
            "env.db".into(),
            "environment variable PARTNER_API_DB".into()
        )
    );
    assert_eq!(
        setting_row(&from_env, "listen"),
        (
            "127.0.0.1:7002".into(),
            "environment variable PARTNER_API_LISTEN".into()
        )
    );

    let from_file = config_check(dir, &[], &[]);
    assert_eq!(
        setting_row(&from_file, "database"),
        ("file.db".into(), "config file".into())
    );
    assert_eq!(
        setting_row(&from_file, "listen"),
        ("127.0.0.1:7001".into(), "config file".into())
    );

    std::fs::remove_file(dir.join("partner.toml")).unwrap();
    let default = config_check(dir, &[], &[]);
    assert_eq!(
        setting_row(&default, "database"),
        ("partner.db".into(), "default".into())
    );
    assert_eq!(
        setting_row(&default, "listen"),
        ("127.0.0.1:8080".into(), "default".into())
    );
}

#[test]
fn empty_environment_value_counts_as_unset() {
    let workspace = Workspace::new();
    std::fs::write(workspace.path().join("partner.toml"), "e2e = true\n").unwrap();

    let output = config_check(workspace.path(), &[], &[("PARTNER_INTEGRATION_E2E", "")]);
    assert_eq!(
        setting_row(&output, "e2e"),
        ("true".into(), "config file".into())
    );
}

#[test]
fn unknown_key_error_names_the_key() {
    let workspace = Workspace::new();
    let path = workspace.path().join("partner.toml");

    for (text, key, line) in [
        ("listn = \"127.0.0.1:8080\"\n", "`listn`", "line 1"),
        (
            "listen = \"127.0.0.1:8080\"\n[limits]\nmax_conections = 10\n",
            "`limits.max_conections`",
            "line 3",
        ),
        (
            "[webhooks]\nurl = \"https://example.com\"\n",
            "`webhooks`",
            "line 1",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let output = config_check(workspace.path(), &[], &[]);
        assert!(!output.status.success(), "{text:?} was accepted");
        let message = stderr(&output);
        assert!(message.contains(key), "{text:?}: {message}");
        assert!(message.contains(line), "{text:?}: {message}");
        assert!(message.contains("partner.toml"), "{text:?}: {message}");
    }
}

#[test]
fn malformed_value_error_names_the_key() {
    let workspace = Workspace::new();
    let path = workspace.path().join("partner.toml");

    for (text, key) in [
        (
            "[limits]\nmax_connections = \"many\"\n",
            "`limits.max_connections`",
        ),
        (
            "[limits]\nmax_connections = 0\n",
            "`limits.max_connections`",
        ),
        ("[limits]\nmax_body_bytes = -1\n", "`limits.max_body_bytes`"),
        ("e2e = \"yes\"\n", "`e2e`"),
        ("limits = 3\n", "`limits`"),
        ("listen = \"localhost\"\n", "`listen`"),
        ("synchronous = \"sometimes\"\n", "`synchronous`"),
        ("public_url = \"jobs.example.com\"\n", "`public_url`"),
    ] {
        std::fs::write(&path, text).unwrap();
        let output = config_check(workspace.path(), &[], &[]);
        assert!(!output.status.success(), "{text:?} was accepted");
        let message = stderr(&output);
        assert!(message.contains(key), "{text:?}: {message}");
    }
}

#[test]
fn invalid_value_error_names_file_and_fix() {
    let workspace = Workspace::new();
    let path = workspace.path().join("partner.toml");

    for (text, expected) in [
        (
            "[webhook]\ntimeout = \"30d\"\n",
            "\"30d\" is outside the range from 1ms to 10m",
        ),
        (
            "[webhook]\ntimeout = \"5 sec\"\n",
            "\"5 sec\" is not a duration: write a whole number and a unit (ms, s, m, h, d or w)",
        ),
        (
            "[webhook]\nschedule = [\"0s\", \"2 months\"]\n",
            "`webhook.schedule` (from config file partner.toml)",
        ),
        (
            "[webhook]\nschedule = [\"0s\", \"8d\"]\n",
            "\"8d\" is longer than the maximum delay of 7d",
        ),
        (
            "[webhook]\nurl = \"hooks.example.com/in\"\n",
            "`webhook.url` (from config file partner.toml)",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let output = config_check(workspace.path(), &[], &[]);
        assert!(!output.status.success(), "{text:?} was accepted");
        let message = stderr(&output);
        assert!(message.contains(expected), "{text:?}: {message}");
        assert!(!message.contains("months, years"), "{text:?}: {message}");
    }

    std::fs::remove_file(&path).unwrap();
    let output = config_check(workspace.path(), &[], &[("PARTNER_INTEGRATION_E2E", "yes")]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("(from environment variable PARTNER_INTEGRATION_E2E)"),
        "{message}"
    );
    assert!(
        message.contains("expected true, false, 1 or 0"),
        "{message}"
    );
}

#[test]
fn malformed_environment_value_names_the_variable() {
    let workspace = Workspace::new();
    let output = config_check(
        workspace.path(),
        &[],
        &[("PARTNER_API_MAX_CONNECTIONS", "lots")],
    );
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("`limits.max_connections`"), "{message}");
    assert!(message.contains("PARTNER_API_MAX_CONNECTIONS"), "{message}");
    assert!(message.contains("\"lots\""), "{message}");
}

#[test]
fn missing_explicit_config_file_is_an_error() {
    let workspace = Workspace::new();
    let output = config_check(workspace.path(), &["--config", "absent.toml"], &[]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("absent.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_check_masks_secrets() {
    let workspace = Workspace::new();
    let webhook_secret = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ1Njc4";
    std::fs::write(
        workspace.path().join("partner.toml"),
        format!(
            "[webhook]\nurl = \"https://hook-user:hook-pass@hooks.example.com/in\"\n\
             secret = \"{webhook_secret}\"\n"
        ),
    )
    .unwrap();
    let integration = "pk_live_0123456789abcdef0123456789abcdef";
    let output = config_check(
        workspace.path(),
        &[],
        &[
            ("PARTNER_INTEGRATION_API_KEY", integration),
            ("SENDERCIRCLE_API_KEY", "short-key"),
            (
                "PARTNER_APPLICATION_WEBHOOK_API_KEY",
                "receiver-key-0123456789",
            ),
        ],
    );

    let text = stdout(&output);
    for secret in [
        integration,
        "short-key",
        "receiver-key-0123456789",
        webhook_secret,
        "hook-pass",
        "hook-user",
    ] {
        assert!(!text.contains(secret), "{secret} is shown:\n{text}");
    }
    assert_eq!(
        setting_row(&output, "keys.integration"),
        (
            "pk_l…(40 chars)".into(),
            "environment variable PARTNER_INTEGRATION_API_KEY".into()
        )
    );
    assert_eq!(setting_row(&output, "keys.legacy").0, "********");
    assert_eq!(setting_row(&output, "keys.e2e").0, "(not set)");
    assert_eq!(
        setting_row(&output, "webhook.secret"),
        ("whse…(42 chars)".into(), "config file".into())
    );
    assert_eq!(
        setting_row(&output, "webhook.url").0,
        "https://********@hooks.example.com/in"
    );
}

#[test]
fn webhook_key_without_url_warns() {
    let workspace = Workspace::new();
    let secret = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ1Njc4";
    std::fs::write(
        workspace.path().join("partner.toml"),
        "[webhook]\napi_key = \"receiver-key-0123456789\"\n",
    )
    .unwrap();
    let env = [("PARTNER_APPLICATION_WEBHOOK_SECRET", secret)];

    let output = config_check(workspace.path(), &[], &env);
    assert!(output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    let warnings: Vec<&str> = message
        .lines()
        .filter(|line| line.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 2, "{message}");
    assert!(
        warnings[0].contains("`webhook.api_key` is set (from config file partner.toml)"),
        "{message}"
    );
    assert!(
        warnings[1].contains(
            "`webhook.secret` is set (from environment variable \
             PARTNER_APPLICATION_WEBHOOK_SECRET)"
        ),
        "{message}"
    );
    assert!(
        message.contains("PARTNER_APPLICATION_WEBHOOK_URL"),
        "{message}"
    );
    assert!(!message.contains(secret), "{message}");
    assert!(!message.contains("receiver-key-0123456789"), "{message}");
    assert!(stdout(&output).contains("The configuration is valid."));

    let with_url = config_check(
        workspace.path(),
        &[],
        &[
            env[0],
            (
                "PARTNER_APPLICATION_WEBHOOK_URL",
                "https://hooks.example.com/in",
            ),
        ],
    );
    assert!(with_url.status.success(), "{}", stderr(&with_url));
    assert!(
        !stderr(&with_url).contains("warning"),
        "{}",
        stderr(&with_url)
    );
}

/// Every `#key = value` line of partner.toml.example, uncommented, is a
/// valid config that sets every setting that `config check` shows.
#[test]
fn example_file_documents_every_setting() {
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("partner.toml.example"))
            .unwrap();
    let uncommented: String = example
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest,
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect();

    let workspace = Workspace::new();
    std::fs::write(workspace.path().join("partner.toml"), uncommented).unwrap();
    let output = config_check(workspace.path(), &[], &[]);
    assert!(output.status.success(), "{}", stderr(&output));

    let text = stdout(&output);
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("SETTING"))
        .skip(1)
        .take_while(|line| !line.is_empty())
        .collect();
    assert!(rows.len() >= 14, "{text}");
    for row in rows {
        assert!(
            row.ends_with("config file"),
            "not set by the example: {row}"
        );
    }
}

#[test]
fn serve_takes_keys_and_limits_from_the_file() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    std::fs::write(
        workspace.path().join("partner.toml"),
        "[keys]\nintegration = \"key-from-file\"\n[limits]\nmax_body_bytes = 300\n",
    )
    .unwrap();
    let server = Server::start(
        &workspace,
        ServerOptions {
            env: Vec::new(),
            args: Vec::new(),
        },
    );

    let click = post(
        &server,
        "/partner/clicks",
        Some("key-from-file"),
        None,
        &click_body("jiloma-rthgip"),
    );
    assert_eq!(click.status, 201, "{}", click.body);
    let caller: String = workspace
        .open()
        .query_row("SELECT api_key_name FROM job_clicks", [], |row| row.get(0))
        .unwrap();
    assert_eq!(caller, "env:PARTNER_INTEGRATION_API_KEY");

    let large = format!("{{\"padding\": \"{}\"}}", "x".repeat(400));
    let rejected = post(
        &server,
        "/partner/clicks",
        Some("key-from-file"),
        None,
        &large,
    );
    assert_eq!(rejected.status, 413, "{}", rejected.body);
}

#[test]
fn serve_refuses_an_invalid_config() {
    let workspace = Workspace::new();
    std::fs::write(
        workspace.path().join("partner.toml"),
        "[limits]\nmax_conn = 3\n",
    )
    .unwrap();
    let child = command(workspace.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let output = wait_for_exit(child, "serve with an unknown key in partner.toml");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("`limits.max_conn`"),
        "{}",
        stderr(&output)
    );
}
