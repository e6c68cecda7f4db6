"""A pool of worker processes for extraction, so trafilatura's CPU work never blocks Scrapy's reactor
and every core works while pages download.

Workers start from a fork server (never forked from a process running a reactor) and warm up once.
This module touches only the worker processes it owns.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from crawler import extract
from crawler.records import Page
from ingest.dedup import content_hash, simhash


def worker_count(configured: int) -> int:
    return configured if configured > 0 else max(1, os.cpu_count() or 1)


class ExtractorPool:
    def __init__(self, workers: int, *, min_article_chars: int, article_pattern: str | None,
                 overrides: extract.Overrides = extract.NO_OVERRIDES):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["crawler.extract"])
        self.workers = workers
        self._options = {"min_article_chars": min_article_chars, "article_pattern": article_pattern,
                         "overrides": overrides}
        self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=extract.warm_up)

    async def extract(self, page: Page) -> extract.Extraction:
        future = self._executor.submit(extract_and_fingerprint, page, self._options)
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)


def extract_and_fingerprint(page: Page, options: dict) -> extract.Extraction:
    """One unit of a worker's work: extract the page, and fingerprint the article's text."""
    extraction = extract.extract_page(page, **options)
    if extraction.article is not None:
        # Fingerprinting costs more CPU than loading a row: do it here, on every core.
        extraction.article.content_hash = content_hash(extraction.article.text)
        extraction.article.simhash = simhash(extraction.article.text)
    return extraction
