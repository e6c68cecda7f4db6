-- 0003: near-duplicate clusters (Simhash), article versions, and per-rule dedup counts for each load.

-- simhash: trafilatura's 64-bit Simhash of the normalised text, its bits reinterpreted as a signed
-- bigint (NULL for texts too short to fingerprint, and for rows loaded before this migration).
-- cluster_id: the id of the oldest article of the article's near-duplicate cluster (its own id when
-- alone). It is a label, not a reference: merging clusters relabels rows.
-- version: 1 for the first text seen under the canonical URL, +1 at each change of text.
ALTER TABLE articles
    ADD COLUMN simhash bigint,
    ADD COLUMN cluster_id bigint,
    ADD COLUMN version integer NOT NULL DEFAULT 1;

UPDATE articles SET cluster_id = id;

-- The near-duplicate index: each Simhash's four 16-bit blocks, block i tagged as i * 65536 + value so
-- blocks never collide (ingest/dedup.py block_keys() computes the same). Two hashes within 7 bits share
-- a block up to one bit, so 68 probe keys find every candidate. A narrow table of its own, with the hash
-- in its primary key, lets a lookup check candidates by an index-only scan instead of visiting the wide
-- articles rows: the cost per lookup follows the index depth, not the size of the table.
CREATE TABLE article_simhash_blocks (
    block_key  integer NOT NULL,
    simhash    bigint NOT NULL,
    article_id bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (block_key, simhash, article_id)
);

CREATE INDEX article_simhash_blocks_article_idx ON article_simhash_blocks (article_id);

-- Kept in step with articles.simhash by a trigger, so every write path (loader, re-extraction,
-- a manual UPDATE) indexes the same keys.
CREATE FUNCTION article_simhash_blocks_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.simhash IS NOT DISTINCT FROM OLD.simhash THEN
            RETURN NULL;
        END IF;
        DELETE FROM article_simhash_blocks WHERE article_id = OLD.id;
    END IF;
    IF NEW.simhash IS NOT NULL THEN
        INSERT INTO article_simhash_blocks (block_key, simhash, article_id)
        SELECT key, NEW.simhash, NEW.id FROM unnest(ARRAY[
            (NEW.simhash & 65535)::integer,
            65536 + ((NEW.simhash >> 16) & 65535)::integer,
            131072 + ((NEW.simhash >> 32) & 65535)::integer,
            196608 + ((NEW.simhash >> 48) & 65535)::integer
        ]) AS key;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER articles_simhash_blocks AFTER INSERT OR UPDATE OF simhash ON articles
    FOR EACH ROW EXECUTE FUNCTION article_simhash_blocks_sync();

-- The 68 keys a lookup probes (ingest/dedup.py probe_keys() computes the same): each block as it is and
-- with each one of its 16 bits flipped. Computed here so the loader need not ship them with every row.
CREATE FUNCTION simhash_probe_keys(h bigint) RETURNS integer[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg((b * 65536 + (((h >> (16 * b)) & 65535) # CASE WHEN f < 0 THEN 0 ELSE 1::bigint << f END))::integer
                     ORDER BY b, f)
    FROM generate_series(0, 3) AS b, generate_series(-1, 15) AS f
$$;

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
