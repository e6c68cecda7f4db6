"""The daemon's monitoring endpoints, off unless `[daemon] http` is set: `/` (the status page, rendered by
ingest/status_page.py), `/metrics` (Prometheus text format, prometheus_client with a registry of its own),
`/healthz` (the daemon is alive) and `/readyz` (the database answers and the crawl engine runs), served by a
small threaded WSGI server on a daemon thread.

What the metrics count comes from the daemon at a few points: each ended crawl's run summary
(crawler/runner.py), each load's result, and at scrape time the spool backlog (ingest/status.py).
This module touches the listening socket, the spool directory (read only, to count the backlog) and, for
/readyz and the status page, a short connection to the database.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import psycopg
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from crawler import extract_timing
from crawler.spool import SpoolPaths
from ingest.config import Config

log = structlog.get_logger("newsingest.monitoring")

PREFIX = "newsingest_"
CRAWL_STATUSES = ("finished", "interrupted", "failed")
LOAD_OUTCOMES = ("new", "updated", "duplicate")
_LOAD_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# Run ids already counted: a run is reported when its crawl ends and again when a load records its summary.
# Both reports come within a load interval or so of each other; a daemon sees far fewer runs in that time.
_REMEMBERED_RUNS = 10_000
_LABEL = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# Seconds a scrape reuses the last spool count: Prometheus may scrape often, several Prometheus servers too.
_SPOOL_CACHE_SECONDS = 10.0
_DB_TIMEOUT = 2  # seconds /readyz gives the database to accept a connection
_READY_CACHE_SECONDS = 5.0  # probes, however frequent, reach the database at most this often
_STALLED_AFTER = 30.0  # seconds without a beat of the daemon's main loop (it beats twice a second)
_REQUEST_TIMEOUT = 10.0  # seconds a client gets to send its request


def _label(value: object) -> str:
    """A label value from a run summary: the summary is ours, but a label set must stay small and printable."""
    text = str(value)
    return text if _LABEL.fullmatch(text) else "other"


def _count(value: object) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


class _ExtractionHistogram:
    """newsingest_extraction_seconds: the per-page extraction times the crawls pre-aggregated into
    crawler/extract_timing.py's buckets, summed over every run reported."""

    name = PREFIX + "extraction_seconds"
    documentation = "Seconds an extraction worker spent on one page (from the run summaries of ended crawls)."

    def __init__(self):
        self._lock = threading.Lock()
        self._buckets = dict.fromkeys(extract_timing.LABELS, 0)
        self._sum = 0.0

    def add(self, histogram: object) -> None:
        if not isinstance(histogram, Mapping) or not isinstance(histogram.get("buckets"), Mapping):
            return
        buckets = histogram["buckets"]
        if set(buckets) != set(self._buckets):
            return  # other bounds (another version's crawl): adding them would break the cumulative counts
        try:
            counts = {le: _count(buckets[le]) for le in extract_timing.LABELS}
            total = float(histogram.get("sum", 0.0))
        except (TypeError, ValueError):
            return
        with self._lock:
            for le, count in counts.items():
                self._buckets[le] += count
            self._sum += total

    def describe(self) -> Iterable[Metric]:
        yield HistogramMetricFamily(self.name, self.documentation)

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            buckets = [(le if le == extract_timing.INF else floatToGoString(float(le)), count)
                       for le, count in self._buckets.items()]
            total = self._sum
        yield HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=total)


class _SpoolBacklog:
    """The spool gauges, counted when scraped (at most every few seconds, each closed segment read once)."""

    def __init__(self, config: Config):
        self._config = config
        self._lock = threading.Lock()
        self._line_counts: dict[tuple, int] = {}
        self._at = 0.0
        self._families: list[Metric] = []

    def describe(self) -> Iterable[Metric]:
        return list(self._empty_families())

    def _empty_families(self) -> Iterable[GaugeMetricFamily]:
        yield GaugeMetricFamily(PREFIX + "spool_segments", "Closed spool segments waiting to be loaded.")
        yield GaugeMetricFamily(PREFIX + "spool_records", "Records in the spool segments waiting to be loaded.")
        yield GaugeMetricFamily(PREFIX + "spool_oldest_seconds",
                                "Age of the oldest spool segment waiting to be loaded (0: none).")
        yield GaugeMetricFamily(PREFIX + "spool_bad_segments", "Spool segments and files set aside as unreadable.")

    def collect(self) -> Iterable[Metric]:
        from ingest.status import spool_backlog  # imports the status tables: only once scraped

        with self._lock:
            if time.monotonic() - self._at >= _SPOOL_CACHE_SECONDS or not self._families:
                try:
                    backlog = spool_backlog(self._config, self._line_counts)
                except OSError as exc:  # an unreadable spool is for the load to report; the scrape goes on
                    log.warning("spool_count_failed", error=str(exc))
                    return list(self._families)
                families = list(self._empty_families())
                values = (backlog.segments, backlog.records, backlog.oldest_seconds or 0.0, backlog.bad_segments)
                for family, value in zip(families, values, strict=True):
                    family.add_metric([], value)
                self._families, self._at = families, time.monotonic()
            return list(self._families)


class DaemonMetrics:
    """The daemon's metrics, in a registry of their own (not prometheus_client's global one)."""

    def __init__(self, config: Config):
        # No *_created series: they double the series of every counter, and Prometheus does not need them.
        disable_created_metrics()
        self.registry = CollectorRegistry()
        r = self.registry
        self.crawls = Counter(PREFIX + "crawls_total", "Crawls ended, by source and status.", ["source", "status"],
                              registry=r)
        self.pages = Counter(PREFIX + "pages_fetched_total", "Pages fetched (2xx and 304 answers), by source.",
                             ["source"], registry=r)
        self.articles = Counter(PREFIX + "articles_found_total", "Articles extracted and spooled, by source.",
                                ["source"], registry=r)
        self.errors = Counter(PREFIX + "fetch_errors_total", "Errors of crawls, by source and kind.",
                              ["source", "kind"], registry=r)
        self.last_success = Gauge(PREFIX + "last_successful_crawl_timestamp_seconds",
                                  "When the last crawl of a source that finished ended (Unix time).", ["source"],
                                  registry=r)
        self.loaded = Counter(PREFIX + "articles_loaded_total", "Records loaded, by outcome.", ["outcome"],
                              registry=r)
        self.load_duration = Histogram(PREFIX + "load_duration_seconds", "Seconds each load took.",
                                       buckets=_LOAD_BUCKETS, registry=r)
        self.load_failures = Counter(PREFIX + "load_failures_total", "Loads that failed (database down ...).",
                                     registry=r)
        self.last_load = Gauge(PREFIX + "last_successful_load_timestamp_seconds",
                               "When the last load that finished ended (Unix time).", registry=r)
        self.drift = Gauge(PREFIX + "extraction_drift",
                           "1 while a measure of a source's extraction drifts from its usual values, else 0.",
                           ["source", "measure"], registry=r)
        self.extraction = _ExtractionHistogram()
        r.register(self.extraction)
        r.register(_SpoolBacklog(config))
        # Series that exist from the start, so that rates and alerts work before the first crawl ends.
        for source in config.sources:
            for status in CRAWL_STATUSES:
                self.crawls.labels(source.name, status)
            self.pages.labels(source.name)
            self.articles.labels(source.name)
        for outcome in LOAD_OUTCOMES:
            self.loaded.labels(outcome)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_lock = threading.Lock()

    def crawl_ended(self, summary: Mapping) -> None:
        """Count one ended crawl from its run summary (crawler/runner.py's, or the daemon's fallback); a run
        already counted is not counted again."""
        run_id = str(summary.get("run_id") or "")
        if run_id:
            with self._seen_lock:
                if run_id in self._seen:
                    return
                self._seen[run_id] = None
                if len(self._seen) > _REMEMBERED_RUNS:
                    self._seen.popitem(last=False)
        source = _label(summary.get("source"))
        status = _label(summary.get("status"))
        self.crawls.labels(source, status).inc()
        self.pages.labels(source).inc(_count(summary.get("pages_fetched")))
        self.articles.labels(source).inc(_count(summary.get("articles_found")))
        errors = summary.get("errors")
        if isinstance(errors, Mapping):
            for kind, number in errors.items():
                if _count(number):
                    self.errors.labels(source, _label(kind)).inc(_count(number))
        if status == "finished":
            try:
                self.last_success.labels(source).set(datetime.fromisoformat(str(summary["finished_at"])).timestamp())
            except (KeyError, ValueError):
                pass
        self.extraction.add(summary.get("extract_seconds"))

    def load_finished(self, *, inserted: int, updated: int, duplicates: int, seconds: float) -> None:
        self.loaded.labels("new").inc(max(0, inserted))
        self.loaded.labels("updated").inc(max(0, updated))
        self.loaded.labels("duplicate").inc(max(0, duplicates))
        self.load_duration.observe(seconds)
        self.last_load.set_to_current_time()

    def load_failed(self) -> None:
        self.load_failures.inc()

    def set_drift(self, source: str, measure: str, active: bool) -> None:
        """Whether `measure` of `source`'s extraction drifts (computed elsewhere): the gauge is 1 while it does."""
        self.drift.labels(_label(source), _label(measure)).set(1 if active else 0)


def read_run_summary(spool_dir: Path, run_id: str) -> dict | None:
    """A run's summary in the spool: the crawl's own, else the daemon's fallback; None when a load took it."""
    runs = SpoolPaths(spool_dir).runs
    for path in (runs / f"{run_id}.json", runs / f"{run_id}~fallback.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # gone (loaded), or unreadable: the load sets it aside and says so
            continue
        if isinstance(data, dict):
            return data
    return None


class Probes:
    """What /healthz and /readyz answer. `engine_alive` says whether the crawl engine runs (always true while
    each crawl is its own process)."""

    def __init__(self, dsn: str, *, stopping: threading.Event, scheduler_running: Callable[[], bool],
                 engine_alive: Callable[[], bool]):
        self._dsn = dsn
        self._stopping = stopping
        self._scheduler_running = scheduler_running
        self._engine_alive = engine_alive
        self._beat: float | None = None
        self._db_lock = threading.Lock()
        self._db_checked = 0.0
        self._db_ok = False

    def beat(self) -> None:
        """Called by the daemon's main loop: it is alive."""
        self._beat = time.monotonic()

    def healthz(self) -> tuple[bool, str]:
        if self._stopping.is_set():
            return True, "ok (stopping)"
        if self._beat is None:
            return True, "ok (starting)"  # migrations and spool recovery may take a while: not a hung daemon
        if time.monotonic() - self._beat > _STALLED_AFTER:
            return False, "main_loop_stalled"
        if not self._scheduler_running():
            return False, "scheduler_stopped"
        return True, "ok"

    def readyz(self) -> tuple[bool, dict[str, str]]:
        if self._stopping.is_set():
            daemon = "stopping"
        elif self._beat is None or not self._scheduler_running():
            daemon = "starting"
        else:
            daemon = "ok"
        checks = {
            "daemon": daemon,
            "database": "ok" if self._database_answers() else "unreachable",
            "engine": "ok" if self._engine_running() else "not_running",
        }
        return all(value == "ok" for value in checks.values()), checks

    def _engine_running(self) -> bool:
        try:
            return bool(self._engine_alive())
        except Exception:  # a probe answers; what broke the engine is for the engine's own log
            return False

    def _database_answers(self) -> bool:
        with self._db_lock:  # one check at a time; the others take its answer
            if time.monotonic() - self._db_checked >= _READY_CACHE_SECONDS:
                try:
                    psycopg.connect(self._dsn, connect_timeout=_DB_TIMEOUT).close()
                    self._db_ok = True
                except (psycopg.Error, ValueError):  # ValueError: a DSN libpq cannot be given
                    self._db_ok = False
                self._db_checked = time.monotonic()
            return self._db_ok


def _plain(start_response, status: str, text: str) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _html(start_response, status: str, page: str) -> list[bytes]:
    body = page.encode()
    start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
    return [body]


def monitoring_app(registry: CollectorRegistry, probes: Probes,
                   status_page: Callable[[], tuple[bool, str]] | None = None):
    """The WSGI application: /metrics, /healthz, /readyz, and / when `status_page` is given (it answers
    whether the page could be built, and the page); 404 for any other path."""
    metrics_app = make_wsgi_app(registry)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        try:
            if path == "/" and status_page is not None:
                ok, page = status_page()
                return _html(start_response, "200 OK" if ok else "503 Service Unavailable", page)
            if path == "/metrics":
                return metrics_app(environ, start_response)
            if path == "/healthz":
                ok, text = probes.healthz()
                return _plain(start_response, "200 OK" if ok else "503 Service Unavailable", text)
            if path == "/readyz":
                ok, checks = probes.readyz()
                body = json.dumps({"status": "ready" if ok else "not_ready", "checks": checks}).encode()
                start_response("200 OK" if ok else "503 Service Unavailable",
                               [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            return _plain(start_response, "404 Not Found", "not found: /, /metrics, /healthz and /readyz are served")
        except Exception as exc:  # one line in the log, not a traceback on standard error
            log.error("http_request_failed", path=path, error=f"{type(exc).__name__}: {exc}")
            return _plain(start_response, "500 Internal Server Error", "internal error")

    return app


class _Handler(WSGIRequestHandler):
    timeout = _REQUEST_TIMEOUT  # a client that connects and sends nothing holds a thread this long at most

    def log_message(self, format, *args):
        """No access log: probes every few seconds would drown the daemon's own events."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a request in progress never holds up the daemon's exit

    def handle_error(self, request, client_address):
        log.warning("http_request_failed", error=repr(sys.exc_info()[1]))


class MonitoringServer:
    """The HTTP server on its own daemon thread."""

    def __init__(self, address: tuple[str, int], app):
        host, port = address
        # The address family the host resolves to first (IPv6 "::1" cannot be served by the default AF_INET).
        family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                       flags=socket.AI_PASSIVE)[0]
        server_class = type("_MonitoringServer", (_Server,), {"address_family": family})
        self._httpd = make_server(sockaddr[0], port, app, server_class=server_class, handler_class=_Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="monitoring-http", daemon=True)

    @classmethod
    def start(cls, address: tuple[str, int], app) -> MonitoringServer:
        """Listening on `address`; raises OSError when it cannot (port in use, an address not of this host)."""
        server = cls(address, app)
        server._thread.start()
        return server

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def format_address(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
