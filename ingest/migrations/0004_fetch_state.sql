-- Incremental crawling: what the crawler knows about each URL it fetched (crawler/fetch_state.py).
-- Written only by the loader, from the state files crawls leave in <spool>/state/.
CREATE TABLE fetch_state (
    url                  text PRIMARY KEY,     -- without fragment and tracking parameters
    source               text NOT NULL,
    kind                 text NOT NULL,        -- article | document (feed, sitemap) | page
    status               text NOT NULL DEFAULT '',
    etag                 text,
    last_modified        text,                 -- as the server sent it, for If-Modified-Since
    content_hash         text,                 -- articles: extracted text; others: body bytes
    first_fetched_at     timestamptz,
    last_fetched_at      timestamptz,
    last_changed_at      timestamptz,
    next_due_at          timestamptz,
    revisit_seconds      double precision,
    consecutive_failures integer NOT NULL DEFAULT 0,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fetch_state_source_idx ON fetch_state (source);
