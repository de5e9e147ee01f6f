//! A webhook receiver for tests: a small HTTP/1.1 server on 127.0.0.1 that
//! records every request and can be set to fail, to hang, or to be down
//! (not started yet on a reserved port).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the webhook body is JSON")
    }
}

/// How the receiver responds.
#[derive(Default)]
struct Behaviour {
    /// Respond to this many more requests with `fail_status`.
    fail_next: usize,
    fail_status: u16,
    /// `Retry-After` value sent with failures.
    retry_after: Option<String>,
    /// Hold each request open without a response until this is cleared.
    hang: bool,
}

#[derive(Default)]
struct State {
    behaviour: Behaviour,
    received: Vec<Received>,
    /// Requests currently held open by `hang`.
    hanging: usize,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running receiver; it stops accepting when dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// Reserves a port on 127.0.0.1 with nothing listening on it, for a
/// receiver that is down until `Receiver::start_on` binds the port.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().unwrap().port()
}

impl Receiver {
    pub fn start() -> Receiver {
        Receiver::start_on(0)
    }

    /// Starts on 127.0.0.1:`port` (0 picks a free port).
    pub fn start_on(port: u16) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("binding the receiver");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });

        let accept_shared = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.lock().closed {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accept_shared.clone();
                thread::spawn(move || serve_connection(stream, &shared));
            }
        });
        Receiver { addr, shared }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks/applications", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Responds to the next `count` requests with `status`.
    pub fn fail_next(&self, count: usize, status: u16, retry_after: Option<&str>) {
        let mut state = self.shared.lock();
        state.behaviour.fail_next = count;
        state.behaviour.fail_status = status;
        state.behaviour.retry_after = retry_after.map(str::to_string);
    }

    /// Keeps requests open without a response while `on`.
    pub fn hang(&self, on: bool) {
        self.shared.lock().behaviour.hang = on;
        self.shared.changed.notify_all();
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    pub fn hanging(&self) -> usize {
        self.shared.lock().hanging
    }

    /// Waits until at least `count` requests arrived, or panics with what
    /// did arrive after `timeout`.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.received.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the receiver got {} requests within {timeout:?}, expected {count}",
                state.received.len()
            );
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        state.received.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.closed = true;
            state.behaviour.hang = false;
        }
        self.shared.changed.notify_all();
        // Wake the accept loop so that it reads `closed` and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Serves keep-alive requests on one connection until the client closes it.
fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = writer;
    while let Some(request) = read_request(&mut reader) {
        let (status, retry_after) = {
            let mut state = shared.lock();
            state.received.push(request);
            shared.changed.notify_all();

            state.hanging += 1;
            while state.behaviour.hang && !state.closed {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            state.hanging -= 1;
            if state.closed {
                return;
            }

            if state.behaviour.fail_next > 0 {
                state.behaviour.fail_next -= 1;
                (
                    state.behaviour.fail_status,
                    state.behaviour.retry_after.clone(),
                )
            } else {
                (200, None)
            }
        };

        let body = if status == 200 {
            "ok"
        } else {
            "receiver failure"
        };
        let mut response = format!(
            "HTTP/1.1 {status} Test\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(retry_after) = retry_after {
            response.push_str(&format!("Retry-After: {retry_after}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(body);
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Reads one request with a `Content-Length` body; `None` at end of stream.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();

    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }

    let length: usize = headers
        .get("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}
