-- 0001: articles, crawl runs, and the record of loaded spool segments.

CREATE TABLE articles (
    id                bigserial PRIMARY KEY,
    canonical_url     text NOT NULL UNIQUE,
    url               text NOT NULL,
    source            text NOT NULL,
    title             text,
    authors           text[] NOT NULL DEFAULT '{}',
    published_at      timestamptz,
    modified_at       timestamptz,
    language          text,
    description       text,
    site_name         text,
    image_url         text,
    tags              text[] NOT NULL DEFAULT '{}',
    text              text NOT NULL,
    content_hash      text NOT NULL,
    http_status       integer,
    extractor_version text NOT NULL,
    field_sources     jsonb NOT NULL DEFAULT '{}',
    fetched_at        timestamptz NOT NULL,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    duplicate_of      bigint REFERENCES articles (id)
);

-- Body text is most of the bytes; lz4 compresses several times faster than the default pglz.
-- Servers built without lz4 (the embedded one) keep pglz.
DO $$
BEGIN
    ALTER TABLE articles ALTER COLUMN text SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;

CREATE INDEX articles_content_hash_idx ON articles (content_hash);
CREATE INDEX articles_source_fetched_idx ON articles (source, fetched_at);
CREATE INDEX articles_first_seen_idx ON articles (first_seen_at);

CREATE TABLE crawl_runs (
    run_id         text PRIMARY KEY,
    source         text NOT NULL,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    status         text NOT NULL,
    pages_fetched  integer NOT NULL DEFAULT 0,
    articles_found integer NOT NULL DEFAULT 0,
    failed         integer NOT NULL DEFAULT 0,
    errors         jsonb NOT NULL DEFAULT '{}',
    finish_reason  text
);

CREATE INDEX crawl_runs_source_started_idx ON crawl_runs (source, started_at DESC);

-- A segment is recorded in the transaction that loads it, so a replay after a crash skips it.
CREATE TABLE loaded_segments (
    name       text PRIMARY KEY,
    records    integer NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);
