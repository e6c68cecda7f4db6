"""Politeness and limits beyond what Scrapy does by itself: robots.txt for every request (a fix of
Scrapy's middleware), Crawl-delay, Retry-After, exponential backoff, pausing a host that keeps
failing, refusing bodies we do not parse, and a graceful stop that does not wait for delays.

- `RobotsTxt` (replaces Scrapy's RobotsTxtMiddleware): see its docstring for the bug it fixes.
  It also reads only the first ROBOTS_TXT_MAX_BYTES of a robots.txt, as Google does, and hands each
  robots.txt it read to whoever listens (signal ROBOTS_TXT_READ: the spider takes its Sitemap: lines), so a
  host's robots.txt is fetched once per crawl.
- `CrawlDelay` (downloader middleware): Scrapy parses robots.txt (Protego) but ignores its
  Crawl-delay; this applies it to the host's download slot, without jitter, and re-asserts it
  after AutoThrottle adjusts the slot. A Crawl-delay over NEWSINGEST_MAX_CRAWL_DELAY pauses the
  host for the run instead (`host_paused`, reason crawl_delay_<seconds>s).
- `PoliteRetry` (replaces Scrapy's RetryMiddleware): 429 and 503 wait for Retry-After; other
  retryable failures back off exponentially; both pause the whole host (its download slot), not
  only the retried request. After NEWSINGEST_HOST_FAILURE_LIMIT consecutive failures a host is
  paused for the rest of the run: `host_paused` warning, stat newsingest/errors/host_paused. Timed-out
  pages are retried by crawler/slow_pages.py (once, last), which counts them here as host failures.
- `ContentTypeFilter` (listed as a downloader middleware, it only connects the headers_received
  signal): stops a download once its headers show a type we never parse (PDF, images, video ...),
  so only the headers cross the wire.
- `StopPromptly` (downloader middleware): when the crawl starts closing, requests still waiting
  for their turn in a download slot are dropped instead of awaited (see its docstring).

All are built from settings (from_crawler). They touch only Scrapy's downloader state; they
report through crawler stats (newsingest/...) and `logging` events.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

HOST_FAILURE_LIMIT_SETTING = "NEWSINGEST_HOST_FAILURE_LIMIT"
RETRY_BACKOFF_SETTING = "NEWSINGEST_RETRY_BACKOFF"  # seconds before the first retry; doubles each time
RETRY_BACKOFF_MAX_SETTING = "NEWSINGEST_RETRY_BACKOFF_MAX"
RETRY_AFTER_MAX_SETTING = "NEWSINGEST_RETRY_AFTER_MAX"
MAX_CRAWL_DELAY_SETTING = "NEWSINGEST_MAX_CRAWL_DELAY"
# Google reads the first 500 KiB of a robots.txt and ignores the rest; a 9 MB one (300,000 rules) took a
# crawl to 636 MB and slowed every request, since each is matched against every rule.
ROBOTS_TXT_MAX_BYTES = 500 * 1024

STAT_HOST_PAUSED = "newsingest/errors/host_paused"
STAT_SKIPPED_HOST_PAUSED = "newsingest/skipped/host_paused"
STAT_SKIPPED_CONTENT_TYPE = "newsingest/skipped/non_html"
STAT_CRAWL_DELAY = "newsingest/crawl_delay_hosts"
STAT_RETRY_AFTER = "newsingest/retry_after"
STAT_ROBOTS_TRUNCATED = "newsingest/robots_txt_truncated"
STAT_ROBOTS_REUSED = "newsingest/robots_txt_reused"
# Seconds a robots.txt is reused by the later crawls of the same process (the crawl engine's); 0: each crawl
# fetches its own. Kept: 2xx answers, and 4xx ones (no rules: all allowed) but 429, which says "slow down".
ROBOTS_REUSE_SETTING = "NEWSINGEST_ROBOTS_REUSE_SECONDS"
_ROBOTS_REUSE_MAX_BYTES = 64 * 1024 * 1024  # bodies kept at once, over every host; the oldest go first
# Signal sent once per host and crawl with a robots.txt that answered 2xx (fetched, or reused from an earlier
# crawl): body (bytes, as read), url (scheme://netloc/robots.txt, as asked for), base_url (where it was served).
ROBOTS_TXT_READ = object()


class _ReusableRobots:
    """robots.txt bodies by host, as read (truncated): each crawl parses its own copy, since a parser holds
    on to the crawl that built it."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        # netloc -> (time.monotonic() read, body, status)
        self._entries: dict[str, tuple[float, bytes, int]] = {}

    def get(self, netloc: str, max_age: float) -> tuple[bytes, int] | None:
        entry = self._entries.get(netloc)
        if entry is None or time.monotonic() - entry[0] >= max_age:
            return None
        return entry[1], entry[2]

    def put(self, netloc: str, body: bytes, status: int = 200) -> None:
        self._drop(netloc)
        while self._entries and self.bytes + len(body) > self.max_bytes:
            self._drop(next(iter(self._entries)))
        self._entries[netloc] = (time.monotonic(), body, status)
        self.bytes += len(body)

    def _drop(self, netloc: str) -> None:
        entry = self._entries.pop(netloc, None)
        if entry is not None:
            self.bytes -= len(entry[1])


_reusable_robots = _ReusableRobots(_ROBOTS_REUSE_MAX_BYTES)
STAT_SKIPPED_STOPPING = "newsingest/skipped/crawl_stopping"


class HostPaused(IgnoreRequest):
    """The host failed too often in this run; no more requests go to it."""


class CrawlStopping(IgnoreRequest):
    """The crawl is closing: a request that had not gone out yet is left for the next crawl."""


def _host(request: Request) -> str:
    return (urlparse_cached(request).hostname or "").lower()


def _slot(crawler: Crawler, request: Request) -> Any:
    engine = crawler.engine
    if engine is None:
        return None
    downloader = engine.downloader
    return downloader.slots.get(downloader.get_slot_key(request))


def _whole_seconds(seconds: float) -> int:
    # A site's number, for a log field: "Retry-After: 1e400"-like values overflow int().
    return int(min(seconds, 10**9))


def pause_slot(crawler: Crawler, request: Request, seconds: float) -> None:
    """Hold every queued request to this request's host for `seconds`.

    Scrapy's downloader waits `delay - now + lastseen` before the next request of a slot, and only
    when the delay is non-zero: so lastseen moves into the future and a zero delay becomes tiny.
    """
    slot = _slot(crawler, request)
    if slot is None:
        return
    if slot.delay <= 0:
        slot.delay = 0.001
    slot.lastseen = max(slot.lastseen, time.monotonic() + seconds)


class RobotsTxt(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware, fixed for requests that wait together for a host's robots.txt.

    Scrapy 2.19 parks them on one Deferred and awaits it once per request through
    `Deferred.asFuture`, whose callback returns None: only the first waiter gets the parsed rules, the
    others get None and are let through unchecked. A crawl that starts with a feed, a sitemap and a
    homepage on one host, or a distributed worker taking queued links for a host it has not seen yet,
    would fetch disallowed pages. After the wait, the rules are read from the middleware's own cache.

    Only the first ROBOTS_TXT_MAX_BYTES are read: the download stops there, and the rules are parsed
    up to the last whole line before it (a rule cut in half could allow more than the site meant).
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.reuse_seconds = crawler.settings.getfloat(ROBOTS_REUSE_SETTING, 0.0)
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)

    @staticmethod
    def _is_robots_txt(request: Request) -> bool:
        return bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"

    def bytes_received(self, data: bytes, request: Request, **kwargs: Any) -> None:
        if not self._is_robots_txt(request):
            return
        received = request.meta.get("_newsingest_robots_bytes", 0) + len(data)
        request.meta["_newsingest_robots_bytes"] = received
        if received > ROBOTS_TXT_MAX_BYTES:
            raise StopDownload(fail=False)  # the response goes on with what arrived

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if len(response.body) > ROBOTS_TXT_MAX_BYTES:
            head = response.body[:ROBOTS_TXT_MAX_BYTES]
            # Only whole lines: half a rule could allow more than the site meant. Protego ends lines at LF or CR.
            cut = max(head.rfind(b"\n"), head.rfind(b"\r"))
            head = head[: cut + 1] if cut >= 0 else head
            self.crawler.stats.inc_value(STAT_ROBOTS_TRUNCATED)
            logger.warning("robots_txt_truncated", extra={"url": response.url, "bytes_read": len(head)})
            response = response.replace(body=head)
        await super()._parse_robots(response, netloc, request)
        status = response.status
        if self.reuse_seconds and (200 <= status < 300 or (400 <= status < 500 and status != 429)):
            _reusable_robots.put(netloc, response.body, status)
        if 200 <= status < 300:
            await self._announce(response.body, urlparse_cached(request).scheme, netloc, response.url)

    async def _announce(self, body: bytes, scheme: str, netloc: str, base_url: str) -> None:
        await self.crawler.signals.send_catch_log_async(signal=ROBOTS_TXT_READ, body=body,
                                                        url=f"{scheme}://{netloc}/robots.txt", base_url=base_url)

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        if self.reuse_seconds and netloc not in self._parsers:
            reused = _reusable_robots.get(netloc, self.reuse_seconds)
            if reused is not None:
                body, status = reused
                parser = build_from_crawler(self._parserimpl, self.crawler, body)
                self._parsers[netloc] = parser
                self.crawler.stats.inc_value(STAT_ROBOTS_REUSED)
                # As for a fetched one: CrawlDelay applies the host's Crawl-delay, the spider reads its sitemaps.
                await self.crawler.signals.send_catch_log_async(signal=signals.robots_parsed,
                                                                robotparser=parser, request=request)
                if 200 <= status < 300:
                    scheme = urlparse_cached(request).scheme
                    await self._announce(body, scheme, netloc, f"{scheme}://{netloc}/robots.txt")
        parser = await super().robot_parser(request)
        if parser is None:
            cached = self._parsers.get(urlparse_cached(request).netloc)
            if cached is not None and not isinstance(cached, Deferred):
                parser = cached
        return parser


class CrawlDelay:
    """Apply robots.txt Crawl-delay for our user agent to the host's download slot."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT") or ""
        self.max_delay = crawler.settings.getfloat(MAX_CRAWL_DELAY_SETTING, 30.0)
        self.delays: dict[str, float] = {}  # host -> seconds
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelay:
        return cls(crawler)

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        crawl_delay = getattr(robotparser, "crawl_delay", None)
        if crawl_delay is None:
            return
        try:
            delay = crawl_delay(self.user_agent)
        except Exception:  # a malformed value is the site's problem, not a reason to stop
            delay = None
        if not delay or delay <= 0:
            return
        host = _host(request)
        logger.info("crawl_delay", extra={"host": host, "seconds": float(delay)})
        retry = self.crawler.get_downloader_middleware(PoliteRetry)
        if delay > self.max_delay and retry is not None:
            # The site asks for fewer requests than one crawl can wait for: respect that by leaving it alone.
            retry.pause_host(host, reason=f"crawl_delay_{_whole_seconds(delay)}s")
            return
        delay = min(delay, self.max_delay)
        self.delays[host] = float(delay)
        self.crawler.stats.inc_value(STAT_CRAWL_DELAY)
        # A slot created from now on starts with the delay and no jitter (jitter would halve it).
        engine = self.crawler.engine
        if engine is not None:
            engine.downloader.per_slot_settings.setdefault(host, {}).update({"delay": float(delay), "jitter": 0})

    def _apply(self, request: Request) -> None:
        delay = self.delays.get(_host(request))
        if delay is None:
            return
        slot = _slot(self.crawler, request)
        if slot is not None:
            slot.jitter = 0
            if slot.delay < delay:
                slot.delay = delay  # AutoThrottle may have lowered it below the site's wish

    def process_request(self, request: Request) -> None:
        self._apply(request)

    def process_response(self, request: Request, response: Response) -> Response:
        self._apply(request)
        return response


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class PoliteRetry(RetryMiddleware):
    """Scrapy's retry, plus Retry-After, exponential backoff and per-host failure accounting."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler.settings)
        self.crawler = crawler
        s = crawler.settings
        self.failure_limit = s.getint(HOST_FAILURE_LIMIT_SETTING, 5)
        self.backoff = s.getfloat(RETRY_BACKOFF_SETTING, 1.0)
        self.backoff_max = s.getfloat(RETRY_BACKOFF_MAX_SETTING, 60.0)
        self.retry_after_max = s.getfloat(RETRY_AFTER_MAX_SETTING, 120.0)
        self.failures: dict[str, int] = {}  # host -> consecutive failures
        self.paused: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteRetry:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if _host(request) in self.paused:
            self.crawler.stats.inc_value(STAT_SKIPPED_HOST_PAUSED)
            raise HostPaused(f"host {_host(request)} paused for this run")

    def process_response(self, request: Request, response: Response) -> Any:
        host = _host(request)
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            if response.status < 500:
                self.failures.pop(host, None)
            return response
        reason = f"http_{response.status}"
        wait = None
        if response.status in (429, 503):
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wait is not None:
                self.crawler.stats.inc_value(STAT_RETRY_AFTER)
                logger.info("retry_after", extra={"url": request.url, "status": response.status, "seconds": wait})
                if wait > self.retry_after_max:
                    # A site asking us to stay away for longer than we are willing to wait: respect it for the run.
                    self.pause_host(host, reason=f"retry_after_{_whole_seconds(wait)}s")
                    return response
        if self.record_failure(host, reason):
            return response
        retry = self._retry(request, reason)
        if retry is None:
            return response
        self._wait(request, wait)
        return retry

    def process_exception(self, request: Request, exception: Exception) -> Any:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        host = _host(request)
        if self.record_failure(host, type(exception).__name__):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            self._wait(request, None)
        return retry

    def _wait(self, request: Request, retry_after: float | None) -> None:
        if retry_after is None:
            attempt = request.meta.get("retry_times", 0)  # failures of this request so far, minus one
            retry_after = min(self.backoff_max, self.backoff * (2**attempt))
        if retry_after > 0:
            pause_slot(self.crawler, request, retry_after)

    def record_failure(self, host: str, reason: str) -> bool:
        """Count a failure; True when the host is now paused for the run."""
        count = self.failures.get(host, 0) + 1
        self.failures[host] = count
        if self.failure_limit and count >= self.failure_limit:
            self.pause_host(host, reason=reason)
            return True
        return False

    def pause_host(self, host: str, reason: str) -> None:
        """No more requests to `host` in this run: queued ones fail, later ones are refused (HostPaused)."""
        if host in self.paused:
            return
        self.paused.add(host)
        self._drop_queued(host)
        self.crawler.stats.inc_value(STAT_HOST_PAUSED)
        logger.warning(
            "host_paused",
            extra={"host": host, "consecutive_failures": self.failures.get(host, 0), "reason": reason},
        )

    def _drop_queued(self, host: str) -> None:
        """Fail the requests already waiting in the host's download slot: they passed process_request
        before the pause, and would otherwise still go out."""
        engine = self.crawler.engine
        slot = engine.downloader.slots.get(host) if engine is not None else None
        if slot is None:
            return
        while slot.queue:
            request, deferred = slot.queue.popleft()
            self.crawler.stats.inc_value(STAT_SKIPPED_HOST_PAUSED)
            deferred.errback(HostPaused(f"host {host} paused for this run"))


# Types we parse: HTML, feeds (RSS, Atom, RDF, JSON Feed), sitemaps (plain or gzipped), robots.txt.
# Servers label gzipped sitemaps in many ways, hence octet-stream; an empty type is sniffed by Scrapy.
# Anything else (PDF, images, video, office documents, archives) is not worth its bytes.
_PARSED_EXACT = frozenset({
    "application/xml", "application/gzip", "application/x-gzip", "application/octet-stream",
    "application/json", "application/feed+json", "application/xhtml+xml", "application/rss+xml",
    "application/atom+xml", "application/rdf+xml",
})


def is_parsed_content_type(content_type: str) -> bool:
    value = content_type.split(";", 1)[0].strip().lower()
    if not value or value in _PARSED_EXACT:
        return True
    return value.startswith("text/") or "html" in value


class ContentTypeFilter:
    """Stop a download after its headers when the content type is one we never parse."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContentTypeFilter:
        return cls(crawler)

    def headers_received(self, headers: Any, body_length: int, request: Request, **kwargs: Any) -> None:
        raw = headers.get(b"Content-Type") or b""
        content_type = raw.decode("latin-1", "replace")
        if is_parsed_content_type(content_type):
            return
        self.crawler.stats.inc_value(STAT_SKIPPED_CONTENT_TYPE)
        logger.info(
            "download_stopped",
            extra={"url": request.url, "content_type": content_type, "length": body_length, "reason": "content_type"},
        )
        raise StopDownload(fail=True)


class StopPromptly:
    """A graceful stop that does not wait for delays.

    Scrapy's graceful stop (SIGTERM, CLOSESPIDER_TIMEOUT, any close of the spider) waits until every
    request handed to the downloader is done, those queued in a host's download slot behind its delay
    (Crawl-delay, Retry-After, backoff) included: a Crawl-delay of a day held a stop for a day, and the
    daemon had to SIGKILL the crawl (Scrapy knows: scrapy/scrapy#2969, #4749, no API for it). When the
    spider starts closing, this fails the requests still waiting in a slot, and refuses any that reach
    the downloader afterwards; downloads already on the wire finish (bounded by download_timeout), so
    what was fetched is kept, and what was not is fetched by a later crawl.

    Scrapy sends no signal when closing starts, only when it is over: engine.close_spider_async is
    wrapped at engine_started, which covers every path (stop, CloseSpider, our own closes).
    Listed last among the downloader middlewares, so nothing awaits between it and the slot queue.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stopping = False
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StopPromptly:
        return cls(crawler)

    def engine_started(self) -> None:
        engine = self.crawler.engine
        close_spider = engine.close_spider_async

        async def close_spider_then_drop(*, reason: str = "cancelled") -> None:
            self.stop(reason)
            await close_spider(reason=reason)

        engine.close_spider_async = close_spider_then_drop

    def stop(self, reason: str) -> None:
        if self.stopping:
            return
        self.stopping = True
        engine = self.crawler.engine
        dropped = 0
        for slot in list(engine.downloader.slots.values()) if engine is not None else ():
            while slot.queue:
                _request, deferred = slot.queue.popleft()
                dropped += 1
                deferred.errback(CrawlStopping("crawl stopping"))
        if dropped:
            self.crawler.stats.inc_value(STAT_SKIPPED_STOPPING, dropped)
        if reason != "finished" or dropped:  # a crawl that ran out of work has nothing to say here
            logger.info("crawl_stopping", extra={"reason": reason, "requests_dropped": dropped})

    def process_request(self, request: Request) -> None:
        if self.stopping:
            self.crawler.stats.inc_value(STAT_SKIPPED_STOPPING)
            raise CrawlStopping("crawl stopping")
