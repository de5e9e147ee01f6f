//! `GET|HEAD /j/:short_code`: the public click URL that feed jobs point to.
//! Records a click in `job_clicks`, except for HEAD requests and crawlers,
//! and redirects to the job's apply URL.

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use uuid::Uuid;

use super::error::ApiError;
use super::events::{NewClick, attribution_query, insert_click, resolve_attribution};
use super::feed::query_param;
use super::json::excerpt;
use super::{AppState, Body, full_body};
use crate::store::{self, StoreError, reads};
use crate::{crawlers, domain};

/// `click_source` of a click whose URL has no `source` parameter: the feed
/// is where these URLs are published.
pub const DEFAULT_SOURCE: &str = "feed";
/// `api_key_name` of the rows this route writes, since it takes no key.
pub const PUBLIC_CALLER: &str = "public";
/// Maximum length of a raw query stored in `query_string`. A longer one is stored as
/// its attribution parameters alone, so that a public URL cannot write
/// unbounded rows.
const MAX_STORED_QUERY: usize = 2048;

/// Characters percent-encoded in a `Location` value, besides every
/// non-ASCII byte: those a header cannot carry (controls) and those that
/// browsers encode in URLs themselves (space, `"`, `<`, `>`, backtick).
const LOCATION_ENCODE: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`');

/// Turns a stored apply URL into a `Location` header value. Imports store
/// apply URLs in the URL parser's normalized, ASCII form, but rows written
/// before that check may hold control characters or non-ASCII text (an
/// IRI), so those are percent-encoded as UTF-8. Existing `%` escapes are
/// kept.
pub fn location(apply_url: &str) -> Result<HeaderValue, ApiError> {
    let encoded = utf8_percent_encode(apply_url, LOCATION_ENCODE).to_string();
    HeaderValue::from_str(&encoded)
        .map_err(|err| ApiError::internal("apply URL is not a valid Location", &err))
}

fn not_found(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, code, message).with_field("short_code")
}

pub async fn get_click(
    state: &AppState,
    request: &Request<Incoming>,
    short_code: &str,
    test_run_id: Option<String>,
) -> Result<Response<Body>, ApiError> {
    let sub_id = query_param(request, "sub_id");
    let source = match query_param(request, "source") {
        Some(source) => {
            domain::check_text("source", &source, domain::MAX_SOURCE_LEN)
                .map_err(|message| ApiError::bad_field("invalid_field", "source", message))?;
            source
        }
        None => DEFAULT_SOURCE.to_string(),
    };
    let raw_query = request.uri().query().unwrap_or("");
    let query_string = if raw_query.len() <= MAX_STORED_QUERY {
        raw_query.to_string()
    } else {
        attribution_query(sub_id.as_deref(), Some(&source), test_run_id.as_deref())
    };
    // Every User-Agent header counts, so that a crawler cannot hide its
    // name behind a first, browser-like header.
    let crawler = request
        .headers()
        .get_all(header::USER_AGENT)
        .iter()
        .any(|value| crawlers::is_crawler(&String::from_utf8_lossy(value.as_bytes())));
    let record = request.method() == Method::GET && !crawler;

    let test_mode = state.settings.e2e;
    let code = short_code.to_string();
    let wanted_sub_id = sub_id.clone();
    let target = state
        .read(move |conn| {
            let now = store::now();
            let target = reads::find_click_target(conn, &code, &now)
                .map_err(StoreError::from)?
                .ok_or_else(|| {
                    not_found(
                        "unknown_short_code",
                        format!("short_code {:?} is not a job", excerpt(&code)),
                    )
                })?;
            if !target.open {
                return Err(not_found(
                    "job_not_open",
                    format!(
                        "short_code {:?} is job {:?}, which is closed or expired",
                        code, target.job.job_id
                    ),
                ));
            }
            if let Some(sub_id) = &wanted_sub_id {
                resolve_attribution(conn, &target.creator_handle, Some(sub_id), test_mode)?;
            }
            Ok(target)
        })
        .await?;
    let location = location(&target.apply_url)?;

    if record {
        let click = NewClick {
            id: Uuid::now_v7().to_string(),
            job_row_id: target.job.row_id,
            cid: target.creator_handle.clone(),
            sub_id,
            job_id: target.job.job_id.clone(),
            short_code: target.job.short_code.clone(),
            click_source: Some(source),
            query_string,
            partner_test_run_id: test_run_id,
            api_key_name: PUBLIC_CALLER.to_string(),
        };
        // The visitor still gets the job when the click cannot be stored.
        if let Err(err) = state
            .store
            .writer
            .write(move |conn| insert_click(conn, &click))
            .await
        {
            tracing::error!(
                short_code = target.job.short_code,
                error = %err,
                "cannot store a click; redirecting anyway"
            );
        }
    }

    let mut response = Response::new(full_body(bytes::Bytes::new()));
    *response.status_mut() = StatusCode::FOUND;
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    // Every visit has to reach this server to be counted.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_table() {
        for (apply_url, expected) in [
            (
                "https://jobs.example.org/apply?id=24358&ref=jiloma&src=feed",
                "https://jobs.example.org/apply?id=24358&ref=jiloma&src=feed",
            ),
            (
                "https://example.com/a%20b#top",
                "https://example.com/a%20b#top",
            ),
            (
                "https://example.com/jobs/café?q=🚀",
                "https://example.com/jobs/caf%C3%A9?q=%F0%9F%9A%80",
            ),
            (
                "https://example.com/a\u{1}b\u{7F}",
                "https://example.com/a%01b%7F",
            ),
            (
                "https://example.com/?q=<b>&x=\"y\"",
                "https://example.com/?q=%3Cb%3E&x=%22y%22",
            ),
        ] {
            let value = location(apply_url).unwrap();
            assert_eq!(value.to_str().unwrap(), expected, "{apply_url:?}");
        }
    }
}
