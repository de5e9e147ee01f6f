//! Last use of stored keys, gathered in memory and written in batches, so
//! that a request does not wait for a write to record it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::store::{Writer, keys};

/// How often the server writes the last use of keys. `keys list` lags
/// requests by up to this much; shutdown writes what is left.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// The latest use of each stored key, by `api_keys.id`, not yet written.
#[derive(Default)]
pub struct KeyUsage {
    pending: Mutex<HashMap<i64, String>>,
}

impl KeyUsage {
    /// Notes that key `id` was used at `used_at`, a stored time.
    pub fn record(&self, id: i64, used_at: String) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        merge(&mut pending, id, used_at);
    }

    /// Writes the pending uses through the writer. After a failed write
    /// they stay pending for the next flush.
    pub async fn flush(&self, writer: &Writer) {
        let uses: Vec<(i64, String)> = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.drain().collect()
        };
        if uses.is_empty() {
            return;
        }

        let count = uses.len();
        let written = uses.clone();
        match writer
            .write(move |conn| keys::record_last_used(conn, &written))
            .await
        {
            Ok(()) => tracing::debug!(keys = count, "stored the last use of keys"),
            Err(err) => {
                tracing::warn!(error = %err, keys = count, "cannot store the last use of keys; retrying at the next flush");
                let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                for (id, used_at) in uses {
                    merge(&mut pending, id, used_at);
                }
            }
        }
    }

    /// Flushes every `FLUSH_INTERVAL` until the task is dropped.
    pub async fn flush_periodically(&self, writer: Writer) {
        let mut ticks = tokio::time::interval(FLUSH_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.flush(&writer).await;
        }
    }
}

/// Keeps the later of two uses; requests on other threads may record out
/// of order.
fn merge(pending: &mut HashMap<i64, String>, id: i64, used_at: String) {
    let entry = pending.entry(id).or_default();
    if *entry < used_at {
        *entry = used_at;
    }
}
