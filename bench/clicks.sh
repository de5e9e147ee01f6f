#!/usr/bin/env bash
# Measures POST /partner/clicks throughput through the group-committing
# writer, against GET /health (no database work) on the same server and
# connection count in the same run, at 1, 16 and 64 concurrent clients.
# Then it checks that every 201 has its row.
#
# Usage: bench/clicks.sh [SECONDS]   (default 5 per measurement)
# Needs: bash, python3, Linux. Listens on 127.0.0.1 only and stops its
# server on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-5}
cargo build --release --quiet --bin partner-api --example bench-load
bin=target/release/partner-api
load=target/release/examples/bench-load

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

RUST_LOG=info "$bin" --db "$work/bench.db" serve --demo --listen 127.0.0.1:0 \
    > /dev/null 2> "$work/server.log" &
server_pid=$!
base=
for _ in $(seq 100); do
    base=$(grep -o 'listening on http://[0-9.:]*' "$work/server.log" | sed 's/listening on //' || true)
    [[ -n "$base" ]] && break
    sleep 0.1
done
[[ -n "$base" ]] || { cat "$work/server.log" >&2; exit 1; }

export BENCH_API_KEY=demo-partner-key
body='{"creator_handle":"jiloma","sub_id":"jiloma-rthgip","job_id":"job_12345","short_code":"abc123xy","source":"bench"}'

printf '%-8s %-10s %10s %8s %8s %8s %10s\n' clients route "req/s" "p50 ms" "p99 ms" errors "x health"
acknowledged=0
for clients in 1 16 64; do
    read -r _ health_rate _ health_other health_p50 health_p99 \
        < <("$load" "$clients" "$seconds" "$base/health")
    read -r _ click_rate click_ok click_other click_p50 click_p99 \
        < <("$load" "$clients" "$seconds" "$base/partner/clicks" "$body")
    acknowledged=$((acknowledged + click_ok))
    ratio=$(python3 -c "print(f'{$click_rate / $health_rate:.2f}')")
    printf '%-8s %-10s %10s %8s %8s %8s %10s\n' "$clients" health "$health_rate" \
        "$health_p50" "$health_p99" "$health_other" 1.00
    printf '%-8s %-10s %10s %8s %8s %8s %10s\n' "$clients" clicks "$click_rate" \
        "$click_p50" "$click_p99" "$click_other" "$ratio"
done

kill "$server_pid"
wait "$server_pid" || true
server_pid=
stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from job_clicks').fetchone()[0])" "$work/bench.db")
echo "201 responses: $acknowledged, stored click rows: $stored"
[[ "$acknowledged" == "$stored" ]] || { echo "acknowledged clicks are missing" >&2; exit 1; }
