"""A page that answers after the download timeout is retried once, after every other page, and never holds the
source's next scheduled crawl: a retry that could not end in time is left for the next crawl, which asks for it
first. The fixture site's slow page sleeps 3 s against a download_timeout of 1 s (other pages are not held)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from conftest import write_config
from newssite import NewsSite, build_articles
from test_crawl import source_block
from test_daemon import Daemon
from test_politeness import events
from test_runs import config_with

from crawler.fetch_state import LEFT_OVER_CRAWLS, FetchStateBook, RevisitPolicy
from crawler.runner import seconds_to_next_crawl
from ingest.config import Source

SLOW_SECONDS = 3.0
TIMEOUT = {"download_timeout": "1"}


@pytest.fixture
def site():
    site = NewsSite(articles=build_articles(6)).start()
    yield site
    site.stop()


def newest(site: NewsSite) -> str:
    return max(site.articles, key=lambda a: a.published_at).path


def oldest(site: NewsSite) -> str:
    return min(site.articles, key=lambda a: a.published_at).path


def feed_crawl(run_cli, tmp_path, data_dir, site: NewsSite, *args: str, interval: str = "15m"):
    source = source_block("feed", feeds=[site.url("/feeds/rss.xml")], interval=interval)
    config = write_config(tmp_path / "newsingest.toml", data_dir, source, **TIMEOUT)
    result = run_cli("--config", str(config), "crawl", "feed", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def page_requests(site: NewsSite) -> list[str]:
    return [r.bare_path for r in site.requests if r.bare_path not in ("/robots.txt", "/feeds/rss.xml")]


def test_a_timed_out_page_is_requested_once_more_after_every_other_page(site, db, run_cli, tmp_path, data_dir):
    slow = newest(site)  # the feed's first entry: requested first
    site.slow_paths[slow] = SLOW_SECONDS
    feed_crawl(run_cli, tmp_path, data_dir, site)
    pages = page_requests(site)
    assert pages.count(slow) == 2
    assert pages[-1] == slow
    assert set(pages[:-1]) == {a.path for a in site.articles}


def test_a_retry_that_would_hold_the_next_scheduled_crawl_is_left_for_it(site, db, run_cli, tmp_path, data_dir):
    slow = oldest(site)
    site.slow_paths[slow] = SLOW_SECONDS
    # As the daemon runs it (crawl_engine = "process"): the next crawl is due 2 s after this one starts, and a
    # retry taking up to 1 s more after the first timeout (>= 1 s) would end past 80 % of that.
    result = feed_crawl(run_cli, tmp_path, data_dir, site, "--daemon-id", "test-daemon", interval="2s")
    assert page_requests(site).count(slow) == 1
    assert [urlsplit(e["url"]).path for e in events(result, "slow_page_deferred")] == [slow]


def test_the_next_crawl_requests_a_left_over_page_before_any_other(site, db, run_cli, tmp_path, data_dir):
    slow = oldest(site)  # the feed's last entry
    site.slow_paths[slow] = SLOW_SECONDS
    feed_crawl(run_cli, tmp_path, data_dir, site, "--daemon-id", "test-daemon", interval="2s")  # and loads
    site.slow_paths.clear()
    site.clear_requests()
    feed_crawl(run_cli, tmp_path, data_dir, site)
    assert page_requests(site)[0] == slow


def test_a_page_left_over_three_crawls_in_a_row_is_then_a_failed_page():
    url = "http://news.invalid/2026/03/02/slow-story/"
    now = datetime.now(UTC)
    previous = None
    for _ in range(LEFT_OVER_CRAWLS):
        book = FetchStateBook("s", previous, RevisitPolicy())
        assert book.left_over(url, "timeout", now)
        previous = dict(book.updates)
        assert FetchStateBook("s", previous, RevisitPolicy()).left_over_urls() == [url]
    book = FetchStateBook("s", previous, RevisitPolicy())
    assert not book.left_over(url, "timeout", now)
    assert FetchStateBook("s", dict(book.updates), RevisitPolicy()).left_over_urls() == []


def test_a_cron_sources_next_crawl_is_counted_from_its_next_firing():
    source = Source(name="s", feeds=("http://news.invalid/feed.xml",), cron="*/20 * * * *")
    assert seconds_to_next_crawl(source, datetime(2026, 3, 2, 10, 5, tzinfo=UTC)) == 15 * 60


def test_a_slow_page_never_makes_the_daemon_skip_the_sources_next_crawl(site, db, database_url, tmp_path, data_dir):
    site.slow_paths[newest(site)] = SLOW_SECONDS
    # Every 2.4 s: a page timing out after 1 s and retried at once twice (Scrapy's way) would take 4 s and more.
    sources = source_block("feed", feeds=[site.url("/feeds/rss.xml")], interval="2.4s")
    daemon = Daemon.start(config_with(tmp_path, data_dir, "[load]\ninterval = 1\n" + sources, **TIMEOUT),
                          data_dir, database_url)
    try:
        daemon.wait_for_event("crawl_ended", count=3, timeout=60)
    finally:
        daemon.stop()
        daemon.kill()
    names = [e.get("event") for e in daemon.events()]
    # The first crawl may start late (the crawl engine starting): counted from its end.
    assert "run_coalesced" not in names[names.index("crawl_ended"):]
