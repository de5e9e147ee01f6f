#!/usr/bin/env bash
# Measures the peak memory (max RSS) and time of `partner-api export clicks`
# with the release build, on a database of ROWS clicks, against the same
# export of a database one hundredth the size measured in the same run. A
# streaming export keeps the peak flat, so the ratio stays near 1.
#
# Usage: bench/export.sh [ROWS]    (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${1:-1000000}
small=$((rows / 100))

cargo build --release --quiet --bin partner-api --example bench-data
bin=target/release/partner-api
data=target/release/examples/bench-data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$data" creators 1000 "$work/jobs.json"
for n in "$small" "$rows"; do
    RUST_LOG=warn "$bin" --db "$work/$n.db" import creators "$work/jobs.json" > /dev/null
    "$data" clicks "$n" "$work/$n.db"
done

# Prints "seconds max-RSS-KiB" of an export to $work/out.
measure() {
    /usr/bin/time -f "%e %M" -o "$work/time" \
        "$bin" --db "$work/$1.db" export clicks --format "$2" --output "$work/out" 2> /dev/null
    cat "$work/time"
}

echo "partner-api export clicks, $(nproc) cores, $(date -u +%Y-%m-%d)"
printf "%-6s %9s %8s %14s %12s %16s\n" format rows seconds "peak RSS MiB" "output MiB" "RSS x baseline"
for format in csv jsonl; do
    read -r base_s base_kib < <(measure "$small" "$format")
    base_out=$(stat -c %s "$work/out")
    read -r s kib < <(measure "$rows" "$format")
    out=$(stat -c %s "$work/out")
    awk -v f="$format" -v n="$small" -v s="$base_s" -v k="$base_kib" -v o="$base_out" 'BEGIN {
        printf "%-6s %9d %8.2f %14.1f %12.1f %16s\n", f, n, s, k / 1024, o / 1048576, "baseline"
    }'
    awk -v f="$format" -v n="$rows" -v s="$s" -v k="$kib" -v o="$out" -v b="$base_kib" 'BEGIN {
        printf "%-6s %9d %8.2f %14.1f %12.1f %16.2f\n", f, n, s, k / 1024, o / 1048576, k / b
    }'
done
