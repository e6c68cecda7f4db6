-- 0007: a URL that answered with redirects remembers where they ended (crawler/fetch_state.py), so an
-- incremental crawl asks whether that target is due instead of fetching the redirect every time.
ALTER TABLE fetch_state ADD COLUMN redirect_to text;
