//! The webhook worker: a few std threads that claim due deliveries, send
//! them and record the outcome, off the async runtime.
//!
//! The threads wake when a handler commits a delivery (`Wakeup::notify`)
//! and at least every `POLL_INTERVAL`, so rows queued before a restart, by
//! `webhooks retry` or by another server on the same file are picked up.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::WebhookConfig;
use super::outbox::{self, AttemptRecord, Claimed, NextStep};
use super::schedule::next_delay;
use super::send::{Outcome, Sender};
use crate::store::{Pool, StoreError, Writer, format_time};

/// Number of deliveries sent at the same time. Each thread waits at most
/// the configured timeout on a receiver that does not respond.
const SENDER_THREADS: usize = 4;
/// The maximum time a thread sleeps before it queries the table again.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a thread waits after another sender won a claim race.
const LOST_RACE_PAUSE: Duration = Duration::from_millis(50);
/// Time added to the attempt timeout to form the claim lease, for the
/// writer queue and clock steps. A lease that lapses while its attempt is
/// still running lets another sender repeat that attempt.
const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// Wakes the worker threads; cheap to clone. Notifying without a worker
/// does nothing.
#[derive(Clone, Default)]
pub struct Wakeup {
    shared: Arc<(Mutex<WakeState>, Condvar)>,
}

#[derive(Default)]
struct WakeState {
    /// Bumped by each notification, so that a thread that checked the table
    /// before a commit does not sleep through it.
    generation: u64,
    stopping: bool,
}

impl Wakeup {
    pub fn new() -> Wakeup {
        Wakeup::default()
    }

    /// Tells the worker that a delivery was committed.
    pub fn notify(&self) {
        let (state, condvar) = &*self.shared;
        lock(state).generation += 1;
        condvar.notify_all();
    }

    fn stop(&self) {
        let (state, condvar) = &*self.shared;
        lock(state).stopping = true;
        condvar.notify_all();
    }

    /// Returns the current generation, or `None` once the worker stops.
    fn generation(&self) -> Option<u64> {
        let state = lock(&self.shared.0);
        (!state.stopping).then_some(state.generation)
    }

    /// Sleeps up to `timeout` unless a notification came after `seen`.
    fn wait(&self, seen: u64, timeout: Duration) {
        let (state, condvar) = &*self.shared;
        let guard = lock(state);
        let _ = condvar.wait_timeout_while(guard, timeout, |state| {
            state.generation == seen && !state.stopping
        });
    }
}

/// Locks the wake-up state, which stays consistent even if a thread
/// panicked while holding it.
fn lock(state: &Mutex<WakeState>) -> std::sync::MutexGuard<'_, WakeState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The running worker threads.
pub struct Worker {
    wakeup: Wakeup,
    threads: Vec<JoinHandle<()>>,
}

impl Worker {
    /// Starts the threads. They send with `config` whatever rows are due,
    /// including rows that other processes queued.
    pub fn start(
        pool: Pool,
        writer: Writer,
        config: WebhookConfig,
        wakeup: Wakeup,
    ) -> anyhow::Result<Worker> {
        let claimant = format!("pid {} ({})", std::process::id(), Uuid::now_v7().simple());
        let lease = config.timeout + LEASE_MARGIN;
        let host = config.host();
        let loop_state = Arc::new(SendLoop {
            pool,
            writer,
            schedule: config.schedule.clone(),
            sender: Sender::new(config),
            claimant,
            lease,
            wakeup: wakeup.clone(),
        });

        let mut threads = Vec::with_capacity(SENDER_THREADS);
        for index in 0..SENDER_THREADS {
            let loop_state = loop_state.clone();
            let thread = thread::Builder::new()
                .name(format!("webhook-{index}"))
                .spawn(move || loop_state.run())?;
            threads.push(thread);
        }
        tracing::info!(host, threads = SENDER_THREADS, "webhook worker started");
        Ok(Worker { wakeup, threads })
    }

    /// Stops the threads and waits for them. An attempt in flight finishes
    /// first, so this can take up to the attempt timeout.
    pub fn stop(self) {
        self.wakeup.stop();
        for thread in self.threads {
            if thread.join().is_err() {
                tracing::error!("a webhook worker thread panicked");
            }
        }
        tracing::info!("webhook worker stopped");
    }
}

/// The state that all worker threads share.
struct SendLoop {
    pool: Pool,
    writer: Writer,
    schedule: Vec<Duration>,
    sender: Sender,
    /// Identifies this process's claims in `claimed_by`.
    claimant: String,
    lease: Duration,
    wakeup: Wakeup,
}

impl SendLoop {
    fn run(&self) {
        while let Some(seen) = self.wakeup.generation() {
            let pause = match self.step() {
                Ok(pause) => pause,
                Err(err) => {
                    tracing::error!(error = %err, "webhook worker cannot reach the database; retrying");
                    POLL_INTERVAL
                }
            };
            if !pause.is_zero() {
                self.wakeup.wait(seen, pause);
            }
        }
    }

    /// Sends one due delivery and returns zero, or returns how long to
    /// sleep when nothing is due.
    fn step(&self) -> Result<Duration, StoreError> {
        let next_due = {
            let conn = self.pool.get()?;
            outbox::next_due(&conn)?
        };
        if let Some(wait) = time_until(next_due.as_deref()) {
            return Ok(wait.min(POLL_INTERVAL));
        }

        let (claimant, lease) = (self.claimant.clone(), self.lease);
        let claimed = self
            .writer
            .write_blocking(move |conn| outbox::claim(conn, &claimant, lease))?;
        let Some(claimed) = claimed else {
            return Ok(LOST_RACE_PAUSE);
        };

        let outcome = self.sender.send(&claimed.event_id, &claimed.body);
        let next = self.next_step(&claimed, &outcome);
        log_attempt(&claimed, &outcome, &next);

        let record = AttemptRecord {
            status_code: outcome.status,
            error: outcome.error.clone(),
            latency_ms: i64::try_from(outcome.latency.as_millis()).unwrap_or(i64::MAX),
            response_snippet: outcome.snippet.clone(),
        };
        let claimant = self.claimant.clone();
        let held = self.writer.write_blocking({
            let claimed = claimed.clone();
            move |conn| outbox::record_attempt(conn, &claimed, &claimant, &record, &next)
        })?;
        if !held {
            tracing::warn!(
                delivery_id = claimed.id,
                event_id = claimed.event_id,
                attempt = claimed.attempt,
                "webhook claim lapsed before the outcome was recorded; another sender owns the delivery"
            );
        }
        Ok(Duration::ZERO)
    }

    fn next_step(&self, claimed: &Claimed, outcome: &Outcome) -> NextStep {
        if outcome.is_success() {
            return NextStep::Delivered;
        }
        let attempts_made = usize::try_from(claimed.round_attempt).unwrap_or(usize::MAX);
        match next_delay(
            &self.schedule,
            attempts_made,
            outcome.retry_after,
            fastrand::f64(),
        ) {
            Some(delay) => {
                let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                NextStep::RetryAt(format_time(at))
            }
            None => NextStep::Failed,
        }
    }
}

/// Returns how long until `due`, or `None` when it is due now. A table with
/// nothing to send is rechecked after `POLL_INTERVAL`.
fn time_until(due: Option<&str>) -> Option<Duration> {
    let Some(due) = due else {
        return Some(POLL_INTERVAL);
    };
    let due: DateTime<Utc> = match DateTime::parse_from_rfc3339(due) {
        Ok(due) => due.into(),
        Err(err) => {
            // Rows are written by this program, so this is a damaged file;
            // the claim query compares text and still finds due rows.
            tracing::warn!(error = %err, due, "webhook delivery has an unreadable time");
            return None;
        }
    };
    (due - Utc::now())
        .to_std()
        .ok()
        .filter(|wait| !wait.is_zero())
}

fn log_attempt(claimed: &Claimed, outcome: &Outcome, next: &NextStep) {
    let latency_ms = outcome.latency.as_millis();
    let result = outcome.summary();
    match next {
        NextStep::Delivered => tracing::info!(
            delivery_id = claimed.id,
            event_id = claimed.event_id,
            attempt = claimed.attempt,
            latency_ms,
            result,
            "webhook delivered"
        ),
        NextStep::RetryAt(at) => tracing::warn!(
            delivery_id = claimed.id,
            event_id = claimed.event_id,
            attempt = claimed.attempt,
            latency_ms,
            result,
            next_attempt_at = at,
            "webhook attempt failed; retrying"
        ),
        NextStep::Failed => tracing::error!(
            delivery_id = claimed.id,
            event_id = claimed.event_id,
            attempt = claimed.attempt,
            latency_ms,
            result,
            "webhook delivery failed after its last scheduled attempt; \
             `partner-api webhooks retry` queues it again"
        ),
    }
}
