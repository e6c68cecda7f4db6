"""A page slower than download_timeout never holds the crawl, nor the source's next scheduled crawl.

`SlowPageRetry` (downloader middleware, listed after PoliteRetry so that it sees timeouts first): a request
that timed out is retried once per crawl (none with max_retries = 0), and later: at the lowest priority, behind
every other request, not in a row as Scrapy's retry would (two retries of a 30 s page kept a crawl running 111 s,
and the daemon coalesced the source's next two crawls away). Timeouts still count towards pausing a failing host
(PoliteRetry).

When the retry comes up and could not end (download_timeout) before SCHEDULE_SHARE of the time until the
source's next scheduled crawl (NEWSINGEST_NEXT_CRAWL_SECONDS, set by crawler/runner.py for the daemon's crawls;
0 for a one-off `newsingest crawl`: no deadline), it is dropped for this crawl with `SlowPageDeferred`:
`slow_page_deferred` event, stat newsingest/skipped/slow_page_deferred. The spider records such a page as left
over in the fetch state (status left_over:timeout), and the next crawl requests it first (crawler/fetch_state.py).

Built from settings (from_crawler); touches only Scrapy's scheduler (through the engine) and its stats.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import error as tx

from crawler.politeness import PoliteRetry

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

NEXT_CRAWL_SETTING = "NEWSINGEST_NEXT_CRAWL_SECONDS"  # seconds from this crawl's start to the next one; 0: none
# A retry must end within this share of the time until the next scheduled crawl: the rest is the crawl's
# closing (extraction, spool) and the scheduler's slack.
SCHEDULE_SHARE = 0.8
# Below every priority the spider gives (links go down to -2 * max hops).
RETRY_PRIORITY = -1_000_000
_RETRIED = "newsingest_slow_retried"

STAT_SLOW_RETRIES = "newsingest/slow_page_retries"
STAT_SLOW_DEFERRED = "newsingest/skipped/slow_page_deferred"

TIMEOUTS = (DownloadTimeoutError, tx.TimeoutError)


class SlowPageDeferred(IgnoreRequest):
    """A timed-out page's retry would hold the source's next scheduled crawl: left for that crawl."""


class SlowPageRetry:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 180.0)
        # max_retries = 0: no retry at all, timeouts included (PoliteRetry then only counts the failure).
        self.enabled = crawler.settings.getbool("RETRY_ENABLED", True) and crawler.settings.getint("RETRY_TIMES", 2) > 0
        next_crawl = crawler.settings.getfloat(NEXT_CRAWL_SETTING, 0.0)
        self.next_crawl = next_crawl if next_crawl > 0 else None
        self.deadline = time.monotonic() + SCHEDULE_SHARE * next_crawl if next_crawl > 0 else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SlowPageRetry:
        return cls(crawler)

    @staticmethod
    def _robots_txt(request: Request) -> bool:
        # Fetched by the robots middleware outside the scheduler: Scrapy's retry (PoliteRetry) handles it.
        return bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"

    def process_request(self, request: Request) -> None:
        if not request.meta.get(_RETRIED) or self.deadline is None:
            return
        timeout = float(request.meta.get("download_timeout") or self.timeout)
        if time.monotonic() + timeout <= self.deadline:
            return
        self.crawler.stats.inc_value(STAT_SLOW_DEFERRED)
        logger.info("slow_page_deferred", extra={"url": request.url, "download_timeout": timeout,
                                                 "next_crawl_seconds": self.next_crawl})
        raise SlowPageDeferred("a timed-out page is left for the next crawl")

    def process_exception(self, request: Request, exception: Exception) -> Any:
        if (not self.enabled or not isinstance(exception, TIMEOUTS) or request.meta.get("dont_retry")
                or self._robots_txt(request)):
            return None
        # Whatever happens next, PoliteRetry must not retry it at once.
        request.meta["dont_retry"] = True
        retry = self.crawler.get_downloader_middleware(PoliteRetry)
        host = (urlparse_cached(request).hostname or "").lower()
        if retry is not None and retry.record_failure(host, "timeout"):
            return None  # the host is paused for the run
        if request.meta.get(_RETRIED):
            return None  # timed out twice in this crawl: a failed page (the spider's errback)
        self.crawler.stats.inc_value(STAT_SLOW_RETRIES)
        logger.debug("slow_page_retry", extra={"url": request.url})
        meta = {**request.meta, _RETRIED: True}
        meta.pop("dont_retry", None)
        return request.replace(priority=RETRY_PRIORITY, dont_filter=True, meta=meta)
