//! Streamed response bodies: a blocking task writes the body through
//! `std::io::Write`, and the bytes reach the client in chunks through a
//! bounded channel, so memory stays flat however long the body is.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use http_body_util::channel::{Channel, Sender};
use tokio::runtime::Handle;

use super::Body;

/// Size of the chunks sent to the client.
const CHUNK_BYTES: usize = 64 * 1024;
/// Number of chunks waiting in the channel before the writer blocks.
const CHANNEL_CHUNKS: usize = 4;
/// How long the writer waits for the client to take one chunk before it
/// gives up, so that a stalled client cannot hold a read connection and
/// its snapshot forever. The wait covers more than one chunk's bytes.
/// Hyper takes the next chunk only when the socket is writable again, and
/// the kernel may buffer megabytes before that. So a steady reader at a
/// few KiB/s can wait over a minute before its next chunk is sent.
const STALL_TIMEOUT: Duration = Duration::from_secs(180);
/// Maximum duration of one streamed body. It bounds how long a slow
/// client keeps a stream slot and a read snapshot, which keeps SQLite from
/// checkpointing the WAL past it. A 126 MB feed needs about 140 KB/s to
/// finish in time, and its gzip form (21 MB) about 24 KB/s.
const MAX_TRANSFER: Duration = Duration::from_secs(15 * 60);

/// Creates a body and the writer that fills it. Call it from async code,
/// then move the writer to a blocking task.
pub fn channel() -> (ChunkWriter, Body) {
    let (sender, body) = Channel::<Bytes, io::Error>::new(CHANNEL_CHUNKS);
    let writer = ChunkWriter {
        sender,
        runtime: Handle::current(),
        buffer: BytesMut::with_capacity(CHUNK_BYTES),
        failed: false,
        started: Instant::now(),
    };
    (writer, body.boxed())
}

/// The writing end of a streamed body. Must be used on a blocking thread:
/// a full channel blocks it.
pub struct ChunkWriter {
    sender: Sender<Bytes, io::Error>,
    runtime: Handle,
    buffer: BytesMut,
    /// Set after a failed send. Later writes fail at once instead of
    /// waiting for the client again, for example while an encoder that is
    /// being dropped writes its trailer.
    failed: bool,
    started: Instant,
}

impl ChunkWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "an earlier chunk could not be sent",
            ));
        }
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = self.buffer.split().freeze();
        let sender = &mut self.sender;
        let left = MAX_TRANSFER.saturating_sub(self.started.elapsed());
        let wait = STALL_TIMEOUT.min(left);
        let sent = self
            .runtime
            .block_on(async { tokio::time::timeout(wait, sender.send_data(chunk)).await });
        if !matches!(sent, Ok(Ok(()))) {
            self.failed = true;
        }
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client closed the connection",
            )),
            Err(_) if wait < STALL_TIMEOUT => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the transfer took longer than {MAX_TRANSFER:?}"),
            )),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client took no data for {STALL_TIMEOUT:?}"),
            )),
        }
    }

    /// Sends what is buffered. The body ends normally when the writer is
    /// dropped.
    pub fn flush_buffer(&mut self) -> io::Result<()> {
        self.send_buffer()
    }

    /// Ends the body with an error, so that the client sees a broken
    /// transfer instead of a body that looks complete.
    pub fn abort(self, error: io::Error) {
        self.sender.abort(error);
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buffer.len() >= CHUNK_BYTES {
            self.send_buffer()?;
        }
        let room = CHUNK_BYTES.saturating_sub(self.buffer.len()).max(1);
        let taken = data.len().min(room);
        self.buffer.extend_from_slice(&data[..taken]);
        Ok(taken)
    }

    /// Does nothing: chunks go out when full and at `flush_buffer`, because
    /// flushing small pieces would only add chunk framing.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
