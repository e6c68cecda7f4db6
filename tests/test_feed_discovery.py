"""Feeds a site announces only in <link rel="alternate"> (or rel="feed") on its homepage and the index pages
one hop from it are found and read, so a source configured with its homepage alone sees every story its
feeds list, once each (crawler/discovery.py feed_links, the spider's feed discovery).
"""

from __future__ import annotations

import pytest
from conftest import write_config
from newssite import NewsSite, build_articles
from parsel import Selector
from plain_pages import homepage_html, rss_xml, serve, serve_plain_site
from test_crawl import source_block

from crawler.discovery import feed_links
from ingest.tables.fetch_state import apply_fetch_states

RSS = "application/rss+xml; charset=utf-8"


def alternate(href: str, kind: str = "application/rss+xml", title: str = "Feed", rel: str = "alternate") -> str:
    return f'<link rel="{rel}" type="{kind}" title="{title}" href="{href}">'


def test_feed_links_are_read_from_link_elements_of_every_feed_type():
    page = f"""<html><head>
    {alternate("/rss/")}
    {alternate("https://news.example/atom.xml", "application/atom+xml")}
    {alternate("/feed.json", "application/feed+json")}
    {alternate("/feeds/latest.json", "application/json; charset=utf-8")}
    {alternate("/all/", "", rel="feed")}
    {alternate("/rss/#again")}
    </head><body><a href="/other-rss.xml">RSS</a></body></html>"""
    assert feed_links(Selector(text=page), "https://news.example/") == (
        "https://news.example/rss/",
        "https://news.example/atom.xml",
        "https://news.example/feed.json",
        "https://news.example/feeds/latest.json",
        "https://news.example/all/",
    )


def test_comment_feeds_api_documents_and_other_alternates_are_not_feeds():
    page = f"""<html><head>
    {alternate("/comments/feed/", title="Comments Feed")}
    {alternate("/feed/?p=3", title="Story &raquo; Comments Feed")}
    {alternate("/wp-json/wp/v2/pages/12", "application/json", title="JSON")}
    {alternate("/wp-json/oembed/1.0/embed?url=x", "application/json+oembed")}
    {alternate("/de/", "text/html")}
    <link rel="stylesheet" href="/feed.css">
    </head></html>"""
    assert feed_links(Selector(text=page), "https://news.example/") == ()


@pytest.fixture
def feed_only_site():
    """Eight articles; the homepage links two and announces a feed that lists all eight."""
    site = NewsSite(articles=build_articles(8)).start()
    urls = site.article_urls()
    serve_plain_site(site, homepage_html(urls[:2], head=alternate("/news/rss/")))
    serve(site, "/news/rss/", rss_xml(urls), RSS)
    yield site
    site.stop()


def crawl(run_cli, tmp_path, data_dir, site: NewsSite, **keys):
    config = write_config(tmp_path / "newsingest.toml", data_dir, source_block("plain", **keys))
    result = run_cli("--config", str(config), "crawl", "plain")
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_feed_announced_only_by_link_rel_alternate_makes_every_article_reachable(
    feed_only_site, db, run_cli, tmp_path, data_dir
):
    site = feed_only_site
    crawl(run_cli, tmp_path, data_dir, site, start_urls=[site.url("/")])
    assert sorted(u for (u,) in db.execute("SELECT url FROM articles")) == sorted(site.article_urls())


def test_feed_announced_by_homepage_and_a_section_is_requested_once_and_the_section_feed_too(
    db, run_cli, tmp_path, data_dir
):
    with NewsSite(articles=build_articles(6)) as site:
        urls = site.article_urls()
        serve_plain_site(site, homepage_html([site.url("/world/")], head=alternate("/news/rss/")))
        section_head = alternate("/news/rss/") + alternate("/world/feed/", "application/atom+xml")
        serve(site, "/world/", homepage_html([], head=section_head))
        serve(site, "/news/rss/", rss_xml(urls[:3]), RSS)
        serve(site, "/world/feed/", rss_xml(urls[3:]), RSS)
        crawl(run_cli, tmp_path, data_dir, site, start_urls=[site.url("/")])
        assert len(site.requests_to("/news/rss/")) == 1
        assert len(site.requests_to("/world/feed/")) == 1
        assert sorted(u for (u,) in db.execute("SELECT url FROM articles")) == sorted(urls)


def test_at_most_ten_discovered_feeds_are_read_per_crawl(db, run_cli, tmp_path, data_dir):
    with NewsSite(articles=build_articles(2)) as site:
        head = "".join(alternate(f"/tag/{i}/feed/") for i in range(12))
        serve_plain_site(site, homepage_html(site.article_urls(), head=head))
        for i in range(12):
            serve(site, f"/tag/{i}/feed/", rss_xml(site.article_urls()), RSS)
        crawl(run_cli, tmp_path, data_dir, site, start_urls=[site.url("/")])
        assert len([r for r in site.requests if r.path.startswith("/tag/")]) == 10



def test_a_feed_found_on_a_section_page_is_read_again_when_that_page_is_unchanged(db, run_cli, tmp_path, data_dir):
    with NewsSite(articles=build_articles(4)) as site:
        site.custom_etags = True
        urls = site.article_urls()
        serve_plain_site(site, homepage_html([site.url("/section/news/")]))
        serve(site, "/section/news/", homepage_html(urls[:1], head=alternate("/news/rss/")))
        serve(site, "/news/rss/", rss_xml(urls[:2]), RSS)
        crawl(run_cli, tmp_path, data_dir, site, start_urls=[site.url("/")])
        apply_fetch_states(db, data_dir / "spool")
        serve(site, "/news/rss/", rss_xml(urls), RSS)  # two new stories, the section page as it was
        site.responses.clear()

        crawl(run_cli, tmp_path, data_dir, site, start_urls=[site.url("/")])
        assert site.statuses("/section/news/") == [304]
        assert sorted(u for (u,) in db.execute("SELECT url FROM articles")) == sorted(urls)
