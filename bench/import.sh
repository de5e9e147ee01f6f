#!/usr/bin/env bash
# Times `partner-api import creators` on generated files with the release
# build. Each figure is compared with a baseline measured in the same run,
# which inserts the same rows in one transaction with none of the import's
# validation, change detection or conflict checks.
#
# Usage: bench/import.sh [JOBS]    (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${1:-100000}
small=$((jobs / 10))

cargo build --release --quiet --bin partner-api --example bench-data
bin=target/release/partner-api
data=target/release/examples/bench-data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$data" creators "$jobs" "$work/jobs.json"
"$data" creators "$jobs" "$work/jobs.csv"
"$data" creators "$small" "$work/small.json"

# Prints the wall-clock seconds of a command; its output is discarded.
seconds() {
    /usr/bin/time -f %e -o "$work/time" "$@" > /dev/null 2> "$work/stderr" || {
        cat "$work/stderr" >&2
        exit 1
    }
    cat "$work/time"
}

import() {
    RUST_LOG=warn seconds "$bin" --db "$1" import creators "${@:2}"
}

baseline=$(seconds "$data" raw-insert "$work/jobs.json" "$work/raw.db")
small_json=$(import "$work/small.db" "$work/small.json")
new_json=$(import "$work/json.db" "$work/jobs.json")
unchanged_json=$(import "$work/json.db" "$work/jobs.json")
dry_run=$(import "$work/json.db" --dry-run --prune "$work/jobs.json")
new_csv=$(import "$work/csv.db" "$work/jobs.csv")

row() {
    awk -v name="$1" -v rows="$2" -v s="$3" -v base="$baseline" 'BEGIN {
        rate = (s > 0) ? rows / s : 0
        printf "%-40s %9d %8.2f %12.0f %10.2f\n", name, rows, s, rate, s / base
    }'
}

echo "partner-api import, $(nproc) cores, $(date -u +%Y-%m-%d)"
printf "%-40s %9s %8s %12s %10s\n" case jobs seconds jobs/s "x baseline"
row "baseline: plain insert, no checks" "$jobs" "$baseline"
row "import JSON, new database" "$small" "$small_json"
row "import JSON, new database" "$jobs" "$new_json"
row "import JSON again, all unchanged" "$jobs" "$unchanged_json"
row "import JSON --dry-run --prune" "$jobs" "$dry_run"
row "import CSV, new database" "$jobs" "$new_csv"
awk -v a="$new_json" -v b="$small_json" -v n="$jobs" -v m="$small" 'BEGIN {
    printf "scaling: %d jobs take %.1f times as long as %d jobs\n", n, a / b, m
}'
