"""One URL, one identity: spellings RFC 3986 calls equivalent (default port, case, escapes, dot segments)
and tracking parameters are one seen-set entry, one request and one fetch state (crawler/urls.py).

The crawl test cannot spell the default port literally (the fixture site listens on a random port), so its
sitemap spells the same URLs in the other equivalent ways: the port with a leading zero, escaped unreserved
characters, a dot segment, an upper-case scheme with a tracking parameter, and the homepage without its "/".
The unit tests cover :80 and :443.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import write_config
from newssite import NewsSite, build_articles
from plain_pages import homepage_html, serve, serve_plain_site, urlset_xml
from test_crawl import source_block

from crawler.discovery import url_key
from crawler.fetch_state import KIND_ARTICLE, FetchState, FetchStateBook, RevisitPolicy, keyed_states, state_key
from crawler.urls import normalize_url


@pytest.mark.parametrize(("spelling", "identity"), [
    ("http://news.example:80/a/", "http://news.example/a/"),
    ("https://news.example:443/a/", "https://news.example/a/"),
    ("http://news.example:/a/", "http://news.example/a/"),
    ("HTTP://News.Example/a/", "http://news.example/a/"),
    ("http://news.example", "http://news.example/"),
    ("http://news.example/a/%7e%2d/", "http://news.example/a/~-/"),
    ("http://news.example/a%2fb?q=%e9", "http://news.example/a%2Fb?q=%E9"),
    ("http://news.example/2026/./03/../03/a/", "http://news.example/2026/03/a/"),
    ("http://Bücher.example/é a/", "http://xn--bcher-kva.example/%C3%A9%20a/"),
    ("http://news.example/a/?utm_source=rss&id=3#top", "http://news.example/a/?id=3"),
    ("http://news.example:8080/a/", "http://news.example:8080/a/"),
    ("https://news.example:80/a/", "https://news.example:80/a/"),
])
def test_equivalent_spellings_of_a_url_have_one_identity(spelling, identity):
    assert normalize_url(spelling) == identity


@pytest.mark.parametrize("url", [
    "http://news.example/Story/Title-Case/",
    "http://news.example/search?q=b&a=1&amp",
    "http://news.example/list?tag=a/b&empty=",
])
def test_path_case_query_order_and_blank_parameters_are_kept(url):
    assert normalize_url(url) == url


def test_seen_set_and_fetch_state_share_one_identity():
    spelling = "HTTP://News.Example:80/a/?utm_medium=feed#x"
    assert url_key(spelling) == state_key(spelling) == "http://news.example/a/"


def test_fetch_state_of_a_default_port_spelling_answers_for_the_plain_url():
    book = FetchStateBook("s", {}, RevisitPolicy())
    book.content("http://news.example:80/a/", "hash", datetime.now(UTC), status="article", kind=KIND_ARTICLE)
    assert list(book.updates) == ["http://news.example/a/"]
    assert book.known("http://news.example/a/") is book.updates["http://news.example/a/"]


def test_stored_states_of_two_spellings_become_the_most_recent_one():
    older = FetchState(url="http://news.example:80/a/", source="s", kind=KIND_ARTICLE, content_hash="old",
                       last_fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    newer = FetchState(url="http://news.example/a/", source="s", kind=KIND_ARTICLE, content_hash="new",
                       last_fetched_at=datetime(2026, 1, 2, tzinfo=UTC))
    states = keyed_states([newer, older])
    assert list(states) == ["http://news.example/a/"]
    assert states["http://news.example/a/"].content_hash == "new"


@pytest.fixture
def spelled_site():
    site = NewsSite(articles=build_articles(4)).start()
    plain = [site.url(a.path) for a in site.articles]
    serve_plain_site(site, homepage_html(plain))
    base = site.base_url
    port = base.rpartition(":")[2]
    a0, a1, a2, a3 = site.articles
    serve(site, "/sitemap-spelled.xml", urlset_xml([
        base,  # the homepage without its "/"
        base + a0.path.replace("-", "%2D"),
        f"http://{site.host}:0{port}{a1.path}",
        base + a2.path.replace("/", "/./", 1),
        base.replace("http://", "HTTP://") + a3.path + "?utm_source=sitemap",
    ]), "application/xml")
    yield site
    site.stop()


def test_article_spelled_differently_by_sitemap_and_homepage_is_fetched_once(
    spelled_site, db, run_cli, tmp_path, data_dir
):
    site = spelled_site
    source = source_block("spelled", start_urls=[site.url("/")], sitemaps=[site.url("/sitemap-spelled.xml")])
    config = write_config(tmp_path / "newsingest.toml", data_dir, source)
    result = run_cli("--config", str(config), "crawl", "spelled")
    assert result.returncode == 0, result.stderr[-3000:]

    pages = [r.path for r in site.requests if r.path not in ("/robots.txt", "/sitemap-spelled.xml")]
    assert sorted(pages) == sorted(["/", *(a.path for a in site.articles)])
    assert sorted(u for (u,) in db.execute("SELECT url FROM articles")) == sorted(site.article_urls())
