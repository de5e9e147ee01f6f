#!/usr/bin/env bash
# Measures the server's peak memory (VmHWM) while it streams a
# 100,000-job feed, against the idle server and a 1,000-job feed in the
# same run, and the cost of a 304 revalidation at both sizes.
#
# Usage: bench/feed_rss.sh            (builds and runs the release binary)
#        BIN=target/debug/partner-api JOBS=20000 bench/feed_rss.sh
#        POLLS=0 BIN=other/partner-api bench/feed_rss.sh  (no 304 part, for
#        a binary without ETags)
# Needs: bash, curl, python3, Linux /proc. Listens on 127.0.0.1 only and
# stops its server on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
JOBS=${JOBS:-100000}
SMALL_JOBS=${SMALL_JOBS:-1000}
POLLS=${POLLS:-200}
KEY=bench-key

if [[ -z "${BIN:-}" ]]; then
    cargo build --release --quiet 2>/dev/null
    BIN=target/release/partner-api
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "generating $JOBS + $SMALL_JOBS jobs in $WORK"
python3 - "$WORK/creators.json" "$JOBS" "$SMALL_JOBS" <<'PY'
import json, random, sys

path, jobs, small_jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
words = (
    "we are hiring for a busy team you will pick pack and ship orders keep the "
    "floor safe & tidy work with <scanners> forklifts night day shift weekly pay "
    "benefits training overtime warehouse driver nurse teacher café 🚀 مرحبا"
).split()

def description(i):
    # Varied text per job, so that gzip works on realistic input.
    rng = random.Random(i)
    return " ".join(rng.choice(words) for _ in range(100))

def creator(handle, count):
    return {
        "handle": handle,
        "name": f"Creator {handle}",
        "sub_profiles": [{"handle": f"{handle}-partner", "name": "Partner"}],
        "jobs": [
            {
                "job_id": f"{handle}-{i}",
                "short_code": f"{handle}{i:07d}",
                "title": f"Warehouse Associate {i}",
                "company": "Marlow & Finch Logistics",
                "city": "Columbus",
                "state": "OH",
                "country": "US",
                "postal_code": "43215",
                "description": description(i),
                "apply_url": f"https://careers.example.com/jobs/{i}?ref={handle}",
                "salary": "$19.50 per hour",
                "job_type": "full-time",
                "category": "Warehouse",
                "posted_at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
                "expires_at": None,
                "status": "open",
            }
            for i in range(count)
        ],
    }

with open(path, "w") as out:
    json.dump({"creators": [creator("big", jobs), creator("small", small_jobs)]}, out)
PY

echo "importing"
"$BIN" --db "$WORK/bench.db" import creators "$WORK/creators.json" \
    >"$WORK/import.log" 2>&1 || { cat "$WORK/import.log"; exit 1; }

PARTNER_INTEGRATION_API_KEY=$KEY RUST_LOG=warn,partner_api=info \
    "$BIN" --db "$WORK/bench.db" serve --listen 127.0.0.1:0 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do
    if grep -q "listening on" "$WORK/server.log"; then break; fi
    sleep 0.1
done
BASE=$(grep -o 'listening on http://[0-9.:]*' "$WORK/server.log" | sed 's/listening on //')
[[ -n "$BASE" ]] || { echo "server did not start:"; cat "$WORK/server.log"; exit 1; }

hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status"; }

# Prints "<bytes> <seconds>" for one full fetch.
fetch() {
    curl -sS -o /dev/null -w '%{size_download} %{time_total}\n' \
        -H "x-api-key: $KEY" "$@"
}

# Prints the mean seconds of one 304 revalidation over $POLLS requests.
poll_seconds() {
    local url=$1 etag start end
    etag=$(curl -sS -o /dev/null -D - -H "x-api-key: $KEY" "$url" |
        awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
    start=$(date +%s.%N)
    for _ in $(seq "$POLLS"); do
        code=$(curl -sS -o /dev/null -w '%{http_code}' \
            -H "x-api-key: $KEY" -H "If-None-Match: $etag" "$url")
        [[ "$code" == 304 ]] || { echo "expected 304, got $code" >&2; exit 1; }
    done
    end=$(date +%s.%N)
    python3 -c "print(($end - $start) / $POLLS)"
}

idle=$(hwm_kib)
read -r small_bytes small_s < <(fetch "$BASE/partner/feed/small/xml")
after_small=$(hwm_kib)
read -r big_bytes big_s < <(fetch "$BASE/partner/feed/big/xml?sub_id=big-partner")
after_big=$(hwm_kib)
read -r gzip_bytes gzip_s < <(fetch -H 'Accept-Encoding: gzip' "$BASE/partner/feed/big/xml")
after_gzip=$(hwm_kib)
small_poll=0
big_poll=0
if ((POLLS > 0)); then
    small_poll=$(poll_seconds "$BASE/partner/feed/small/xml")
    big_poll=$(poll_seconds "$BASE/partner/feed/big/xml")
fi

python3 - <<PY
idle, small, big, gz = $idle, $after_small, $after_big, $after_gzip
print()
print(f"binary: $BIN")
print(f"{'step':<34}{'peak RSS (VmHWM)':>18}{'vs small':>12}")
print(f"{'idle server':<34}{idle:>15} KiB{idle / small:>12.2f}")
print(f"{'after $SMALL_JOBS-job feed':<34}{small:>15} KiB{1:>12.2f}")
print(f"{'after $JOBS-job feed':<34}{big:>15} KiB{big / small:>12.2f}")
print(f"{'after $JOBS-job feed, gzip':<34}{gz:>15} KiB{gz / small:>12.2f}")
print()
print(f"$SMALL_JOBS-job feed: {$small_bytes / 1e6:8.1f} MB in {$small_s:.2f} s")
print(f"$JOBS-job feed:  {$big_bytes / 1e6:8.1f} MB in {$big_s:.2f} s"
      f"  (peak RSS grew {(big - small) / 1024:.1f} MiB for a {$big_bytes / 2**20:.0f} MiB document)")
print(f"$JOBS-job feed, gzip: {$gzip_bytes / 1e6:8.1f} MB in {$gzip_s:.2f} s")
if $POLLS > 0:
    print()
    print(f"304 revalidation, mean of $POLLS (curl process included):")
    print(f"  $SMALL_JOBS jobs: {$small_poll * 1000:.2f} ms; $JOBS jobs: {$big_poll * 1000:.2f} ms"
          f"  (ratio {$big_poll / $small_poll:.2f})")
PY
