"""Incremental crawling end to end: fetch state from a first crawl makes the second one cheap
(conditional requests, no known article fetched again), revisits recent articles and picks up their
changes, follows sitemap lastmod, and a crawl with the database down still works without state.

The crawl leaves its observations in <spool>/state/; `apply_fetch_states` (the loader's hook) moves
them into fetch_state. Called here after each crawl, so these tests hold whether or not
ingest/load.py calls it yet (a second call finds nothing to apply).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import write_config
from newssite import REDIRECT_PREFIX, NewsSite, build_articles, spare_articles
from test_crawl import source_block

from crawler.fetch_state import KIND_ARTICLE, FetchState, FetchStateBook, RevisitPolicy, state_key
from ingest.tables.fetch_state import apply_fetch_states


@pytest.fixture
def site():
    site = NewsSite(articles=build_articles(4)).start()
    yield site
    site.stop()


@pytest.fixture
def state_db(db):
    db.execute("TRUNCATE fetch_state")
    return db


def crawl(run_cli, tmp_path, data_dir, db, source: str, **crawl_keys: str):
    config = write_config(tmp_path / "newsingest.toml", data_dir, source, **crawl_keys)
    result = run_cli("--config", str(config), "crawl", "news")
    assert result.returncode == 0, result.stderr[-3000:]
    apply_fetch_states(db, data_dir / "spool")
    return result


def stored_text(db, url: str) -> str:
    return db.execute("SELECT text FROM articles WHERE canonical_url = %s", (url,)).fetchone()[0]


def article_requests(site: NewsSite) -> list[str]:
    return [r.bare_path for r in site.requests if site.article_at(r.path) is not None]


def test_second_crawl_of_an_unchanged_site_is_conditional_and_fetches_no_known_article(
    site, state_db, run_cli, tmp_path, data_dir
):
    source = source_block("news", feeds=[site.url("/feeds/rss.xml")], sitemaps=[site.sitemap_url],
                          start_urls=[site.url("/")])
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert {u for (u,) in state_db.execute("SELECT canonical_url FROM articles")} == set(site.article_urls())
    kinds = dict(state_db.execute("SELECT kind, count(*) FROM fetch_state GROUP BY kind").fetchall())
    assert kinds.get("article") == len(site.articles)
    site.clear_requests()
    site.responses.clear()

    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert article_requests(site) == []
    for path in ("/feeds/rss.xml", "/sitemaps/news.xml.gz", "/sitemaps/sections.xml", "/section/world/"):
        (request,) = site.requests_to(path)
        assert request.headers.get("if-none-match"), path
        assert site.statuses(path) == [304], path
    # A sitemap index and a start page are always read in full: a 304 would hide which child changed.
    assert site.statuses("/sitemap_index.xml") == [200]
    assert site.statuses("/") == [200]


def test_a_changed_article_is_refetched_within_the_revisit_window(site, state_db, run_cli, tmp_path, data_dir):
    source = source_block("news", feeds=[site.url("/feeds/rss.xml")])
    keys = {"revisit_min_interval": '"1s"'}
    crawl(run_cli, tmp_path, data_dir, state_db, source, **keys)
    changed = site.articles[1]
    new_text = ["An update: " + changed.paragraphs[0], *changed.paragraphs[1:], "This story has been updated."]
    site.update_article(changed.path, new_text)
    time.sleep(1.2)  # past the first revisit interval
    site.clear_requests()
    site.responses.clear()

    crawl(run_cli, tmp_path, data_dir, state_db, source, **keys)
    # Every recent article is due and asked for conditionally; only the changed one comes back in full.
    for article in site.articles:
        (request,) = site.requests_to(article.path)
        assert request.headers.get("if-none-match")
        assert site.statuses(article.path) == ([200] if article.path == changed.path else [304])
    assert stored_text(state_db, site.url(changed.path)) == "\n\n".join(new_text)
    has_versions = state_db.execute("SELECT to_regclass('article_versions') IS NOT NULL").fetchone()[0]
    if has_versions:
        versions = state_db.execute(
            "SELECT count(*) FROM article_versions v JOIN articles a ON a.id = v.article_id WHERE a.canonical_url = %s",
            (site.url(changed.path),),
        ).fetchone()[0]
        assert versions == 1
    # Adaptive: the changed article comes back sooner than the unchanged ones.
    intervals = dict(state_db.execute("SELECT url, revisit_seconds FROM fetch_state WHERE kind = 'article'").fetchall())
    unchanged = state_key(site.url(site.articles[0].path))
    assert intervals[state_key(site.url(changed.path))] < intervals[unchanged]


def test_sitemap_lastmod_newer_than_our_copy_triggers_a_refetch(site, state_db, run_cli, tmp_path, data_dir):
    source = source_block("news", sitemaps=[site.sitemap_url])
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    changed = site.articles[2]
    site.update_article(changed.path, [*changed.paragraphs, "Correction: an earlier version misnamed the river."],
                        modified_at=datetime.now(UTC) + timedelta(minutes=1))
    site.clear_requests()

    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert article_requests(site) == [changed.path]
    assert stored_text(state_db, site.url(changed.path)).endswith("misnamed the river.")


def test_feed_links_that_redirect_are_not_fetched_again_while_their_articles_are_not_due(
    site, state_db, run_cli, tmp_path, data_dir
):
    site.feed_redirects = True
    source = source_block("news", feeds=[site.url("/feeds/rss.xml")])
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert {u for (u,) in state_db.execute("SELECT canonical_url FROM articles")} == set(site.article_urls())
    new = spare_articles()[0]
    site.add_article(new)  # the feed changes, so the second crawl reads it and meets every link again
    site.clear_requests()

    crawl(run_cli, tmp_path, data_dir, state_db, source)
    redirects = [r.bare_path for r in site.requests if r.bare_path.startswith(REDIRECT_PREFIX)]
    assert redirects == [REDIRECT_PREFIX + new.path]
    assert article_requests(site) == [new.path]


def test_a_redirect_is_followed_again_once_its_target_is_due():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    target = _article_state(url="https://n.example/a", next_due_at=now - timedelta(minutes=1))
    hop = FetchState(url="https://n.example/go/a", source="n", status="redirect", redirect_to=target.url)
    book = FetchStateBook("n", {target.url: target, hop.url: hop}, RevisitPolicy())
    assert book.should_fetch_article(hop.url, now)
    target.next_due_at = now + timedelta(hours=1)
    assert not book.should_fetch_article(hop.url, now)


def test_crawl_with_the_database_down_runs_without_fetch_state(site, state_db, run_cli, tmp_path, data_dir):
    source = source_block("news", feeds=[site.url("/feeds/rss.xml")])
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    site.clear_requests()
    config = write_config(tmp_path / "newsingest.toml", data_dir, source)
    down = {"DATABASE_URL": "postgresql://newsingest:secret@127.0.0.1:1/none"}
    result = run_cli("--config", str(config), "crawl", "news", "--no-load", env=down)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "fetch_state_unavailable" in result.stderr
    assert "secret" not in result.stderr
    assert sorted(article_requests(site)) == sorted(a.path for a in site.articles)  # no state: fetch all
    assert list((data_dir / "spool" / "state").glob("*.jsonl"))  # its observations wait for the loader


def _article_state(**kw) -> FetchState:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    base = {"url": "https://n.example/a", "source": "n", "kind": KIND_ARTICLE, "first_fetched_at": now,
            "last_fetched_at": now, "next_due_at": now + timedelta(hours=1), "revisit_seconds": 3600.0}
    return FetchState(**{**base, **kw})


def test_revisit_policy():
    policy = RevisitPolicy(window=48 * 3600, min_interval=3600, max_interval=8 * 3600)
    t0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
    state = _article_state()
    assert not policy.is_due(state, t0 + timedelta(minutes=30))
    assert policy.is_due(state, t0 + timedelta(hours=1))
    # Outside the window: never again, unless a sitemap says it changed after our copy.
    old = t0 + timedelta(hours=49)
    assert not policy.is_due(state, old)
    assert policy.is_due(state, old, lastmod=t0 + timedelta(hours=2))
    assert not policy.is_due(state, old, lastmod=t0 - timedelta(hours=2))
    # Intervals grow while unchanged, shrink on change, within bounds.
    assert policy.next_interval(None, changed=False) == 3600
    assert policy.next_interval(3600, changed=False) == 7200
    assert policy.next_interval(6 * 3600, changed=False) == 8 * 3600
    assert policy.next_interval(7200, changed=True) == 3600
    assert policy.next_interval(3600, changed=True) == 1800  # changed: below the minimum, to the floor


def test_state_key_drops_tracking_parameters_and_fragment():
    assert state_key("https://n.example/a/?utm_source=rss&id=3#top") == "https://n.example/a/?id=3"
    assert state_key("https://n.example/a/?utm_source=rss") == "https://n.example/a/"


def test_applying_a_state_file_twice_or_out_of_order_never_moves_a_row_back(state_db, tmp_path):
    from crawler.fetch_state import FetchStateBook

    spool = tmp_path / "spool"
    t1 = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for when, etag in ((t1 + timedelta(hours=1), '"new"'), (t1, '"old"')):
        book = FetchStateBook("n", None, RevisitPolicy())
        book.response("https://n.example/feed", "document", 200, {b"ETag": etag.encode()}, b"x" + etag.encode(), when)
        book.write(spool, f"run{etag}")
        apply_fetch_states(state_db, spool)
    assert state_db.execute("SELECT etag FROM fetch_state").fetchall() == [('"new"',)]
    assert not list((spool / "state").iterdir())


def test_a_crawl_cut_short_by_its_page_budget_reads_its_listings_in_full_next_time(
    site, state_db, run_cli, tmp_path, data_dir
):
    source = source_block("news", feeds=[site.url("/feeds/rss.xml")]) + "max_pages = 2\n"
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert len(set(article_requests(site))) == 2
    site.clear_requests()
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    (feed,) = site.requests_to("/feeds/rss.xml")
    assert "if-none-match" not in feed.headers  # a 304 would hide the articles the budget left out
    assert len(set(article_requests(site))) == 2  # two more; the known two are not due
    assert state_db.execute("SELECT count(*) FROM articles").fetchone()[0] == 4


def test_a_state_file_with_a_value_of_the_wrong_type_is_set_aside_and_the_others_apply(state_db, tmp_path):
    spool = tmp_path / "spool"
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    book = FetchStateBook("n", None, RevisitPolicy())
    book.response("https://n.example/feed", "document", 200, {}, b"feed", now)
    good = book.write(spool, "good")
    wrong = good.with_name("0-" + good.name)
    wrong.write_text(json.dumps({"url": "https://n.example/a", "source": "n", "consecutive_failures": "many"}) + "\n")
    assert apply_fetch_states(state_db, spool) == 1
    assert wrong.with_name(wrong.name + ".bad").exists()
    assert state_db.execute("SELECT url FROM fetch_state").fetchall() == [("https://n.example/feed",)]
