"""Unit tests of the spider's pure helpers (crawler/discovery.py) and the private-address check
(crawler/middlewares.py), on small inline documents. No network, no reactor.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest
from parsel import Selector

from crawler.discovery import (
    FeedKind,
    PageKind,
    SitemapKind,
    UrlFilter,
    classify_page,
    extract_links,
    is_pagination_url,
    jsonld_types,
    looks_non_html,
    next_page_links,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
    robots_url,
    sitemap_body,
)
from crawler.middlewares import is_public_address
from crawler.spiders.news import error_kind

BASE = "https://news.example/"

# --------------------------------------------------------------------------- feeds

RSS = b"""
<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Example News</title>
    <link>https://news.example/</link>
    <atom:link href="https://news.example/feeds/rss.xml" rel="self"/>
    <item>
      <title>One</title>
      <link>https://news.example/2026/11/one</link>
      <atom:link href="https://news.example/2026/11/one#comments" rel="replies"/>
      <guid isPermaLink="false">tag:news.example,2026:1</guid>
    </item>
    <item><title>Two</title><link>/2026/11/two</link></item>
    <item><title>Three</title><guid>https://news.example/2026/11/three</guid></item>
    <item><title>One again</title><link>https://news.example/2026/11/one</link></item>
    <item><title>No link</title><guid isPermaLink="false">xyz</guid></item>
  </channel>
</rss>
"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="https://news.example/"><title>x</title><link>https://news.example/</link></channel>
  <item rdf:about="https://news.example/a"><title>A</title><link>https://news.example/a</link></item>
  <item rdf:about="https://news.example/b"><title>B</title></item>
</rdf:RDF>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://news.example/">
  <title>Example</title>
  <link href="https://news.example/" rel="alternate"/>
  <link href="https://news.example/feeds/atom.xml" rel="self"/>
  <entry>
    <title>One</title>
    <link rel="self" href="https://news.example/api/1"/>
    <link rel="enclosure" href="https://news.example/one.mp3"/>
    <link href="2026/11/one"/>
    <id>urn:1</id>
  </entry>
  <entry xml:base="https://news.example/world/">
    <title>Two</title>
    <link rel="alternate" type="application/pdf" href="two.pdf"/>
    <link rel="alternate" type="text/html" href="two"/>
  </entry>
</feed>
"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Example",
        "home_page_url": "https://news.example/",
        "items": [
            {"id": "1", "url": "https://news.example/2026/11/one"},
            {"id": "2", "url": "/2026/11/two"},
            {"id": "3", "external_url": "https://elsewhere.example/x"},
        ],
    }
).encode()


def test_rss_entry_links_in_order_relative_resolved_guid_fallback_deduplicated():
    feed = parse_feed(RSS, "https://news.example/feeds/rss.xml")
    assert feed is not None and feed.kind is FeedKind.RSS
    assert feed.links == (
        "https://news.example/2026/11/one",
        "https://news.example/2026/11/two",
        "https://news.example/2026/11/three",
    )


def test_rss_1_rdf_uses_link_then_rdf_about():
    feed = parse_feed(RDF, BASE)
    assert feed is not None and feed.kind is FeedKind.RDF
    assert feed.links == ("https://news.example/a", "https://news.example/b")


def test_atom_takes_alternate_html_links_and_honours_xml_base():
    feed = parse_feed(ATOM, "https://news.example/feeds/atom.xml")
    assert feed is not None and feed.kind is FeedKind.ATOM
    assert feed.links == ("https://news.example/2026/11/one", "https://news.example/world/two")


def test_json_feed_items_url():
    feed = parse_feed(JSON_FEED, "https://news.example/feeds/feed.json")
    assert feed is not None and feed.kind is FeedKind.JSON
    assert feed.links == ("https://news.example/2026/11/one", "https://news.example/2026/11/two")


def test_feed_format_is_detected_by_content_not_url():
    # Atom served at a .json URL, RSS with a BOM and leading whitespace, gzipped JSON Feed.
    assert parse_feed(ATOM, "https://news.example/feed.json").kind is FeedKind.ATOM
    assert parse_feed(b"\xef\xbb\xbf\n  " + RSS.strip(), BASE).kind is FeedKind.RSS
    assert parse_feed(gzip.compress(JSON_FEED), BASE).kind is FeedKind.JSON


@pytest.mark.parametrize(
    "body",
    [
        b"<!doctype html><html><body><a href='/x'>x</a></body></html>",
        b'{"items": []}',  # JSON without the jsonfeed version
        b"not xml at all",
        b"",
        b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>",
    ],
)
def test_non_feeds_are_none(body):
    assert parse_feed(body, BASE) is None


def test_feed_parser_does_not_expand_external_entities():
    evil = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><link>https://news.example/&x;</link></item></channel></rss>"""
    feed = parse_feed(evil, BASE)
    assert feed is not None
    assert all("root:" not in link for link in feed.links)


# --------------------------------------------------------------------------- sitemaps

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example/sitemap-old.xml</loc><lastmod>2020-01-01</lastmod></sitemap>
  <sitemap><loc>https://news.example/sitemap-news.xml.gz</loc><lastmod>2026-11-02T10:00:00+00:00</lastmod></sitemap>
  <sitemap><loc>https://news.example/sitemap-misc.xml</loc></sitemap>
</sitemapindex>
"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://news.example/</loc></url>
  <url><loc>https://news.example/2026/11/old</loc><lastmod>2026-11-01</lastmod></url>
  <url><loc>https://news.example/2026/11/new</loc><lastmod>2026-11-03T08:00:00Z</lastmod></url>
  <url><loc>https://news.example/world/</loc></url>
</urlset>
"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://news.example/2026/11/one</loc>
    <news:news>
      <news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2026-11-02T09:00:00+00:00</news:publication_date>
      <news:title>One</news:title>
    </news:news>
  </url>
  <url><loc>https://news.example/2026/11/two</loc><news:news><news:title>Two</news:title></news:news></url>
</urlset>
"""


def test_sitemap_index_lists_child_sitemaps_newest_first():
    parsed = parse_sitemap(SITEMAP_INDEX)
    assert parsed is not None and parsed.kind is SitemapKind.INDEX
    assert parsed.locs == (
        "https://news.example/sitemap-news.xml.gz",
        "https://news.example/sitemap-old.xml",
        "https://news.example/sitemap-misc.xml",
    )
    assert parsed.entries[0].lastmod == datetime(2026, 11, 2, 10, tzinfo=UTC)


def test_urlset_lists_every_page_newest_first_including_index_pages():
    parsed = parse_sitemap(URLSET)
    assert parsed is not None and parsed.kind is SitemapKind.URLSET
    assert parsed.locs == (
        "https://news.example/2026/11/new",
        "https://news.example/2026/11/old",
        "https://news.example/",
        "https://news.example/world/",
    )


def test_google_news_sitemap_gives_url_locs():
    parsed = parse_sitemap(NEWS_SITEMAP)
    assert parsed is not None and parsed.kind is SitemapKind.URLSET
    assert parsed.locs == ("https://news.example/2026/11/one", "https://news.example/2026/11/two")


def test_gzipped_sitemap_bytes_are_gunzipped_and_plain_bytes_pass_through():
    body = sitemap_body(gzip.compress(NEWS_SITEMAP))
    assert body == NEWS_SITEMAP
    assert sitemap_body(URLSET) is URLSET
    assert parse_sitemap(body).locs[0] == "https://news.example/2026/11/one"


def test_gzipped_sitemap_over_the_size_limit_is_refused():
    assert sitemap_body(gzip.compress(URLSET * 100), max_size=1000) is None
    assert sitemap_body(b"\x1f\x8b\x08garbage") is None


def test_plain_text_sitemap():
    parsed = parse_sitemap(b"https://news.example/a\nhttps://news.example/b\n\n")
    assert parsed is not None and parsed.locs == ("https://news.example/a", "https://news.example/b")


@pytest.mark.parametrize("body", [b"", b"<html><body>Not found</body></html>", b"just words here", b"<rss/>"])
def test_non_sitemaps_are_none(body):
    assert parse_sitemap(body) is None


def test_robots_txt_sitemap_lines():
    robots = b"""User-agent: *
Disallow: /private/
Sitemap: https://news.example/sitemap_index.xml
sitemap: /news-sitemap.xml
Sitemap: https://news.example/sitemap_index.xml
"""
    assert robots_sitemaps(robots, "https://news.example/robots.txt") == (
        "https://news.example/sitemap_index.xml",
        "https://news.example/news-sitemap.xml",
    )
    assert robots_sitemaps(b"User-agent: *\nDisallow:\n", BASE) == ()
    assert robots_url("http://127.0.0.1:8080/a/b?c=1") == "http://127.0.0.1:8080/robots.txt"


# --------------------------------------------------------------------------- links and the URL filter


def test_extract_links_resolves_drops_fragments_junk_and_duplicates():
    html = """<html><head><link rel="next" href="/world/?page=2"></head><body>
      <a href="/world/one#top">1</a> <a href="/world/one">1 again</a>
      <a href="two">2</a> <a href="mailto:a@b.c">m</a> <a href="javascript:void(0)">j</a>
      <a href="#comments">c</a> <a href="tel:+1">t</a> <a href="https://other.example/x">o</a>
      <a href="  /spaced  ">s</a> <a>no href</a>
    </body></html>"""
    links = extract_links(Selector(text=html), "https://news.example/world/")
    assert links == [
        "https://news.example/world/?page=2",
        "https://news.example/world/one",
        "https://news.example/world/two",
        "https://other.example/x",
        "https://news.example/spaced",
    ]


def test_next_page_links_from_link_and_anchor_rel_next():
    html = (
        '<link rel="next" href="?page=2"><a rel="nofollow next" href="/page/2/">older</a><a href="/x">x</a>'
    )
    assert next_page_links(Selector(text=html), "https://news.example/world/") == [
        "https://news.example/world/?page=2",
        "https://news.example/page/2/",
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example/world/?page=2", True),
        ("https://news.example/world?p=3&sort=new", True),
        ("https://news.example/world/page/2/", True),
        ("https://news.example/page/12", True),
        ("https://news.example/world/", False),
        ("https://news.example/2026/11/page-two-story", False),
        ("https://news.example/story?page=intro", False),
    ],
)
def test_pagination_urls(url, expected):
    assert is_pagination_url(url) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example/report.pdf", True),
        ("https://news.example/img/photo.JPG", True),
        ("https://news.example/video.mp4?x=1", True),
        ("https://news.example/archive.tar.gz", True),
        ("https://news.example/feeds/rss.xml", True),
        ("https://news.example/2026/11/story", False),
        ("https://news.example/2026/11/story.html", False),
        ("https://news.example/v1.2/story", False),
    ],
)
def test_non_html_urls(url, expected):
    assert looks_non_html(url) is expected


def test_url_filter_domains_allow_deny():
    filt = UrlFilter(["news.example"], allow=[r"/(world|2026)/"], deny=[r"/2026/11/sponsored"])
    assert filt.allows_page("https://news.example/world/")
    assert filt.allows_page("https://www.news.example/2026/11/x")  # subdomain
    assert not filt.allows_page("https://badnews.example/world/")  # suffix, not subdomain
    assert not filt.allows_page("https://news.example/about")  # allow misses
    assert not filt.allows_page("https://news.example/2026/11/sponsored-post")  # deny
    assert not filt.allows_page("https://news.example/world/map.pdf")
    assert not filt.allows_page("ftp://news.example/world/")
    assert filt.allows_document("https://cdn.example/sitemap.xml")  # other host, but deny still applies
    assert not UrlFilter(["news.example"], deny=["sitemap"]).allows_document(
        "https://news.example/sitemap.xml"
    )


def test_url_filter_from_source_uses_configured_hosts():
    from ingest.config import Source

    source = Source(name="s", feeds=("http://127.0.0.1:8080/feeds/rss.xml",), article_pattern=r"/\d{4}/")
    filt = UrlFilter.for_source(source)
    assert filt.allows_page("http://127.0.0.1:8080/2026/11/a")
    assert not filt.allows_page("http://127.0.0.2:8080/2026/11/a")
    assert filt.is_article_url("http://127.0.0.1:8080/2026/11/a")


# --------------------------------------------------------------------------- classification


def page(head: str = "", body: str = "<p>text</p>") -> Selector:
    return Selector(text=f"<html><head>{head}</head><body>{body}</body></html>")


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


ARTICLE_URL = "https://news.example/2026/11/story"
SECTION_URL = "https://news.example/world/"


@pytest.mark.parametrize(
    "head",
    [
        '<meta property="og:type" content="article">',
        ld({"@context": "https://schema.org", "@type": "NewsArticle", "headline": "x"}),
        ld({"@type": ["ReportageNewsArticle", "Thing"]}),
        ld([{"@type": "WebSite"}, {"@type": "BlogPosting"}]),
        ld({"@graph": [{"@type": "WebPage"}, {"@type": "Organization"}, {"@type": "AnalysisNewsArticle"}]}),
        ld({"@type": "WebPage", "mainEntity": {"@type": "OpinionNewsArticle"}}),
        ld({"@type": "schema:Article"}),
        ld({"@type": "https://schema.org/NewsArticle"}),
        # JSON-LD article beats a lazy site-wide og:type=website
        '<meta property="og:type" content="website">' + ld({"@type": "NewsArticle"}),
    ],
)
def test_article_signals(head):
    verdict = classify_page(page(head), ARTICLE_URL)
    assert verdict.kind is PageKind.ARTICLE, verdict


@pytest.mark.parametrize(
    "head",
    [
        '<meta property="og:type" content="website">',
        ld({"@type": "CollectionPage", "name": "World"}),
        ld({"@graph": [{"@type": "WebSite"}, {"@type": "WebPage"}, {"@type": "BreadcrumbList"}]}),
        # a section listing article cards is still a section
        ld(
            {
                "@type": "CollectionPage",
                "mainEntity": {
                    "@type": "ItemList",
                    "itemListElement": [
                        {"@type": "ListItem", "item": {"@type": "NewsArticle", "url": ARTICLE_URL}}
                    ],
                },
            }
        ),
    ],
)
def test_index_signals(head):
    verdict = classify_page(page(head), SECTION_URL)
    assert verdict.kind is PageKind.INDEX, verdict


def test_url_role_beats_metadata():
    article_meta = page('<meta property="og:type" content="article">')
    assert classify_page(article_meta, "https://news.example/").kind is PageKind.INDEX
    assert classify_page(article_meta, "https://news.example/world/?page=2").kind is PageKind.INDEX
    assert classify_page(article_meta, SECTION_URL, start_urls=[SECTION_URL + "#x"]).reason == "start_url"


def test_article_pattern_decides_when_metadata_is_silent():
    filt = UrlFilter(["news.example"], article_pattern=r"/\d{4}/\d{2}/")
    assert classify_page(page(), ARTICLE_URL, filt).kind is PageKind.ARTICLE
    assert (
        classify_page(page('<meta property="og:type" content="website">'), ARTICLE_URL, filt).kind
        is PageKind.ARTICLE
    )
    assert classify_page(page(), SECTION_URL, filt).kind is PageKind.INDEX


def test_teaser_card_listing_is_an_index_and_a_bare_page_is_unknown():
    cards = "".join(f"<article><a href='/a{i}'>Story {i}</a></article>" for i in range(5))
    assert classify_page(page(body=cards), SECTION_URL).kind is PageKind.INDEX
    assert (
        classify_page(page(body="<article><p>one story</p></article>"), ARTICLE_URL).kind is PageKind.UNKNOWN
    )


def test_feed_entries_and_dated_slugs_are_not_indexes_on_og_website_alone():
    website = page('<meta property="og:type" content="website">')
    assert classify_page(website, SECTION_URL).kind is PageKind.INDEX
    assert classify_page(website, SECTION_URL, feed_entry=True).kind is PageKind.UNKNOWN
    assert classify_page(website, "https://news.example/", feed_entry=True).kind is PageKind.INDEX
    dated = "https://news.example/kultur/beitrag/2024/04/theater-hotel.html"
    assert classify_page(website, dated).kind is PageKind.UNKNOWN
    assert classify_page(website, "https://news.example/2024/04/05/").kind is PageKind.INDEX


def test_broken_json_ld_is_ignored():
    head = '<script type="application/ld+json">{"@type": "NewsArticle",}</script>' + ld({"@type": "WebSite"})
    assert jsonld_types(page(head)) == {"WebSite"}
    assert classify_page(page(head), ARTICLE_URL).kind is PageKind.UNKNOWN


# --------------------------------------------------------------------------- private addresses, error kinds


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "2001:db8::1",
        "not-an-ip",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address):
    assert is_public_address(address)


def test_error_kinds():
    from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError, IgnoreRequest
    from scrapy.http import Response
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet.error import ConnectionRefusedError

    from crawler.middlewares import PageBudgetExhausted, PrivateHostRefused

    assert error_kind(HttpError(Response("https://news.example/x", status=404))) == "http_404"
    assert error_kind(DownloadTimeoutError()) == "timeout"
    assert error_kind(CannotResolveHostError()) == "dns"
    assert error_kind(ConnectionRefusedError()) == "connection_refused"
    assert error_kind(IgnoreRequest("Forbidden by robots.txt")) == "robots_forbidden"
    assert error_kind(PrivateHostRefused("x")) is None  # counted by the middleware itself
    assert error_kind(PageBudgetExhausted("x")) is None
    assert error_kind(ValueError("x")) == "value_error"
