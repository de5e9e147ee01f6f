//! `partner-api webhooks …`: inspect, re-queue and test webhook deliveries.

use std::io::Write;
use std::time::SystemTime;

use anyhow::{Context, bail};
use clap::{ArgGroup, Subcommand, ValueEnum};

use crate::config::Settings;
use crate::store::{self, format_time};
use crate::webhook::deliveries::{self, Attempt, DeliveryDetail, DeliverySummary};
use crate::webhook::send::Sender;
use crate::webhook::{WebhookConfig, event, mask_url_credentials};

#[derive(Subcommand)]
pub enum WebhooksCommand {
    /// List deliveries, newest first
    List {
        /// Show only deliveries with this status
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// Show at most this many deliveries, 1 or more
        #[arg(long, default_value_t = 100, value_name = "N", value_parser = parse_limit)]
        limit: u32,
        /// Print a JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show one delivery with its body and every attempt
    Show {
        /// Delivery number or event id (evt_…)
        id: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Queue deliveries for another attempt now.
    ///
    /// Attempt numbers continue from the earlier attempts, and the retry
    /// schedule starts over with its first attempt now. A running
    /// `partner-api serve` with a webhook URL sends them within about a
    /// second.
    #[command(group = ArgGroup::new("deliveries").args(["id", "failed"]).required(true))]
    Retry {
        /// Delivery number or event id (evt_…), of any status
        id: Option<String>,
        /// Queue every failed delivery
        #[arg(long)]
        failed: bool,
        /// With --failed: only deliveries whose last attempt was at or after
        /// TIME (RFC 3339 such as 2026-03-01T12:00:00Z, a date such as
        /// 2026-03-01 in UTC, or an age such as 2h)
        #[arg(long, requires = "failed", conflicts_with = "id", value_name = "TIME")]
        since: Option<String>,
    },
    /// Send a signed `webhook.test` event to the configured URL and print the
    /// result. Nothing is stored.
    Test,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Status {
    Pending,
    Sending,
    Delivered,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sending => "sending",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
        }
    }
}

pub fn run(settings: &Settings, command: WebhooksCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        WebhooksCommand::List {
            status,
            limit,
            json,
        } => {
            let conn = store::open_existing(&settings.db)?;
            let rows = deliveries::list(&conn, status.map(Status::as_str), limit)?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                print_table(&mut out, &rows)?;
            }
            Ok(())
        }
        WebhooksCommand::Show { id, json } => {
            let conn = store::open_existing(&settings.db)?;
            let Some(delivery) = deliveries::find(&conn, &id)? else {
                bail!(
                    "webhook delivery {id:?} not found; `partner-api webhooks list` shows the deliveries"
                );
            };
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&delivery)?)?;
            } else {
                print_detail(&mut out, &delivery)?;
            }
            Ok(())
        }
        WebhooksCommand::Retry { id, failed, since } => {
            let conn = store::open_existing(&settings.db)?;
            if failed {
                let since = since
                    .as_deref()
                    .map(|text| super::time_arg::parse("--since", text))
                    .transpose()?;
                let queued = deliveries::retry_failed(&conn, since.as_deref())?;
                let noun = if queued == 1 {
                    "delivery"
                } else {
                    "deliveries"
                };
                writeln!(
                    out,
                    "queued {queued} failed webhook {noun} for another attempt"
                )?;
                return Ok(());
            }
            let key = id.expect("clap requires an id without --failed");
            let id = deliveries::retry_one(&conn, &key)?;
            writeln!(out, "queued webhook delivery {id} for another attempt")?;
            Ok(())
        }
        WebhooksCommand::Test => send_test(&mut out, settings),
    }
}

fn parse_limit(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) | Err(_) => Err("expected a whole number of 1 or more".into()),
        Ok(limit) => Ok(limit),
    }
}

fn print_table(out: &mut impl Write, rows: &[DeliverySummary]) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "no webhook deliveries");
    }
    writeln!(
        out,
        "{:>8}  {:<9}  {:>8}  {:<24}  {:<24}  EVENT",
        "ID", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "LAST RESULT"
    )?;
    for row in rows {
        writeln!(
            out,
            "{:>8}  {:<9}  {:>8}  {:<24}  {:<24}  {}",
            row.id,
            row.status,
            row.attempts,
            row.next_attempt_at.as_deref().unwrap_or("-"),
            clip(row.last_result.as_deref().unwrap_or("-"), 24),
            row.event_id,
        )?;
    }
    Ok(())
}

fn print_detail(out: &mut impl Write, delivery: &DeliveryDetail) -> std::io::Result<()> {
    let summary = &delivery.summary;
    let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());

    writeln!(out, "delivery        {}", summary.id)?;
    writeln!(
        out,
        "event           {} ({})",
        summary.event_id, summary.event_type
    )?;
    writeln!(out, "application     {}", optional(&summary.rxevent_id))?;
    writeln!(out, "status          {}", summary.status)?;
    writeln!(
        out,
        "attempts        {} ({} in this round)",
        summary.attempts, delivery.round_attempts
    )?;
    writeln!(out, "created         {}", summary.created_at)?;
    writeln!(
        out,
        "next attempt    {}",
        optional(&summary.next_attempt_at)
    )?;
    writeln!(out, "delivered       {}", optional(&summary.delivered_at))?;

    if let Some(claimed_by) = &delivery.claimed_by {
        writeln!(
            out,
            "claimed by      {claimed_by} until {}",
            optional(&delivery.claim_expires_at)
        )?;
    }
    writeln!(out, "body            {}", delivery.body.get())?;

    writeln!(out)?;
    print_attempts(out, &delivery.history)
}

fn print_attempts(out: &mut impl Write, history: &[Attempt]) -> std::io::Result<()> {
    if history.is_empty() {
        return writeln!(out, "no attempts yet");
    }
    for attempt in history {
        let result = match (attempt.status_code, &attempt.error) {
            (Some(status), _) => format!("HTTP {status}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "in flight".into(),
        };
        let latency = attempt
            .latency_ms
            .map_or_else(String::new, |ms| format!(" in {ms} ms"));
        writeln!(
            out,
            "attempt {:>3}  {}  {result}{latency}",
            attempt.attempt, attempt.started_at
        )?;
        if let Some(snippet) = &attempt.response_snippet {
            writeln!(out, "             response: {}", snippet.replace('\n', " "))?;
        }
    }
    Ok(())
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(width - 1).collect();
    clipped.push('…');
    clipped
}

/// Sends one `webhook.test` event with the configured headers and
/// signature, and fails unless the receiver responds with a 2xx status.
fn send_test(out: &mut impl Write, settings: &Settings) -> anyhow::Result<()> {
    let config = WebhookConfig::from_settings(settings)?.with_context(|| {
        "no webhook URL is configured; set PARTNER_APPLICATION_WEBHOOK_URL or `url` \
         under [webhook] in partner.toml"
    })?;
    let signed = config.secret.is_some();
    let sender = Sender::new(config);
    let event_id = event::new_event_id();
    let body = event::webhook_test(&event_id, &format_time(SystemTime::now().into()));

    writeln!(out, "POST {}", mask_url_credentials(&sender.config().url))?;
    writeln!(out, "event      {event_id}")?;
    writeln!(
        out,
        "signature  {}",
        if signed {
            "webhook-signature (v1)"
        } else {
            "none (no secret configured)"
        }
    )?;
    let outcome = sender.send(&event_id, &body);
    writeln!(out, "result     {}", outcome.summary())?;
    writeln!(out, "latency    {} ms", outcome.latency.as_millis())?;
    if let Some(snippet) = &outcome.snippet {
        writeln!(out, "response   {}", snippet.replace('\n', " "))?;
    }
    if !outcome.is_success() {
        bail!(
            "the webhook test failed with {}; the receiver must respond with a 2xx status",
            outcome.summary()
        );
    }
    Ok(())
}
