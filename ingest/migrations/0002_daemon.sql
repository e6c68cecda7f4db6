-- 0002: run history for the daemon, crawl requests (newsingest trigger), and the schedule it publishes.

-- articles_new/updated/duplicates are counted by the loader, segment by segment, as the run's records load.
ALTER TABLE crawl_runs
    ADD COLUMN daemon_id text,
    ADD COLUMN error text,
    ADD COLUMN articles_new integer NOT NULL DEFAULT 0,
    ADD COLUMN articles_updated integer NOT NULL DEFAULT 0,
    ADD COLUMN duplicates integer NOT NULL DEFAULT 0;

CREATE TABLE load_runs (
    id            bigserial PRIMARY KEY,
    daemon_id     text,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    status        text NOT NULL,          -- running | finished | failed
    segments      integer NOT NULL DEFAULT 0,
    records       integer NOT NULL DEFAULT 0,
    inserted      integer NOT NULL DEFAULT 0,
    updated       integer NOT NULL DEFAULT 0,
    duplicates    integer NOT NULL DEFAULT 0,
    bad_segments  integer NOT NULL DEFAULT 0,
    error         text
);

CREATE INDEX load_runs_started_idx ON load_runs (started_at DESC);

CREATE TABLE crawl_requests (
    id            bigserial PRIMARY KEY,
    source        text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    requested_by  text,
    claimed_at    timestamptz,
    claimed_by    text
);

CREATE INDEX crawl_requests_open_idx ON crawl_requests (id) WHERE claimed_at IS NULL;

CREATE TABLE source_schedule (
    source       text PRIMARY KEY,
    next_run_at  timestamptz,
    daemon_id    text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
