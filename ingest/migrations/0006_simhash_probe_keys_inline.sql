-- 0006: simhash_probe_keys() as one array of 68 expressions, the same keys in the same order.
-- The 0003 version built the array with two generate_series and array_agg on every call: 57 ms of
-- the loader's near-duplicate lookup per 1,000 articles, against 17 ms for this one (measured on
-- PostgreSQL 15). Written out by a loop here rather than by hand, so that each key's shift and mask
-- come from the same formula as ingest/dedup.py probe_keys().

DO $$
DECLARE
    keys text[] := '{}';
BEGIN
    FOR b IN 0..3 LOOP
        FOR f IN -1..15 LOOP
            keys := keys || format('(%s + (((h >> %s) & 65535) # %s))::integer',
                                   b * 65536, 16 * b, CASE WHEN f < 0 THEN 0 ELSE 1 << f END);
        END LOOP;
    END LOOP;
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION simhash_probe_keys(h bigint) RETURNS integer[]'
        ' LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
        'SELECT ARRAY[' || array_to_string(keys, ', ') || ']');
END
$$;
