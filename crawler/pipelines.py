"""The item pipeline: extract each fetched Page in the worker pool and append articles to the spool.

Built from settings (NEWSINGEST_SOURCE, NEWSINGEST_SPOOL_DIR, NEWSINGEST_RUN_ID, NEWSINGEST_EXTRACT_WORKERS,
NEWSINGEST_MIN_ARTICLE_CHARS, NEWSINGEST_ARTICLE_PATTERN). Counts go to the crawler's stats under
newsingest/*. This module touches the spool directory and the extraction workers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy.exceptions import DropItem

from crawler.pool import ExtractorPool, worker_count
from crawler.records import Page
from crawler.spool import SpoolWriter

logger = logging.getLogger(__name__)


class ExtractAndSpoolPipeline:
    def __init__(self, crawler, source: str, spool_dir: Path, run_id: str, workers: int, min_chars: int, pattern: str | None):
        self.crawler = crawler
        self.source = source
        self.spool_dir = spool_dir
        self.run_id = run_id
        self.workers = workers
        self.min_chars = min_chars
        self.pattern = pattern
        self.pool: ExtractorPool | None = None
        self.writer: SpoolWriter | None = None

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
        )

    def open_spider(self):
        self.pool = ExtractorPool(self.workers, min_article_chars=self.min_chars, article_pattern=self.pattern)
        self.writer = SpoolWriter(self.spool_dir, self.source, self.run_id)

    async def process_item(self, item):
        if not isinstance(item, Page):
            return item
        stats = self.crawler.stats
        extraction = await self.pool.extract(item)
        if extraction.article is None:
            stats.inc_value(f"newsingest/not_article/{extraction.reason}")
            if extraction.reason == "unparseable":
                stats.inc_value("newsingest/errors/unparseable")
            logger.debug("page_not_article", extra={"url": item.url, "reason": extraction.reason})
            raise DropItem(extraction.reason, log_level="DEBUG")
        self.writer.append(extraction.article)
        stats.inc_value("newsingest/articles")
        logger.debug("article_extracted", extra={"url": item.url, "title": extraction.article.title})
        return extraction.article

    def close_spider(self):
        if self.writer is not None:
            self.writer.close()
        if self.pool is not None:
            self.pool.shutdown()
