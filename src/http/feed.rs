//! `GET|HEAD /partner/feed/:handle/xml`: the creator's open jobs as XML,
//! streamed from one read snapshot, with a strong ETag, Last-Modified,
//! `304 Not Modified` and gzip.

use std::io::{self, BufWriter, Write};
use std::time::{Duration, SystemTime};

use flate2::Compression;
use flate2::write::GzEncoder;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use quick_xml::Writer;
use rusqlite::Connection;
use tokio::sync::{Semaphore, oneshot};

use super::error::ApiError;
use super::events::resolve_attribution;
use super::stream::{self, ChunkWriter};
use super::{AppState, Body, conditional, full_body};
use crate::feed::{self, FeedIdentity, FeedSource};
use crate::store::{self, Pool, StoreError, reads};

/// Maximum number of feeds streamed at once. Each stream keeps a pooled
/// read connection until its client has the whole document. The pool has
/// 16 connections (`store::Store::open`), so look-ups keep at least 8.
const MAX_STREAMS: usize = 8;
static STREAM_PERMITS: Semaphore = Semaphore::const_new(MAX_STREAMS);
/// How long a feed request waits for a free stream before it gets 503.
// NOTE: no test reaches the 503, which needs 8 streams whose clients stall
// for most of a minute.
const STREAM_QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

/// Size of the blocks the gzip encoder compresses at a time.
const GZIP_INPUT_BYTES: usize = 64 * 1024;

/// `Cache-Control` of feed responses: a client may keep the document but
/// must revalidate it (a cheap 304) before each use. `private` because the
/// feed is fetched with an API key that shared caches do not see.
const CACHE_CONTROL: &str = "private, no-cache";

/// Returns the decoded value of a query parameter. The last one wins.
pub fn query_param(request: &Request<Incoming>, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .last()
}

/// Returns the base of public click URLs: the configured public URL, or the address
/// the client reached this server at.
pub fn base_url(state: &AppState, request: &Request<Incoming>) -> String {
    if let Some(url) = &state.settings.public_url {
        return url.clone();
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| state.settings.listen.to_string());
    format!("http://{host}")
}

/// The parameters of a feed request, owned so that they can move to a
/// blocking task.
#[derive(Clone)]
struct FeedRequest {
    handle: String,
    sub_id: Option<String>,
    base_url: String,
    test_mode: bool,
    gzip: bool,
    /// The request's `If-None-Match` and `If-Modified-Since` headers.
    conditions: HeaderMap,
}

/// The outcome of checking a request against the current feed, before
/// any job is read.
struct FeedHead {
    creator_id: i64,
    creator_name: String,
    creator_handle: String,
    /// The stored time at which the jobs were judged open or expired.
    now: String,
    last_change: String,
    etag: String,
    last_modified: SystemTime,
    not_modified: bool,
    gzip: bool,
}

/// Checks the creator and sub_id and derives the validators. Reads the
/// creator, the sub-profile and three index entries, whatever the number
/// of jobs.
fn check(conn: &Connection, request: &FeedRequest) -> Result<FeedHead, ApiError> {
    let creator = resolve_attribution(
        conn,
        &request.handle,
        request.sub_id.as_deref(),
        request.test_mode,
    )?;
    let now = store::now();
    let times = reads::feed_times(conn, creator.id, &now).map_err(StoreError::from)?;

    let last_change = [times.last_job_change, times.last_expiry]
        .into_iter()
        .flatten()
        .fold(creator.updated_at.clone(), |latest, time| latest.max(time));
    let last_modified = chrono::DateTime::parse_from_rfc3339(&last_change)
        .map_err(|err| ApiError::internal("stored time is not RFC 3339", &err))?
        .to_utc()
        .into();

    let etag = feed::etag(&FeedIdentity {
        creator_handle: &creator.handle,
        creator_name: &creator.name,
        jobs_version: creator.jobs_version,
        last_change: &last_change,
        next_expiry: times.next_expiry.as_deref(),
        sub_id: request.sub_id.as_deref(),
        base_url: &request.base_url,
        gzip: request.gzip,
    });
    let not_modified = conditional::is_not_modified(&request.conditions, &etag, last_modified);

    Ok(FeedHead {
        creator_id: creator.id,
        creator_name: creator.name,
        creator_handle: creator.handle,
        now,
        last_change,
        etag,
        last_modified,
        not_modified,
        gzip: request.gzip,
    })
}

pub async fn get_feed(
    state: &AppState,
    request: &Request<Incoming>,
    handle: &str,
) -> Result<Response<Body>, ApiError> {
    let mut conditions = HeaderMap::new();
    for name in [header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE] {
        for value in request.headers().get_all(&name) {
            conditions.append(name.clone(), value.clone());
        }
    }
    let feed_request = FeedRequest {
        handle: handle.to_string(),
        sub_id: query_param(request, "sub_id"),
        base_url: base_url(state, request),
        test_mode: state.settings.e2e,
        gzip: conditional::accepts_gzip(request.headers()),
        conditions,
    };

    // Errors, 304s and HEADs need no stream and no stream permit.
    let checked_request = feed_request.clone();
    let head = state
        .read(move |conn| check(conn, &checked_request))
        .await?;
    if head.not_modified || request.method() == Method::HEAD {
        return Ok(response(&head, full_body(bytes::Bytes::new())));
    }

    let permit = tokio::time::timeout(STREAM_QUEUE_TIMEOUT, STREAM_PERMITS.acquire())
        .await
        .map_err(|_| {
            tracing::warn!(
                handle,
                "no feed stream free within the queue timeout, returning 503"
            );
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                format!(
                    "the server is streaming its maximum of {MAX_STREAMS} feeds, so retry later"
                ),
            )
            .with_retry_after(10)
        })?
        .map_err(|err| ApiError::internal("feed stream permits closed", &err))?;

    let (writer, body) = stream::channel();
    let (head_sender, head_receiver) = oneshot::channel();
    let pool = state.store.pool.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        render(&pool, &feed_request, head_sender, writer);
    });
    let head = head_receiver
        .await
        .map_err(|err| ApiError::internal("feed task ended without a result", &err))??;
    if head.not_modified {
        return Ok(response(&head, full_body(bytes::Bytes::new())));
    }
    Ok(response(&head, body))
}

fn response(head: &FeedHead, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(etag) = HeaderValue::from_str(&head.etag) {
        headers.insert(header::ETAG, etag);
    }
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(head.last_modified)) {
        headers.insert(header::LAST_MODIFIED, date);
    }

    if head.not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if head.gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// A failure while the document is written.
#[derive(Debug, thiserror::Error)]
enum RenderError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Checks the request again and streams the document, all in one read
/// transaction, so that the headers and every job come from the same
/// snapshot even when an import commits meanwhile. Runs on a blocking
/// thread: the pooled connection never crosses an `.await`.
fn render(
    pool: &Pool,
    request: &FeedRequest,
    head_sender: oneshot::Sender<Result<FeedHead, ApiError>>,
    mut chunks: ChunkWriter,
) {
    let conn = match pool.get() {
        Ok(conn) => conn,
        Err(err) => {
            let _ = head_sender.send(Err(StoreError::from(err).into()));
            return;
        }
    };
    // Dropping the transaction rolls it back, which only ends the snapshot.
    let snapshot = match conn.unchecked_transaction() {
        Ok(snapshot) => snapshot,
        Err(err) => {
            let _ = head_sender.send(Err(StoreError::from(err).into()));
            return;
        }
    };
    let head = match check(&snapshot, request) {
        Ok(head) => head,
        Err(err) => {
            let _ = head_sender.send(Err(err));
            return;
        }
    };
    let handle = head.creator_handle.clone();
    let not_modified = head.not_modified;
    let document = DocumentInputs {
        creator_id: head.creator_id,
        publisher: head.creator_name.clone(),
        publisher_url: format!("{}/partner/feed/{handle}/xml", request.base_url),
        last_build_date: head.last_change.clone(),
        now: head.now.clone(),
    };
    let gzip = head.gzip;
    if head_sender.send(Ok(head)).is_err() {
        tracing::debug!(handle, "feed client left before the headers");
        return;
    }
    if not_modified {
        return;
    }

    let written = if gzip {
        // The XML writer makes many small writes, and the encoder compresses
        // each write on its own: a buffer in between feeds it large blocks.
        // Level 1: on the 100,000-job feed of bench/feed_rss.sh, 0.9 s and
        // 21 MB against 3.5 s and 14 MB for the default level 6.
        let encoder = GzEncoder::new(&mut chunks, Compression::fast());
        let mut buffered = BufWriter::with_capacity(GZIP_INPUT_BYTES, encoder);
        write_document(&mut buffered, &snapshot, &document, request).and_then(|jobs| {
            let mut encoder = buffered.into_inner().map_err(|err| err.into_error())?;
            encoder.try_finish()?;
            Ok(jobs)
        })
    } else {
        write_document(&mut chunks, &snapshot, &document, request)
    };
    let written = written.and_then(|jobs| {
        chunks.flush_buffer()?;
        Ok(jobs)
    });
    let err = match written {
        Ok(jobs) => {
            tracing::debug!(handle, jobs, "feed sent");
            return;
        }
        Err(err) => err,
    };
    let client_side = matches!(
        &err,
        RenderError::Io(io) if matches!(io.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::TimedOut)
    );
    if client_side {
        tracing::info!(handle, error = %err, "feed stream stopped");
    } else {
        tracing::error!(handle, error = %err, "feed stream failed");
    }
    // A body that ends normally would look complete to the client.
    chunks.abort(io::Error::other(err.to_string()));
}

/// Document inputs other than the job rows.
struct DocumentInputs {
    creator_id: i64,
    publisher: String,
    publisher_url: String,
    last_build_date: String,
    now: String,
}

/// Writes the whole document to `out`, one job at a time, and returns the
/// number of jobs.
fn write_document<W: Write>(
    out: W,
    conn: &Connection,
    document: &DocumentInputs,
    request: &FeedRequest,
) -> Result<usize, RenderError> {
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    feed::write_head(
        &mut writer,
        &FeedSource {
            publisher: &document.publisher,
            publisher_url: &document.publisher_url,
            last_build_date: &document.last_build_date,
        },
    )?;
    let mut jobs = 0;
    reads::for_each_open_job(conn, document.creator_id, &document.now, |mut job| {
        job.url = feed::job_url(
            &request.base_url,
            &job.short_code,
            request.sub_id.as_deref(),
        );
        feed::write_job(&mut writer, &job)?;
        jobs += 1;
        Ok::<(), RenderError>(())
    })?;
    feed::write_tail(&mut writer)?;
    Ok(jobs)
}
