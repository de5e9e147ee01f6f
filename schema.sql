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

-- version: 4

-- Feed reads. `jobs_feed` returns a creator's open jobs newest first
-- without a sort, so a feed streams in constant memory. `jobs_expiry` and
-- `jobs_changed` serve the feed's ETag and Last-Modified inputs with one
-- probe each, so a conditional request costs the same at any feed size.
CREATE INDEX jobs_feed ON jobs (creator_id, status, posted_at DESC);
CREATE INDEX jobs_expiry ON jobs (creator_id, status, expires_at);
CREATE INDEX jobs_changed ON jobs (creator_id, updated_at);
