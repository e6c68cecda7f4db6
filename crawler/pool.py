"""A pool of worker processes for extraction, so trafilatura's CPU work never blocks Scrapy's reactor
and every core works while pages download.

Workers start from a fork server (never forked from a process running a reactor) and warm up once.
Each page gets `timeout` seconds of wall-clock time, counted from the moment a worker starts it: past
that its worker is killed and the pool replaced (ExtractionLost "extraction_timeout"). Killing one worker
breaks the whole pool, so the other pages it held are tried again on the new one, and that try is not
held against them. A pool whose worker died on its own (the OOM killer, a crash) is replaced too, and
the pages it held are tried once more; a page whose pool dies under it twice is lost (ExtractionLost
"extraction_failed"). This module touches only the worker processes it owns.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from crawler import extract
from crawler.records import Page
from ingest import defaults
from ingest.dedup import content_hash, simhash

logger = logging.getLogger(__name__)

# How often a page whose worker has not started it yet looks again (a fresh worker warms up for ~1 s).
_START_POLL = 0.1
# A page not started by a worker after this long (plus its own deadline, twice) means a pool that hangs
# while starting its workers: treated as a page past its deadline.
_START_GRACE = 60.0
# Seconds the pool's workers get to exit at shutdown before they are killed.
_SHUTDOWN_GRACE = 5.0


class ExtractionLost(Exception):
    """A page whose extraction did not finish. `kind` is the run's error kind for it."""

    def __init__(self, kind: str, error: str):
        super().__init__(f"{kind}: {error}")
        self.kind = kind
        self.error = error


def page_options(min_article_chars: int, article_pattern: str | None, overrides: extract.Overrides,
                 max_elements: int) -> dict:
    """extract_page's keyword arguments for one source's pages."""
    return {"min_article_chars": min_article_chars, "article_pattern": article_pattern,
            "overrides": overrides, "max_elements": max_elements}


def worker_count(configured: int) -> int:
    return configured if configured > 0 else max(1, os.cpu_count() or 1)


@dataclass(slots=True, eq=False)
class _Generation:
    """One ProcessPoolExecutor and what its workers tell the parent: per slot, the monotonic time the
    slot's current page was started (0.0: not yet) and the pid of the worker running it."""

    executor: ProcessPoolExecutor
    started: Any  # multiprocessing RawArray of float
    pids: Any  # multiprocessing RawArray of int
    killed: bool = False  # by us, at a deadline: not a worker death to report
    # Per slot, the page's future on this executor, while its page waits for it.
    in_flight: dict[int, asyncio.Future] = field(default_factory=dict)


class ExtractorPool:
    def __init__(self, workers: int, *, min_article_chars: int, article_pattern: str | None,
                 overrides: extract.Overrides = extract.NO_OVERRIDES,
                 timeout: float = defaults.CRAWL["extract_timeout"],
                 max_elements: int = defaults.CRAWL["max_page_elements"],
                 on_worker_died: Callable[[], None] | None = None,
                 on_extracted: Callable[[float], None] | None = None):
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["crawler.extract"])
        self.workers = workers
        self.timeout = timeout
        self._options = page_options(min_article_chars, article_pattern, overrides, max_elements)
        self._on_worker_died = on_worker_died
        # Given each extracted page's seconds from when its worker started it to its result (the metrics'
        # extraction time: the worker's own work, not the page's wait for a free worker).
        self._on_extracted = on_extracted
        # Pages handed to the executor at once: each worker has the next page waiting when it is done
        # with one. A worker reports by slot when it starts a page, so the deadline counts from there.
        self.slots = 2 * workers
        # A page's tries on pools killed at other pages' deadlines do not count against it. Each such pool
        # is another page's deadline, and a replaced pool's pages go back in line before new pages, so
        # they are few; this cap bounds them whatever the pages around it do.
        self.max_tries = 2 + self.slots
        # Slots of a replaced pool's pages not yet back in line, and freed slots held until they are.
        self._owed: set[int] = set()
        self._held: list[int] = []
        self._closed = False
        self._free_slots: asyncio.Queue[int] | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None
        self._generation = self._start()

    def _start(self) -> _Generation:
        started = self._context.RawArray("d", self.slots)
        pids = self._context.RawArray("i", self.slots)
        executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context,
                                       initializer=_init_worker, initargs=(started, pids))
        return _Generation(executor, started, pids)

    async def extract(self, page: Page, options: dict | None = None,
                      on_worker_died: Callable[[], None] | None = None,
                      on_extracted: Callable[[float], None] | None = None) -> extract.Extraction:
        """The page's extraction; raises ExtractionLost when it could not be had. `options` (extract_page's
        keyword arguments) replace the pool's own for this page, and `on_worker_died` its callback: a pool
        shared by the crawls of several sources (crawler/engine.py) extracts each with its source's rules and
        counts a worker's death (and the page's extraction time) against the crawl that found it."""
        free_slots = self._slots()
        slot = await free_slots.get()
        try:
            deaths = 0
            for _try in range(self.max_tries):
                if self._closed:
                    raise ExtractionLost("extraction_failed", "the extraction pool was shut down")
                generation = self._generation
                try:
                    return await self._run(generation, slot, page, options or self._options,
                                           on_extracted or self._on_extracted)
                except BrokenProcessPool:
                    self._replace(generation, on_worker_died or self._on_worker_died)
                    # A pool we killed at another page's deadline: this page did nothing wrong.
                    if not generation.killed:
                        deaths += 1
                        if deaths == 2:
                            raise ExtractionLost("extraction_failed",
                                                 "the extraction worker died on both attempts") from None
            raise ExtractionLost("extraction_failed",
                                 f"the extraction pool was replaced {self.max_tries} times under the page")
        finally:
            self._held.append(slot)
            self._back_in_line(slot)

    def _slots(self) -> asyncio.Queue[int]:
        """The free slots, as a queue of the running event loop (a queue belongs to one loop, and a
        benchmark may use the pool from one asyncio.run after another)."""
        loop = asyncio.get_running_loop()
        if self._slots_loop is not loop:
            self._slots_loop, self._free_slots = loop, asyncio.Queue()
            for slot in range(self.slots):
                self._free_slots.put_nowait(slot)
            self._owed.clear()
            self._held.clear()
        return self._free_slots

    def _back_in_line(self, slot: int) -> None:
        """`slot`'s page is on the current pool, or gone. Slots freed meanwhile go to new pages only
        once every page of a replaced pool is back in line: a new page queued ahead of them could
        time out and break the next pool under them too, again and again."""
        self._owed.discard(slot)
        if not self._owed:
            while self._held:
                self._free_slots.put_nowait(self._held.pop(0))

    async def _run(self, generation: _Generation, slot: int, page: Page, options: dict,
                   on_extracted: Callable[[float], None] | None) -> extract.Extraction:
        generation.started[slot] = 0.0
        submitted = time.monotonic()
        future = asyncio.wrap_future(generation.executor.submit(_task, slot, page, options))
        generation.in_flight[slot] = future
        self._back_in_line(slot)
        start_limit = submitted + _START_GRACE + 2 * self.timeout
        try:
            while True:
                started = generation.started[slot]
                now = time.monotonic()
                wait = started + self.timeout - now if started else min(_START_POLL, start_limit - now)
                if wait <= 0:
                    break
                done, _ = await asyncio.wait({future}, timeout=wait)
                if done:
                    # Cancelled by _replace, or by a shutdown: a CancelledError would lose the page uncounted.
                    if future.cancelled():
                        raise BrokenProcessPool("the page's pool was replaced")
                    extraction = future.result()
                    if on_extracted is not None:
                        on_extracted(time.monotonic() - (generation.started[slot] or submitted))
                    return extraction
        finally:
            del generation.in_flight[slot]
        future.cancel()  # its result (BrokenProcessPool, once the worker is killed) is of no interest
        self._kill(generation, slot if started else None)
        raise ExtractionLost("extraction_timeout", f"not extracted within {self.timeout:g} s")

    def _kill(self, generation: _Generation, slot: int | None) -> None:
        """Stop the worker running `slot` (every worker of the generation when no worker has started
        it) and carry on with a new pool. A ProcessPoolExecutor cannot cancel a running task, and
        losing one of its workers breaks it: its other pages are tried again on the new pool."""
        if generation is not self._generation:
            return  # replaced meanwhile: its workers are being terminated
        generation.killed = True
        # The executor's own process table: the only handle on workers that never reported a pid.
        pids = [generation.pids[slot]] if slot is not None else list(generation.executor._processes or ())
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._replace(generation)

    def _replace(self, generation: _Generation, on_worker_died: Callable[[], None] | None = None) -> None:
        if generation is not self._generation:
            return  # already replaced, by the first of its pages to find it broken
        if self._closed:
            return
        self._generation = self._start()
        # Its pages go to the new pool now, in the order they came, rather than when the executor notices
        # a killed worker (meanwhile handing them to its other workers).
        for slot, future in generation.in_flight.items():
            future.cancel()
            self._owed.add(slot)
        generation.executor.shutdown(wait=False)
        if not generation.killed:
            # The page that found the pool broken has left in_flight already.
            logger.error("extraction_worker_died", extra={"in_flight": len(generation.in_flight) + 1})
            if on_worker_died is not None:
                on_worker_died()

    def shutdown(self) -> None:
        """Stop the workers; bounded: a worker that does not exit in time is killed."""
        self._closed = True
        executor = self._generation.executor
        processes = list((executor._processes or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + _SHUTDOWN_GRACE
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()


# Set in each worker by _init_worker: its generation's shared start times and pids, by slot.
_started: Any = None
_pids: Any = None


def _init_worker(started, pids) -> None:
    global _started, _pids
    _started, _pids = started, pids
    extract.warm_up()


def _task(slot: int, page: Page, options: dict) -> extract.Extraction:
    _pids[slot] = os.getpid()
    _started[slot] = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
    return extract_and_fingerprint(page, options)


def extract_and_fingerprint(page: Page, options: dict) -> extract.Extraction:
    """One unit of a worker's work: extract the page, and fingerprint the article's text."""
    extraction = extract.extract_page(page, **options)
    if extraction.article is not None:
        # Fingerprinting costs more CPU than loading a row: do it here, on every core.
        extraction.article.content_hash = content_hash(extraction.article.text)
        extraction.article.simhash = simhash(extraction.article.text)
    return extraction
