"""The one generic news spider: discovers article pages of one configured `Source` and yields `Page`s.

Discovery: the source's feeds, its sitemaps (and those announced in robots.txt when it has
start URLs: read from the robots middleware's fetch, signal ROBOTS_TXT_READ, so robots.txt is fetched once
per host), the feeds its start pages and the index pages one hop from them announce in
<link rel=alternate> (capped per crawl, remembered in the fetch state), and link following from its
start URLs through sections and archive pagination. Every URL is normalised (crawler/urls.py) before
the seen-set and its request. An AMP page is not extracted: its canonical URL is fetched instead, the
AMP page standing in under that URL if the fetch fails. Pages an earlier crawl left over (a timed-out
page deferred to keep the schedule, crawler/slow_pages.py) are requested first.
Every fetched HTML page is classified cheaply (crawler.discovery.classify_page); candidate
articles are yielded as `crawler.records.Page`, index pages feed link following (and those that are
indexes by their declared type only, such as og:type=website, are yielded too: extraction decides).
Given `urls`, it fetches exactly those as article candidates and discovers nothing; those that mark
themselves as index pages are marked so (Page.index_reason), and extraction stores them only when their
text reads as one body, unless the caller asked for them as articles whatever they say (--as-article).

Incremental (crawler/fetch_state.py): given the earlier fetch state, feeds, sitemaps and pages
are requested conditionally (a 304 is not parsed) and known articles only when the revisit
policy says they are due or the site signals a change (a feed or sitemap date newer than our copy;
an undated listing that changed, whose known recent articles are then refetched conditionally, capped);
what this crawl observed is written to the spool's state/ directory when the spider closes.
Pages that stand in front of an article (consent walls, bot challenges, paywall stubs, JS shells;
crawler/interstitial.py) are counted as newsingest/not_article/<reason>.
With an archive directory, every article candidate's response is also kept as WARC (crawler/archive.py).

Touches the network only through Scrapy (downloader middlewares in crawler/middlewares.py and
crawler/politeness.py enforce the private-host guard, the max_pages budget, Crawl-delay and
backoff), the spool's state/ directory and the archive. Reports through crawler stats
(`newsingest/...`) and `logging` events; extraction and spooling are item pipelines
added by the caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Container, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy import exceptions as sx
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.selector import Selector
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import get_base_url
from twisted.internet import error as tx
from twisted.python.failure import Failure

from crawler.archive import WarcArchive
from crawler.discovery import (
    PageKind,
    SitemapKind,
    UrlFilter,
    amp_canonical,
    classify_page,
    classify_url,
    extract_links,
    feed_links,
    is_pagination_url,
    next_page_links,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
    robots_url,
    sitemap_body,
    url_key,
)
from crawler.fetch_state import (
    DISCOVERED_FEED_STATUS,
    KIND_DOCUMENT,
    KIND_PAGE,
    SITEMAP_INDEX_STATUS,
    FetchState,
    FetchStateBook,
    RevisitPolicy,
    recheck_cap,
)
from crawler.interstitial import stand_in_reason
from crawler.middlewares import DOCUMENT_META, STAT_PAGES_FETCHED, PageBudgetExhausted, PrivateHostRefused
from crawler.politeness import ROBOTS_TXT_READ, CrawlStopping, HostPaused
from crawler.records import Page
from crawler.settings import (
    ARCHIVE_DIR_SETTING,
    ARCHIVE_MAX_BYTES_SETTING,
    DEFAULT_MAX_LINK_DEPTH,
    INCREMENTAL_SETTING,
    MAX_LINK_DEPTH_SETTING,
    REVISIT_FLOOR_SETTING,
    REVISIT_MAX_SETTING,
    REVISIT_MIN_SETTING,
    REVISIT_WINDOW_SETTING,
    URL_AS_ARTICLE_SETTING,
)
from crawler.slow_pages import SlowPageDeferred
from ingest.config import Source

STAT_CANDIDATES = "newsingest/candidates"
STAT_INDEX_PAGES = "newsingest/index_pages"
STAT_FEEDS = "newsingest/feeds"
STAT_SITEMAPS = "newsingest/sitemaps"
STAT_ERRORS = "newsingest/errors/"  # + kind: http_404, timeout, dns, connection_refused, not_a_feed, ...
# Requests (pages, feeds, sitemaps) that got no usable response: weighed against pages fetched for the run's status.
STAT_FETCH_FAILURES = "newsingest/fetch_failures"
STAT_SKIPPED = "newsingest/skipped/"  # + kind: robots_forbidden, offsite, non_html, request_cap, max_pages
STAT_SKIPPED_NON_HTML = STAT_SKIPPED + "non_html"
STAT_SKIPPED_REQUEST_CAP = STAT_SKIPPED + "request_cap"
SKIP_KINDS = frozenset({"robots_forbidden", "offsite"})
STAT_NOT_ARTICLE = "newsingest/not_article/"  # + reason: consent_wall, bot_challenge, paywall, js_shell, ...
STAT_NOT_MODIFIED = "newsingest/not_modified"
STAT_SKIPPED_NOT_DUE = "newsingest/skipped/not_due"
# Known articles refetched (conditionally) because an undated listing linking to them changed.
STAT_RECHECKED = "newsingest/rechecked"
# Failures that are limits we set: logged as limit_reached so an operator sees which one bites.
LIMIT_KINDS = frozenset({"too_large", "timeout", "max_redirects"})

# Scheduler priorities (higher first): discovery documents, then feed entries (newest news),
# then sitemap entries (newest first), then links breadth-first (minus the hop count).
PRIORITY_LEFT_OVER = 40  # pages an earlier crawl left over (a timed-out page deferred to keep the schedule)
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
# Feeds announced by <link rel=alternate> (crawler.discovery.feed_links) on start pages and on index pages
# this many hops from them. A site's main and section feeds are a handful; a template announcing one per
# tag must not turn each crawl into hundreds of feed fetches, so at most MAX_DISCOVERED_FEEDS per crawl.
FEED_DISCOVERY_HOPS = 1
MAX_DISCOVERED_FEEDS = 10
STAT_FEEDS_DISCOVERED = "newsingest/feeds_discovered"
STAT_SKIPPED_FEED_CAP = "newsingest/skipped/feed_cap"
DISCOVERED_FEED_META = "discovered_feed"
# An AMP page whose canonical URL was requested instead: the page to extract (under the canonical URL)
# should that request fail.
AMP_FALLBACK_META = "amp_fallback"
STAT_AMP_CANONICAL = "newsingest/amp_canonical"


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, source: Source, urls: Sequence[str] | None = None,
                 fetch_state: dict[str, FetchState] | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.previous_state = fetch_state
        self.fetch_states: FetchStateBook | None = None  # set by from_crawler when incremental
        self.archive: WarcArchive | None = None
        self.started_at = datetime.now(UTC)
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
        # Known articles seen but not requested (not due): a changed listing found later may still recheck them.
        self._passed_over: set[str] = set()
        self._page_requests = 0
        self._cap_logged = False
        self._discovered_documents = 0
        self._discovered_feeds = 0
        # robots.txt URLs whose Sitemap: lines discovery reads: the hosts of the start URLs and feeds.
        self._robots_wanted: set[str] = set()
        self.max_discovered_documents = max(DOCUMENT_CAP_MIN, int(source.max_pages * DOCUMENT_CAP_FRACTION))
        self._rechecked = 0
        self.max_rechecks = recheck_cap(source.max_pages)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_hops = settings.getint(MAX_LINK_DEPTH_SETTING, DEFAULT_MAX_LINK_DEPTH)
        # Decompressing a gzipped sitemap or feed must obey the same limit as a download.
        spider.max_size = settings.getint("DOWNLOAD_MAXSIZE", 0)
        if spider.source.start_urls and not spider.urls:
            spider._robots_wanted = {url_key(robots_url(u)) for u in (*spider.source.start_urls,
                                                                       *spider.source.feeds)}
            # The robots middleware fetches each host's robots.txt before its first request: its body comes
            # here, so robots.txt is fetched once per host (the spider fetches it only when robots are ignored).
            crawler.signals.connect(spider.robots_txt_read, signal=ROBOTS_TXT_READ)
        if settings.getbool(INCREMENTAL_SETTING, False):
            policy = RevisitPolicy(
                window=settings.getfloat(REVISIT_WINDOW_SETTING, 48 * 3600.0),
                min_interval=settings.getfloat(REVISIT_MIN_SETTING, 3600.0),
                max_interval=settings.getfloat(REVISIT_MAX_SETTING, 24 * 3600.0),
                floor=settings.getfloat(REVISIT_FLOOR_SETTING, 300.0),
            )
            spider.fetch_states = FetchStateBook(spider.source.name, spider.previous_state, policy)
        archive_dir = settings.get(ARCHIVE_DIR_SETTING)
        if archive_dir:
            spider.archive = WarcArchive(Path(archive_dir), spider.source.name,
                                         settings.get("NEWSINGEST_RUN_ID") or "run",
                                         settings.getint(ARCHIVE_MAX_BYTES_SETTING, 100 * 1024 * 1024))
        return spider

    def closed(self, reason: str) -> None:
        if self.archive is not None:
            self.archive.close()
        spool_dir = self.settings.get("NEWSINGEST_SPOOL_DIR")
        stats = self.crawler.stats
        # A crawl cut short (a cap, the time budget, a stop) left links of the listings it read unfollowed:
        # their validators must not make the next crawl skip them as unchanged.
        if self.fetch_states is not None and (
            stats.get_value("newsingest/skipped/max_pages") or stats.get_value(STAT_SKIPPED_REQUEST_CAP)
            or stats.get_value(STAT_SKIPPED_DOCUMENT_CAP) or reason != "finished"
        ):
            self.fetch_states.forget_listing_validators()
        if self.fetch_states is not None and spool_dir:
            path = self.fetch_states.write(Path(spool_dir), self.settings.get("NEWSINGEST_RUN_ID") or "run")
            if path is not None:
                self.logger.info("fetch_state_written",
                                 extra={"file": str(path), "urls": len(self.fetch_states.updates)})

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
        yield from self._left_over_requests()
        for url in source.feeds:
            if self._mark(url):
                yield self._document_request(url, self.parse_feed)
        for url in source.sitemaps:
            if self._mark(url):
                yield self._document_request(url, self.parse_sitemap)
        if source.start_urls and self.fetch_states is not None:
            # Feeds found on the start pages (or the index pages near them) in earlier crawls: read even when
            # the page announcing them is unchanged (304) or no longer fetched within the page budget.
            for url in self.fetch_states.discovered_feeds():
                request = self._discovered_feed_request(url, None)
                if request is not None:
                    yield request
        if source.start_urls:
            # With robots.txt obeyed, the robots middleware's fetch serves (robots_txt_read).
            own_fetch = () if self.settings.getbool("ROBOTSTXT_OBEY") else dict.fromkeys(
                robots_url(url_key(u)) for u in (*source.start_urls, *source.feeds))
            for url in own_fetch:
                # A missing robots.txt is normal, so every status comes to the callback.
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

    def _left_over_requests(self) -> Iterator[Request]:
        for url in self.fetch_states.left_over_urls() if self.fetch_states is not None else ():
            if self.url_filter.allows_page(url) and self._mark(url):
                request = self._page_request(url, via="link", hops=1, priority=PRIORITY_LEFT_OVER)
                if request is None:
                    return
                yield request

    # ------------------------------------------------------------------ discovery documents

    def robots_txt_read(self, body: bytes, url: str, base_url: str) -> None:
        """The robots middleware read a host's robots.txt (2xx): the sitemaps it announces are discovery's."""
        key = url_key(url)
        if key not in self._robots_wanted or self.crawler.engine is None:
            return
        self._robots_wanted.discard(key)
        for request in self._robots_sitemap_requests(body, base_url):
            self.crawler.engine.crawl(request)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        if response.status != 200:
            return
        yield from self._robots_sitemap_requests(response.body, response.url)

    def _robots_sitemap_requests(self, body: bytes, robots_txt_url: str) -> Iterator[Request]:
        for url in robots_sitemaps(body, robots_txt_url):
            if self.url_filter.allows_document(url) and self._mark(url):
                self.logger.debug("robots_sitemap", extra={"url": url, "robots_url": robots_txt_url})
                request = self._discovered_document_request(url, self.parse_sitemap)
                if request is None:
                    return
                yield request

    def parse_feed(self, response: Response) -> Iterator[Request]:
        if self._not_modified(response, KIND_DOCUMENT):
            self._remember_discovered_feed(response)
            return
        feed = parse_feed(response.body, response.url, max_size=self.max_size)
        if feed is None:
            self._error("not_a_feed", response.url)
            return
        self._observe(response, KIND_DOCUMENT)
        self._remember_discovered_feed(response)
        self.crawler.stats.inc_value(STAT_FEEDS)
        self.logger.debug(
            "feed_parsed", extra={"url": response.url, "format": str(feed.kind), "entries": len(feed.links)}
        )
        yield from self._candidate_requests(feed.links, via="feed", priority=PRIORITY_FEED_ENTRY,
                                            lastmods=feed.dates, recheck=self._listing_changed(response.url),
                                            change_dated=feed.modified)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if self._not_modified(response, KIND_DOCUMENT):
            return
        body = sitemap_body(response.body, max_size=self.max_size)
        parsed = parse_sitemap(body, response.url) if body is not None else None
        if parsed is None:
            self._error("not_a_sitemap", response.url)
            return
        self._observe(response, KIND_DOCUMENT)
        self.crawler.stats.inc_value(STAT_SITEMAPS)
        self.logger.debug(
            "sitemap_parsed",
            extra={"url": response.url, "kind": str(parsed.kind), "entries": len(parsed.entries)},
        )
        if parsed.kind is SitemapKind.INDEX:
            if self.fetch_states is not None:
                # Always fetched in full: a 304 would hide which child sitemap changed.
                self.fetch_states.status(response.url, SITEMAP_INDEX_STATUS, datetime.now(UTC))
            for loc in parsed.locs:
                if self.url_filter.allows_document(loc) and self._mark(loc):
                    request = self._discovered_document_request(loc, self.parse_sitemap)
                    if request is None:
                        return
                    yield request
        else:
            # Sitemaps list sections and the homepage too; parse_page classifies each one.
            lastmods = {e.loc: e.lastmod for e in parsed.entries if e.lastmod is not None}
            yield from self._candidate_requests(parsed.locs, via="sitemap", priority=PRIORITY_SITEMAP_ENTRY,
                                                lastmods=lastmods, recheck=self._listing_changed(response.url))

    # ------------------------------------------------------------------ pages

    def parse_page(self, response: Response) -> Iterator[Page | Request]:
        self._observe_redirects(response)
        if self._not_modified(response, KIND_PAGE):
            yield from self._remembered_pagination(response)
            return
        if not _is_html(response):
            self.crawler.stats.inc_value(STAT_SKIPPED_NON_HTML)
            self.logger.debug("skipped_non_html", extra={"url": response.url, "status": response.status})
            return
        self._seen.add(url_key(response.url))  # the redirect target, if any
        via: str = response.meta.get("via", "link")
        hops: int = response.meta.get("hops", 0)
        page, links, requests = self._examine(response, via, hops)
        yield from requests
        if page is not None:
            yield page
        yield from self._follow_links(links, hops, recheck=self._listing_changed(response.url))

    def _examine(self, response: Response, via: str, hops: int
                 ) -> tuple[Page | None, list[tuple[str, bool]], list[Request]]:
        """The page to extract (None for an index page by its URL's role, or a stand-in), its links to
        follow, each with whether it keeps the hop count (pagination of an index page), and other requests
        it leads to (feeds it announces, the canonical URL of an AMP page). A page that is an
        index by its declared type only is both: extracted, and its links followed as an index page's.

        The parsed tree lives only in here: a page then waits for an extraction worker holding its text
        alone, not a tree several times that size (with 32 downloads in flight, hundreds of MB)."""
        if not self.follow and via in ("feed", "sitemap") and self._article_by_url(response.url):
            # Nothing here needs the page's tree: its URL makes it an article and no links are wanted.
            # The extraction worker, which parses the page anyway, checks it for stand-ins.
            self._observe(response, KIND_PAGE, hash_body=False)
            return self._page(response, via), [], []
        selector = Selector(response=response)
        if via == "url":
            reason = stand_in_reason(selector, response.status)
            if reason is not None:
                self._not_article(response, reason)
                return None, [], []
            self._observe(response, KIND_PAGE, hash_body=False)
            return self._url_page(response, selector), [], []
        if AMP_FALLBACK_META not in response.meta:  # not when the canonical URL led back here
            canonical = amp_canonical(selector, get_base_url(response))
            if canonical is not None and canonical != url_key(response.url) and self.url_filter.allows_page(canonical):
                return None, [], self._canonical_instead(response, canonical, via, hops)

        page = None
        verdict = classify_page(
            selector, response.url, self.url_filter, self.source.start_urls, feed_entry=via == "feed"
        )
        is_index = verdict.kind is PageKind.INDEX
        requests = self._announced_feeds(selector, response) if is_index and hops <= FEED_DISCOVERY_HOPS else []
        if is_index:
            self.crawler.stats.inc_value(STAT_INDEX_PAGES)
            self.logger.debug("index_page", extra={"url": response.url, "reason": verdict.reason})
        if is_index and verdict.declared_only:
            # Only its declared type calls it an index, and templates declare "website" on article pages
            # too: extraction weighs that against the text. Stand-ins are caught there as well. Its text
            # hash, not its bytes, goes into the fetch state (the pipeline records it, as for candidates),
            # so an article found here is compared by text next time like any other.
            self._observe(response, KIND_PAGE, hash_body=False)
            page = self._page(response, via)
        elif is_index:
            self._observe(response, KIND_PAGE)
        else:
            reason = stand_in_reason(selector, response.status)
            if reason is not None:
                self._not_article(response, reason)
                return None, [], requests
            # Unknown pages are extracted too: extraction makes the final call on text length;
            # the pipeline records the article's text hash in the fetch state.
            self._observe(response, KIND_PAGE, hash_body=False)
            page = self._page(response, via)
            self.logger.debug(
                "candidate_page", extra={"url": response.url, "reason": verdict.reason, "via": via}
            )
        base = get_base_url(response)
        next_pages = set(next_page_links(selector, base)) if is_index else set()
        if is_index and self.fetch_states is not None:
            self.fetch_states.pagination(response.url, next_pages)
        if not self.follow or not self._budget_left():
            return page, [], requests
        # Archive pagination of an index page does not count as a hop: page 7 of a section
        # is as close to the homepage as page 1.
        links = [(link, is_index and (link in next_pages or is_pagination_url(link)))
                 for link in extract_links(selector, base) if link not in self._seen or link in self._passed_over]
        return page, links, requests

    def _remembered_pagination(self, response: Response) -> Iterator[Request]:
        """An unchanged (304) index page's older pages, which may have changed: followed as when it was read."""
        if self.follow and self.fetch_states is not None and self._budget_left():
            links = [(link, True) for link in self.fetch_states.next_pages(response.url)]
            yield from self._follow_links(links, response.meta.get("hops", 0))

    def _announced_feeds(self, selector: Selector, response: Response) -> list[Request]:
        """Requests for the feeds an index page near the start pages announces (feed_links): on the source's
        domains only (a feed elsewhere lists another site's stories, or is a hosting service's copy of this
        one the operator can configure), not denied, not already known, within MAX_DISCOVERED_FEEDS."""
        if not self.source.start_urls:
            return []
        requests = []
        for url in feed_links(selector, get_base_url(response)):
            if url in self._seen or not (self.url_filter.on_site(url) and self.url_filter.allows_document(url)):
                continue
            request = self._discovered_feed_request(url, response.url)
            if request is not None:
                requests.append(request)
        return requests

    def _discovered_feed_request(self, url: str, page: str | None) -> Request | None:
        """A request for a feed found on `page` (None: remembered from an earlier crawl); None over the cap."""
        if url_key(url) in self._seen:
            return None
        if self._discovered_feeds >= MAX_DISCOVERED_FEEDS:
            self.crawler.stats.inc_value(STAT_SKIPPED_FEED_CAP)
            return None
        self._mark(url)
        self._discovered_feeds += 1
        if page is not None:
            self.crawler.stats.inc_value(STAT_FEEDS_DISCOVERED)
            self.logger.info("feed_discovered", extra={"url": url, "page": page, "source": self.source.name})
        request = self._document_request(url, self.parse_feed)
        request.meta[DISCOVERED_FEED_META] = True
        return request

    def _remember_discovered_feed(self, response: Response) -> None:
        if response.meta.get(DISCOVERED_FEED_META) and self.fetch_states is not None:
            self.fetch_states.status(response.url, DISCOVERED_FEED_STATUS, datetime.now(UTC))

    def _canonical_instead(self, response: Response, canonical: str, via: str, hops: int) -> list[Request]:
        """An AMP page: its article is stored under its canonical URL, so that is fetched instead (unless
        already known, or not due), and the AMP page waits in the request to be extracted under the
        canonical URL should that fetch fail."""
        self._observe(response, KIND_PAGE)
        self.crawler.stats.inc_value(STAT_AMP_CANONICAL)
        self.logger.debug("amp_canonical", extra={"url": response.url, "canonical": canonical})
        if not self._mark(canonical) or self._not_due(canonical):
            return []
        assert isinstance(response, TextResponse)
        fallback = Page(url=canonical, source=self.source.name, html=response.text, status=response.status,
                        fetched_at=datetime.now(UTC), discovered_via=via)
        request = self._page_request(canonical, via=via, hops=hops, priority=response.request.priority + 1
                                     if response.request is not None else 0)
        if request is None:
            return []
        request.meta[AMP_FALLBACK_META] = fallback
        return [request.replace(errback=self.on_canonical_error)]

    def _url_page(self, response: Response, selector: Selector) -> Page:
        """A page given by --url, with classify_page's index verdict for extraction (which stores an index
        page only if its text reads as one body), or marked to be stored whatever it declares."""
        page = self._page(response, "url")
        if self.settings.getbool(URL_AS_ARTICLE_SETTING, False):
            page.as_article = True
            return page
        # No start URLs: every --url is one, and would be called an index for that alone.
        verdict = classify_page(selector, response.url, self.url_filter)
        if verdict.kind is PageKind.INDEX:
            page.index_reason = verdict.reason
        return page

    def _page(self, response: Response, via: str) -> Page:
        self.crawler.stats.inc_value(STAT_CANDIDATES)
        assert isinstance(response, TextResponse)
        fetched_at = datetime.now(UTC)
        if self.archive is not None:
            headers = [(k, v) for k, values in response.headers.items() for v in values]
            self.archive.write(response.url, response.status, headers, response.body, fetched_at, via)
        return Page(
            url=response.url,
            source=self.source.name,
            html=response.text,
            status=response.status,
            fetched_at=fetched_at,
            discovered_via=via,
        )

    # ------------------------------------------------------------------ fetch state

    def _not_modified(self, response: Response, kind: str) -> bool:
        """True for a 304: recorded as unchanged, and nothing to parse."""
        if response.status != 304:
            return False
        self.crawler.stats.inc_value(STAT_NOT_MODIFIED)
        if self.fetch_states is not None:
            self.fetch_states.response(response.url, kind, 304, response.headers, None, datetime.now(UTC))
        self.logger.debug("not_modified", extra={"url": response.url})
        return True

    def _observe_redirects(self, response: Response) -> None:
        redirects = response.meta.get("redirect_urls")
        if redirects and self.fetch_states is not None:
            self.fetch_states.redirected(redirects, response.url, datetime.now(UTC))

    def _observe(self, response: Response, kind: str, hash_body: bool = True) -> None:
        if self.fetch_states is not None:
            body = response.body if hash_body else None
            self.fetch_states.response(response.url, kind, response.status, response.headers, body, datetime.now(UTC))

    def _not_article(self, response: Response, reason: str) -> None:
        self.crawler.stats.inc_value(STAT_NOT_ARTICLE + reason)
        if self.fetch_states is not None:
            now = datetime.now(UTC)
            self.fetch_states.response(response.url, KIND_PAGE, response.status, response.headers, None, now)
            self.fetch_states.status(response.url, f"not_article:{reason}", now)
        self.logger.info("page_not_article", extra={"url": response.url, "reason": reason, "source": self.source.name})

    def _not_due(self, url: str, lastmod: datetime | None = None,
                 held: list[tuple[datetime, str]] | None = None, change_dated: bool | None = None) -> bool:
        """A known article the revisit policy does not want yet. With `held` (the links of a listing that
        changed), one whose listing gives no change date of its own (`change_dated`: by default, any date)
        may have changed with it, and is added there instead."""
        if self.fetch_states is None or self.fetch_states.should_fetch_article(url, self.started_at, lastmod):
            return False
        if change_dated is None:
            change_dated = lastmod is not None
        order = self.fetch_states.recheck_order(url, self.started_at) if held is not None and not change_dated else None
        if order is not None:
            held.append((order, url))
            self._passed_over.discard(url)
        elif url not in self._passed_over:
            self._passed_over.add(url)
            self.crawler.stats.inc_value(STAT_SKIPPED_NOT_DUE)
        return True

    def _already_seen(self, url: str, recheck: bool) -> bool:
        """Seen in this crawl, and not a known article passed over that a changed listing may recheck."""
        return url in self._seen and not (recheck and url in self._passed_over)

    def _listing_changed(self, url: str) -> bool:
        return self.fetch_states is not None and self.fetch_states.listing_changed(url)

    def _rechecks(self, held: list[tuple[datetime, str]], via: str, hops: dict[str, int],
                  priority: dict[str, int]) -> Iterator[Request]:
        """Conditional requests for held known articles, newest first, within the crawl's recheck cap."""
        for _, url in sorted(held, reverse=True):
            if self._rechecked >= self.max_rechecks or not self._budget_left():
                self.crawler.stats.inc_value(STAT_SKIPPED_NOT_DUE)
                continue
            self._rechecked += 1
            self.crawler.stats.inc_value(STAT_RECHECKED)
            request = self._page_request(url, via=via, hops=hops[url], priority=priority[url])
            if request is None:
                return
            yield request

    def _conditional(self, url: str, meta: dict[str, Any]) -> dict[str, str]:
        if self.fetch_states is None:
            return {}
        headers = self.fetch_states.conditional_headers(url)
        if headers:
            meta["handle_httpstatus_list"] = [304]
        return headers

    def _article_by_url(self, url: str) -> bool:
        """classify_page's verdict for this URL is article whatever the page holds."""
        return self.url_filter.is_article_url(url) and classify_url(url, self.source.start_urls) is None

    def _follow_links(self, links: list[tuple[str, bool]], hops: int, recheck: bool = False) -> Iterator[Request]:
        filt = self.url_filter
        seen = self._seen
        held: list[tuple[datetime, str]] | None = [] if recheck else None
        held_hops: dict[str, int] = {}
        for link, same_depth in links:
            # The seen check comes first and is a set lookup: building Request objects for
            # links already known is what costs (field notes: about 3x the throughput).
            if link in seen:
                if self._already_seen(link, recheck):
                    continue
                self._not_due(link, held=held)
                held_hops[link] = hops + (0 if same_depth else 1)
                continue
            if same_depth:
                new_hops = hops
            else:
                new_hops = hops + 1
                if new_hops > self.max_hops:
                    continue
            if not filt.allows_page(link):
                continue
            seen.add(link)
            if self._not_due(link, held=held):
                held_hops[link] = new_hops
                continue
            # Breadth-first, and article-looking links before other pages at the same depth,
            # so a small max_pages is spent on articles rather than on tag archives.
            priority = -2 * new_hops + (1 if filt.likely_article_url(link) else 0)
            request = self._page_request(link, via="link", hops=new_hops, priority=priority)
            if request is None:
                return
            yield request
        if held:
            yield from self._rechecks(held, "link", held_hops, {u: -2 * h + 1 for u, h in held_hops.items()})

    # ------------------------------------------------------------------ errors

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        exc = failure.value
        if isinstance(exc, HttpError) and isinstance(exc.response, TextResponse):
            # A bot challenge usually comes as 403 or 503: a page standing in for the article, not a site error.
            if stand_in_reason(Selector(response=exc.response), exc.response.status) == "bot_challenge":
                self._not_article(exc.response, "bot_challenge")
                # Refused all the same: a site that challenges every request must not look healthy.
                self.crawler.stats.inc_value(STAT_FETCH_FAILURES)
                return
        if isinstance(exc, SlowPageDeferred) and request is not None:
            # Not a failure: kept for the next crawl, which asks for it first.
            if self.fetch_states is not None and not request.meta.get(DOCUMENT_META):
                self.fetch_states.left_over(request.url, "timeout", datetime.now(UTC))
            return
        kind = error_kind(exc)
        if kind is None:
            return
        url = request.url if request is not None else None
        if kind in SKIP_KINDS:
            # Policy at work, not a failure: counted apart so the summary's errors stay meaningful.
            self.crawler.stats.inc_value(STAT_SKIPPED + kind)
            self.logger.debug("request_skipped", extra={"url": url, "kind": kind})
            return
        self.crawler.stats.inc_value(STAT_FETCH_FAILURES)
        self._error(kind, url, detail=failure.getErrorMessage())
        if self.fetch_states is not None and url is not None:
            self.fetch_states.failure(url, kind, datetime.now(UTC))

    def on_canonical_error(self, failure: Failure) -> Iterator[Page]:
        """The canonical URL of an AMP page could not be fetched: the AMP page stands in for it."""
        self.on_error(failure)
        request = getattr(failure, "request", None)
        page = request.meta.get(AMP_FALLBACK_META) if request is not None else None
        if isinstance(page, Page):
            self.crawler.stats.inc_value(STAT_CANDIDATES)
            yield page

    def _error(self, kind: str, url: str | None, detail: str | None = None) -> None:
        self.crawler.stats.inc_value(STAT_ERRORS + kind)
        if kind in LIMIT_KINDS:
            self.logger.warning("limit_reached", extra={"url": url, "limit": kind, "detail": detail})
        else:
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
        meta: dict[str, Any] = {"allow_offsite": True, DOCUMENT_META: True}
        url = url_key(url)
        headers = self._conditional(url, meta)
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=PRIORITY_DOCUMENT,
            meta=meta,
            headers=headers or None,
        )

    def _discovered_document_request(self, url: str, callback: Any) -> Request | None:
        if self._discovered_documents >= self.max_discovered_documents:
            self.crawler.stats.inc_value(STAT_SKIPPED_DOCUMENT_CAP)
            return None
        self._discovered_documents += 1
        return self._document_request(url, callback)

    def _candidate_requests(self, urls: Iterable[str], via: str, priority: int,
                            lastmods: dict[str, datetime] | None = None, recheck: bool = False,
                            change_dated: Container[str] | None = None) -> Iterator[Request]:
        """`change_dated`: the URLs whose date in `lastmods` is a change date (None: all of them)."""
        filt = self.url_filter
        lastmods = lastmods or {}
        held: list[tuple[datetime, str]] | None = [] if recheck else None
        for url in urls:
            if not self._budget_left():
                return
            key = url_key(url)
            lastmod = lastmods.get(url)
            dated = lastmod is not None and (change_dated is None or url in change_dated)
            if key in self._seen and not self._already_seen(key, recheck):
                self._not_due(key, lastmod, held, dated)
                continue
            if key in self._seen or not filt.allows_page(key):
                continue
            self._seen.add(key)
            if self._not_due(key, lastmod, held, dated):
                continue
            request = self._page_request(key, via=via, hops=1, priority=priority)
            if request is None:
                return
            yield request
        if held:
            yield from self._rechecks(held, via, dict.fromkeys((u for _, u in held), 1),
                                      dict.fromkeys((u for _, u in held), priority))

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
        if via != "url":  # an explicit --url is fetched as given
            url = url_key(url)
        meta: dict[str, Any] = {"via": via, "hops": hops}
        if allow_offsite:
            meta["allow_offsite"] = True
        # Start pages (hop 0) are always fetched in full, as a sitemap index is: a 304 would hide which of
        # the sections they link to changed.
        headers = self._conditional(url, meta) if via != "url" and hops > 0 else {}
        return Request(url, callback=self.parse_page, errback=self.on_error, priority=priority, meta=meta,
                       headers=headers or None)


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
    if isinstance(exc, (PrivateHostRefused, PageBudgetExhausted, HostPaused, CrawlStopping, SlowPageDeferred,
                        sx.StopDownload)):
        return None  # counted where they happen (middleware, content-type filter)
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        message = str(exc).lower()
        if "robots.txt" in message:
            return "robots_forbidden"
        if "offsite" in message:
            return "offsite"
        if "max redirections" in message:
            return "max_redirects"
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
