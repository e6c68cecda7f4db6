-- 0009: change signals and the adaptive revisit interval (crawler/fetch_state.py).
-- listed_at: the latest change date a feed or sitemap gave for the URL, so that a later one is recognised
-- even when the site's clock runs behind ours. change_seconds: for articles, how old the version replaced
-- at the last change was; a source's recent samples set the interval its new articles start at.
ALTER TABLE fetch_state ADD COLUMN listed_at timestamptz;
ALTER TABLE fetch_state ADD COLUMN change_seconds double precision;
