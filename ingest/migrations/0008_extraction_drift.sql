-- 0008: the extraction-drift canary (ingest/drift.py). quality: what the run's pages gave (pages, articles,
-- not_articles, short_body, no_date, no_author, not_article_reasons), from its summary; NULL for runs recorded
-- before this or closed by the daemon. drift: the measures drifting after the run was judged, each
-- {"before", "now", "pages_before", "pages_now", "hits_now", "runs", "since_run_id"}; NULL until the loader
-- judged the run.
ALTER TABLE crawl_runs
    ADD COLUMN quality jsonb,
    ADD COLUMN drift jsonb;
