"""Crawl progress while a foreground crawl runs: a live status line on a terminal, or periodic log events.

A Scrapy extension (enabled with ``EXTENSIONS = {"crawler.progress.CrawlProgress": 500}``), shaped like
Scrapy's own ``LogStats``. It only reads the crawl's stats (``newsingest/pages_fetched``,
``newsingest/articles``, ``newsingest/errors/*``) and writes to standard error ("display") or to the
``newsingest.progress`` logger ("log"); it never changes stats, requests or items.

Settings:
- ``NEWSINGEST_PROGRESS``: ``"display"``, ``"log"`` or ``"off"`` (default; the extension is then not loaded).
- ``NEWSINGEST_PROGRESS_INTERVAL``: seconds between updates; default 1.0 for display, 10.0 for log.

The rendering and the arithmetic are pure functions (`progress_fields`, `render_progress`) so they can be
tested without a reactor.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

MODE_SETTING = "NEWSINGEST_PROGRESS"
INTERVAL_SETTING = "NEWSINGEST_PROGRESS_INTERVAL"
MODES = ("display", "log", "off")
DEFAULT_INTERVALS = {"display": 1.0, "log": 10.0}

STAT_PAGES = "newsingest/pages_fetched"
STAT_ARTICLES = "newsingest/articles"
STAT_ERRORS_PREFIX = "newsingest/errors/"

EVENT = "crawl_progress"
logger = logging.getLogger("newsingest.progress")

# Carriage return, then ANSI "erase entire line": a shorter line must not leave the tail of a longer one.
_REWRITE_LINE = "\r\x1b[2K"


@dataclass(frozen=True, slots=True)
class ProgressFields:
    pages: int
    articles: int
    errors: int
    pages_per_s: float


def pages_per_second(pages: int, seconds: float) -> float:
    # In the first instants the elapsed time is ~0; a rate from it would be meaningless (or infinite).
    if seconds <= 0:
        return 0.0
    return pages / seconds


def progress_fields(stats: Mapping[str, Any], seconds: float) -> ProgressFields:
    """The numbers shown or logged, from a Scrapy stats dict and the seconds since the crawl opened."""
    pages = int(stats.get(STAT_PAGES, 0) or 0)
    errors = sum(int(v or 0) for k, v in stats.items() if k.startswith(STAT_ERRORS_PREFIX))
    return ProgressFields(
        pages=pages,
        articles=int(stats.get(STAT_ARTICLES, 0) or 0),
        errors=errors,
        pages_per_s=round(pages_per_second(pages, seconds), 2),
    )


def render_progress(pages: int, articles: int, errors: int, seconds: float) -> str:
    """One status line, e.g. ``12 pages, 5 articles, 1 error, 2.4 pages/s, 0:05``."""
    rate = pages_per_second(pages, seconds)
    elapsed = int(max(seconds, 0))
    hours, rest = divmod(elapsed, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return (
        f"{_count(pages, 'page')}, {_count(articles, 'article')}, {_count(errors, 'error')}, "
        f"{rate:.1f} pages/s, {clock}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def progress_mode(value: Any) -> str:
    """The NEWSINGEST_PROGRESS setting, validated: a typo must not silently disable progress."""
    mode = str(value or "off").strip().lower()
    if mode not in MODES:
        raise ValueError(f"{MODE_SETTING} must be one of {', '.join(MODES)}, got {value!r}")
    return mode


class CrawlProgress:
    """Shows or logs crawl progress every interval, from spider_opened to spider_closed."""

    def __init__(
        self,
        stats: StatsCollector,
        mode: str,
        interval: float,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if mode not in ("display", "log"):
            raise ValueError(f"mode must be 'display' or 'log', got {mode!r}")
        if interval <= 0:
            raise ValueError(f"{INTERVAL_SETTING} must be positive, got {interval!r}")
        self.stats = stats
        self.mode = mode
        self.interval = interval
        # Resolved at write time by default, so a test or the CLI that swaps sys.stderr is honoured.
        self._stream = stream
        self._clock = clock
        self._started: float | None = None
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        mode = progress_mode(crawler.settings.get(MODE_SETTING, "off"))
        if mode == "off":
            raise NotConfigured
        interval = crawler.settings.getfloat(INTERVAL_SETTING, DEFAULT_INTERVALS[mode])
        extension = cls(crawler.stats, mode, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def elapsed(self) -> float:
        return 0.0 if self._started is None else self._clock() - self._started

    def current(self) -> ProgressFields:
        return progress_fields(self.stats.get_stats(), self.elapsed())

    def spider_opened(self, spider: Any = None) -> None:
        self._started = self._clock()
        self.task = create_looping_call(self.tick)
        # A display starts at once so the user sees the crawl has begun; a log event at t=0 says nothing.
        self.task.start(self.interval, now=self.mode == "display")

    def spider_closed(self, spider: Any = None, reason: str | None = None) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.task = None
        if self.mode == "display":
            # Final numbers, then end the line so whatever prints next starts on a fresh one.
            self.tick()
            self.stream.write("\n")
            self.stream.flush()

    def tick(self) -> None:
        if self.mode == "display":
            self._display()
        else:
            self._log()

    def _display(self) -> None:
        fields = self.current()
        line = render_progress(fields.pages, fields.articles, fields.errors, self.elapsed())
        self.stream.write(_REWRITE_LINE + line)
        self.stream.flush()

    def _log(self) -> None:
        fields = self.current()
        logger.info(
            EVENT,
            extra={
                "pages": fields.pages,
                "articles": fields.articles,
                "errors": fields.errors,
                "pages_per_s": fields.pages_per_s,
            },
        )
