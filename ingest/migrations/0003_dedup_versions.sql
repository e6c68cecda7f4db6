-- 0003: near-duplicate clusters (Simhash), article versions, and per-rule dedup counts for each load.

-- simhash: trafilatura's 64-bit Simhash of the normalised text, its bits reinterpreted as a signed
-- bigint (NULL for texts too short to fingerprint, and for rows loaded before this migration).
-- simhash_keys: the hash's four 16-bit blocks, block i tagged as i * 65536 + value so blocks never
-- collide; ingest/dedup.py block_keys() computes the same. Two hashes within 7 bits share a block up to
-- one bit, so a GIN lookup of 68 probe keys finds their candidates without scanning the table.
-- cluster_id: the id of the oldest article of the article's near-duplicate cluster (its own id when
-- alone). It is a label, not a reference: merging clusters relabels rows.
-- version: 1 for the first text seen under the canonical URL, +1 at each change of text.
ALTER TABLE articles
    ADD COLUMN simhash bigint,
    ADD COLUMN simhash_keys integer[] GENERATED ALWAYS AS (
        CASE WHEN simhash IS NULL THEN NULL ELSE ARRAY[
            (simhash & 65535)::integer,
            65536 + ((simhash >> 16) & 65535)::integer,
            131072 + ((simhash >> 32) & 65535)::integer,
            196608 + ((simhash >> 48) & 65535)::integer
        ] END
    ) STORED,
    ADD COLUMN cluster_id bigint,
    ADD COLUMN version integer NOT NULL DEFAULT 1;

UPDATE articles SET cluster_id = id;

-- fastupdate off: a load probes the index right after inserting its segment, and a pending list would
-- be scanned in full by every probe.
CREATE INDEX articles_simhash_keys_idx ON articles USING gin (simhash_keys) WITH (fastupdate = off);
CREATE INDEX articles_cluster_idx ON articles (cluster_id);
CREATE INDEX articles_duplicate_of_idx ON articles (duplicate_of);

-- The texts an article had before its current one. seen_from / seen_until: the first and last fetch
-- of that text; superseded_at: the fetch that brought the next version.
CREATE TABLE article_versions (
    article_id    bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    version       integer NOT NULL,
    text          text NOT NULL,
    content_hash  text NOT NULL,
    title         text,
    modified_at   timestamptz,
    seen_from     timestamptz NOT NULL,
    seen_until    timestamptz NOT NULL,
    superseded_at timestamptz NOT NULL,
    PRIMARY KEY (article_id, version)
);

DO $$
BEGIN
    ALTER TABLE article_versions ALTER COLUMN text SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;

-- What each dedup rule caught in a load: records whose canonical URL was stored with the same text or
-- repeated in a segment (same_url), new rows whose text another URL already had (same_text), new or
-- changed rows that joined another article's cluster (near_duplicates), changed texts (new_versions).
ALTER TABLE load_runs
    ADD COLUMN same_url integer NOT NULL DEFAULT 0,
    ADD COLUMN same_text integer NOT NULL DEFAULT 0,
    ADD COLUMN near_duplicates integer NOT NULL DEFAULT 0,
    ADD COLUMN new_versions integer NOT NULL DEFAULT 0;
