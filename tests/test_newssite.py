"""The fixture news site serves what it claims: the other tests rely on it being right.

Touches only the loopback sites these tests start.
"""

from __future__ import annotations

import gzip
import json
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from newssite import (
    CHROME_STRINGS,
    PRIVATE_PATH,
    SECTIONS,
    NewsSite,
    build_articles,
    spare_articles,
)

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(url: str) -> Fetched:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return Fetched(response.status, response.headers["Content-Type"], response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers["Content-Type"], error.read())


class _TextAndLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.ld_json: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        self._in_ld = tag == "script" and values.get("type") == "application/ld+json"

    def handle_endtag(self, tag: str) -> None:
        self._in_ld = False

    def handle_data(self, data: str) -> None:
        (self.ld_json if self._in_ld else self.text).append(data)


def parse_html(body: str) -> _TextAndLinks:
    parser = _TextAndLinks()
    parser.feed(body)
    return parser


@pytest.fixture(scope="module")
def site():
    with NewsSite() as running:
        yield running


def test_articles_are_deterministic_and_shaped_like_news():
    first, second = build_articles(), build_articles()
    assert first == second
    assert {a.section for a in first} == set(SECTIONS)
    for article in first:
        assert article.published_at.tzinfo is not None
        assert 5 <= len(article.paragraphs) <= 8
        assert all(40 <= len(p.split()) <= 80 for p in article.paragraphs)
        assert article.path == f"/{article.published_at:%Y/%m/%d}/{article.slug}/"


def test_spare_articles_are_newer_than_the_default_set():
    newest_default = max(a.published_at for a in build_articles())
    assert all(a.published_at > newest_default for a in spare_articles())


def test_rss_lists_every_article(site):
    feed = fetch(site.url("/feeds/rss.xml"))
    assert feed.content_type.startswith("application/rss+xml")
    links = [item.findtext("link") for item in ET.fromstring(feed.body).iter("item")]
    assert sorted(site.article_at(link).path for link in links) == sorted(a.path for a in site.articles)


def test_atom_lists_every_article(site):
    feed = fetch(site.url("/feeds/atom.xml"))
    assert feed.content_type.startswith("application/atom+xml")
    links = [e.find(f"{ATOM}link").get("href") for e in ET.fromstring(feed.body).iter(f"{ATOM}entry")]
    assert sorted(links) == sorted(site.article_urls())


def test_json_feed_lists_every_article(site):
    feed = fetch(site.url("/feeds/feed.json"))
    assert feed.content_type.startswith("application/feed+json")
    data = json.loads(feed.body)
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert sorted(item["url"] for item in data["items"]) == sorted(site.article_urls())


def test_news_sitemap_is_gzipped_and_lists_every_article_with_its_date(site):
    sitemap = fetch(site.url("/sitemaps/news.xml.gz"))
    assert sitemap.content_type in ("application/gzip", "application/x-gzip")
    root = ET.fromstring(gzip.decompress(sitemap.body))
    dates = {u.findtext(f"{SITEMAP}loc"): u.findtext(f"{NEWS}news/{NEWS}publication_date") for u in root}
    assert dates == {site.url(a.path): a.published_at.isoformat() for a in site.articles}


def test_sitemap_index_names_both_sitemaps_and_sections_sitemap_lists_only_sections(site):
    index = ET.fromstring(fetch(site.sitemap_url).body)
    locs = [s.findtext(f"{SITEMAP}loc") for s in index]
    assert locs == [site.url("/sitemaps/news.xml.gz"), site.url("/sitemaps/sections.xml")]
    sections = ET.fromstring(fetch(locs[1]).body)
    assert [u.findtext(f"{SITEMAP}loc") for u in sections] == site.section_urls


def test_robots_disallows_private_and_names_the_sitemap_index(site):
    robots = fetch(site.url("/robots.txt")).text
    assert "Disallow: /private/" in robots
    assert f"Sitemap: {site.sitemap_url}" in robots
    assert site.url(PRIVATE_PATH) in parse_html(fetch(site.url("/")).text).links


def test_every_section_has_a_second_page_linked_as_next(site):
    for section_url in site.section_urls:
        page_one = parse_html(fetch(section_url).text)
        assert f"{section_url}?page=2" in page_one.links
        assert fetch(f"{section_url}?page=2").status == 200


def test_pages_past_the_last_and_unknown_paths_are_404(site):
    assert fetch(site.url("/section/world/?page=3")).status == 404
    assert fetch(site.url("/no/such/page/")).status == 404


def test_index_urls_are_not_articles_and_all_serve(site):
    article_urls = set(site.article_urls())
    for url in site.index_urls:
        assert url not in article_urls
        page = fetch(url)
        assert page.status == 200
        assert 'property="og:type" content="website"' in page.text


def test_article_with_tracking_params_serves_the_same_article_with_a_clean_canonical(site):
    article = site.articles[0]
    page = fetch(site.url(article.path) + "?utm_source=x&fbclid=y").text
    assert f'<link rel="canonical" href="{site.url(article.path)}">' in page
    assert f"<h1 class=\"entry-title\">{article.title}</h1>" in page


def test_article_json_ld_matches_the_article(site):
    for article in site.articles:
        blocks = [json.loads(b) for b in parse_html(fetch(site.url(article.path)).text).ld_json]
        news = next(b for b in blocks if b["@type"] == "NewsArticle")
        assert news["headline"] == article.title
        assert [p["name"] for p in news["author"]] == article.authors
        assert news["datePublished"] == article.published_at.isoformat()


def test_chrome_strings_are_on_every_article_page_and_in_no_article_text(site):
    for article in site.articles:
        visible = re.sub(r"\s+", " ", "".join(parse_html(fetch(site.url(article.path)).text).text))
        assert [c for c in CHROME_STRINGS if c not in visible] == []
        assert [c for c in CHROME_STRINGS if c in article.text] == []


def test_article_paragraphs_appear_escaped_in_the_page(site):
    article = next(a for a in site.articles if "&" in a.title)
    page = fetch(site.url(article.path)).text
    assert "Harlow &amp; Pike" in page
    assert all(p.replace("&", "&amp;") in page for p in article.paragraphs)


def test_added_article_shows_up_in_the_feed_and_on_the_homepage():
    late = spare_articles()[0]
    with NewsSite() as running:
        running.add_article(late)
        feed = json.loads(fetch(running.url("/feeds/feed.json")).body)
        assert running.url(late.path) in [item["url"] for item in feed["items"]]
        assert running.url(late.path) in parse_html(fetch(running.url("/")).text).links
        assert fetch(running.url(late.path)).status == 200


def test_requests_are_logged_with_path_query_and_headers():
    with NewsSite() as running:
        request = urllib.request.Request(running.url("/section/world/?page=2"), headers={"User-Agent": "probe/1"})
        urllib.request.urlopen(request, timeout=5).read()
        [logged] = running.requests
        assert (logged.method, logged.path, logged.user_agent) == ("GET", "/section/world/?page=2", "probe/1")
