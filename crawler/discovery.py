"""Pure parsing helpers the news spider uses to discover and sort URLs.

Feeds (RSS 2.0, RSS 1.0/RDF, Atom, JSON Feed), sitemaps (index, urlset, Google News,
gzipped, plain text), robots.txt sitemap lines, link extraction, feeds a page announces in its
<link> elements, AMP pages and their canonical URL, the URL filter built
from a `Source`, and the cheap article-versus-index page classifier.
This module touches nothing: no network, no files, no Scrapy engine. Every function
takes bytes, strings or a parsel selector and returns typed values, so it can be
tested on inline documents.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import parse_qsl, urljoin, urlsplit

import lxml.etree
from parsel import Selector
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.urls import normalize_url
from ingest.config import Source

# --------------------------------------------------------------------------- feeds


class FeedKind(StrEnum):
    RSS = "rss"
    RDF = "rdf"  # RSS 1.0
    ATOM = "atom"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class Feed:
    kind: FeedKind
    links: tuple[str, ...]  # absolute entry URLs, document order, duplicates removed
    # Entry URL -> when the feed says the entry last changed (Atom <updated>, JSON Feed date_modified, RSS
    # atom:updated / dcterms:modified, else its publication date); entries without a readable date are absent.
    dates: dict[str, datetime] = field(default_factory=dict)
    # The entries of `dates` whose date says when the entry last changed, not only when it was published:
    # an unmoved publication date says nothing about a correction.
    modified: frozenset[str] = frozenset()


_GZIP_MAGIC = b"\x1f\x8b\x08"
# What scrapy.utils.gz.gunzip raises: corrupt data (OSError, EOFError, struct.error) or
# output over max_size (_DecompressionMaxSizeExceeded, a ValueError).
_GUNZIP_ERRORS = (OSError, EOFError, struct.error, ValueError)
_BOM = b"\xef\xbb\xbf"


def _xml_parser() -> lxml.etree.XMLParser:
    # Entities and network access off: a feed or sitemap is untrusted input (XXE, billion laughs).
    return lxml.etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
    )


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _strip_leading(body: bytes) -> bytes:
    body = body.removeprefix(_BOM)
    # Servers that template feeds often emit a newline before the XML declaration,
    # which makes libxml2 reject the whole document.
    return body.lstrip()


def parse_feed(body: bytes, base_url: str, max_size: int = 0) -> Feed | None:
    """The entry links of a feed, format detected by content; None when `body` is no feed."""
    if body[:3] == _GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_size)
        except _GUNZIP_ERRORS:  # corrupt or oversize: no feed
            return None
    body = _strip_leading(body)
    if body[:1] in (b"{", b"["):
        return _parse_json_feed(body, base_url)
    if body[:1] != b"<":
        return None
    try:
        root = lxml.etree.fromstring(body, _xml_parser(), base_url=base_url)
    except lxml.etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    name = _local(root.tag)
    if name == "rss":
        return _feed(FeedKind.RSS, _rss_links(root, base_url))
    if name == "RDF":
        return _feed(FeedKind.RDF, _rss_links(root, base_url))
    if name == "feed":
        return _feed(FeedKind.ATOM, _atom_links(root, base_url))
    return None


# An entry: its URL, its date if readable, and whether that date is a modification date.
_Entry = tuple[str, datetime | None, bool]


def _feed(kind: FeedKind, entries: Iterable[_Entry]) -> Feed:
    entries = list(entries)
    dates: dict[str, datetime] = {}
    modified: set[str] = set()
    for url, date, is_modified in entries:
        if date is not None and (url not in dates or date > dates[url]):
            dates[url] = date
            if is_modified:
                modified.add(url)
            else:
                modified.discard(url)
    return Feed(kind, _dedupe(url for url, _, _ in entries), dates, frozenset(modified))


# Entry dates, most specific first: a modification date says more about a correction than a publication date.
_RSS_DATES = ("updated", "modified", "date", "pubDate")
_MODIFIED_DATES = frozenset({"updated", "modified", "date_modified"})


def _entry_date(element: lxml.etree._Element, names: Sequence[str]) -> tuple[datetime | None, bool]:
    """The entry's most specific readable date, and whether it is a modification date."""
    found: dict[str, str] = {}
    for child in element:
        name = _local(child.tag)
        if name in names and name not in found and child.text and child.text.strip():
            found[name] = child.text.strip()
    for name in names:
        if name in found:
            date = _parse_feed_date(found[name])
            if date is not None:
                return date, name in _MODIFIED_DATES
    return None, False


def _parse_feed_date(value: str) -> datetime | None:
    """A W3C (ISO 8601) or RFC 822 date, timezone-aware (UTC when none is given); None when unreadable."""
    parsed = _parse_w3c_datetime(value)
    if parsed is not None:
        return parsed
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _rss_links(root: lxml.etree._Element, base_url: str) -> Iterable[_Entry]:
    for item in root.iter():
        if _local(item.tag) != "item":
            continue
        link = guid = None
        for child in item:
            name = _local(child.tag)
            # Only RSS's own <link>: an atom:link inside an item points elsewhere (comments, enclosures).
            if name == "link" and link is None and (child.tag == "link" or "purl.org/rss" in str(child.tag)):
                link = (child.text or "").strip() or None
            elif name == "guid" and child.get("isPermaLink", "true").lower() != "false":
                guid = (child.text or "").strip() or None
        url = link or guid
        if url is None and _local(root.tag) == "RDF":
            url = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        if url:
            absolute = urljoin(base_url, url)
            if _is_http(absolute):
                yield absolute, *_entry_date(item, _RSS_DATES)


def _atom_links(root: lxml.etree._Element, base_url: str) -> Iterable[_Entry]:
    for entry in root:
        if _local(entry.tag) != "entry":
            continue
        best: str | None = None
        for link in entry:
            if _local(link.tag) != "link" or not link.get("href"):
                continue
            rel = link.get("rel", "alternate")
            if rel != "alternate":
                continue
            # xml:base may be set on the feed, the entry or the link; lxml folds them into .base.
            href = urljoin(link.base or base_url, link.get("href").strip())
            kind = (link.get("type") or "").lower()
            if best is None or "html" in kind:
                best = href
                if "html" in kind:
                    break
        if best and _is_http(best):
            yield best, *_entry_date(entry, ("updated", "published"))


def _parse_json_feed(body: bytes, base_url: str) -> Feed | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return None
    version = data.get("version")
    if not (isinstance(version, str) and "jsonfeed.org" in version):
        return None
    entries = []
    for item in data["items"]:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            absolute = urljoin(base_url, item["url"].strip())
            if _is_http(absolute):
                modified = isinstance(item.get("date_modified"), str)
                date = item.get("date_modified") if modified else item.get("date_published")
                parsed = _parse_w3c_datetime(date) if isinstance(date, str) else None
                entries.append((absolute, parsed, modified and parsed is not None))
    return _feed(FeedKind.JSON, entries)


# --------------------------------------------------------------------------- sitemaps


class SitemapKind(StrEnum):
    INDEX = "index"  # <sitemapindex>: entries are child sitemaps
    URLSET = "urlset"  # <urlset> (plain or Google News) or a plain-text list: entries are pages


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None = None


@dataclass(frozen=True, slots=True)
class ParsedSitemap:
    kind: SitemapKind
    entries: tuple[SitemapEntry, ...]  # newest lastmod first, undated after, then document order

    @property
    def locs(self) -> tuple[str, ...]:
        return tuple(e.loc for e in self.entries)


def sitemap_body(body: bytes, max_size: int = 0) -> bytes | None:
    """The XML of a sitemap, gunzipped when it is a .xml.gz file; None when corrupt or over max_size.

    HttpCompressionMiddleware already undid Content-Encoding: gzip, so gzip bytes here
    are a gzip *file* (sitemap.xml.gz).
    """
    if body[:3] != _GZIP_MAGIC:
        return body
    try:
        return gunzip(body, max_size=max_size)
    except _GUNZIP_ERRORS:  # unusable either way
        return None


def parse_sitemap(body: bytes, base_url: str = "") -> ParsedSitemap | None:
    """Child sitemaps or page URLs of a sitemap document (already gunzipped); None when not a sitemap."""
    stripped = _strip_leading(body)
    if not stripped:
        return None
    if stripped[:1] != b"<":
        return _parse_text_sitemap(stripped, base_url)
    try:
        sitemap = Sitemap(stripped)
    except (lxml.etree.XMLSyntaxError, StopIteration):
        return None
    if sitemap.type == "sitemapindex":
        kind = SitemapKind.INDEX
    elif sitemap.type == "urlset":
        kind = SitemapKind.URLSET
    else:
        return None
    entries: list[SitemapEntry] = []
    seen: set[str] = set()
    for item in sitemap:
        loc = urljoin(base_url, item["loc"]) if base_url else item["loc"]
        if not _is_http(loc) or loc in seen:
            continue
        seen.add(loc)
        entries.append(SitemapEntry(loc, _parse_w3c_datetime(item.get("lastmod"))))
    return ParsedSitemap(kind, _newest_first(entries))


def _parse_text_sitemap(body: bytes, base_url: str) -> ParsedSitemap | None:
    text = body.decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not all(_is_http(urljoin(base_url, line)) and " " not in line for line in lines):
        return None
    return ParsedSitemap(SitemapKind.URLSET, tuple(SitemapEntry(loc) for loc in _dedupe(lines)))


def _newest_first(entries: list[SitemapEntry]) -> tuple[SitemapEntry, ...]:
    # With a page budget, the newest entries of a 50,000-URL sitemap are the ones worth fetching.
    dated = [e for e in entries if e.lastmod is not None]
    undated = [e for e in entries if e.lastmod is None]
    dated.sort(key=lambda e: e.lastmod, reverse=True)  # stable: ties keep document order
    return (*dated, *undated)


def _parse_w3c_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def robots_sitemaps(body: bytes, base_url: str) -> tuple[str, ...]:
    """Sitemap URLs announced in a robots.txt (`Sitemap:` lines), absolute, duplicates removed."""
    return _dedupe(url for url in sitemap_urls_from_robots(body, base_url=base_url) if _is_http(url))


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


# --------------------------------------------------------------------------- links and the URL filter

_SKIP_SCHEMES = ("mailto:", "javascript:", "tel:", "data:", "sms:", "ftp:", "file:", "#")
# Scrapy's list of binary and asset extensions, plus a few feed and data formats that are never articles.
_NON_HTML_EXTENSIONS = frozenset(IGNORED_EXTENSIONS) | {
    "json",
    "xml",
    "gz",
    "txt",
    "csv",
    "woff",
    "woff2",
    "ttf",
}
_PAGINATION_QUERY = frozenset({"page", "p", "pg", "paged", "pagenum", "pagina", "seite", "offset", "start"})
_DATED_PATH = re.compile(r"/(?:19|20)\d{2}/(?:0?[1-9]|1[0-2])/")
# A date then a segment with letters: /2024/04/some-story or /2024/04/05/some-story, not /2024/04/05/.
_DATED_SLUG = re.compile(r"/(?:19|20)\d{2}/(?:0?[1-9]|1[0-2])/(?:\d{1,2}/)?[^/]*[A-Za-z][^/]*")
_PAGINATION_PATH = re.compile(r"/(?:page|seite|pagina|p)/\d+/?$", re.IGNORECASE)


def url_key(url: str) -> str:
    """The identity used by the spider's seen-set and its requests (crawler/urls.py): fragment and
    tracking parameters dropped, RFC 3986 equivalences (default port, case, escapes) applied."""
    return normalize_url(url)


def extract_links(selector: Selector, base_url: str) -> list[str]:
    """Absolute http(s) links of a page (a/@href, rel=next), without fragments, in order, no duplicates.

    `base_url` should already honour <base href> (scrapy.utils.response.get_base_url).
    """
    hrefs = selector.xpath("//a/@href | //link[@rel='next']/@href").getall()
    out: dict[str, None] = {}
    for href in hrefs:
        href = href.strip()
        if not href or href.lower().startswith(_SKIP_SCHEMES):
            continue
        absolute = url_key(urljoin(base_url, href))
        if absolute.startswith(("http://", "https://")):
            out.setdefault(absolute)
    return list(out)


# Link types that announce a feed. Plain application/json only counts with "feed" in its address or title:
# WordPress announces its REST API documents as rel=alternate application/json on every page.
_FEED_LINK_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml",
    "application/x-atom+xml", "application/x.atom+xml", "application/rss", "text/rss+xml", "text/atom+xml",
})
_COMMENTS = re.compile(r"\bcomments?\b", re.IGNORECASE)  # a story's or the site's comment feed: no articles
_MAX_LINK_ELEMENTS = 500


def feed_links(selector: Selector, base_url: str) -> tuple[str, ...]:
    """Feeds a page announces: <link rel="alternate"> of a feed type, or <link rel="feed">; absolute,
    normalised (url_key), comment feeds left out, in order, no duplicates.

    trafilatura.feeds.determine_feed does the like, but parses the page again from a string and falls back
    to <a> links that merely look like feeds; this reads the tree the spider already has, link elements only.
    """
    out: dict[str, None] = {}
    for link in selector.xpath("//link[@href]")[:_MAX_LINK_ELEMENTS]:
        attrib = link.attrib
        rel = set(attrib.get("rel", "").lower().split())
        kind = attrib.get("type", "").split(";")[0].strip().lower()
        href = attrib["href"].strip()
        title = attrib.get("title", "")
        if "feed" in rel:
            pass
        elif "alternate" not in rel:
            continue
        elif kind == "application/json":
            if "feed" not in href.lower() and "feed" not in title.lower():
                continue
        elif kind not in _FEED_LINK_TYPES:
            continue
        if not href or _COMMENTS.search(href) or _COMMENTS.search(title):
            continue
        absolute = url_key(urljoin(base_url, href))
        if _is_http(absolute):
            out.setdefault(absolute)
    return tuple(out)


_AMP_MARKS = frozenset({"amp", "\u26a1"})  # <html amp>, <html ⚡>


def amp_canonical(selector: Selector, base_url: str) -> str | None:
    """The canonical URL an AMP page (<html amp> or <html ⚡>) declares, normalised (url_key); None for a
    page that is not AMP or names no http(s) canonical."""
    root = selector.root
    attrib = getattr(root, "attrib", None)
    if attrib is None or not any(name.lower() in _AMP_MARKS for name in attrib):
        return None
    href = selector.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href").get()
    if not href or not href.strip():
        return None
    canonical = url_key(urljoin(base_url, href.strip()))
    return canonical if _is_http(canonical) else None


def next_page_links(selector: Selector, base_url: str) -> list[str]:
    """Links marked rel=next (<link> or <a>): archive pagination the site states outright."""
    hrefs = selector.xpath(
        "//link[@rel='next']/@href | //a[contains(concat(' ', @rel, ' '), ' next ')]/@href"
    )
    return list(dict.fromkeys(url_key(urljoin(base_url, h.strip())) for h in hrefs.getall() if h.strip()))


def is_pagination_url(url: str) -> bool:
    """True for archive pages such as ?page=2 or /page/2/ (page 1 and offset 0 included)."""
    parts = urlsplit(url)
    if _PAGINATION_PATH.search(parts.path):
        return True
    return any(k.lower() in _PAGINATION_QUERY and v.isdigit() for k, v in parse_qsl(parts.query))


def looks_non_html(url: str) -> bool:
    """True when the URL path names a binary, media, asset or data file."""
    path = urlsplit(url).path.lower()
    last = path.rpartition("/")[2]
    if "." not in last:
        return False
    if last.endswith(".tar.gz"):
        return True
    return last.rpartition(".")[2] in _NON_HTML_EXTENSIONS


def host_in_domains(host: str | None, domains: Sequence[str]) -> bool:
    """True when host is one of the domains or a subdomain of one (www.example.org is in example.org)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


class UrlFilter:
    """Which discovered URLs a source may fetch: its domains, allow/deny patterns, and article_pattern."""

    __slots__ = ("_allow", "_article", "_deny", "domains")

    def __init__(
        self,
        domains: Sequence[str],
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        article_pattern: str | None = None,
    ):
        self.domains = tuple(d.lower().strip(".") for d in domains)
        self._allow = [re.compile(p) for p in allow]
        self._deny = [re.compile(p) for p in deny]
        self._article = re.compile(article_pattern) if article_pattern else None

    @classmethod
    def for_source(cls, source: Source) -> UrlFilter:
        return cls(source.domains, source.allow, source.deny, source.article_pattern)

    @property
    def has_article_pattern(self) -> bool:
        return self._article is not None

    def on_site(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and host_in_domains(parts.hostname, self.domains)

    def allows_page(self, url: str) -> bool:
        """A page URL (article or index) the source may fetch."""
        if not self.on_site(url) or looks_non_html(url):
            return False
        if self._allow and not any(p.search(url) for p in self._allow):
            return False
        return not any(p.search(url) for p in self._deny)

    def allows_document(self, url: str) -> bool:
        """A discovered feed or sitemap (from robots.txt or a sitemap index). Deny patterns apply;
        domains and allow patterns do not: sitemaps often sit on another host or path, and the
        page URLs they list are filtered with allows_page anyway.
        """
        return _is_http(url) and not any(p.search(url) for p in self._deny)

    def is_article_url(self, url: str) -> bool:
        return self._article is not None and self._article.search(url) is not None

    def likely_article_url(self, url: str) -> bool:
        """A guess from the URL alone, for fetch order only (never for classification):
        article_pattern if configured, else a dated path or a long slug."""
        if self._article is not None:
            return self._article.search(url) is not None
        path = urlsplit(url).path
        if _DATED_PATH.search(path):
            return True
        last = path.rstrip("/").rpartition("/")[2]
        return last.count("-") >= 4


# --------------------------------------------------------------------------- page classification


class PageKind(StrEnum):
    ARTICLE = "article"
    INDEX = "index"
    UNKNOWN = "unknown"  # no signal either way: the spider yields it and extraction decides


@dataclass(frozen=True, slots=True)
class Classification:
    kind: PageKind
    reason: str  # short snake_case tag for debug logs, e.g. "jsonld_article", "pagination"
    # An index verdict from the page's declared type alone (og:type=website, a listing type in JSON-LD):
    # templates stamp these on article pages too, so the page is still extracted, and extraction weighs
    # the declaration against the text (crawler/extract.py is_one_body). Its links are followed as an
    # index page's either way.
    declared_only: bool = False


ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "Report",
        "ScholarlyArticle",
    }
)
# Types that describe a listing or the page container; an index when nothing article-like is present.
INDEX_TYPES = frozenset({"CollectionPage", "ItemList", "SearchResultsPage", "ProfilePage", "WebPage"})
# Site-wide boilerplate that says nothing about this page.
NEUTRAL_TYPES = frozenset(
    {
        "WebSite",
        "Organization",
        "NewsMediaOrganization",
        "BreadcrumbList",
        "SiteNavigationElement",
        "SearchAction",
    }
)


def jsonld_types(selector: Selector) -> set[str]:
    """@type values of the page's JSON-LD: top-level objects, lists, @graph members and their mainEntity.

    Does not descend into itemListElement and the like: a section page listing NewsArticle
    cards is still a section page.
    """
    types: set[str] = set()
    for raw in selector.xpath("//script[@type='application/ld+json']/text()").getall():
        try:
            data = json.loads(raw)
        except ValueError:
            # CMSs emit trailing commas and raw newlines in strings; not worth a lenient parser here.
            continue
        _collect_types(data, types, depth=0)
    return types


def _collect_types(node: object, types: set[str], depth: int) -> None:
    if depth > 4:
        return
    if isinstance(node, list):
        for item in node:
            _collect_types(item, types, depth + 1)
        return
    if not isinstance(node, dict):
        return
    value = node.get("@type")
    for t in value if isinstance(value, list) else [value]:
        if isinstance(t, str) and t:
            # "schema:NewsArticle" and "https://schema.org/NewsArticle" both mean NewsArticle.
            types.add(re.split(r"[/:#]", t)[-1])
    for key in ("@graph", "mainEntity", "mainEntityOfPage"):
        child = node.get(key)
        if isinstance(child, (dict, list)):
            _collect_types(child, types, depth + 1)


def classify_url(url: str, start_urls: Iterable[str] = ()) -> Classification | None:
    """The index verdict the URL's role alone gives (start URL, site root, pagination), or None."""
    key = url_key(url)
    if key in {url_key(u) for u in start_urls}:
        return Classification(PageKind.INDEX, "start_url")
    if urlsplit(key).path in ("", "/") and not urlsplit(key).query:
        return Classification(PageKind.INDEX, "site_root")
    if is_pagination_url(key):
        return Classification(PageKind.INDEX, "pagination")
    return None


def classify_page(
    selector: Selector,
    url: str,
    url_filter: UrlFilter | None = None,
    start_urls: Iterable[str] = (),
    feed_entry: bool = False,
) -> Classification:
    """Article, index or unknown, from the URL and the page's metadata only (no text analysis).
    An index verdict from metadata alone is marked `declared_only`: the page is an index for link
    following, and a candidate for extraction all the same.

    Order matters: the URL's role (start URL, site root, pagination) beats metadata, because
    many sites stamp og:type=article on every template; explicit article metadata or the
    configured article_pattern beat weaker index hints. A page a feed lists as an entry
    (`feed_entry`) is only an index for its URL's role: the feed's word beats a template's
    og:type=website. Likewise a dated URL with a slug (/2024/04/some-story) is not called an
    index on og:type=website alone (seen on a public broadcaster's article pages).
    """
    by_url = classify_url(url, start_urls)
    if by_url is not None:
        return by_url
    key = url_key(url)

    types = jsonld_types(selector)
    if types & ARTICLE_TYPES:
        return Classification(PageKind.ARTICLE, "jsonld_article")
    og_type = (selector.xpath("//meta[@property='og:type']/@content").get() or "").strip().lower()
    if og_type == "article" or og_type.startswith("article:"):
        return Classification(PageKind.ARTICLE, "og_article")
    if url_filter is not None and url_filter.is_article_url(url):
        return Classification(PageKind.ARTICLE, "article_pattern")

    if feed_entry:
        return Classification(PageKind.UNKNOWN, "feed_entry")
    if types & INDEX_TYPES and not types - INDEX_TYPES - NEUTRAL_TYPES:
        return Classification(PageKind.INDEX, "jsonld_index", declared_only=True)
    if og_type == "website":
        if _DATED_SLUG.search(urlsplit(key).path):
            return Classification(PageKind.UNKNOWN, "og_website_dated_url")
        return Classification(PageKind.INDEX, "og_website", declared_only=True)
    if url_filter is not None and url_filter.has_article_pattern:
        return Classification(PageKind.INDEX, "article_pattern_mismatch")
    # A listing of teaser cards: three or more <article> elements on one page.
    if float(selector.xpath("count(//article)").get() or 0) >= 3:
        return Classification(PageKind.INDEX, "article_list")
    return Classification(PageKind.UNKNOWN, "no_signal")


# --------------------------------------------------------------------------- helpers


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _dedupe(urls: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(urls))
