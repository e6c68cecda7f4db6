"""An article reached only through its AMP URL is stored under its canonical URL: the spider fetches the
canonical page instead of extracting the AMP one, and extracts the AMP page under the canonical URL when
that fetch fails (crawler/discovery.py amp_canonical, the spider's _canonical_instead).
"""

from __future__ import annotations

import pytest
from conftest import write_config
from newssite import NewsSite, build_articles
from parsel import Selector
from plain_pages import article_html, homepage_html, serve, serve_plain_site
from test_crawl import source_block

from crawler.discovery import amp_canonical

AMP_SPELLINGS = (
    lambda path: "/amp" + path,  # /amp/2026/03/02/slug/
    lambda path: path + "amp/",  # /2026/03/02/slug/amp/
    lambda path: path.rstrip("/") + ".amp.html",  # /2026/03/02/slug.amp.html
)


@pytest.mark.parametrize("mark", ["amp", "⚡", "AMP"])
def test_amp_page_names_its_canonical_url(mark):
    page = f'<html {mark} lang="en"><head><link rel="canonical" href="/2026/03/story/"></head></html>'
    assert amp_canonical(Selector(text=page), "https://news.example/amp/2026/03/story/") == (
        "https://news.example/2026/03/story/")


def test_a_page_that_is_not_amp_has_no_amp_canonical():
    page = '<html lang="en"><head><link rel="canonical" href="/2026/03/story/"></head></html>'
    assert amp_canonical(Selector(text=page), "https://news.example/2026/03/story/?ref=x") is None


def amp_site(articles: int) -> NewsSite:
    site = NewsSite(articles=build_articles(articles)).start()
    amp_paths = [spell(a.path) for spell, a in zip(AMP_SPELLINGS, site.articles, strict=False)]
    serve_plain_site(site, homepage_html([site.url(p) for p in amp_paths]))
    for path, article in zip(amp_paths, site.articles, strict=False):
        serve(site, path, article_html(article, site.url(article.path), amp=True))
    return site


def crawl(run_cli, tmp_path, data_dir, site: NewsSite) -> None:
    source = source_block("amp", start_urls=[site.url("/")])
    config = write_config(tmp_path / "newsingest.toml", data_dir, source)
    result = run_cli("--config", str(config), "crawl", "amp")
    assert result.returncode == 0, result.stderr[-3000:]


def test_articles_linked_only_by_amp_urls_are_stored_under_their_canonical_urls(db, run_cli, tmp_path, data_dir):
    site = amp_site(3)
    try:
        crawl(run_cli, tmp_path, data_dir, site)
        rows = db.execute("SELECT url, canonical_url FROM articles").fetchall()
        assert sorted(rows) == sorted((url, url) for url in site.article_urls())
        assert [len(site.requests_to(a.path)) for a in site.articles] == [1, 1, 1]
    finally:
        site.stop()


def test_amp_page_is_stored_under_its_canonical_url_when_the_canonical_page_fails(
    db, run_cli, tmp_path, data_dir
):
    site = amp_site(1)
    try:
        (article,) = site.articles
        site.custom[article.path] = (404, "<html><body>Not found</body></html>")
        crawl(run_cli, tmp_path, data_dir, site)
        assert db.execute("SELECT url, text FROM articles").fetchall() == [(site.url(article.path), article.text)]
    finally:
        site.stop()
