//! `partner-api serve`: runs the HTTP server until SIGINT or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::config::{Overrides, Settings, Source};
use crate::http::{self, AppState, Authenticator};
use crate::store::Store;
use crate::webhook::{Wakeup, WebhookConfig, Worker, deliveries};

/// How long shutdown waits for the database writer to finish its queue.
const WRITER_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The API key that `serve --demo` accepts.
pub const DEMO_KEY: &str = "demo-partner-key";
/// The database `serve --demo` uses when none is configured.
const DEMO_DB: &str = "partner-demo.db";
/// The sample creators loaded by `serve --demo`.
const DEMO_FIXTURES: &str = include_str!("../../fixtures/creators.json");

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080; env: PARTNER_API_LISTEN]
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,

    /// Load the sample creators, accept the key "demo-partner-key" and turn
    /// on test mode. Uses ./partner-demo.db unless a database is configured.
    #[arg(long)]
    demo: bool,
}

pub fn run(mut overrides: Overrides, args: ServeArgs) -> anyhow::Result<()> {
    overrides.listen = args.listen;
    let mut settings = Settings::resolve(&overrides)?;
    if args.demo {
        if settings.sources.get("database") == Some(&Source::Default) {
            settings.db = PathBuf::from(DEMO_DB);
        }
        settings.e2e = true;
    }

    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }

    let store = Store::open(&settings.db, settings.synchronous_full)?;
    let mut auth = Authenticator::new(&settings.env_keys, store.pool.clone());

    if args.demo {
        let records = crate::import::parse_json("fixtures/creators.json", DEMO_FIXTURES)?;
        let mut conn = crate::store::open_writable(&settings.db, settings.synchronous_full)?;
        let report = crate::import::apply(
            &mut conn,
            &records,
            "fixtures/creators.json",
            crate::import::ApplyOptions::default(),
            &indicatif::ProgressBar::hidden(),
        )?;
        tracing::info!(
            creators = report.creators.added + report.creators.updated + report.creators.unchanged,
            jobs = report.jobs.added + report.jobs.updated + report.jobs.unchanged,
            "demo data loaded"
        );
        auth.add_key("env:demo", DEMO_KEY);
    } else if settings.env_keys.is_empty() {
        let conn = store.pool.get()?;
        if crate::store::keys::count_usable(&conn, chrono::Utc::now())? == 0 {
            tracing::warn!(
                "no API key is configured or stored; set PARTNER_INTEGRATION_API_KEY or run \
                 `partner-api keys create`, or every /partner request gets 401"
            );
        }
    }

    let webhook_wakeup = Wakeup::new();
    let worker = start_webhook_worker(&settings, &store, &webhook_wakeup)?;

    let writer_stopped = store.writer_stopped.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(async move {
        let listener = http::bind(settings.listen).await?;
        let addr = listener.local_addr()?;
        tracing::info!(
            database = %settings.db.display(),
            test_mode = settings.e2e,
            environment_keys = settings.env_keys.len(),
            webhook = settings.webhook_url.is_some(),
            "database open"
        );
        if args.demo {
            eprintln!(
                "\nDemo server on http://{addr}\n  API key (x-api-key): {DEMO_KEY}\n  test mode: on (sub_ids containing -e2e- need no sub-profile)\n  try: curl -sS http://{addr}/partner/feed/jiloma/xml -H \"x-api-key: {DEMO_KEY}\"\n"
            );
        }
        let state = Arc::new(AppState {
            store,
            settings,
            auth,
            webhook_wakeup,
        });
        http::serve(state, listener, http::shutdown_signal()).await
    });
    if let Some(worker) = worker {
        worker.stop();
    }
    // Ends the tasks still holding database handles, then lets the writer
    // commit what is queued and close, so that the WAL is checkpointed and
    // removed before the process exits.
    drop(runtime);
    if !writer_stopped.wait(WRITER_STOP_TIMEOUT) {
        tracing::warn!(
            timeout = ?WRITER_STOP_TIMEOUT,
            "the database writer did not stop in time"
        );
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Starts the webhook worker when a URL is configured. Without one, rows
/// queued earlier stay pending, and a warning in the log counts them.
fn start_webhook_worker(
    settings: &Settings,
    store: &Store,
    wakeup: &Wakeup,
) -> anyhow::Result<Option<Worker>> {
    if let Some(config) = WebhookConfig::from_settings(settings)? {
        let worker = Worker::start(
            store.pool.clone(),
            store.writer.clone(),
            config,
            wakeup.clone(),
        )?;
        return Ok(Some(worker));
    }

    let conn = store.pool.get()?;
    let unsent = deliveries::count_unsent(&conn)?;
    if unsent > 0 {
        tracing::warn!(
            unsent,
            "webhook deliveries are waiting but no webhook URL is configured; \
             set PARTNER_APPLICATION_WEBHOOK_URL to send them"
        );
    }
    Ok(None)
}
