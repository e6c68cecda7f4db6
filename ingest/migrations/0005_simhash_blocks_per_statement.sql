-- 0005: index new articles' Simhash blocks once per INSERT statement instead of once per row.
-- The row trigger of 0003 ran a PL/pgSQL call and an INSERT for every article, half the cost of the
-- loader's INSERT; a statement trigger reads all the statement's new rows from its transition table.
-- A changed Simhash (a new version of the text) is rare, and stays a row trigger.

DROP TRIGGER articles_simhash_blocks ON articles;
DROP FUNCTION article_simhash_blocks_sync();

CREATE FUNCTION article_simhash_blocks_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO article_simhash_blocks (block_key, simhash, article_id)
    SELECT b * 65536 + ((n.simhash >> (16 * b)) & 65535)::integer, n.simhash, n.id
    FROM inserted_rows n CROSS JOIN generate_series(0, 3) AS b
    WHERE n.simhash IS NOT NULL;
    RETURN NULL;
END
$$;

CREATE FUNCTION article_simhash_blocks_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM article_simhash_blocks WHERE article_id = OLD.id;
    IF NEW.simhash IS NOT NULL THEN
        INSERT INTO article_simhash_blocks (block_key, simhash, article_id)
        SELECT b * 65536 + ((NEW.simhash >> (16 * b)) & 65535)::integer, NEW.simhash, NEW.id
        FROM generate_series(0, 3) AS b;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER articles_simhash_blocks_insert AFTER INSERT ON articles
    REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION article_simhash_blocks_insert();

CREATE TRIGGER articles_simhash_blocks_update AFTER UPDATE OF simhash ON articles
    FOR EACH ROW WHEN (OLD.simhash IS DISTINCT FROM NEW.simhash)
    EXECUTE FUNCTION article_simhash_blocks_update();
