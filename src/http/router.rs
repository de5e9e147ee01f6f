//! Routes requests to handlers and turns every outcome, error or not, into
//! a response.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;

use super::error::ApiError;
use super::{AppState, Body, body, click, events, feed, full_body};
use crate::domain;

pub const TEST_RUN_HEADER: &str = "x-partner-test-run-id";

/// The routes, matched on the path alone so that a wrong method can be
/// distinguished from an unknown path.
enum Route<'a> {
    Feed {
        handle: &'a str,
    },
    /// The public click URL, which takes no API key.
    Click {
        short_code: &'a str,
    },
    Clicks,
    Applications,
    Health,
}

impl Route<'_> {
    fn allow(&self) -> &'static str {
        match self {
            Route::Feed { .. } | Route::Click { .. } | Route::Health => "GET, HEAD",
            Route::Clicks | Route::Applications => "POST",
        }
    }

    fn accepts(&self, method: &Method) -> bool {
        match self {
            Route::Feed { .. } | Route::Click { .. } | Route::Health => {
                method == Method::GET || method == Method::HEAD
            }
            Route::Clicks | Route::Applications => method == Method::POST,
        }
    }
}

fn match_route(path: &str) -> Option<Route<'_>> {
    let path = path.strip_prefix('/')?;
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["partner", "feed", handle, "xml"] if !handle.is_empty() => Some(Route::Feed { handle }),
        ["partner", "clicks"] => Some(Route::Clicks),
        ["j", short_code] if !short_code.is_empty() => Some(Route::Click { short_code }),
        ["partner", "applications"] => Some(Route::Applications),
        ["health"] => Some(Route::Health),
        _ => None,
    }
}

pub async fn handle(
    state: &AppState,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();

    let result = route(state, request).await;
    let response = match result {
        Ok(response) => response,
        Err(err) => error_response(&err),
    };

    tracing::debug!(%peer, %method, path, status = response.status().as_u16(), "request");
    response
}

async fn route(state: &AppState, request: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let path = request.uri().path().to_string();
    let Some(route) = match_route(&path) else {
        return Err(ApiError::not_found(&path));
    };
    if !route.accepts(request.method()) {
        return Err(ApiError::method_not_allowed(
            request.method(),
            route.allow(),
        ));
    }

    if let Route::Health = route {
        return Ok(json_response(
            StatusCode::OK,
            r#"{"status":"ok"}"#.to_string(),
        ));
    }

    if let Route::Click { short_code } = route {
        let test_run_id = test_run_id(request.headers())?;
        let short_code = decode_segment(short_code).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_short_code",
                format!("short_code {short_code:?} is not a job"),
            )
            .with_field("short_code")
        })?;
        return click::get_click(state, &request, &short_code, test_run_id).await;
    }

    let caller = state
        .auth
        .check(request.headers().get(super::auth::API_KEY_HEADER))
        .await?;
    let test_run_id = test_run_id(request.headers())?;

    match route {
        Route::Feed { handle } => {
            let handle = decode_segment(handle).ok_or_else(|| {
                ApiError::bad_field(
                    "unknown_creator",
                    "creator_handle",
                    format!("creator_handle {handle:?} does not exist"),
                )
            })?;
            feed::get_feed(state, &request, &handle).await
        }
        Route::Clicks => {
            let body = read_json_body(state, request).await?;
            events::post_click(state, caller, test_run_id, &body).await
        }
        Route::Applications => {
            let body = read_json_body(state, request).await?;
            events::post_application(state, caller, test_run_id, &body).await
        }
        Route::Health | Route::Click { .. } => unreachable!("answered above"),
    }
}

/// Percent-decodes a path segment, or returns `None` when it is not UTF-8.
fn decode_segment(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

/// Reads and checks the optional test run id header.
fn test_run_id(headers: &http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(TEST_RUN_HEADER) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ApiError::bad_field(
            "invalid_test_run_id",
            TEST_RUN_HEADER,
            "x-partner-test-run-id must be visible ASCII characters",
        )
    })?;
    domain::check_test_run_id(text)
        .map_err(|message| ApiError::bad_field("invalid_test_run_id", TEST_RUN_HEADER, message))?;
    Ok(Some(text.to_string()))
}

/// Reads a JSON body up to the configured limit.
async fn read_json_body(state: &AppState, request: Request<Incoming>) -> Result<Bytes, ApiError> {
    let limit = state.settings.max_body_bytes;

    if let Some(content_type) = request.headers().get(header::CONTENT_TYPE) {
        let text = content_type.to_str().unwrap_or("");
        let essence = text.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("Content-Type {text:?} is not supported; send application/json"),
            )
            .with_field("Content-Type"));
        }
    }

    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    body::read_limited(
        request.into_body(),
        limit,
        declared,
        state.settings.header_read_timeout,
    )
    .await
}

pub fn json_response(status: StatusCode, json: String) -> Response<Body> {
    let mut response = Response::new(full_body(json));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub fn error_response(err: &ApiError) -> Response<Body> {
    let mut response = json_response(err.status, err.body_json());
    if let Some(allow) = err.allow {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    if let Some(seconds) = err.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_their_paths() {
        assert!(matches!(
            match_route("/partner/feed/jiloma/xml"),
            Some(Route::Feed { handle: "jiloma" })
        ));
        assert!(matches!(
            match_route("/partner/clicks"),
            Some(Route::Clicks)
        ));
        assert!(matches!(
            match_route("/j/abc123xy"),
            Some(Route::Click {
                short_code: "abc123xy"
            })
        ));
        assert!(match_route("/j/").is_none());
        assert!(match_route("/j/abc123xy/extra").is_none());
        assert!(match_route("/partner/feed//xml").is_none());
        assert!(match_route("/partner/clicks/extra").is_none());
        assert!(match_route("/").is_none());
        assert!(match_route("//partner/clicks").is_none());
    }
}
