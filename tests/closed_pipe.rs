//! Every command that prints to stdout ends quietly, with status 0, when
//! the reader of its output has gone, as with `partner-api keys list |
//! head -c 10`.

mod common;

use common::*;

#[test]
fn closed_stdout_ends_commands_quietly() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let dir = workspace.path();
    let db = workspace.db();
    for name in ["acme", "globex"] {
        let output = cli(dir, &db, &["keys", "create", "--name", name]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let fixtures = fixtures();
    let backup = dir.join("copy.db");

    let commands: &[&[&str]] = &[
        &["keys", "list"],
        &["keys", "list", "--json"],
        &["keys", "create", "--name", "initech"],
        &["config", "check"],
        &["webhooks", "list"],
        &["webhooks", "list", "--json"],
        &["export", "clicks"],
        &["export", "applications", "--format", "jsonl"],
        &["import", "creators", fixtures.to_str().unwrap()],
        &[
            "import",
            "creators",
            "--dry-run",
            fixtures.to_str().unwrap(),
        ],
        &["backup", backup.to_str().unwrap()],
    ];
    for args in commands {
        let output = cli_with_closed_stdout(dir, &db, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
