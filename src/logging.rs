//! The log output: events that `RUST_LOG` selects (default `info`), written
//! to standard error.

use std::io::IsTerminal;

use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// Crates whose `trace` output carries secrets: ureq 3.5 and ureq-proto
/// 0.7 write a hex dump of each request, headers included, so the
/// webhook's `x-api-key` and the password of a URL with credentials would
/// reach the log. Their `debug` output masks both.
const SECRET_TRACING_CRATES: [&str; 2] = ["ureq", "ureq_proto"];

/// Installs the global subscriber. Call once, before anything logs.
pub fn init() {
    let directives = std::env::var("RUST_LOG").unwrap_or_default();
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(env_filter(&directives).and(secret_cap(&directives)));
    tracing_subscriber::registry().with(stderr_layer).init();
}

/// Builds the filter of `RUST_LOG`, or `info` when it is unset or invalid.
fn env_filter(directives: &str) -> EnvFilter {
    if directives.trim().is_empty() {
        return EnvFilter::new("info");
    }
    EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Caps the crates in `SECRET_TRACING_CRATES` at `debug`, unless a
/// directive in `RUST_LOG` names one of them, such as `ureq_proto=trace`.
fn secret_cap(directives: &str) -> Targets {
    let mut cap = Targets::new().with_default(LevelFilter::TRACE);
    if names_secret_tracing_crate(directives) {
        return cap;
    }
    for target in SECRET_TRACING_CRATES {
        cap = cap.with_target(target, LevelFilter::DEBUG);
    }
    cap
}

/// Tells whether a directive's target starts with one of the crates, as
/// in `ureq=trace`, `ureq_proto::util=trace` or `ureq_proto` alone.
fn names_secret_tracing_crate(directives: &str) -> bool {
    directives
        .split(',')
        .filter_map(|directive| directive.split('=').next())
        .map(str::trim)
        .any(|target| {
            SECRET_TRACING_CRATES
                .iter()
                .any(|name| target.starts_with(name))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap_of(directives: &str, target: &str) -> bool {
        secret_cap(directives).would_enable(target, &tracing::Level::TRACE)
    }

    #[test]
    fn trace_of_ureq_is_capped_by_default() {
        assert!(!cap_of("trace", "ureq_proto::util"));
        assert!(!cap_of("trace", "ureq::run"));
        assert!(!cap_of("partner_api=trace,trace", "ureq_proto::client"));
        assert!(cap_of("trace", "partner_api::webhook"));
    }

    #[test]
    fn naming_ureq_lifts_the_cap() {
        assert!(cap_of("info,ureq_proto=trace", "ureq_proto::util"));
        assert!(cap_of("ureq=trace", "ureq::run"));
        assert!(cap_of("ureq_proto::util=trace", "ureq_proto::util"));
        assert!(cap_of("info,ureq_proto", "ureq_proto::util"));
    }
}
