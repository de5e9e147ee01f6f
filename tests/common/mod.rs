//! Shared test harness: runs the real `partner-api` binary on a temporary
//! SQLite file, listening on `127.0.0.1:0`, and talks HTTP to it.

#![allow(dead_code)]

pub mod receiver;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use std::time::Instant;

pub const KEY: &str = "test-integration-key";
pub const E2E_KEY: &str = "test-e2e-key";
pub const LEGACY_KEY: &str = "test-legacy-key";

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_partner-api")
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/creators.json")
}

/// Builds a command for the binary with a clean environment: no settings leak in
/// from the developer's shell or a partner.toml in the working folder.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(dir).env_clear().env("RUST_LOG", "info");
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    command
}

/// Runs a CLI command in `dir` with `--db` pointing at `db`.
pub fn cli(dir: &Path, db: &Path, args: &[&str]) -> Output {
    command(dir)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("running partner-api")
}

/// Returns the device and inode of a file. A rename over the path changes
/// them, so equal values before and after show the file was not replaced.
pub fn identity(path: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    (metadata.dev(), metadata.ino())
}

/// Creates a FIFO at `path` with mkfifo(1).
pub fn make_fifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {} failed", path.display());
}

/// Runs a CLI command in `dir` with `--db` pointing at `db`, its standard
/// output a pipe whose read end is closed before the command starts, so
/// that its first write to stdout fails with a broken pipe.
pub fn cli_with_closed_stdout(dir: &Path, db: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("creating a pipe");
    drop(reader);
    command(dir)
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("running partner-api")
}

/// Waits for a process that should exit at once, such as a server given
/// invalid settings. After 30 seconds it kills the process and panics.
pub fn wait_for_exit(mut child: Child, description: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{description} kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// A temporary folder with a database path in it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("creating a temporary folder"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("partner.db")
    }

    /// Imports the fixtures and panics with the output when that fails.
    pub fn import_fixtures(&self) {
        let output = cli(
            self.path(),
            &self.db(),
            &["import", "creators", fixtures().to_str().unwrap()],
        );
        assert!(
            output.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Opens the database for assertions.
    pub fn open(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.db()).expect("opening the test database");
        conn.busy_timeout(Duration::from_secs(30)).unwrap();
        conn
    }

    pub fn count(&self, table: &str) -> i64 {
        self.open()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .unwrap()
    }
}

/// A running server; stopped (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Lines the server logged after start-up.
    pub log: mpsc::Receiver<String>,
    /// Lines the server logged before it listened.
    pub startup_log: Vec<String>,
}

/// Options for starting a server.
pub struct ServerOptions {
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            env: vec![
                ("PARTNER_INTEGRATION_API_KEY".into(), KEY.into()),
                ("PARTNER_INTEGRATION_E2E_API_KEY".into(), E2E_KEY.into()),
                ("SENDERCIRCLE_API_KEY".into(), LEGACY_KEY.into()),
            ],
            args: Vec::new(),
        }
    }
}

impl ServerOptions {
    pub fn env(mut self, name: &str, value: &str) -> ServerOptions {
        self.env.retain(|(existing, _)| existing != name);
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn arg(mut self, arg: &str) -> ServerOptions {
        self.args.push(arg.into());
        self
    }
}

impl Server {
    /// Starts `partner-api serve` on the workspace's database.
    pub fn start(workspace: &Workspace, options: ServerOptions) -> Server {
        let mut command = command(workspace.path());
        command
            .arg("--db")
            .arg(workspace.db())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&options.args)
            .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("starting partner-api serve");

        let stderr = child.stderr.take().unwrap();
        let (sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });

        let mut seen = Vec::new();
        loop {
            match log.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap().to_string();
                        return Server {
                            child,
                            base: format!("http://{addr}"),
                            log,
                            startup_log: seen,
                        };
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("server did not start; it logged:\n{}", seen.join("\n"));
                }
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that returns 4xx and 5xx responses instead of errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build(),
    )
}

/// A response's status, headers and body as text.
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn reply(response: ureq::http::Response<ureq::Body>) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .with_config()
        .limit(200 * 1024 * 1024)
        .read_to_string()
        .unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// POSTs a JSON body with the given key and optional test run id.
pub fn post(
    server: &Server,
    path: &str,
    key: Option<&str>,
    test_run_id: Option<&str>,
    body: &str,
) -> Reply {
    let mut request = agent()
        .post(server.url(path))
        .header("Content-Type", "application/json");
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    if let Some(id) = test_run_id {
        request = request.header("x-partner-test-run-id", id);
    }
    reply(
        request
            .send(body)
            .expect("POST failed at the transport level"),
    )
}

/// GETs a path with the given key.
pub fn get(server: &Server, path: &str, key: Option<&str>) -> Reply {
    let mut request = agent().get(server.url(path));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    reply(request.call().expect("GET failed at the transport level"))
}

pub fn click_body(sub_id: &str) -> String {
    serde_json::json!({
        "creator_handle": "jiloma",
        "sub_id": sub_id,
        "job_id": "job_12345",
        "short_code": "abc123xy",
        "source": "partner-campaign",
    })
    .to_string()
}

pub fn application_body(sub_id: &str) -> String {
    serde_json::json!({
        "creator_handle": "jiloma",
        "sub_id": sub_id,
        "job_id": "job_12345",
        "applicant_email": "candidate@example.com",
        "applicant_first_name": "Alex",
        "applicant_last_name": "Rivera",
    })
    .to_string()
}

/// Builds a job for an import file with every required field. Override
/// fields with `job["field"] = …`.
pub fn job_json(job_id: &str, short_code: &str) -> serde_json::Value {
    serde_json::json!({
        "job_id": job_id,
        "short_code": short_code,
        "title": format!("Title of {job_id}"),
        "company": "Example Co",
        "city": "Columbus",
        "state": "OH",
        "country": "US",
        "postal_code": "43215",
        "description": format!("Description of {job_id}"),
        "apply_url": format!("https://careers.example.com/apply/{job_id}"),
        "salary": null,
        "job_type": null,
        "category": null,
        "posted_at": "2026-11-02T14:30:00Z",
        "expires_at": null,
        "status": "open",
    })
}

/// Builds a creators file with one creator, its sub-profiles and jobs.
pub fn creator_json(
    handle: &str,
    sub_profiles: &[&str],
    jobs: Vec<serde_json::Value>,
) -> serde_json::Value {
    let sub_profiles: Vec<serde_json::Value> = sub_profiles
        .iter()
        .map(|sub| serde_json::json!({"handle": sub, "name": format!("Sub-profile {sub}")}))
        .collect();
    serde_json::json!({
        "creators": [{
            "handle": handle,
            "name": format!("Creator {handle}"),
            "sub_profiles": sub_profiles,
            "jobs": jobs,
        }]
    })
}

impl Workspace {
    /// Writes `creators` to a file and imports it with the CLI, panicking
    /// with the output when that fails.
    pub fn import_json(&self, name: &str, creators: &serde_json::Value) {
        let path = self.path().join(name);
        std::fs::write(&path, serde_json::to_vec(creators).unwrap()).unwrap();
        let output = cli(
            self.path(),
            &self.db(),
            &["import", "creators", path.to_str().unwrap()],
        );
        assert!(
            output.status.success(),
            "import of {name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A response read off the socket as sent: no decoding of any kind.
pub struct RawReply {
    pub status: u16,
    /// Header names in lowercase, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Sends one HTTP/1.0 request over a plain TCP connection and reads the
/// response until the server closes it. HTTP/1.0 makes the server end a
/// body of unknown length by closing instead of chunking, so the bytes
/// after the header block are the body exactly as coded.
pub fn raw_request(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> RawReply {
    use std::io::{Read, Write};

    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connecting to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();

    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("reading the response");
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("response has a header block");
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let body = response[split + 4..].to_vec();

    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    RawReply {
        status,
        headers,
        body,
    }
}
