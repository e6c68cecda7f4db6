"""The crawl engine: one long-running process that crawls many sources at once in one Scrapy reactor, with
one extraction pool shared by all of them. The daemon (ingest/engine_process.py) starts it and hands it due
sources; each crawl stays its own run (run id, Scrapy crawler and stats, spool segment, fetch state, page
and time budgets, run summary), so a source that goes wrong is stopped alone. A revisit costs a crawler's
setup and a few requests, not a process start.

Protocol: JSON lines. In on standard input: {"op": "crawl", "source", "run_id"}, {"op": "stop", "run_id"},
{"op": "shutdown"}. Out on the standard output it was started with: {"event": "ready"},
{"event": "started", "run_id"}, {"event": "finished", "run_id", "summary"}, {"event": "rejected", "run_id",
"error"}. Logs go to standard error, in the daemon's stream. Standard input closing (the daemon is gone)
and SIGTERM stop every crawl gracefully, then the process exits.

This module touches the network (through Scrapy), the spool, the database (fetch state, read only) and the
extraction worker processes it owns.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from typing import IO

import structlog

from ingest.config import Config, Source
from ingest.logs import error_text, mask_secrets

log = structlog.get_logger("newsingest.engine")

REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# Seconds the crawls get to close after the engine is told to stop (stdin closed, SIGTERM) before it exits
# anyway; the daemon kills it sooner at its own shutdown.
_STOP_BOUND = 60.0
_MAX_COMMAND_BYTES = 64 * 1024  # a command line longer than this is not ours
_STOP_RETRY = 0.2  # seconds between tries to stop a crawl that is still opening
# Seconds a host's robots.txt, once fetched, serves the engine's later crawls: a revisit every few minutes
# then costs one request, not two. An hour keeps a site's new rules from waiting long (RFC 9309 allows a day).
_ROBOTS_REUSE = 3600.0


class CrawlEngine:
    def __init__(self, config: Config, daemon_id: str | None, out: IO[str]):
        from crawler.pool import ExtractorPool, worker_count

        self.config = config
        self.daemon_id = daemon_id
        self._out = out
        self._out_lock = threading.Lock()
        self._sources = {s.name: s for s in config.sources}
        self._crawlers: dict[str, object] = {}  # run_id -> Scrapy Crawler, while it runs
        self._tasks: dict[str, asyncio.Task] = {}
        self._contexts: dict[str, contextvars.Context] = {}  # run_id -> its log context
        self._stop_requested: set[str] = set()
        self._stopping = False
        self.pool = ExtractorPool(worker_count(config.crawl.extract_workers),
                                  min_article_chars=config.crawl.min_article_chars, article_pattern=None,
                                  timeout=config.crawl.extract_timeout, max_elements=config.crawl.max_page_elements)
        from scrapy.crawler import CrawlerRunner

        self.runner = CrawlerRunner({"TWISTED_REACTOR": REACTOR, "LOG_INSTALL_ROOT_HANDLER": False})

    # ------------------------------------------------------------ protocol

    def send(self, message: dict) -> None:
        line = json.dumps(message, default=str)
        with self._out_lock:
            try:
                self._out.write(line + "\n")
                self._out.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the daemon is gone: stdin will close too, and the engine stops

    def command(self, line: str) -> None:
        try:
            message = json.loads(line)
            op = message["op"]
        except (ValueError, KeyError, TypeError):
            log.error("engine_bad_command", line=line[:200])
            return
        if op == "crawl":
            self.start_crawl(str(message.get("source")), str(message.get("run_id")))
        elif op == "stop":
            self.stop_crawl(str(message.get("run_id")), "shutdown")
        elif op == "shutdown":
            self.shutdown("requested")
        else:
            log.error("engine_bad_command", line=line[:200])

    # ------------------------------------------------------------ crawls

    def start_crawl(self, source_name: str, run_id: str) -> None:
        source = self._sources.get(source_name)
        if source is None or self._stopping or run_id in self._tasks:
            error = ("engine_stopping" if self._stopping else
                     "unknown_source" if source is None else "duplicate_run_id")
            self.send({"event": "rejected", "run_id": run_id, "error": error})
            return
        # Each crawl's log lines carry its run_id and source: its own context, which Scrapy's coroutines and
        # the callbacks they schedule inherit.
        context = contextvars.copy_context()
        context.run(structlog.contextvars.bind_contextvars, run_id=run_id, source=source.name)
        loop = asyncio.get_event_loop()
        task = loop.create_task(self._crawl(source, run_id), context=context)
        self._tasks[run_id] = task
        self._contexts[run_id] = context
        self.send({"event": "started", "run_id": run_id})

    async def _crawl(self, source: Source, run_id: str) -> None:
        from scrapy.crawler import Crawler
        from scrapy.settings import Settings
        from scrapy.utils.defer import maybe_deferred_to_future

        from crawler.runner import crawl_settings, finish_run, previous_fetch_state
        from crawler.spiders.news import NewsSpider

        started_at = datetime.now(UTC)
        started = time.monotonic()
        crawler = None
        crash = None
        try:
            # Off the reactor thread, so that the other crawls go on meanwhile: the database read, and in
            # distributed mode joining the source's frontier in Redis.
            previous = await asyncio.to_thread(previous_fetch_state, self.config, source)
            settings = await asyncio.to_thread(crawl_settings, self.config, source, run_id, progress="log",
                                               robots_reuse=_ROBOTS_REUSE, scheduled=True)
            crawler = Crawler(NewsSpider, Settings(settings))
            crawler.extractor_pool = self.pool  # read by the pipeline (crawler/pipelines.py)
            self._crawlers[run_id] = crawler
            log.info("crawl_started", urls=None)
            if run_id in self._stop_requested:
                crash = None
            else:
                await maybe_deferred_to_future(self.runner.crawl(crawler, source=source, urls=None,
                                                                 fetch_state=previous))
        except Exception as exc:  # one source's crawl going wrong stops that crawl alone
            crash = mask_secrets(error_text(exc))[:300]
            log.error("crawl_error", error=crash)
        finally:
            self._crawlers.pop(run_id, None)
        stats = crawler.stats.get_stats() if crawler is not None and crawler.stats is not None else {}
        if run_id in self._stop_requested and "finish_reason" not in stats:
            stats = {**stats, "finish_reason": "shutdown"}
        try:
            summary = finish_run(self.config, source, run_id, stats, started_at, started, self.daemon_id, crash)
            record = summary.to_dict()
        except Exception as exc:  # the spool cannot take the summary: the daemon writes its fallback
            log.error("run_summary_failed", error=mask_secrets(error_text(exc))[:300])
            record = None
        self._tasks.pop(run_id, None)
        self._contexts.pop(run_id, None)
        self._stop_requested.discard(run_id)
        self.send({"event": "finished", "run_id": run_id, "summary": record})
        if self._stopping and not self._tasks:
            self._exit()

    def stop_crawl(self, run_id: str, reason: str) -> None:
        if run_id not in self._tasks:
            return
        self._stop_requested.add(run_id)
        context = self._contexts.get(run_id)
        crawler = self._crawlers.get(run_id)
        engine = getattr(crawler, "engine", None)
        if engine is not None and engine.running:
            context.run(log.info, "crawl_stop_requested", reason=reason)
            asyncio.get_event_loop().create_task(engine.close_spider_async(reason=reason), context=context)
        elif crawler is not None:
            # Still opening (Scrapy's engine not running yet): ask again shortly; the crawl's end stops this.
            from twisted.internet import reactor

            reactor.callLater(_STOP_RETRY, self.stop_crawl, run_id, reason)

    # ------------------------------------------------------------ lifecycle

    def shutdown(self, why: str) -> None:
        if self._stopping:
            return
        self._stopping = True
        log.info("engine_stopping", reason=why, crawls=len(self._tasks))
        for run_id in list(self._tasks):
            self.stop_crawl(run_id, "shutdown")
        if not self._tasks:
            self._exit()
            return
        from twisted.internet import reactor

        reactor.callLater(_STOP_BOUND, self._exit)

    def _exit(self) -> None:
        from twisted.internet import reactor

        self.pool.shutdown()
        if reactor.running:
            reactor.stop()


def _read_commands(engine: CrawlEngine, reactor, fd: int) -> None:
    """Standard input, a line at a time, handed to the reactor thread; its end stops the engine. Raw reads:
    a thread blocked in a buffered reader would hold its lock when the interpreter exits, which aborts it."""
    pending = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            reactor.callFromThread(engine.command, line.decode("utf-8", "replace").strip())
        if len(pending) > _MAX_COMMAND_BYTES:
            log.error("engine_bad_command", line=pending[:200].decode("utf-8", "replace"))
            pending = b""
    reactor.callFromThread(engine.shutdown, "stdin_closed")


def serve(config: Config, daemon_id: str | None, configure_logging) -> int:
    """Run the engine until told to stop; returns the exit status."""
    from scrapy.utils.reactor import install_reactor

    install_reactor(REACTOR)
    from twisted.internet import reactor

    # The protocol keeps the real standard output; anything else printing there lands in the log stream.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    engine = CrawlEngine(config, daemon_id, out)
    configure_logging()
    signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(engine.shutdown, "sigterm"))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the daemon's terminal ^C is the daemon's to handle

    def started() -> None:
        threading.Thread(target=_read_commands, args=(engine, reactor, sys.stdin.fileno()), name="engine-commands",
                         daemon=True).start()
        log.info("engine_started", pid=os.getpid(), extract_workers=engine.pool.workers)
        engine.send({"event": "ready"})

    reactor.callWhenRunning(started)
    reactor.run(installSignalHandlers=False)
    log.info("engine_stopped")
    return 0
