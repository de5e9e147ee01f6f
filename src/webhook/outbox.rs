//! The `webhook_deliveries` outbox on the sending side: queue a delivery,
//! find when the next one is due, claim it, and record each attempt.
//!
//! A sender claims a row in a write transaction before it sends, so two
//! servers on one file never send the same attempt. A claim lapses after a
//! lease, so another sender takes over the row when its sender crashed
//! mid-attempt. The receiver may then get that attempt twice, which is why
//! receivers deduplicate by `webhook-id`.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{self, format_time};

/// Error stored for an attempt whose sender stopped before it recorded the
/// outcome.
const LOST_ATTEMPT: &str = "the sender stopped before recording the outcome";

/// A delivery to queue.
pub struct NewDelivery {
    pub event_id: String,
    pub event_type: &'static str,
    pub rxevent_id: Option<String>,
    pub body: String,
    pub created_at: String,
    pub next_attempt_at: String,
}

pub fn insert_delivery(conn: &Connection, delivery: &NewDelivery) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (event_id, event_type, rxevent_id, body, status,
             next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)",
    )?
    .execute(params![
        delivery.event_id,
        delivery.event_type,
        delivery.rxevent_id,
        delivery.body,
        delivery.next_attempt_at,
        delivery.created_at,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Returns the earliest time at which a delivery becomes claimable: a
/// pending row's next attempt or a lapsed claim. `None` when there is none.
pub fn next_due(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT min(due) FROM (
             SELECT min(next_attempt_at) AS due FROM webhook_deliveries WHERE status = 'pending'
             UNION ALL
             SELECT min(claim_expires_at) FROM webhook_deliveries WHERE status = 'sending'
         )",
    )?
    .query_row([], |row| row.get(0))
}

/// A delivery claimed for one attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub event_id: String,
    pub body: String,
    /// The number of this attempt since the row was created.
    pub attempt: i64,
    /// The number of this attempt in the current round of the schedule.
    pub round_attempt: i64,
}

/// Claims the delivery that has been due longest, marks it `sending` until
/// `now + lease`, and opens its attempt row. Returns `None` when nothing is
/// due. Run inside a write transaction.
pub fn claim(
    conn: &Connection,
    claimant: &str,
    lease: Duration,
) -> rusqlite::Result<Option<Claimed>> {
    let now = chrono::Utc::now();
    let now_text = format_time(now);
    let expires = format_time(now + chrono::Duration::from_std(lease).unwrap_or_default());

    let claimed = conn
        .prepare_cached(
            "UPDATE webhook_deliveries
             SET status = 'sending', claimed_by = ?1, claim_expires_at = ?2,
                 attempts = attempts + 1, round_attempts = round_attempts + 1,
                 last_attempt_at = ?3
             WHERE id = (
                 SELECT id FROM webhook_deliveries
                 WHERE (status = 'pending' AND next_attempt_at <= ?3)
                    OR (status = 'sending' AND claim_expires_at <= ?3)
                 ORDER BY next_attempt_at
                 LIMIT 1
             )
             RETURNING id, event_id, body, attempts, round_attempts",
        )?
        .query_row(params![claimant, expires, now_text], |row| {
            Ok(Claimed {
                id: row.get(0)?,
                event_id: row.get(1)?,
                body: row.get(2)?,
                attempt: row.get(3)?,
                round_attempt: row.get(4)?,
            })
        })
        .optional()?;
    let Some(claimed) = claimed else {
        return Ok(None);
    };

    // A lapsed claim leaves its attempt without an outcome, so mark it lost.
    conn.prepare_cached(
        "UPDATE webhook_attempts SET error = ?1
         WHERE delivery_id = ?2 AND status_code IS NULL AND error IS NULL",
    )?
    .execute(params![LOST_ATTEMPT, claimed.id])?;

    conn.prepare_cached(
        "INSERT INTO webhook_attempts (delivery_id, attempt, started_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![claimed.id, claimed.attempt, now_text])?;
    Ok(Some(claimed))
}

/// The state a delivery moves to after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    /// Try again at this time (RFC 3339).
    RetryAt(String),
    /// The schedule is used up.
    Failed,
}

/// The stored outcome of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub response_snippet: Option<String>,
}

/// Records the outcome of the claimed attempt and moves the delivery on.
/// Returns `false`, and changes only the attempt row, when the claim was
/// lost in the meantime (it lapsed and another sender took the row, or an
/// admin queued it again).
pub fn record_attempt(
    conn: &Connection,
    claimed: &Claimed,
    claimant: &str,
    record: &AttemptRecord,
    next: &NextStep,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "UPDATE webhook_attempts
         SET status_code = ?1, error = ?2, latency_ms = ?3, response_snippet = ?4
         WHERE delivery_id = ?5 AND attempt = ?6",
    )?
    .execute(params![
        record.status_code,
        record.error,
        record.latency_ms,
        record.response_snippet,
        claimed.id,
        claimed.attempt,
    ])?;

    let now = store::now();
    let (status, next_attempt_at, delivered_at) = match next {
        NextStep::Delivered => ("delivered", None, Some(now.as_str())),
        NextStep::RetryAt(at) => ("pending", Some(at.as_str()), None),
        NextStep::Failed => ("failed", None, None),
    };
    let changed = conn
        .prepare_cached(
            "UPDATE webhook_deliveries
             SET status = ?1, next_attempt_at = coalesce(?2, next_attempt_at),
                 delivered_at = coalesce(?3, delivered_at),
                 claimed_by = NULL, claim_expires_at = NULL
             WHERE id = ?4 AND status = 'sending' AND claimed_by = ?5 AND attempts = ?6",
        )?
        .execute(params![
            status,
            next_attempt_at,
            delivered_at,
            claimed.id,
            claimant,
            claimed.attempt,
        ])?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens a migrated database in a temporary folder, removed with the
    /// folder.
    fn database() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = store::open_writable(&dir.path().join("outbox.db"), false).unwrap();
        (dir, conn)
    }

    fn queue(conn: &Connection, event_id: &str, next_attempt_at: &str) -> i64 {
        insert_delivery(
            conn,
            &NewDelivery {
                event_id: event_id.into(),
                event_type: "application.created",
                rxevent_id: None,
                body: format!("{{\"id\":\"{event_id}\"}}"),
                created_at: store::now(),
                next_attempt_at: next_attempt_at.into(),
            },
        )
        .unwrap()
    }

    fn record(status: u16) -> AttemptRecord {
        AttemptRecord {
            status_code: Some(status),
            error: None,
            latency_ms: 3,
            response_snippet: None,
        }
    }

    #[test]
    fn claim_takes_each_due_row_once() {
        let (_dir, conn) = database();
        queue(&conn, "evt_a", "2000-01-01T00:00:00.000Z");
        queue(&conn, "evt_later", "2999-01-01T00:00:00.000Z");

        let first = claim(&conn, "one", Duration::from_secs(60)).unwrap();
        let second = claim(&conn, "two", Duration::from_secs(60)).unwrap();
        assert_eq!(first.map(|c| c.event_id), Some("evt_a".to_string()));
        assert!(second.is_none(), "a claimed row was claimed again");
        assert_eq!(
            next_due(&conn).unwrap().as_deref().map(|t| t > "2000"),
            Some(true)
        );
    }

    #[test]
    fn lapsed_claim_is_taken_over() {
        let (_dir, conn) = database();
        queue(&conn, "evt_a", "2000-01-01T00:00:00.000Z");
        let lost = claim(&conn, "crashed", Duration::ZERO).unwrap().unwrap();
        let taken = claim(&conn, "other", Duration::from_secs(60))
            .unwrap()
            .unwrap();
        assert_eq!(taken.id, lost.id);
        assert_eq!(taken.attempt, 2);

        let error: Option<String> = conn
            .query_row(
                "SELECT error FROM webhook_attempts WHERE delivery_id = ?1 AND attempt = 1",
                [lost.id],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(error.as_deref(), Some(LOST_ATTEMPT));

        let stale = record_attempt(&conn, &lost, "crashed", &record(200), &NextStep::Delivered);
        assert!(!stale.unwrap(), "a lost claim still moved the delivery");
        let current = record_attempt(&conn, &taken, "other", &record(200), &NextStep::Delivered);
        assert!(current.unwrap());
    }

    #[test]
    fn record_moves_the_delivery_on() {
        let (_dir, conn) = database();
        let id = queue(&conn, "evt_a", "2000-01-01T00:00:00.000Z");
        let claimed = claim(&conn, "me", Duration::from_secs(60))
            .unwrap()
            .unwrap();
        let retry_at = "2001-01-01T00:00:00.000Z".to_string();
        assert!(
            record_attempt(
                &conn,
                &claimed,
                "me",
                &record(500),
                &NextStep::RetryAt(retry_at.clone())
            )
            .unwrap()
        );
        let (status, next, round): (String, String, i64) = conn
            .query_row(
                "SELECT status, next_attempt_at, round_attempts FROM webhook_deliveries WHERE id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .unwrap();
        assert_eq!(status, "pending");
        assert_eq!(next, retry_at);
        assert_eq!(round, 1);
    }
}
