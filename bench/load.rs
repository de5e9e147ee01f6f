//! A small HTTP load generator for the benchmark scripts in bench/: a fixed
//! number of client threads, each with one keep-alive connection, send the
//! same request for a fixed time.
//!
//! Usage:
//!   bench-load CLIENTS SECONDS URL [BODY]
//!
//! Without BODY it sends GET, with BODY a POST of that JSON. The API key is
//! read from BENCH_API_KEY. It prints one line: requests, requests per
//! second, 2xx count, other count, and the 50th and 99th latency
//! percentiles in milliseconds.

use std::time::{Duration, Instant};

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        anyhow::bail!("usage: bench-load CLIENTS SECONDS URL [BODY]");
    }
    let clients: usize = args[1].parse().context("CLIENTS must be a number")?;
    let seconds: u64 = args[2].parse().context("SECONDS must be a number")?;
    let url = args[3].clone();
    let body = args.get(4).cloned();
    let key = std::env::var("BENCH_API_KEY").unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(seconds);

    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (url, body, key) = (url.clone(), body.clone(), key.clone());
            std::thread::spawn(move || run_client(&url, body.as_deref(), &key, deadline))
        })
        .collect();

    let mut latencies = Vec::new();
    let mut success = 0usize;
    let mut other = 0usize;
    for thread in threads {
        let result = thread.join().expect("client thread panicked");
        latencies.extend(result.latencies);
        success += result.success;
        other += result.other;
    }

    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() - 1) as f64 * p).round() as usize;
        latencies[index].as_secs_f64() * 1000.0
    };
    let total = success + other;
    println!(
        "{total} {:.0} {success} {other} {:.2} {:.2}",
        total as f64 / seconds as f64,
        percentile(0.50),
        percentile(0.99)
    );
    Ok(())
}

struct ClientResult {
    latencies: Vec<Duration>,
    success: usize,
    other: usize,
}

fn run_client(url: &str, body: Option<&str>, key: &str, deadline: Instant) -> ClientResult {
    let agent = ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    );
    let mut result = ClientResult {
        latencies: Vec::new(),
        success: 0,
        other: 0,
    };
    while Instant::now() < deadline {
        let started = Instant::now();
        let response = match body {
            Some(body) => agent
                .post(url)
                .header("x-api-key", key)
                .header("Content-Type", "application/json")
                .send(body),
            None => agent.get(url).header("x-api-key", key).call(),
        };
        match response {
            Ok(mut response) => {
                let _ = response.body_mut().read_to_vec();
                if response.status().is_success() {
                    result.success += 1;
                } else {
                    result.other += 1;
                }
            }
            Err(_) => result.other += 1,
        }
        result.latencies.push(started.elapsed());
    }
    result
}
