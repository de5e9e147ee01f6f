//! Deliveries as the admin commands see them: listings, one delivery with
//! its attempts, and queuing deliveries again.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::store;

/// One row of `webhooks list`.
#[derive(Debug, Serialize)]
pub struct DeliverySummary {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    pub rxevent_id: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// The last attempt's outcome: `HTTP 500`, an error, or `in flight`.
    pub last_result: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize)]
pub struct Attempt {
    pub attempt: i64,
    pub started_at: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: Option<i64>,
    pub response_snippet: Option<String>,
}

/// A delivery with its body and every attempt, for `webhooks show`.
#[derive(Debug, Serialize)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub summary: DeliverySummary,
    /// Attempts since creation or the last `webhooks retry`.
    pub round_attempts: i64,
    pub claimed_by: Option<String>,
    pub claim_expires_at: Option<String>,
    /// The stored body, byte for byte.
    pub body: Box<RawValue>,
    pub history: Vec<Attempt>,
}

const SUMMARY_COLUMNS: &str = "d.id, d.event_id, d.event_type, d.rxevent_id, d.status, d.attempts,
    CASE WHEN d.status = 'pending' THEN d.next_attempt_at END, d.last_attempt_at,
    (SELECT CASE WHEN a.status_code IS NOT NULL THEN 'HTTP ' || a.status_code
                 ELSE coalesce(a.error, 'in flight') END
     FROM webhook_attempts a WHERE a.delivery_id = d.id ORDER BY a.attempt DESC LIMIT 1),
    d.created_at, d.delivered_at";

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeliverySummary> {
    Ok(DeliverySummary {
        id: row.get(0)?,
        event_id: row.get(1)?,
        event_type: row.get(2)?,
        rxevent_id: row.get(3)?,
        status: row.get(4)?,
        attempts: row.get(5)?,
        next_attempt_at: row.get(6)?,
        last_attempt_at: row.get(7)?,
        last_result: row.get(8)?,
        created_at: row.get(9)?,
        delivered_at: row.get(10)?,
    })
}

/// Lists deliveries, newest first, optionally of one status.
pub fn list(
    conn: &Connection,
    status: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<DeliverySummary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM webhook_deliveries d
         WHERE ?1 IS NULL OR d.status = ?1
         ORDER BY d.id DESC LIMIT ?2"
    );
    conn.prepare(&sql)?
        .query_map(params![status, limit], summary)?
        .collect()
}

/// Finds a delivery by its number or by its event id (`evt_…`).
pub fn find(conn: &Connection, key: &str) -> rusqlite::Result<Option<DeliveryDetail>> {
    let Some(id) = resolve_id(conn, key)? else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, d.round_attempts, d.claimed_by, d.claim_expires_at, d.body
         FROM webhook_deliveries d WHERE d.id = ?1"
    );
    let Some((summary, round_attempts, claimed_by, claim_expires_at, body)) = conn
        .query_row(&sql, [id], |row| {
            Ok((
                summary(row)?,
                row.get::<_, i64>(11)?,
                row.get::<_, Option<String>>(12)?,
                row.get::<_, Option<String>>(13)?,
                row.get::<_, String>(14)?,
            ))
        })
        .optional()?
    else {
        return Ok(None);
    };

    let history = conn
        .prepare(
            "SELECT attempt, started_at, status_code, error, latency_ms, response_snippet
             FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY attempt",
        )?
        .query_map([id], |row| {
            Ok(Attempt {
                attempt: row.get(0)?,
                started_at: row.get(1)?,
                status_code: row.get(2)?,
                error: row.get(3)?,
                latency_ms: row.get(4)?,
                response_snippet: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    // The body is JSON written by this program. If the file was edited by
    // hand, show the text as a JSON string instead of failing.
    let body = match RawValue::from_string(body.clone()) {
        Ok(raw) => raw,
        Err(_) => serde_json::value::to_raw_value(&body).expect("strings serialize"),
    };
    Ok(Some(DeliveryDetail {
        summary,
        round_attempts,
        claimed_by,
        claim_expires_at,
        body,
        history,
    }))
}

fn resolve_id(conn: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    if let Ok(id) = key.parse::<i64>() {
        return Ok(Some(id));
    }
    conn.query_row(
        "SELECT id FROM webhook_deliveries WHERE event_id = ?1",
        [key],
        |row| row.get(0),
    )
    .optional()
}

/// The reason `retry_one` queued nothing.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("webhook delivery {0:?} not found; `partner-api webhooks list` shows the deliveries")]
    NotFound(String),
    #[error(
        "webhook delivery {0} is being sent right now; wait for the attempt to finish \
         and check it with `partner-api webhooks show {0}`"
    )]
    InFlight(i64),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Queues one delivery for an attempt now, whatever its status, unless an
/// attempt is in flight. Attempt numbers continue; the retry schedule
/// starts over. Returns the delivery id.
pub fn retry_one(conn: &Connection, key: &str) -> Result<i64, RetryError> {
    let Some(id) = resolve_id(conn, key)? else {
        return Err(RetryError::NotFound(key.to_string()));
    };
    let now = store::now();
    let changed = conn.execute(
        "UPDATE webhook_deliveries
         SET status = 'pending', next_attempt_at = ?2, round_attempts = 0,
             claimed_by = NULL, claim_expires_at = NULL
         WHERE id = ?1 AND (status <> 'sending' OR claim_expires_at <= ?2)",
        params![id, now],
    )?;
    if changed == 1 {
        return Ok(id);
    }
    let exists = conn
        .prepare("SELECT 1 FROM webhook_deliveries WHERE id = ?1")?
        .exists([id])?;
    if exists {
        Err(RetryError::InFlight(id))
    } else {
        Err(RetryError::NotFound(key.to_string()))
    }
}

/// Queues every failed delivery whose last attempt was at or after `since`
/// (RFC 3339), or all of them. Returns how many were queued.
pub fn retry_failed(conn: &Connection, since: Option<&str>) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE webhook_deliveries
         SET status = 'pending', next_attempt_at = ?1, round_attempts = 0
         WHERE status = 'failed' AND (?2 IS NULL OR last_attempt_at >= ?2)",
        params![store::now(), since],
    )
}

/// Counts pending and sending deliveries, for the start-up warning of a
/// server that has no webhook URL.
pub fn count_unsent(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM webhook_deliveries WHERE status IN ('pending', 'sending')",
        [],
        |row| row.get(0),
    )
}
