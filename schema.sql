-- partner-api schema, version 1.
--
-- Applied by `store::migrate` on every start. Each version's statements run
-- once, inside one transaction, and `PRAGMA user_version` records the last
-- version applied. A later change appends a new `-- version: N` section
-- below; it never edits a section that has shipped.
--
-- Times are TEXT in RFC 3339 UTC with milliseconds and a `Z`
-- (`2026-12-04T15:13:50.123Z`), so that text order is time order.

-- version: 1

-- Parent creators and their sub-profiles. A sub-profile has a parent_id and
-- a handle of the form `<parent handle>-<suffix>`.
CREATE TABLE profiles (
    id           INTEGER PRIMARY KEY,
    handle       TEXT NOT NULL UNIQUE,
    parent_id    INTEGER REFERENCES profiles (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- Bumped whenever the creator's jobs change; feeds derive their ETag
    -- from it.
    jobs_version INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX profiles_parent ON profiles (parent_id);

-- The creators' jobs. `job_id` is the creator's own reference and is unique
-- within the creator; `short_code` is unique across all creators because
-- public click URLs carry it alone.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    creator_id  INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    job_id      TEXT NOT NULL,
    short_code  TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    company     TEXT NOT NULL,
    city        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    apply_url   TEXT NOT NULL,
    salary      TEXT,
    job_type    TEXT,
    category    TEXT,
    posted_at   TEXT NOT NULL,
    expires_at  TEXT,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    updated_at  TEXT NOT NULL,
    UNIQUE (creator_id, job_id)
);

-- Partner-attributed clicks. `cid` is the creator's handle, `click_source`
-- the partner's `source`, and `query_string` the URL-encoded attribution
-- parameters (sub_id, source, partner_test_run_id).
CREATE TABLE job_clicks (
    id                  TEXT PRIMARY KEY,
    job_row_id          INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    cid                 TEXT NOT NULL,
    sub_id              TEXT,
    job_id              TEXT NOT NULL,
    short_code          TEXT NOT NULL,
    click_source        TEXT,
    query_string        TEXT NOT NULL,
    partner_test_run_id TEXT,
    -- Which key made the request: `env:<VARIABLE>`, `key:<name>`, or
    -- `public` for the unauthenticated click URL.
    api_key_name        TEXT NOT NULL,
    created_at          TEXT NOT NULL
);
CREATE INDEX job_clicks_created ON job_clicks (created_at);
CREATE INDEX job_clicks_cid ON job_clicks (cid, created_at);

-- Partner-attributed applications. `rxp` is the parent creator's handle and
-- `client_id` is `partner:application` for rows written by this API.
CREATE TABLE rxevents (
    id                   TEXT PRIMARY KEY,
    rxp                  TEXT NOT NULL,
    sub_id               TEXT,
    client_id            TEXT NOT NULL,
    job_id               TEXT NOT NULL,
    applicant_email      TEXT NOT NULL,
    applicant_first_name TEXT NOT NULL,
    applicant_last_name  TEXT NOT NULL,
    partner_test_run_id  TEXT,
    api_key_name         TEXT NOT NULL,
    created_at           TEXT NOT NULL
);
CREATE INDEX rxevents_created ON rxevents (created_at);
CREATE INDEX rxevents_rxp ON rxevents (rxp, created_at);

-- version: 2

-- API keys created with `partner-api keys create`. Only the key's SHA-256
-- (lowercase hex) is stored; `prefix` is its first characters, enough to
-- tell keys apart in listings. A key replaced by `keys rotate` points at its
-- successor through `replaced_by` and works until its `expires_at`, the end
-- of the rotation's grace period. `last_used_at` lags requests by up to the
-- server's flush interval.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT,
    replaced_by  INTEGER REFERENCES api_keys (id)
);
-- Names are unique among current keys (neither revoked nor replaced).
-- `partner-api keys` checks that inside its write transaction. A partial
-- UNIQUE index cannot express it, because a rotation inserts the new key
-- before it can point the old one at it.
CREATE INDEX api_keys_name ON api_keys (name);

-- version: 3

-- Webhook deliveries: one row for each event sent to the webhook URL (an
-- outbox). An application's row is written in the transaction that writes
-- its rxevents row. The worker moves a row from `pending` through
-- `sending` to `delivered`, or to `failed` once the retry schedule is used
-- up. Failed rows are kept until `webhooks retry` queues them again.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    -- The event's `id`, sent as `webhook-id` on every attempt.
    event_id         TEXT NOT NULL UNIQUE,
    event_type       TEXT NOT NULL,
    rxevent_id       TEXT REFERENCES rxevents (id) ON DELETE CASCADE,
    -- The exact JSON body that every attempt sends.
    body             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    -- Attempts since the row was created; numbers the webhook_attempts rows.
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- Attempts since creation or the last `webhooks retry`; the position in
    -- the retry schedule.
    round_attempts   INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    -- The sender holding a `sending` row, and when its claim lapses so that
    -- another sender may take the row over after a crash.
    claimed_by       TEXT,
    claim_expires_at TEXT,
    last_attempt_at  TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- One row for each attempt to send a delivery. The outcome is an HTTP status
-- or, for a request that got no response, an error. Both are NULL while the
-- attempt is in flight.
CREATE TABLE webhook_attempts (
    delivery_id      INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    started_at       TEXT NOT NULL,
    status_code      INTEGER,
    error            TEXT,
    latency_ms       INTEGER,
    -- The start of the response body, at most 500 bytes.
    response_snippet TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

-- version: 4

-- Feed reads. `jobs_feed` returns a creator's open jobs newest first
-- without a sort, so a feed streams in constant memory. `jobs_expiry` and
-- `jobs_changed` serve the feed's ETag and Last-Modified inputs with one
-- probe each, so a conditional request costs the same at any feed size.
CREATE INDEX jobs_feed ON jobs (creator_id, status, posted_at DESC);
CREATE INDEX jobs_expiry ON jobs (creator_id, status, expires_at);
CREATE INDEX jobs_changed ON jobs (creator_id, updated_at);
