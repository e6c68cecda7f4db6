"""Article detection by content: a page whose text is one long body is an article whatever its template
declares (og:type=website, a JSON-LD WebPage, nothing) and however many links its chrome holds; teaser
pages (homepage, section fronts, tag pages) in the same template are still index pages.

Pages: tests/website_pages.py ("The Valley Courier", invented), on strings and served on 127.0.0.1.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import website_pages as valley
from conftest import write_config
from newssite import NewsSite
from test_crawl import source_block

from crawler.extract import extract_page
from crawler.records import Page

BASE = "https://www.valley-courier.example"


def extracted(html: str, path: str):
    return extract_page(Page(url=BASE + path, source="valley", html=html, status=200,
                             fetched_at=datetime(2026, 3, 12, 18, 0, tzinfo=UTC)))


def story(declares: str) -> valley.Story:
    return next(s for s in valley.STORIES if s.declares == declares)


def test_article_page_declaring_og_type_website_is_an_article():
    tram = story("og_website")
    result = extracted(valley.article_page(tram, BASE), tram.path)
    assert result.reason is None
    assert result.article.text == tram.text


def test_article_page_declaring_only_a_jsonld_webpage_is_an_article():
    otters = story("jsonld_webpage")
    result = extracted(valley.article_page(otters, BASE), otters.path)
    assert result.reason is None
    assert result.article.text == otters.text


def test_link_heavy_article_declaring_nothing_is_an_article():
    bakery = story("nothing")
    html = valley.article_page(bakery, BASE)
    assert html.count("<a ") > len(bakery.text) / 40  # more links than the old link-heavy rule allowed
    result = extracted(html, bakery.path)
    assert result.reason is None
    assert result.article.text == bakery.text


INDEX_PAGES = {
    "homepage": lambda: (valley.homepage(BASE), "/"),
    "section_front": lambda: (valley.section_page("local", BASE), "/local"),
    "tag_page": lambda: (valley.tag_page(BASE), "/topic/transport"),
}


@pytest.mark.parametrize("index", INDEX_PAGES)
def test_teaser_page_is_an_index_page_and_an_article_in_its_template_is_not(index):
    # Same chrome, same og:type=website on both: only what the page holds tells them apart.
    html, path = INDEX_PAGES[index]()
    assert extracted(html, path).reason == "index_page"
    tram = story("og_website")
    assert extracted(valley.article_page(tram, BASE), tram.path).reason is None


def test_crawl_of_a_site_whose_pages_all_say_website_stores_every_article_and_no_index_page(
        db, run_cli, tmp_path, data_dir):
    with NewsSite(articles=[]) as site:
        valley.serve(site)
        config = write_config(tmp_path / "newsingest.toml", data_dir,
                              source_block("valley", start_urls=[site.url("/")], deny=["sitemap", "feeds"]))
        result = run_cli("--config", str(config), "crawl", "valley")
        assert result.returncode == 0, result.stderr[-3000:]
        requested = {r.bare_path for r in site.requests}
        stories = {site.url(s.path): s.text for s in valley.STORIES}
        stored = dict(db.execute("SELECT canonical_url, text FROM articles").fetchall())
    assert stored == stories
    # The section fronts were read, and their links followed, as index pages.
    assert {f"/{s}" for s in valley.SECTIONS} <= requested
