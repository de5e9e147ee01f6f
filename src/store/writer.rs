//! The single writer: one thread owns the write connection and commits the
//! writes waiting in its queue in one `BEGIN IMMEDIATE` transaction (group
//! commit). A caller's reply is sent only after the commit that contains its
//! write, so an acknowledged write is a committed write.

use std::any::Any;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;

/// Maximum number of writes committed in one transaction.
const MAX_BATCH: usize = 512;
/// Capacity of the queue; senders wait when it is full.
const QUEUE_CAPACITY: usize = 8192;
/// How long a write may wait for another process's write lock (an
/// import, a backup) before it fails, so that a client gets a `503` to
/// retry instead of a response minutes later.
const MAX_WAIT: Duration = Duration::from_secs(10);
/// The writer connection's busy timeout: short, so that the retry loop
/// checks `MAX_WAIT` between attempts.
const BUSY_STEP: Duration = Duration::from_secs(1);

type AnyValue = Box<dyn Any + Send>;
type WriteFn = Box<dyn FnOnce(&Connection) -> rusqlite::Result<AnyValue> + Send>;

/// One queued write and where its result goes.
struct Job {
    write: WriteFn,
    queued_at: Instant,
    reply: oneshot::Sender<Result<AnyValue, StoreError>>,
}

/// Reports when the writer thread has closed its connection, so that a
/// process can wait for it before it exits. SQLite removes the `-wal` file
/// when the last connection closes.
pub struct WriterStopped(Mutex<std::sync::mpsc::Receiver<()>>);

impl WriterStopped {
    /// Waits up to `timeout` for the writer thread to end, which happens
    /// once every `Writer` handle is dropped. Returns whether it ended.
    pub fn wait(&self, timeout: Duration) -> bool {
        let receiver = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        !matches!(
            receiver.recv_timeout(timeout),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        )
    }
}

/// A handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`. The thread ends when every
    /// `Writer` handle has been dropped and the queue is drained.
    pub fn start(conn: Connection) -> (Writer, WriterStopped) {
        if let Err(err) = conn.busy_timeout(BUSY_STEP) {
            tracing::warn!(error = %err, "cannot set the writer's busy timeout");
        }
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let (stopped_sender, stopped) = std::sync::mpsc::channel();
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                run(conn, receiver);
                // The connection is closed by now; a receiver that is gone
                // has nothing to wait for.
                let _ = stopped_sender.send(());
            })
            .expect("spawning the writer thread");
        (Writer { queue }, WriterStopped(Mutex::new(stopped)))
    }

    /// Queues `write` and waits until the transaction that contains it
    /// commits. An error from `write` rolls back only its own savepoint.
    pub async fn write<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (job, reply) = job(write);
        self.queue
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        downcast(reply.await.map_err(|_| StoreError::WriterGone)?)
    }

    /// Like `write`, for threads outside the async runtime.
    pub fn write_blocking<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (job, reply) = job(write);
        self.queue
            .blocking_send(job)
            .map_err(|_| StoreError::WriterGone)?;
        downcast(reply.blocking_recv().map_err(|_| StoreError::WriterGone)?)
    }
}

fn job<T: Send + 'static>(
    write: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
) -> (Job, oneshot::Receiver<Result<AnyValue, StoreError>>) {
    let (reply, receiver) = oneshot::channel();
    let write: WriteFn =
        Box::new(move |conn: &Connection| write(conn).map(|v| Box::new(v) as AnyValue));
    (
        Job {
            write,
            reply,
            queued_at: Instant::now(),
        },
        receiver,
    )
}

fn downcast<T: 'static>(result: Result<AnyValue, StoreError>) -> Result<T, StoreError> {
    result.map(|value| {
        *value
            .downcast::<T>()
            .expect("a job's reply has the type of its write")
    })
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Begins an immediate transaction, retrying while another process (an
/// import, a backup) holds the write lock, until `deadline`.
fn begin(conn: &Connection, deadline: Instant) -> rusqlite::Result<()> {
    let mut retries = 0u32;
    loop {
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Err(err) if is_busy(&err) && Instant::now() < deadline => {
                retries += 1;
                if retries == 1 {
                    tracing::warn!(error = %err, "database busy; the writer waits for the lock");
                }
            }
            result => return result,
        }
    }
}

fn run(conn: Connection, mut receiver: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = receiver.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, &mut batch);
    }
    tracing::debug!("database writer stopped");
}

/// Runs each write of the batch in its own savepoint, commits once, then
/// sends every caller its result.
fn commit_batch(conn: &Connection, batch: &mut Vec<Job>) {
    let size = batch.len();
    let oldest = batch.iter().map(|job| job.queued_at).min();
    let deadline = oldest.unwrap_or_else(Instant::now) + MAX_WAIT;
    if let Err(err) = begin(conn, deadline) {
        tracing::error!(error = %err, size, "cannot begin a write transaction");
        let message = format!("cannot begin a write transaction: {err}");
        for job in batch.drain(..) {
            let _ = job
                .reply
                .send(Err(StoreError::CommitFailed(message.clone())));
        }
        return;
    }

    let mut results = Vec::with_capacity(size);
    for job in batch.drain(..) {
        let result = run_in_savepoint(conn, job.write);
        results.push((job.reply, result));
    }

    let commit = conn.execute_batch("COMMIT");
    if let Err(err) = &commit {
        tracing::error!(error = %err, size, "write batch commit failed");
        let _ = conn.execute_batch("ROLLBACK");
    }
    for (reply, result) in results {
        let answer = match (&commit, result) {
            (Ok(()), result) => result.map_err(StoreError::Sqlite),
            (Err(err), _) => Err(StoreError::CommitFailed(err.to_string())),
        };
        // The caller may have gone away (client disconnected); the write
        // stays committed either way.
        let _ = reply.send(answer);
    }
}

fn run_in_savepoint(conn: &Connection, write: WriteFn) -> rusqlite::Result<AnyValue> {
    conn.execute_batch("SAVEPOINT write")?;
    match write(conn) {
        Ok(value) => {
            conn.execute_batch("RELEASE write")?;
            Ok(value)
        }
        Err(err) => {
            conn.execute_batch("ROLLBACK TO write; RELEASE write")?;
            Err(err)
        }
    }
}
