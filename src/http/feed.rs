//! `GET /partner/feed/:handle/xml`: the creator's open jobs as XML.

use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use quick_xml::Writer;
use rusqlite::Connection;

use super::error::ApiError;
use super::events::resolve_attribution;
use super::{AppState, Body, full_body};
use crate::feed::{self, FeedJob, FeedSource};
use crate::store::{self, StoreError};

/// The value of a query parameter, decoded; the last one wins.
pub fn query_param(request: &Request<Incoming>, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .last()
}

/// The base of public click URLs: the configured public URL, or the address
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

/// Reads the creator's open jobs: status open and not past `expires_at`.
fn open_jobs(
    conn: &Connection,
    creator_id: i64,
    now: &str,
    mut each: impl FnMut(FeedJob) -> std::io::Result<()>,
) -> Result<(), ApiError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT job_id, short_code, title, company, city, state, country, postal_code,
                    description, salary, job_type, category, posted_at
             FROM jobs
             WHERE creator_id = ?1 AND status = 'open'
               AND (expires_at IS NULL OR expires_at > ?2)
             ORDER BY posted_at DESC, id",
        )
        .map_err(StoreError::from)?;
    let mut rows = statement
        .query(rusqlite::params![creator_id, now])
        .map_err(StoreError::from)?;
    while let Some(row) = rows.next().map_err(StoreError::from)? {
        let job = (|| -> rusqlite::Result<FeedJob> {
            Ok(FeedJob {
                job_id: row.get(0)?,
                short_code: row.get(1)?,
                title: row.get(2)?,
                company: row.get(3)?,
                city: row.get(4)?,
                state: row.get(5)?,
                country: row.get(6)?,
                postal_code: row.get(7)?,
                description: row.get(8)?,
                salary: row.get(9)?,
                job_type: row.get(10)?,
                category: row.get(11)?,
                posted_at: row.get(12)?,
                url: String::new(),
            })
        })()
        .map_err(StoreError::from)?;
        each(job).map_err(|err| ApiError::internal("writing the feed failed", &err))?;
    }
    Ok(())
}

pub async fn get_feed(
    state: &AppState,
    request: &Request<Incoming>,
    handle: &str,
) -> Result<Response<Body>, ApiError> {
    let sub_id = query_param(request, "sub_id");
    let base = base_url(state, request);
    let test_mode = state.settings.e2e;
    let handle = handle.to_string();

    let document = state
        .read(move |conn| {
            let creator = resolve_attribution(conn, &handle, sub_id.as_deref(), test_mode)?;
            let now = store::now();
            let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
            let publisher_url = format!("{base}/partner/feed/{}/xml", creator.handle);
            feed::write_head(
                &mut writer,
                &FeedSource {
                    publisher: &creator.name,
                    publisher_url: &publisher_url,
                    last_build_date: &now,
                },
            )
            .map_err(|err| ApiError::internal("writing the feed failed", &err))?;
            open_jobs(conn, creator.id, &now, |mut job| {
                job.url = feed::job_url(&base, &job.short_code, sub_id.as_deref());
                feed::write_job(&mut writer, &job)
            })?;
            feed::write_tail(&mut writer)
                .map_err(|err| ApiError::internal("writing the feed failed", &err))?;
            Ok(writer.into_inner())
        })
        .await?;

    let mut response = Response::new(full_body(document));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    Ok(response)
}
