-- 0011: an index page's pagination (crawler/fetch_state.py next_pages). A 304 for a section page hides the
-- links on it; its older pages can still change (a corrected teaser), so the next crawl follows the
-- remembered ones, conditionally, as if the unchanged page had been read.
ALTER TABLE fetch_state ADD COLUMN next_pages text[];
