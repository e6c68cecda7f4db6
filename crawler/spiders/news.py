"""The one generic news spider: discovers article pages of one configured `Source` and yields `Page`s.

Discovery: the source's feeds, its sitemaps (and those announced in robots.txt when it has
start URLs), and link following from its start URLs through sections and archive pagination.
Every fetched HTML page is classified cheaply (crawler.discovery.classify_page); candidate
articles are yielded as `crawler.records.Page`, index pages only feed link following.
Given `urls`, it fetches exactly those as article candidates and discovers nothing.

Touches the network only through Scrapy (downloader middlewares in crawler/middlewares.py
enforce the private-host guard and the max_pages budget). Reports through crawler stats
(`newsingest/...`) and `logging` events; extraction and spooling are item pipelines
added by the caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy import exceptions as sx
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import get_base_url
from twisted.internet import error as tx
from twisted.python.failure import Failure

from crawler.discovery import (
    PageKind,
    SitemapKind,
    UrlFilter,
    classify_page,
    extract_links,
    is_pagination_url,
    next_page_links,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
    robots_url,
    sitemap_body,
    url_key,
)
from crawler.middlewares import DOCUMENT_META, STAT_PAGES_FETCHED, PageBudgetExhausted, PrivateHostRefused
from crawler.records import Page
from crawler.settings import DEFAULT_MAX_LINK_DEPTH, MAX_LINK_DEPTH_SETTING
from ingest.config import Source

STAT_CANDIDATES = "newsingest/candidates"
STAT_INDEX_PAGES = "newsingest/index_pages"
STAT_FEEDS = "newsingest/feeds"
STAT_SITEMAPS = "newsingest/sitemaps"
STAT_ERRORS = "newsingest/errors/"  # + kind: http_404, timeout, dns, connection_refused, not_a_feed, ...
STAT_SKIPPED = "newsingest/skipped/"  # + kind: robots_forbidden, offsite, non_html, request_cap, max_pages
STAT_SKIPPED_NON_HTML = STAT_SKIPPED + "non_html"
STAT_SKIPPED_REQUEST_CAP = STAT_SKIPPED + "request_cap"
SKIP_KINDS = frozenset({"robots_forbidden", "offsite"})

# Scheduler priorities (higher first): discovery documents, then feed entries (newest news),
# then sitemap entries (newest first), then links breadth-first (minus the hop count).
PRIORITY_DOCUMENT = 30
PRIORITY_FEED_ENTRY = 20
PRIORITY_SITEMAP_ENTRY = 10

# Never build more page requests than this multiple of max_pages: a 50,000-URL sitemap with
# max_pages=100 should not allocate 50,000 Request objects the budget will refuse anyway.
REQUEST_CAP_FACTOR = 2
# Feeds and sitemaps are outside the page budget, but a site with one sitemap per day for
# twenty years must not cost 7,000 fetches: discovered documents (child sitemaps, sitemaps
# from robots.txt) are capped at this fraction of max_pages, with a floor. Configured ones always go.
DOCUMENT_CAP_FRACTION = 0.1
DOCUMENT_CAP_MIN = 20
STAT_SKIPPED_DOCUMENT_CAP = "newsingest/skipped/document_cap"


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, source: Source, urls: Sequence[str] | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source = source
        self.urls: tuple[str, ...] = tuple(urls or ())
        # Explicit --url fetches go wherever they point; discovery stays within the source's domains.
        self.allowed_domains = [] if self.urls else list(source.domains)
        self.url_filter = UrlFilter.for_source(source)
        # Only start URLs lead into link following; feed- and sitemap-only sources stay on their lists.
        self.follow = source.follow_links and bool(source.start_urls) and not self.urls
        self.max_pages = source.max_pages
        self.max_hops = DEFAULT_MAX_LINK_DEPTH
        self.max_size = 0
        self._seen: set[str] = set()
        self._page_requests = 0
        self._cap_logged = False
        self._discovered_documents = 0
        self.max_discovered_documents = max(DOCUMENT_CAP_MIN, int(source.max_pages * DOCUMENT_CAP_FRACTION))

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_hops = settings.getint(MAX_LINK_DEPTH_SETTING, DEFAULT_MAX_LINK_DEPTH)
        # Decompressing a gzipped sitemap or feed must obey the same limit as a download.
        spider.max_size = settings.getint("DOWNLOAD_MAXSIZE", 0)
        return spider

    # ------------------------------------------------------------------ start

    async def start(self) -> AsyncIterator[Request]:
        for request in self._start_requests():
            yield request

    def _start_requests(self) -> Iterator[Request]:
        source = self.source
        if self.urls:
            for url in self.urls:
                self._seen.add(url_key(url))
                request = self._page_request(url, via="url", hops=0, priority=0, allow_offsite=True)
                if request is not None:
                    yield request
            return
        for url in source.feeds:
            if self._mark(url):
                yield self._document_request(url, self.parse_feed)
        for url in source.sitemaps:
            if self._mark(url):
                yield self._document_request(url, self.parse_sitemap)
        if source.start_urls:
            for url in dict.fromkeys(robots_url(u) for u in (*source.start_urls, *source.feeds)):
                # Our own fetch (the robots middleware keeps its parse to itself); a missing
                # robots.txt is normal, so every status comes to the callback.
                yield Request(
                    url,
                    callback=self.parse_robots,
                    errback=self.on_error,
                    priority=PRIORITY_DOCUMENT,
                    meta={"dont_obey_robotstxt": True, "handle_httpstatus_all": True, "allow_offsite": True},
                )
            for url in source.start_urls:
                request = self._page_request(url, via="link", hops=0, priority=0, allow_offsite=True)
                if request is not None and self._mark(url):
                    yield request

    # ------------------------------------------------------------------ discovery documents

    def parse_robots(self, response: Response) -> Iterator[Request]:
        if response.status != 200:
            return
        for url in robots_sitemaps(response.body, response.url):
            if self.url_filter.allows_document(url) and self._mark(url):
                self.logger.debug("robots_sitemap", extra={"url": url, "robots_url": response.url})
                request = self._discovered_document_request(url, self.parse_sitemap)
                if request is None:
                    return
                yield request

    def parse_feed(self, response: Response) -> Iterator[Request]:
        feed = parse_feed(response.body, response.url, max_size=self.max_size)
        if feed is None:
            self._error("not_a_feed", response.url)
            return
        self.crawler.stats.inc_value(STAT_FEEDS)
        self.logger.debug(
            "feed_parsed", extra={"url": response.url, "format": str(feed.kind), "entries": len(feed.links)}
        )
        yield from self._candidate_requests(feed.links, via="feed", priority=PRIORITY_FEED_ENTRY)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        body = sitemap_body(response.body, max_size=self.max_size)
        parsed = parse_sitemap(body, response.url) if body is not None else None
        if parsed is None:
            self._error("not_a_sitemap", response.url)
            return
        self.crawler.stats.inc_value(STAT_SITEMAPS)
        self.logger.debug(
            "sitemap_parsed",
            extra={"url": response.url, "kind": str(parsed.kind), "entries": len(parsed.entries)},
        )
        if parsed.kind is SitemapKind.INDEX:
            for loc in parsed.locs:
                if self.url_filter.allows_document(loc) and self._mark(loc):
                    request = self._discovered_document_request(loc, self.parse_sitemap)
                    if request is None:
                        return
                    yield request
        else:
            # Sitemaps list sections and the homepage too; parse_page classifies each one.
            yield from self._candidate_requests(parsed.locs, via="sitemap", priority=PRIORITY_SITEMAP_ENTRY)

    # ------------------------------------------------------------------ pages

    def parse_page(self, response: Response) -> Iterator[Page | Request]:
        if not _is_html(response):
            self.crawler.stats.inc_value(STAT_SKIPPED_NON_HTML)
            self.logger.debug("skipped_non_html", extra={"url": response.url, "status": response.status})
            return
        self._seen.add(url_key(response.url))  # the redirect target, if any
        via: str = response.meta.get("via", "link")
        hops: int = response.meta.get("hops", 0)
        if via == "url":
            yield self._page(response, via)
            return

        selector = response.selector
        verdict = classify_page(
            selector, response.url, self.url_filter, self.source.start_urls, feed_entry=via == "feed"
        )
        is_index = verdict.kind is PageKind.INDEX
        if is_index:
            self.crawler.stats.inc_value(STAT_INDEX_PAGES)
            self.logger.debug("index_page", extra={"url": response.url, "reason": verdict.reason})
        else:
            # Unknown pages are yielded too: extraction makes the final call on text length.
            yield self._page(response, via)
            self.logger.debug(
                "candidate_page", extra={"url": response.url, "reason": verdict.reason, "via": via}
            )

        if self.follow:
            yield from self._follow_links(response, selector, hops, is_index)

    def _page(self, response: Response, via: str) -> Page:
        self.crawler.stats.inc_value(STAT_CANDIDATES)
        assert isinstance(response, TextResponse)
        return Page(
            url=response.url,
            source=self.source.name,
            html=response.text,
            status=response.status,
            fetched_at=datetime.now(UTC),
            discovered_via=via,
        )

    def _follow_links(
        self, response: Response, selector: Any, hops: int, is_index: bool
    ) -> Iterator[Request]:
        if not self._budget_left():
            return
        base = get_base_url(response)
        # Archive pagination of an index page does not count as a hop: page 7 of a section
        # is as close to the homepage as page 1.
        next_pages = set(next_page_links(selector, base)) if is_index else set()
        filt = self.url_filter
        seen = self._seen
        for link in extract_links(selector, base):
            # The seen check comes first and is a set lookup: building Request objects for
            # links already known is what costs (field notes: about 3x the throughput).
            if link in seen:
                continue
            if is_index and (link in next_pages or is_pagination_url(link)):
                new_hops = hops
            else:
                new_hops = hops + 1
                if new_hops > self.max_hops:
                    continue
            if not filt.allows_page(link):
                continue
            seen.add(link)
            # Breadth-first, and article-looking links before other pages at the same depth,
            # so a small max_pages is spent on articles rather than on tag archives.
            priority = -2 * new_hops + (1 if filt.likely_article_url(link) else 0)
            request = self._page_request(link, via="link", hops=new_hops, priority=priority)
            if request is None:
                return
            yield request

    # ------------------------------------------------------------------ errors

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        kind = error_kind(failure.value)
        if kind is None:
            return
        url = request.url if request is not None else None
        if kind in SKIP_KINDS:
            # Policy at work, not a failure: counted apart so the summary's errors stay meaningful.
            self.crawler.stats.inc_value(STAT_SKIPPED + kind)
            self.logger.debug("request_skipped", extra={"url": url, "kind": kind})
            return
        self._error(kind, url, detail=failure.getErrorMessage())

    def _error(self, kind: str, url: str | None, detail: str | None = None) -> None:
        self.crawler.stats.inc_value(STAT_ERRORS + kind)
        self.logger.debug("fetch_failed", extra={"url": url, "kind": kind, "detail": detail})

    # ------------------------------------------------------------------ request building

    def _mark(self, url: str) -> bool:
        """Add to the seen-set; False when already there."""
        key = url_key(url)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _budget_left(self) -> bool:
        return self.crawler.stats.get_value(STAT_PAGES_FETCHED, 0) < self.max_pages

    def _document_request(self, url: str, callback: Any) -> Request:
        # Feeds and sitemaps may live on a CDN host; the page URLs they list are still filtered.
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=PRIORITY_DOCUMENT,
            meta={"allow_offsite": True, DOCUMENT_META: True},
        )

    def _discovered_document_request(self, url: str, callback: Any) -> Request | None:
        if self._discovered_documents >= self.max_discovered_documents:
            self.crawler.stats.inc_value(STAT_SKIPPED_DOCUMENT_CAP)
            return None
        self._discovered_documents += 1
        return self._document_request(url, callback)

    def _candidate_requests(self, urls: Iterable[str], via: str, priority: int) -> Iterator[Request]:
        filt = self.url_filter
        for url in urls:
            if not self._budget_left():
                return
            key = url_key(url)
            if key in self._seen or not filt.allows_page(key):
                continue
            self._seen.add(key)
            request = self._page_request(key, via=via, hops=1, priority=priority)
            if request is None:
                return
            yield request

    def _page_request(
        self, url: str, via: str, hops: int, priority: int, allow_offsite: bool = False
    ) -> Request | None:
        if self._page_requests >= REQUEST_CAP_FACTOR * self.max_pages:
            self.crawler.stats.inc_value(STAT_SKIPPED_REQUEST_CAP)
            if not self._cap_logged:
                self._cap_logged = True
                self.logger.debug("request_cap_reached", extra={"requests": self._page_requests})
            return None
        self._page_requests += 1
        meta: dict[str, Any] = {"via": via, "hops": hops}
        if allow_offsite:
            meta["allow_offsite"] = True
        return Request(url, callback=self.parse_page, errback=self.on_error, priority=priority, meta=meta)


def _is_html(response: Response) -> bool:
    if isinstance(response, HtmlResponse):
        return True
    if not isinstance(response, TextResponse):
        return False
    # Some servers label HTML as text/plain or application/octet-stream-ish text.
    head = response.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def error_kind(exc: BaseException) -> str | None:
    """A short stat name for a failed request; None for refusals already counted by a middleware."""
    if isinstance(exc, (PrivateHostRefused, PageBudgetExhausted)):
        return None
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        message = str(exc).lower()
        if "robots.txt" in message:
            return "robots_forbidden"
        if "offsite" in message:
            return "offsite"
        return "ignored"
    if isinstance(exc, (sx.DownloadTimeoutError, tx.TimeoutError, tx.TCPTimedOutError)):
        return "timeout"
    if isinstance(exc, (sx.CannotResolveHostError, tx.DNSLookupError)):
        return "dns"
    if isinstance(exc, (sx.DownloadConnectionRefusedError, tx.ConnectionRefusedError)):
        return "connection_refused"
    if isinstance(exc, sx.DownloadCancelledError):
        return "too_large"
    if isinstance(exc, sx.ResponseDataLossError):
        return "data_loss"
    if isinstance(exc, (sx.DownloadFailedError, tx.ConnectError, tx.ConnectionLost)):
        return "connection_failed"
    return _snake(type(exc).__name__)


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
