"""The item pipeline: extract each fetched Page in the worker pool and append articles to the spool.

Built from settings (NEWSINGEST_SOURCE, NEWSINGEST_SPOOL_DIR, NEWSINGEST_RUN_ID, NEWSINGEST_EXTRACT_WORKERS,
NEWSINGEST_MIN_ARTICLE_CHARS, NEWSINGEST_ARTICLE_PATTERN, NEWSINGEST_EXTRACT_OVERRIDES, NEWSINGEST_EXTRACT_TIMEOUT,
NEWSINGEST_MAX_PAGE_ELEMENTS). A crawl engine (crawler/engine.py) sets a pool shared by its crawls as the
crawler's `extractor_pool` (settings are deep-copied, a pool cannot be); without one the pipeline starts and
stops a pool of its own.
Counts go to the crawler's stats under newsingest/* (newsingest/quality/* for the extraction-drift canary),
extraction times too (crawler/extract_timing.py).
This module touches the spool directory and the extraction workers.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from scrapy.exceptions import DropItem

from crawler import extract_timing
from crawler.extract import NO_OVERRIDES, Overrides
from crawler.interstitial import STAND_IN_REASONS
from crawler.pool import ExtractionLost, ExtractorPool, page_options, worker_count
from crawler.records import Article, Page
from crawler.soft404 import RepeatedShortText
from crawler.spool import SpoolWriteError, SpoolWriter
from ingest import defaults

logger = logging.getLogger(__name__)

STAT_NO_DATE = "newsingest/quality/no_date"  # articles spooled without a publication date
STAT_NO_AUTHOR = "newsingest/quality/no_author"  # articles spooled without an author
# Articles spooled with a body under twice min_article_chars: what an extractor that lost the body to a
# template change often returns instead of nothing is a few lines of chrome.
STAT_SHORT_BODY = "newsingest/quality/short_body"


class ExtractAndSpoolPipeline:
    def __init__(self, crawler, source: str, spool_dir: Path, run_id: str, workers: int, min_chars: int,
                 pattern: str | None, overrides: Overrides = NO_OVERRIDES,
                 timeout: float = defaults.CRAWL["extract_timeout"],
                 max_elements: int = defaults.CRAWL["max_page_elements"], shared_pool: ExtractorPool | None = None):
        self.crawler = crawler
        self.source = source
        self.spool_dir = spool_dir
        self.run_id = run_id
        self.workers = workers
        self.min_chars = min_chars
        self.pattern = pattern
        self.overrides = overrides
        self.timeout = timeout
        self.max_elements = max_elements
        self.pool: ExtractorPool | None = shared_pool
        self.owns_pool = shared_pool is None
        self.options = page_options(min_chars, pattern, overrides, max_elements)
        self.writer: SpoolWriter | None = None
        self.spool_error: str | None = None
        self.repeats = RepeatedShortText()  # soft 404s: one short text under many slugs of a host

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(
            crawler,
            source=s.get("NEWSINGEST_SOURCE"),
            spool_dir=Path(s.get("NEWSINGEST_SPOOL_DIR")),
            run_id=s.get("NEWSINGEST_RUN_ID"),
            workers=worker_count(s.getint("NEWSINGEST_EXTRACT_WORKERS", 0)),
            min_chars=s.getint("NEWSINGEST_MIN_ARTICLE_CHARS", 400),
            pattern=s.get("NEWSINGEST_ARTICLE_PATTERN") or None,
            overrides=s.get("NEWSINGEST_EXTRACT_OVERRIDES") or NO_OVERRIDES,
            timeout=s.getfloat("NEWSINGEST_EXTRACT_TIMEOUT", defaults.CRAWL["extract_timeout"]),
            max_elements=s.getint("NEWSINGEST_MAX_PAGE_ELEMENTS", defaults.CRAWL["max_page_elements"]),
            shared_pool=getattr(crawler, "extractor_pool", None),
        )

    def open_spider(self):
        if self.owns_pool:
            self.pool = ExtractorPool(self.workers, min_article_chars=self.min_chars, article_pattern=self.pattern,
                                      overrides=self.overrides, timeout=self.timeout,
                                      max_elements=self.max_elements)
        self.writer = SpoolWriter(self.spool_dir, self.source, self.run_id)

    async def process_item(self, item):
        if not isinstance(item, Page):
            return item
        stats = self.crawler.stats
        try:
            extraction = await self.pool.extract(item, self.options, on_worker_died=self._worker_died,
                                                 on_extracted=self._extracted)
        except ExtractionLost as lost:
            raise self._lost(item, lost.kind, lost.error) from None
        except Exception as exc:  # the worker's own failure (memory, pickling): this page is lost, not the crawl
            raise self._lost(item, "extraction_failed", f"{type(exc).__name__}: {str(exc)[:200]}") from None
        if extraction.article is None:
            stats.inc_value(f"newsingest/not_article/{extraction.reason}")
            if extraction.reason == "unparseable":
                stats.inc_value("newsingest/errors/unparseable")
            # A stand-in (consent wall, bot challenge ...) is news to the operator; a short page is not.
            level = logging.INFO if extraction.reason in STAND_IN_REASONS else logging.DEBUG
            logger.log(level, "page_not_article", extra={"url": item.url, "reason": extraction.reason,
                                                          "source": self.source})
            _fetch_state(self.crawler).extracted(item.url, None, f"not_article:{extraction.reason}")
            raise DropItem(extraction.reason, log_level="DEBUG")
        release, soft_404s = self.repeats.offer(extraction.article)
        for article in soft_404s:
            self._soft_404(article)
        if not all([self._spool(article) for article in release]):
            raise DropItem("spool_write_failed", log_level="DEBUG")
        return extraction.article

    def _spool(self, article: Article) -> bool:
        try:
            self.writer.append(article)
        except SpoolWriteError as exc:
            self._spool_failed(exc)
            return False
        self.crawler.stats.inc_value("newsingest/articles")
        # The extraction-drift canary's counts (ingest/drift.py): a template change shows first here.
        if article.published_at is None:
            self.crawler.stats.inc_value(STAT_NO_DATE)
        if not article.authors:
            self.crawler.stats.inc_value(STAT_NO_AUTHOR)
        if len(article.text) < 2 * self.min_chars:
            self.crawler.stats.inc_value(STAT_SHORT_BODY)
        _fetch_state(self.crawler).extracted(article.url, article.text, "article", article.modified_at)
        logger.debug("article_extracted", extra={"url": article.url, "title": article.title})
        return True

    def _soft_404(self, article: Article) -> None:
        self.crawler.stats.inc_value("newsingest/not_article/soft_404")
        logger.info("page_not_article", extra={"url": article.url, "reason": "soft_404", "source": self.source})
        _fetch_state(self.crawler).extracted(article.url, None, "not_article:soft_404")

    def _lost(self, page: Page, kind: str, error: str) -> DropItem:
        """Count and log a page whose extraction did not finish; the DropItem to raise for it."""
        self.crawler.stats.inc_value(f"newsingest/errors/{kind}")
        level = logging.WARNING if kind == "extraction_timeout" else logging.ERROR
        logger.log(level, kind, extra={"url": page.url, "error": error})
        _fetch_state(self.crawler).extracted(page.url, None, f"error:{kind}")
        return DropItem(kind, log_level="DEBUG")

    def _extracted(self, seconds: float) -> None:
        extract_timing.observe(self.crawler.stats, seconds)

    def _worker_died(self) -> None:
        # Its pages are tried again; the death itself is an error of the run even when none is lost.
        self.crawler.stats.inc_value("newsingest/errors/worker_died")

    def _spool_failed(self, exc: SpoolWriteError) -> None:
        """Disk full or I/O error: say so once, by segment, and stop the crawl; fetching on is pointless."""
        self.crawler.stats.inc_value("newsingest/errors/spool_write")
        if self.spool_error is None:
            self.spool_error = str(exc)
            logger.error("spool_write_failed", extra={"error": str(exc), "spool": str(self.spool_dir)})
            asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="spool_write_failed"))

    def close_spider(self):
        if self.writer is not None:
            for article in self.repeats.drain():
                self._spool(article)
            try:
                self.writer.close()
            except SpoolWriteError as exc:
                self._spool_failed(exc)
        if self.pool is not None and self.owns_pool:
            self.pool.shutdown()


def _fetch_state(crawler):
    """The spider's fetch-state book (crawler/fetch_state.py), or a no-op when the crawl is not incremental."""
    from crawler.fetch_state import NO_BOOK

    return getattr(crawler.spider, "fetch_states", None) or NO_BOOK
