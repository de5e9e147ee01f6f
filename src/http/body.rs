//! Reading request bodies within the size limit and the body timeout.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::error::ApiError;

/// Maximum bytes of an oversized body read and discarded before the `413` is
/// sent. A client that writes its whole body before reading the response
/// receives the `413` instead of a reset connection, up to this size.
const DRAIN_MAX_BYTES: u64 = 4 * 1024 * 1024;

/// How long a whole body may take to arrive, as a multiple of the header
/// read timeout: 30 seconds with the default of 10.
const BODY_TIMEOUT_FACTOR: u32 = 3;

pub fn payload_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("request body is larger than the limit of {limit} bytes"),
    )
    .with_field("body")
}

/// Reads a body of at most `limit` bytes. `declared` is the request's
/// Content-Length, when it has one.
pub async fn read_limited(
    body: Incoming,
    limit: usize,
    declared: Option<u64>,
    header_timeout: Duration,
) -> Result<Bytes, ApiError> {
    let limit_bytes = limit as u64;
    if declared.is_some_and(|length| length > DRAIN_MAX_BYTES) {
        return Err(payload_too_large(limit));
    }

    let timeout = header_timeout * BODY_TIMEOUT_FACTOR;
    match tokio::time::timeout(timeout, collect(body, limit_bytes)).await {
        Ok(Ok(Some(bytes))) => Ok(bytes),
        Ok(Ok(None)) => Err(payload_too_large(limit)),
        Ok(Err(err)) => Err(ApiError::bad_field(
            "invalid_body",
            "body",
            format!("cannot read the request body: {err}"),
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request body did not arrive within {} seconds",
                timeout.as_secs()
            ),
        )
        .with_field("body")),
    }
}

/// Collects the body, or returns `None` once it passes `limit` (after
/// reading and discarding up to `DRAIN_MAX_BYTES`).
async fn collect(mut body: Incoming, limit: u64) -> Result<Option<Bytes>, hyper::Error> {
    let mut buffer = BytesMut::new();
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        seen += data.len() as u64;
        if seen > DRAIN_MAX_BYTES {
            return Ok(None);
        }
        if seen <= limit {
            buffer.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Ok(None);
    }
    Ok(Some(buffer.freeze()))
}
