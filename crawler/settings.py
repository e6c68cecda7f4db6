"""The Scrapy settings for one crawl of one source, built from validated config records.

Pure: reads the `CrawlSettings` and `Source` records and returns a plain dict; touches
nothing. The caller adds ITEM_PIPELINES (extraction, spool) and logging on top.
"""

from __future__ import annotations

from typing import Any

from crawler.middlewares import ALLOW_PRIVATE_HOSTS_SETTING, MAX_PAGES_SETTING
from crawler.politeness import (
    HOST_FAILURE_LIMIT_SETTING,
    MAX_CRAWL_DELAY_SETTING,
    RETRY_AFTER_MAX_SETTING,
    RETRY_BACKOFF_MAX_SETTING,
    RETRY_BACKOFF_SETTING,
)
from ingest.config import CrawlSettings, Source

MAX_LINK_DEPTH_SETTING = "NEWSINGEST_MAX_LINK_DEPTH"
INCREMENTAL_SETTING = "NEWSINGEST_INCREMENTAL"
REVISIT_WINDOW_SETTING = "NEWSINGEST_REVISIT_WINDOW"
REVISIT_MIN_SETTING = "NEWSINGEST_REVISIT_MIN_INTERVAL"
REVISIT_MAX_SETTING = "NEWSINGEST_REVISIT_MAX_INTERVAL"
REVISIT_FLOOR_SETTING = "NEWSINGEST_REVISIT_FLOOR"
ARCHIVE_DIR_SETTING = "NEWSINGEST_ARCHIVE_DIR"  # empty: no archive
ARCHIVE_MAX_BYTES_SETTING = "NEWSINGEST_ARCHIVE_MAX_BYTES"
# `crawl --url --as-article`: store the given pages whatever they declare (index pages included).
URL_AS_ARTICLE_SETTING = "NEWSINGEST_URL_AS_ARTICLE"
# Link hops from a start URL (archive pagination does not count): homepage -> section -> article -> related.
DEFAULT_MAX_LINK_DEPTH = 4


def scrapy_settings(crawl: CrawlSettings, source: Source) -> dict[str, Any]:
    per_host = crawl.concurrent_requests_per_host
    return {
        "BOT_NAME": "newsingest",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        # Politeness. AutoThrottle never goes below DOWNLOAD_DELAY; its target concurrency is the
        # configured per-host limit so that it slows down for slow hosts without silently
        # replacing the configured limit with its own default of 1.
        "DOWNLOAD_DELAY": crawl.download_delay,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 1.0),
        "AUTOTHROTTLE_MAX_DELAY": max(30.0, crawl.download_delay),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(per_host),
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_host,
        # Limits.
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DNS_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_response_bytes,
        "DOWNLOAD_WARNSIZE": crawl.max_response_bytes // 2,
        "REDIRECT_MAX_TIMES": crawl.max_redirects,
        "RETRY_TIMES": crawl.max_retries,
        HOST_FAILURE_LIMIT_SETTING: crawl.host_failure_limit,
        RETRY_BACKOFF_SETTING: crawl.retry_backoff,
        RETRY_BACKOFF_MAX_SETTING: max(60.0, crawl.retry_backoff),
        RETRY_AFTER_MAX_SETTING: crawl.retry_after_max,
        MAX_CRAWL_DELAY_SETTING: crawl.max_crawl_delay,
        # The wall-clock budget: Scrapy's CloseSpider closes gracefully with finish reason closespider_timeout
        # (reported as time_budget); crawler.politeness.StopPromptly keeps delays from holding the close.
        "CLOSESPIDER_TIMEOUT": source.max_crawl_seconds,
        INCREMENTAL_SETTING: crawl.incremental,
        REVISIT_WINDOW_SETTING: crawl.revisit_window,
        REVISIT_MIN_SETTING: crawl.revisit_min_interval,
        REVISIT_MAX_SETTING: crawl.revisit_max_interval,
        REVISIT_FLOOR_SETTING: crawl.revisit_floor,
        ARCHIVE_MAX_BYTES_SETTING: crawl.archive_max_bytes,
        # max_pages is enforced by crawler.middlewares.PageBudget (counts final responses, lets
        # in-flight pages finish) rather than CLOSESPIDER_PAGECOUNT (which also counts robots.txt
        # and redirects, and closes the engine under items still being processed).
        MAX_PAGES_SETTING: source.max_pages,
        MAX_LINK_DEPTH_SETTING: DEFAULT_MAX_LINK_DEPTH,
        ALLOW_PRIVATE_HOSTS_SETTING: (source.allow_private_hosts if isinstance(source.allow_private_hosts, bool)
                                      else list(source.allow_private_hosts)),
        # Fetch in the order the spider prioritises (feeds and newest sitemap entries first,
        # then breadth-first links), not Scrapy's default LIFO.
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "DOWNLOADER_MIDDLEWARES": {
            # After OffsiteMiddleware (50), before RobotsTxtMiddleware (100): a refused host
            # is not even asked for its robots.txt; before redirect/retry so the budget counts
            # final responses.
            "crawler.middlewares.PageBudget": 55,
            "crawler.middlewares.PrivateHostGuard": 60,
            # Decodes a page whose <meta> declares UTF-16 over UTF-8 bytes as browsers do (a response filter).
            "crawler.encoding.BrowserCharset": 65,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.politeness.RobotsTxt": 100,
            # Right after RobotsTxt (100), which has parsed the host's robots.txt by then.
            "crawler.politeness.CrawlDelay": 105,
            # Only connects the headers_received signal: stops PDF, image, video downloads after the headers.
            "crawler.politeness.ContentTypeFilter": 106,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.politeness.PoliteRetry": 550,
            # Sees timeouts before PoliteRetry: retried once, last, and not when it would hold the next crawl.
            "crawler.slow_pages.SlowPageRetry": 560,
            # Last before the download slot: nothing awaits between its check and the slot queue.
            "crawler.politeness.StopPromptly": 990,
        },
        # Only what a crawl uses: each crawler builds its handlers and extensions, and the crawl engine builds
        # a crawler per crawl. LogCount would add a log handler per running crawler, each counting every
        # crawl's records.
        "DOWNLOAD_HANDLERS": {"data": None, "file": None, "s3": None, "ftp": None},
        "EXTENSIONS": {
            "scrapy.extensions.logcount.LogCount": None,
            "scrapy.extensions.memusage.MemoryUsage": None,
            "scrapy.extensions.feedexport.FeedExporter": None,
            "scrapy.extensions.logstats.LogStats": None,
            "scrapy.extensions.spiderstate.SpiderState": None,
        },
        # Statelessness and no listening sockets.
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_INSTALL_ROOT_HANDLER": False,
        "HTTPCACHE_ENABLED": False,
    }
