//! `POST /partner/clicks` and `POST /partner/applications`: validate the
//! attribution, then store the event through the writer.

use http::{Response, StatusCode};
use rusqlite::{Connection, params};
use serde::Serialize;
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::json::{Fields, excerpt};
use super::router::json_response;
use super::{AppState, Body};
use crate::config::Settings;
use crate::domain::{self, SubIdCheck};
use crate::store::{self, reads};
use crate::webhook::{event, outbox};

/// `client_id` of the rxevents rows this API writes.
pub const APPLICATION_CLIENT_ID: &str = "partner:application";

/// The `201` body of both routes.
#[derive(Serialize)]
struct Created<'a> {
    id: String,
    kind: &'static str,
    creator_handle: &'a str,
    sub_id: &'a str,
    job_id: &'a str,
    partner_test_run_id: Option<&'a str>,
}

fn created(body: &Created<'_>) -> Response<Body> {
    json_response(
        StatusCode::CREATED,
        serde_json::to_string(body).expect("responses serialize"),
    )
}

/// Checks that the creator exists and that `sub_id` belongs to it, by the
/// syntax rule first and then, outside the test-mode bypass, by looking up
/// the sub-profile.
pub fn resolve_attribution(
    conn: &Connection,
    creator_handle: &str,
    sub_id: Option<&str>,
    test_mode: bool,
) -> Result<reads::Creator, ApiError> {
    let check = match sub_id {
        Some(sub_id) => Some(
            domain::check_sub_id(creator_handle, sub_id, test_mode)
                .map_err(|err| ApiError::bad_field("invalid_sub_id", "sub_id", err.0))?,
        ),
        None => None,
    };

    let Some(creator) =
        reads::find_creator(conn, creator_handle).map_err(store::StoreError::from)?
    else {
        let parent =
            reads::find_parent_handle(conn, creator_handle).map_err(store::StoreError::from)?;
        let message = match parent {
            Some(parent) => format!(
                "creator_handle {creator_handle:?} is a sub-profile of {parent:?}, not a \
                 parent creator; send {parent:?} as creator_handle and {creator_handle:?} \
                 as sub_id"
            ),
            None => format!(
                "creator_handle {:?} does not exist",
                excerpt(creator_handle)
            ),
        };
        return Err(ApiError::bad_field(
            "unknown_creator",
            "creator_handle",
            message,
        ));
    };

    if let (Some(sub_id), Some(SubIdCheck::NeedsSubProfile)) = (sub_id, check) {
        let known =
            reads::is_sub_profile(conn, creator.id, sub_id).map_err(store::StoreError::from)?;
        if !known {
            return Err(ApiError::bad_field(
                "unknown_sub_id",
                "sub_id",
                format!(
                    "sub_id {sub_id:?} is not a sub-profile of creator {:?}",
                    creator.handle
                ),
            ));
        }
    }
    Ok(creator)
}

/// Builds the `query_string` column: the URL-encoded attribution parameters.
pub fn attribution_query(
    sub_id: Option<&str>,
    source: Option<&str>,
    test_run_id: Option<&str>,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(sub_id) = sub_id {
        query.append_pair("sub_id", sub_id);
    }
    if let Some(source) = source {
        query.append_pair("source", source);
    }
    if let Some(test_run_id) = test_run_id {
        query.append_pair("partner_test_run_id", test_run_id);
    }
    query.finish()
}

/// A click row as stored in `job_clicks`.
pub struct NewClick {
    pub id: String,
    pub job_row_id: i64,
    pub cid: String,
    pub sub_id: Option<String>,
    pub job_id: String,
    pub short_code: String,
    pub click_source: Option<String>,
    pub query_string: String,
    pub partner_test_run_id: Option<String>,
    pub api_key_name: String,
}

pub fn insert_click(conn: &Connection, click: &NewClick) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO job_clicks (id, job_row_id, cid, sub_id, job_id, short_code, click_source,
             query_string, partner_test_run_id, api_key_name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        click.id,
        click.job_row_id,
        click.cid,
        click.sub_id,
        click.job_id,
        click.short_code,
        click.click_source,
        click.query_string,
        click.partner_test_run_id,
        click.api_key_name,
        store::now(),
    ])?;
    Ok(())
}

pub async fn post_click(
    state: &AppState,
    caller: Caller,
    test_run_id: Option<String>,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let fields = Fields::parse(body)?;
    let creator_handle = fields.required_id("creator_handle")?.to_string();
    let sub_id = fields.required_str("sub_id")?.to_string();
    let job_id = fields.required_id("job_id")?.to_string();
    let short_code = fields.required_id("short_code")?.to_string();
    let source = match fields.optional_str("source")? {
        Some(source) => {
            domain::check_text("source", source, domain::MAX_SOURCE_LEN)
                .map_err(|message| ApiError::bad_field("invalid_field", "source", message))?;
            Some(source.to_string())
        }
        None => None,
    };

    let test_mode = state.settings.e2e;
    let (handle, sub, code, wanted_job) = (
        creator_handle.clone(),
        sub_id.clone(),
        short_code.clone(),
        job_id.clone(),
    );
    let (creator, job) = state
        .read(move |conn| {
            let creator = resolve_attribution(conn, &handle, Some(&sub), test_mode)?;
            let job = reads::find_job_by_short_code(conn, creator.id, &code)
                .map_err(store::StoreError::from)?
                .ok_or_else(|| {
                    ApiError::bad_field(
                        "unknown_short_code",
                        "short_code",
                        format!(
                            "short_code {:?} is not a job of creator {:?}",
                            excerpt(&code),
                            creator.handle
                        ),
                    )
                })?;
            if job.job_id != wanted_job {
                return Err(ApiError::bad_field(
                    "job_mismatch",
                    "job_id",
                    format!(
                        "job_id {:?} does not match short_code {:?}, which is job {:?}",
                        excerpt(&wanted_job),
                        code,
                        job.job_id
                    ),
                ));
            }
            Ok((creator, job))
        })
        .await?;

    let click = NewClick {
        id: Uuid::now_v7().to_string(),
        job_row_id: job.row_id,
        cid: creator.handle.clone(),
        sub_id: Some(sub_id.clone()),
        job_id: job.job_id.clone(),
        short_code: job.short_code.clone(),
        query_string: attribution_query(Some(&sub_id), source.as_deref(), test_run_id.as_deref()),
        click_source: source,
        partner_test_run_id: test_run_id.clone(),
        api_key_name: caller.0,
    };
    let id = click.id.clone();
    state
        .store
        .writer
        .write(move |conn| insert_click(conn, &click))
        .await?;

    Ok(created(&Created {
        id,
        kind: "job_click",
        creator_handle: &creator.handle,
        sub_id: &sub_id,
        job_id: &job.job_id,
        partner_test_run_id: test_run_id.as_deref(),
    }))
}

/// An application row as stored in `rxevents`.
pub struct NewApplication {
    pub id: String,
    pub rxp: String,
    pub sub_id: String,
    pub job_id: String,
    pub applicant_email: String,
    pub applicant_first_name: String,
    pub applicant_last_name: String,
    pub partner_test_run_id: Option<String>,
    pub api_key_name: String,
    pub created_at: String,
}

pub fn insert_application(conn: &Connection, application: &NewApplication) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO rxevents (id, rxp, sub_id, client_id, job_id, applicant_email,
             applicant_first_name, applicant_last_name, partner_test_run_id, api_key_name,
             created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        application.id,
        application.rxp,
        application.sub_id,
        APPLICATION_CLIENT_ID,
        application.job_id,
        application.applicant_email,
        application.applicant_first_name,
        application.applicant_last_name,
        application.partner_test_run_id,
        application.api_key_name,
        application.created_at,
    ])?;
    Ok(())
}

/// Builds the `application.created` delivery for `application`, or `None`
/// when no webhook URL is configured: applications accepted then are never
/// forwarded, even after a URL is set.
fn webhook_delivery(
    settings: &Settings,
    application: &NewApplication,
) -> Option<outbox::NewDelivery> {
    settings.webhook_url.as_ref()?;

    let event_id = event::new_event_id();
    let body = event::application_created(
        &event_id,
        &event::ApplicationData {
            id: &application.id,
            creator_handle: &application.rxp,
            sub_id: &application.sub_id,
            job_id: &application.job_id,
            applicant_email: &application.applicant_email,
            applicant_first_name: &application.applicant_first_name,
            applicant_last_name: &application.applicant_last_name,
            partner_test_run_id: application.partner_test_run_id.as_deref(),
            created_at: &application.created_at,
        },
    );
    let first_delay = settings
        .webhook_schedule
        .first()
        .copied()
        .unwrap_or_default();
    let next_attempt_at =
        chrono::Utc::now() + chrono::Duration::from_std(first_delay).unwrap_or_default();
    Some(outbox::NewDelivery {
        event_id,
        event_type: event::APPLICATION_CREATED,
        rxevent_id: Some(application.id.clone()),
        body,
        created_at: application.created_at.clone(),
        next_attempt_at: store::format_time(next_attempt_at),
    })
}

pub async fn post_application(
    state: &AppState,
    caller: Caller,
    test_run_id: Option<String>,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let fields = Fields::parse(body)?;
    let creator_handle = fields.required_id("creator_handle")?.to_string();
    let sub_id = fields.required_str("sub_id")?.to_string();
    let job_id = fields.required_id("job_id")?.to_string();
    let email = fields.required_str("applicant_email")?;
    domain::check_email(email)
        .map_err(|message| ApiError::bad_field("invalid_field", "applicant_email", message))?;
    let email = email.to_string();
    let first_name = fields
        .required_text("applicant_first_name", domain::MAX_NAME_LEN)?
        .to_string();
    let last_name = fields
        .required_text("applicant_last_name", domain::MAX_NAME_LEN)?
        .to_string();

    let test_mode = state.settings.e2e;
    let (handle, sub, wanted_job) = (creator_handle.clone(), sub_id.clone(), job_id.clone());
    let creator = state
        .read(move |conn| {
            let creator = resolve_attribution(conn, &handle, Some(&sub), test_mode)?;
            let job =
                reads::find_job(conn, creator.id, &wanted_job).map_err(store::StoreError::from)?;
            if job.is_none() {
                return Err(ApiError::bad_field(
                    "unknown_job",
                    "job_id",
                    format!(
                        "job_id {:?} is not a job of creator {:?}",
                        excerpt(&wanted_job),
                        creator.handle
                    ),
                ));
            }
            Ok(creator)
        })
        .await?;

    let application = NewApplication {
        id: Uuid::now_v7().to_string(),
        rxp: creator.handle.clone(),
        sub_id: sub_id.clone(),
        job_id: job_id.clone(),
        applicant_email: email,
        applicant_first_name: first_name,
        applicant_last_name: last_name,
        partner_test_run_id: test_run_id.clone(),
        api_key_name: caller.0,
        created_at: store::now(),
    };
    let id = application.id.clone();
    let delivery = webhook_delivery(&state.settings, &application);
    let queued = delivery.is_some();
    state
        .store
        .writer
        .write(move |conn| {
            insert_application(conn, &application)?;
            if let Some(delivery) = &delivery {
                outbox::insert_delivery(conn, delivery)?;
            }
            Ok(())
        })
        .await?;
    if queued {
        state.webhook_wakeup.notify();
    }

    Ok(created(&Created {
        id,
        kind: "rx_event",
        creator_handle: &creator.handle,
        sub_id: &sub_id,
        job_id: &job_id,
        partner_test_run_id: test_run_id.as_deref(),
    }))
}
