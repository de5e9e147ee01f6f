//! `partner-api serve`: runs the HTTP server until SIGINT or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::config::{Overrides, Settings, Source};
use crate::http::{self, AppState, Authenticator};
use crate::store::Store;

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

    let store = Store::open(&settings.db, settings.synchronous_full)?;
    let mut auth = Authenticator::new(&settings.env_keys);

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
        tracing::warn!(
            "no API key is configured; set PARTNER_INTEGRATION_API_KEY, or every /partner request gets 401"
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = http::bind(settings.listen).await?;
        let addr = listener.local_addr()?;
        tracing::info!(database = %settings.db.display(), "database open");
        if args.demo {
            eprintln!(
                "\nDemo server on http://{addr}\n  API key (x-api-key): {DEMO_KEY}\n  test mode: on (sub_ids containing -e2e- need no sub-profile)\n  try: curl -sS http://{addr}/partner/feed/jiloma/xml -H \"x-api-key: {DEMO_KEY}\"\n"
            );
        }
        let state = Arc::new(AppState {
            store,
            settings,
            auth,
        });
        http::serve(state, listener, http::shutdown_signal()).await
    })?;
    tracing::info!("stopped");
    Ok(())
}
