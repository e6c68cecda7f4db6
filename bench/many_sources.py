"""Benchmark: the daemon with many small feed sources, most revisits unchanged: CPU per revisit, peak
memory of its whole process tree, and how late its scheduled crawls start.

    python bench/many_sources.py [--sources 100,1000] [--modes process,shared] [--window 150]
                                 [--interval 60] [--start warm|cold] [--concurrent-crawls K|process=K,shared=K]
                                 [--process-max-sources 100] [--per-host 5] [--dsn ADMIN_DSN] [--keep]

Site: N feed sources served from threads of this process on loopback hosts 127.0.0.2, 127.0.0.3, ...
(--per-host sources on each, each host a listening socket of its own, so a source's allowed domain is
its host and per-host politeness is that of separate sites). Source i has a tiny robots.txt on its
host, an RSS feed /s/<i>/feed.xml listing its newest 3 articles, and synthetic article pages
/s/<i>/a/<k>/ of a few paragraphs. Feeds carry an ETag and Last-Modified and answer conditional
requests with 304 while unchanged; at the middle of the window 1 source in 20 publishes one article,
so a few revisits fetch and extract a page.

Daemon: for each mode and N, a scratch database (newsingest_bench_<random> on --dsn's server, dropped
at the end), a config of N sources every --interval seconds (crawl settings at their defaults, so
politeness too, but allow_private_hosts; loads every interval/4; max_concurrent_crawls the daemon's
default unless --concurrent-crawls), and `newsingest run` with JSON logs into a file, stopped with
SIGTERM after --window seconds and waited for (its grace period, final load). Warm start (default):
before the daemon starts, each source's fetch state is what a crawl of it would have left (its
feed's validators, its articles known and not due), written by the crawler's own FetchStateBook into
the spool and applied by `newsingest load`: a daemon restarted over a database, every crawl of the
window a revisit. Cold start: an empty database; the first round fetches every article.

Mode "process" is today's design, a child `newsingest crawl SOURCE --no-load` per crawl; "shared"
is one long-running crawl engine. `[daemon] crawl_engine = "<mode>"` is written only when this build's
config accepts it (checked once per mode with the project's config validation); without the key,
"process" runs the current code and "shared" is reported as not supported. Process mode runs only
for N <= --process-max-sources: at about a second of CPU per crawl, 1,000 sources a minute would
only measure its backlog. The defaults (process at 100 sources, shared at 100 and 1,000, each for
150 s) take under 10 minutes.

Measured over the daemon and every process below it, this process being their subreaper (Linux
prctl), so that processes orphaned in the tree (a crawl's fork server and resource tracker) stay in
it and are reaped here:
- CPU: sampled from /proc every 0.25 s, each live process's own time plus what it has reaped, plus
  what this process has reaped; at the end exactly, from this process's rusage of its children.
  "CPU per revisit" is the tree's CPU from the first crawl's start (warm; cold: from the moment every
  source has finished its first crawl) to the end of the window, divided by the crawls finished in
  between; nearly all of them are unchanged (a 304 for the feed, no page fetched; counted). The
  "capacity" is the sources per 15 minutes the machine's cores could revisit at that cost.
- Memory: peak over the run of the sum of RSS, and of PSS (smaps_rollup), over the tree's processes.
- Lateness: the daemon's `crawl_dispatched` events' late_seconds when it logs them; and always, from
  the starts of crawls (crawl_dispatched, else crawl_process_started) against the schedule grid
  (every source at daemon start t0, then every interval; t0 read back from source_schedule, else
  the first start): a run skipped while the previous one still ran (coalesced) is late until the
  source's next crawl starts, and a run not started by the end of the window is late at least until
  then.
- Crawls and failures from the log: crawl_finished per run (else crawl_process_finished), failed
  runs, error-level events, lines that are not JSON.

"N sources every I s" is N*900/I source revisits per 15 minutes. Goals (issue 13): CPU per unchanged
revisit <= 20 ms; >= 1,000 sources per 15 minutes on 2 cores with no crawl more than 60 s late;
whole tree <= 1 GB with 1,000 sources.

Touches its scratch database, a temporary directory (kept with --keep: configs, daemon logs) and
loopback sockets; starts the daemon, and through it its crawl processes, and stops them.
"""

from __future__ import annotations

import argparse
import bisect
import email.utils
import json
import os
import platform
import random
import re
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable as a script from any directory, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402
from procfs import become_subreaper, children, cpu_times, descendants, memory_kib  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
MODES = ("process", "shared")
FEED_ITEMS = 3
NEWS_EVERY = 20  # 1 source in NEWS_EVERY publishes an article in the middle of the window
SAMPLE_EVERY = 0.25  # seconds between /proc samples
STOP_WAIT = 180.0  # seconds the daemon gets to exit after SIGTERM (its grace period, the final load)
GOAL_CPU = 0.020
GOAL_LATE = 60.0
GOAL_PER_15_MIN = 1000
GOAL_MEMORY_MIB = 1024

_WORDS = ("council", "river", "budget", "station", "minister", "harbour", "festival", "school", "report",
          "winter", "market", "bridge", "voters", "hospital", "library", "railway", "farmers", "court",
          "museum", "storm", "energy", "prices", "village", "league", "airport", "study", "water", "plans",
          "officials", "residents", "announced", "expected", "during", "after", "before", "while", "said",
          "would", "could", "local", "national", "new", "old", "first", "last", "several", "many", "most")


def _http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


# ---------------------------------------------------------------- the site


class _Host(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many crawls may connect at once; the default 5 would drop connections
    timeout = 0  # handle_request() is called only when the socket is ready: never block in it

    def __init__(self, address: str, site: FeedSites):
        self.site = site
        super().__init__((address, 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Host
    _FEED = re.compile(r"/s/(\d+)/feed\.xml")
    _ARTICLE = re.compile(r"/s/(\d+)/a/(\d+)/")

    def do_GET(self) -> None:
        site, host = self.server.site, self.server.server_address[0]
        path = self.path.split("?", 1)[0]
        if path == "/robots.txt":
            return self._send(200, "text/plain", b"User-agent: *\nAllow: /\n", "robots")
        if m := self._FEED.fullmatch(path):
            source = int(m[1])
            if site.owns(host, source):
                return self._feed(site, source)
        elif m := self._ARTICLE.fullmatch(path):
            source, number = int(m[1]), int(m[2])
            if site.owns(host, source) and number < site.counts[source]:
                return self._send(200, "text/html; charset=utf-8", site.article(source, number), "article")
        self._send(404, "text/plain", b"not found\n", "other")

    def _feed(self, site: FeedSites, source: int) -> None:
        etag, modified = site.validators(source)
        headers = {"ETag": etag, "Last-Modified": _http_date(modified)}
        if_none_match, if_modified = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        unchanged = if_none_match == etag if if_none_match else False
        if not if_none_match and if_modified:
            try:
                unchanged = email.utils.parsedate_to_datetime(if_modified).timestamp() >= int(modified)
            except (TypeError, ValueError):
                unchanged = False
        if unchanged:
            return self._send(304, None, b"", "feed", headers)
        self._send(200, "application/rss+xml; charset=utf-8", site.feed(source), "feed", headers)

    def _send(self, status: int, content_type: str | None, body: bytes, kind: str,
              headers: dict[str, str] | None = None) -> None:
        self.server.site.count(kind, status)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the stdlib's name)
        pass


class FeedSites:
    """N feed sources on loopback hosts, served by one thread that accepts on every host's socket
    (a thread per connection then answers, as ThreadingHTTPServer does)."""

    def __init__(self, sources: int, per_host: int):
        self.sources = sources
        self.per_host = per_host
        self.started = time.time()
        self.counts = [FEED_ITEMS] * sources  # articles of each source; the newest FEED_ITEMS are in its feed
        self.published = [[self.started - (FEED_ITEMS - k) * 3600.0 for k in range(FEED_ITEMS)]
                          for _ in range(sources)]
        self.served: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self.hosts = [_Host(self._address(h), self) for h in range(-(-sources // per_host))]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="feed-sites", daemon=True)
        self._thread.start()

    @staticmethod
    def _address(host: int) -> str:
        return f"127.0.{host // 250}.{host % 250 + 2}"  # 127.0.0.2 onwards; .0, .1 and .255 are left alone

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            for server in self.hosts:
                selector.register(server.socket, selectors.EVENT_READ, server)
            while not self._stop.is_set():
                for key, _events in selector.select(timeout=0.5):
                    key.data.handle_request()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for server in self.hosts:
            server.server_close()

    def owns(self, address: str, source: int) -> bool:
        return 0 <= source < self.sources and self._address(source // self.per_host) == address

    def base(self, source: int) -> str:
        address, port = self.hosts[source // self.per_host].server_address[:2]
        return f"http://{address}:{port}/s/{source}/"

    def count(self, kind: str, status: int) -> None:
        with self._lock:
            self.served[kind, status] += 1

    def publish(self, sources: list[int]) -> None:
        now = time.time()
        with self._lock:
            for source in sources:
                self.published[source].append(now)
                self.counts[source] += 1

    def validators(self, source: int) -> tuple[str, float]:
        with self._lock:
            return f'"{source}-{self.counts[source]}"', self.published[source][-1]

    def feed(self, source: int) -> bytes:
        with self._lock:
            count, dates = self.counts[source], list(self.published[source])
        items = "".join(
            f"<item><title>Story {k} of source {source}</title><link>{self.base(source)}a/{k}/</link>"
            f"<guid>{self.base(source)}a/{k}/</guid><pubDate>{_http_date(dates[k])}</pubDate></item>"
            for k in range(count - 1, max(count - FEED_ITEMS, 0) - 1, -1))
        return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>Source {source}</title><link>{self.base(source)}</link><description>news</description>"
                f"<lastBuildDate>{_http_date(dates[-1])}</lastBuildDate>{items}</channel></rss>").encode()

    @staticmethod
    def story(source: int, number: int) -> tuple[str, list[str]]:
        """An article's headline and paragraphs, the same at every request."""
        rng = random.Random(f"{source}/{number}")
        title = " ".join(rng.choice(_WORDS) for _ in range(7)).capitalize()
        paragraphs = [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(45, 70))).capitalize() + "."
                      for _ in range(5)]
        return title, paragraphs

    def article(self, source: int, number: int) -> bytes:
        title, paragraphs = self.story(source, number)
        with self._lock:
            published = self.published[source][number]
        url = f"{self.base(source)}a/{number}/"
        iso = datetime.fromtimestamp(published).astimezone().isoformat(timespec="seconds")
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
                f'<link rel="canonical" href="{url}"><meta property="article:published_time" content="{iso}">'
                f'</head><body><header><nav><a href="/">Home</a> <a href="/s/{source}/">Local</a></nav></header>'
                f"<main><article><h1>{escape(title)}</h1><p class=\"byline\">By staff reporter {number}</p>"
                f"{body}</article></main><footer>Source {source} news, all rights reserved</footer>"
                f"</body></html>").encode()


def seed_fetch_state(site: FeedSites, spool: Path) -> int:
    """What a daemon that crawled every source before knows (a restart over an existing database): each
    feed's validators and the state of its articles, observed through the crawler's own FetchStateBook
    as a first crawl would observe them, and written as that crawl's state file into the spool, for the
    loader to apply. Every crawl of the window is then a revisit. Returns the URLs recorded."""
    from crawler.fetch_state import KIND_DOCUMENT, KIND_PAGE, FetchStateBook, RevisitPolicy

    now = datetime.now(UTC)
    recorded = 0
    for source in range(site.sources):
        book = FetchStateBook(f"s{source:05d}", None, RevisitPolicy())
        etag, modified = site.validators(source)
        headers = {b"ETag": etag.encode(), b"Last-Modified": _http_date(modified).encode()}
        book.response(f"{site.base(source)}feed.xml", KIND_DOCUMENT, 200, headers, site.feed(source), now)
        for number in range(site.counts[source]):
            url = f"{site.base(source)}a/{number}/"
            book.response(url, KIND_PAGE, 200, {}, None, now)
            book.extracted(url, "\n\n".join(site.story(source, number)[1]), "article")
        recorded += len(book.updates)
        book.write(spool, uuid.uuid4().hex)
    return recorded


# ---------------------------------------------------------------- /proc sampling


class TreeSampler(threading.Thread):
    """Samples the processes below this one (the daemon, its crawl processes, their workers, and, this
    process being their subreaper, the ones orphaned on the way): CPU (running total, with its time
    line) and memory peaks. Reaps the orphans that end, so their CPU time reaches our rusage."""

    def __init__(self, daemon_pid: int):
        super().__init__(name="tree-sampler", daemon=True)
        self.daemon_pid = daemon_pid
        self.baseline = _rusage_children()
        self.stopped = threading.Event()
        self.times: list[float] = []
        self.cpu: list[float] = []
        self.peak_rss = self.peak_pss = self.peak_processes = 0  # KiB, KiB, count
        self.pss_missing = False
        self.orphans_reaped = 0
        self.orphan_kinds: dict[int, str] = {}  # pid: what it runs, read while it ran
        self.own_cpu: dict[int, float] = {}  # pid: its own CPU seconds at its last sample
        self.roles: dict[int, str] = {}  # pid: _role()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.sample()
            self.stopped.wait(SAMPLE_EVERY)

    def reap_orphans(self) -> int:
        """Reaps ended orphans; returns how many orphans are still running."""
        running = 0
        for pid in children(os.getpid()):
            if pid == self.daemon_pid:
                continue  # Popen.wait reaps it
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                continue
            if done:
                self.orphans_reaped += 1
            else:
                running += 1
                if pid not in self.orphan_kinds:
                    self.orphan_kinds[pid] = _what_runs(pid)
        return running

    def sample(self) -> None:
        self.reap_orphans()
        cpu = _rusage_children() - self.baseline  # the daemon once it has exited, and reaped orphans
        pids = descendants(os.getpid())
        rss_sum = pss_sum = 0
        for pid in pids:
            own, reaped = cpu_times(pid)
            cpu += own + reaped
            if pid not in self.roles:
                self.roles[pid] = _role(pid)
            self.own_cpu[pid] = max(own, self.own_cpu.get(pid, 0.0))
            rss, pss = memory_kib(pid)
            rss_sum += rss
            if pss is None and rss:
                self.pss_missing = True
            pss_sum += rss if pss is None else pss
        # CPU time only grows: a process reaped between two reads of one sample may be missed once.
        self.times.append(time.time())
        self.cpu.append(max(cpu, self.cpu[-1] if self.cpu else 0.0))
        self.peak_rss = max(self.peak_rss, rss_sum)
        self.peak_pss = max(self.peak_pss, pss_sum)
        self.peak_processes = max(self.peak_processes, len(pids))

    def cpu_at(self, when: float) -> float:
        """Tree CPU seconds at a moment, interpolated between samples."""
        i = bisect.bisect_left(self.times, when)
        if i == 0:
            return self.cpu[0] if self.cpu else 0.0
        if i >= len(self.times):
            return self.cpu[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        share = (when - t0) / (t1 - t0) if t1 > t0 else 1.0
        return self.cpu[i - 1] + share * (self.cpu[i] - self.cpu[i - 1])


# ---------------------------------------------------------------- config and daemon


def engine_key(mode: str, scratch: Path) -> bool | None:
    """Whether this build's config takes `[daemon] crawl_engine = mode`: True, False (unknown key or
    value), checked by the project's own validation."""
    from ingest.config import ConfigError, parse_config

    try:
        parse_config({"daemon": {"crawl_engine": mode}}, None, env={"NEWSINGEST_DATA_DIR": str(scratch)})
    except ConfigError as exc:
        if "crawl_engine" in str(exc):
            return False
        raise
    return True


def write_config(path: Path, data_dir: Path, site: FeedSites, interval: float, load_interval: float,
                 engine: str | None, concurrent: int) -> Path:
    daemon = f'crawl_engine = "{engine}"\n' if engine else ""
    if concurrent:
        daemon += f"max_concurrent_crawls = {concurrent}\n"
    sources = "".join(f"""
[[sources]]
name = "s{i:05d}"
feeds = ["{site.base(i)}feed.xml"]
follow_links = false
article_pattern = "/s/{i}/a/[0-9]+/$"
interval = {interval}
allow_private_hosts = true
""" for i in range(site.sources))
    path.write_text(f"""[service]
data_dir = "{data_dir}"

[load]
interval = {load_interval}

[daemon]
{daemon}{sources}""")
    return path


@dataclass
class Run:
    mode: str
    sources: int
    interval: float
    window: float
    concurrent: int
    start: str  # warm: every source crawled before (fetch state seeded); cold: an empty database
    seeded: int = 0  # URLs of the seeded fetch state
    started: float = 0.0  # daemon process start (epoch seconds)
    window_end: float = 0.0  # SIGTERM
    exited: float = 0.0
    exit_status: int | None = None
    cpu_total: float = 0.0  # exact, from rusage of reaped children
    cpu_sampled: float = 0.0
    sampler: TreeSampler | None = None
    events: list[dict] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)
    grid_t0: float | None = None  # from source_schedule
    articles_loaded: int | None = None
    served: Counter = field(default_factory=Counter)
    harness_cpu: float = 0.0


def _rusage_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_daemon(run: Run, engine: str | None, dsn: str, tmp: Path, per_host: int, load_interval: float) -> Run:
    site = FeedSites(run.sources, per_host)
    try:
        config = write_config(tmp / "bench.toml", tmp / "data", site, run.interval, load_interval, engine,
                              run.concurrent)
        env = {**os.environ, "DATABASE_URL": dsn, "NEWSINGEST_CONFIG": ""}
        cli = [sys.executable, "-m", "ingest.cli", "--config", str(config), "--log-format", "json"]
        subprocess.run([*cli, "--log-level", "warning", "migrate"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
        if run.start == "warm":
            from ingest.config import load_config

            run.seeded = seed_fetch_state(site, load_config(config, env=env).spool_dir)
            subprocess.run([*cli, "--log-level", "warning", "load"], cwd=ROOT, env=env, check=True,
                           capture_output=True, timeout=300)
        log_path = tmp / "daemon.log"
        before_children, before_self = _rusage_children(), _own_cpu()
        with open(log_path, "w") as log:
            run.started = time.time()
            process = subprocess.Popen([*cli, "--log-level", "info", "run"], cwd=ROOT, env=env, stdout=log,
                                       stderr=subprocess.STDOUT)
            sampler = run.sampler = TreeSampler(process.pid)
            sampler.start()
            try:
                _window(run, process, site)
            finally:
                _stop(run, process, sampler)
        run.cpu_total = _rusage_children() - before_children
        run.harness_cpu = _own_cpu() - before_self
        run.cpu_sampled = sampler.cpu[-1] if sampler.cpu else 0.0
        run.served = Counter(site.served)
    finally:
        site.stop()
    run.events, run.bad_lines = read_log(log_path)
    run.grid_t0, run.articles_loaded = _database_facts(dsn, run)
    return run


def _window(run: Run, process: subprocess.Popen, site: FeedSites) -> None:
    """The daemon runs for the window; some sources publish an article in its middle."""
    news_at = run.started + run.window / 2
    published = False
    while time.time() < run.started + run.window and process.poll() is None:
        if not published and time.time() >= news_at:
            site.publish(list(range(NEWS_EVERY // 2, run.sources, NEWS_EVERY)))
            published = True
        time.sleep(0.2)


def _stop(run: Run, process: subprocess.Popen, sampler: TreeSampler) -> None:
    """SIGTERM, then the daemon's own shutdown; whatever outlives it in the tree is waited for, then killed."""
    run.window_end = time.time()
    process.send_signal(signal.SIGTERM)
    try:
        run.exit_status = process.wait(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        print(f"  the daemon did not stop within {STOP_WAIT:.0f} s of SIGTERM: killed")
        _kill(descendants(os.getpid()))
        run.exit_status = process.wait(timeout=30)
    run.exited = time.time()
    sampler.stopped.set()
    sampler.join(timeout=5)
    # Orphans (a crawl's fork server, say) end when their parent's pipes close: wait a little.
    deadline = time.monotonic() + 30
    while sampler.reap_orphans() and time.monotonic() < deadline:
        time.sleep(0.1)
    if leftover := [pid for pid in children(os.getpid()) if pid != process.pid]:
        print(f"  {len(leftover)} processes left by the daemon still ran 30 s after it exited: killed")
        _kill([*leftover, *descendants(os.getpid())])
        time.sleep(0.5)
        sampler.reap_orphans()


def _argv(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read(4096).decode(errors="replace").split("\0")
    except OSError:
        return None


def _what_runs(pid: int) -> str:
    """A short name for a process: its Python module or code, else its program."""
    argv = _argv(pid)
    if argv is None:
        return "?"
    for flag in ("-m", "-c"):
        if flag in argv[:-1]:
            code = argv[argv.index(flag) + 1].split()
            return code[1] if code[:1] == ["from"] and len(code) > 1 else " ".join(code)[:60]
    return Path(argv[0]).name or "?"


def _role(pid: int) -> str:
    """Which part of newsingest a process is, for the CPU breakdown."""
    argv = _argv(pid)
    if argv is None:
        return "?"
    line = " ".join(argv)
    if "ingest.cli" in argv:
        command = next((a for a in argv if a in ("run", "engine", "crawl")), "?")
        return {"run": "daemon", "engine": "crawl engine", "crawl": "crawl processes"}[command] \
            if command != "?" else "newsingest"
    if "forkserver" in line:
        return "extraction fork server"
    if "resource_tracker" in line:
        return "resource trackers"
    if "multiprocessing" in line or "spawn_main" in line:
        return "extraction workers"
    return _what_runs(pid)


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def read_log(path: Path) -> tuple[list[dict], list[str]]:
    events, bad = [], []
    with open(path, errors="replace") as fh:
        for line in fh:
            try:
                event = json.loads(line)
                event["_t"] = datetime.fromisoformat(event["timestamp"]).timestamp()
            except (ValueError, KeyError, TypeError):
                if line.strip():
                    bad.append(line.rstrip()[:200])
                continue
            events.append(event)
    return events, bad


def _database_facts(dsn: str, run: Run) -> tuple[float | None, int | None]:
    """The schedule grid's origin (source_schedule holds each source's next run, a grid point) and the
    articles in the database, both best effort."""
    t0 = articles = None
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            row = conn.execute("SELECT max(next_run_at) FROM source_schedule").fetchone()
    except psycopg.Error:
        return t0, articles
    if row and row[0] is not None:
        point = row[0].timestamp()
        first = first_start(run.events)
        estimate = first if first is not None else run.started
        t0 = point - round((point - estimate) / run.interval) * run.interval
        if not -run.interval / 4 < estimate - t0 < run.interval / 4:
            t0 = None  # not this run's grid (or not a grid at all): fall back to the first start
    return t0, articles


# ---------------------------------------------------------------- what the log says


def _starts(events: list[dict]) -> list[dict]:
    """Scheduled crawl starts: crawl_dispatched when the daemon logs it, else crawl_process_started."""
    dispatched = [e for e in events if e.get("event") == "crawl_dispatched"]
    chosen = dispatched or [e for e in events if e.get("event") == "crawl_process_started"]
    return [e for e in chosen if e.get("reason", "schedule") == "schedule"]


def first_start(events: list[dict]) -> float | None:
    starts = _starts(events)
    return min(e["_t"] for e in starts) if starts else None


def finished_crawls(events: list[dict]) -> list[dict]:
    finished = [e for e in events if e.get("event") == "crawl_finished"]
    if finished:
        return finished
    return [{**e, "status": "finished" if e.get("exit_status") == 0 else "failed"}
            for e in events if e.get("event") == "crawl_process_finished"]


def grid_lateness(run: Run) -> tuple[float, int, float, int, bool]:
    """Longest lateness of a scheduled run against the grid; runs still waiting at the end of the window
    (count, longest wait so far); grid runs in the window; whether t0 is exact."""
    starts: dict[str, list[float]] = {}
    for event in _starts(run.events):
        starts.setdefault(event["source"], []).append(event["_t"])
    t0, exact = run.grid_t0, run.grid_t0 is not None
    if t0 is None:
        t0 = first_start(run.events)
    if t0 is None:
        return 0.0, 0, 0.0, 0, exact
    # An estimated t0 (the first start) is a little late: starts just before a grid point belong to it.
    slack = 0.0 if exact else 0.5
    longest = waiting_longest = 0.0
    waiting = points = 0
    names = [f"s{i:05d}" for i in range(run.sources)]
    for name in names:
        times = sorted(starts.get(name, []))
        k = 0
        while (point := t0 + k * run.interval) <= run.window_end:
            points += 1
            i = bisect.bisect_left(times, point - slack)
            if i < len(times):
                longest = max(longest, times[i] - point)
            else:
                waiting += 1
                waiting_longest = max(waiting_longest, run.window_end - point)
            k += 1
    return longest, waiting, waiting_longest, points, exact


@dataclass
class Figures:
    crawls: int
    first_round_s: float | None  # from daemon start until every source had finished a crawl
    revisits: int
    unchanged: int
    steady_s: float
    steady_cpu: float
    per_revisit: float | None
    late_daemon: float | None
    late_grid: float
    waiting: int
    waiting_longest: float
    grid_points: int
    grid_exact: bool
    coalesced: int
    failed_runs: int
    errors: Counter
    statuses: Counter


def figures(run: Run) -> Figures:
    done = [e for e in finished_crawls(run.events) if e["_t"] <= run.exited]
    first: dict[str, float] = {}
    for event in sorted(done, key=lambda e: e["_t"]):
        first.setdefault(event.get("source"), event["_t"])
    round_done = max(first.values()) if len(first) >= run.sources else None
    # Warm, every crawl is a revisit: from the first start on. Cold, once every source has had its first.
    since = first_start(run.events) if run.start == "warm" else round_done
    revisits = unchanged = 0
    steady_s = steady_cpu = 0.0
    per_revisit = None
    if since is not None and since < run.window_end:
        later = [e for e in done if since < e["_t"] <= run.window_end]
        revisits = len(later)
        unchanged = sum(1 for e in later if e.get("status") == "finished" and e.get("pages") == 0)
        steady_s = run.window_end - since
        steady_cpu = run.sampler.cpu_at(run.window_end) - run.sampler.cpu_at(since)
        per_revisit = steady_cpu / revisits if revisits else None
    dispatched = [e["late_seconds"] for e in run.events
                  if e.get("event") == "crawl_dispatched" and e.get("reason", "schedule") == "schedule"
                  and isinstance(e.get("late_seconds"), (int, float))]
    late_grid, waiting, waiting_longest, points, exact = grid_lateness(run)
    errors = Counter(e.get("event", "?") for e in run.events if e.get("level") in ("error", "critical"))
    statuses = Counter(str(e.get("status")) for e in done)
    return Figures(
        crawls=len(done), first_round_s=None if round_done is None else round_done - run.started,
        revisits=revisits, unchanged=unchanged, steady_s=steady_s, steady_cpu=steady_cpu, per_revisit=per_revisit,
        late_daemon=max(dispatched) if dispatched else None, late_grid=late_grid, waiting=waiting,
        waiting_longest=waiting_longest, grid_points=points, grid_exact=exact,
        coalesced=sum(1 for e in run.events if e.get("event") == "run_coalesced"),
        failed_runs=sum(n for status, n in statuses.items() if status != "finished"), errors=errors,
        statuses=statuses)


# ---------------------------------------------------------------- output


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"


def _capacity(per_revisit: float | None) -> str:
    """Sources per 15 minutes the machine's cores could revisit at this CPU cost, and nothing else."""
    if not per_revisit:
        return "n/a"
    return f"{(os.cpu_count() or 1) * 900 / per_revisit:,.0f}"


def print_run(run: Run, f: Figures) -> None:
    per_15 = run.sources * 900 / run.interval
    concurrent = f"max_concurrent_crawls {run.concurrent}" if run.concurrent else "max_concurrent_crawls default"
    start = f"warm start ({run.seeded} URLs of fetch state seeded)" if run.start == "warm" else "cold start"
    print(f"\n{run.mode}: {run.sources} sources every {run.interval:g} s (= {per_15:,.0f} sources per 15 minutes), "
          f"{concurrent}, {start}, window {run.window:g} s; daemon exit status {run.exit_status}, "
          f"{run.exited - run.window_end:.0f} s after SIGTERM")
    first = f"{f.first_round_s:.0f} s after start" if f.first_round_s is not None else (
        "not within the window" + (" (lengthen --window)" if run.start == "cold" else ""))
    print(f"  crawls finished    {f.crawls} by exit; every source had finished one {first}")
    if f.per_revisit is not None:
        since = "the first start" if run.start == "warm" else "then"
        print(f"  CPU per revisit    {_ms(f.per_revisit)}: {f.steady_cpu:.1f} s of tree CPU from {since} to the end of "
              f"the window ({f.steady_s:.0f} s), {f.revisits} crawls finished in it, {f.unchanged} unchanged (no page "
              f"fetched); at this cost {os.cpu_count()} cores revisit {_capacity(f.per_revisit)} sources per 15 min")
    else:
        print("  CPU per revisit    n/a: no revisit inside the window (lengthen --window)")
    per_crawl = run.cpu_total / max(f.crawls, 1)
    by_role = Counter()
    for pid, seconds in run.sampler.own_cpu.items():
        by_role[run.sampler.roles.get(pid, "?")] += seconds
    print("  CPU by process     " + ", ".join(f"{role} {seconds:.1f} s" for role, seconds in by_role.most_common())
          + " (own time, last sample of each; processes that ended between samples are missed)")
    print(f"  CPU, whole tree    {run.cpu_total:.1f} s from daemon start to exit, {per_crawl * 1000:.0f} ms per crawl "
          f"(sampled {run.cpu_sampled:.1f} s); this process (site, sampler) {run.harness_cpu:.1f} s")
    if run.sampler.orphans_reaped:
        kinds = Counter(run.sampler.orphan_kinds.values())
        print(f"  orphans            {run.sampler.orphans_reaped} processes left by their parent were reaped here "
              f"(their CPU counted); seen running: " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common(3)))
    pss = " (RSS where smaps_rollup was unreadable)" if run.sampler.pss_missing else ""
    print(f"  peak memory, tree  RSS sum {run.sampler.peak_rss / 1024:.0f} MiB, PSS sum "
          f"{run.sampler.peak_pss / 1024:.0f} MiB{pss}; at most {run.sampler.peak_processes} processes")
    daemon = "" if f.late_daemon is None else f"daemon's late_seconds {f.late_daemon:.1f} s; "
    t0 = "t0 from source_schedule" if f.grid_exact else "t0 = first start, +-0.5 s"
    print(f"  longest lateness   {daemon}against the grid {f.late_grid:.1f} s over {f.grid_points} scheduled runs "
          f"({t0}; {f.coalesced} runs coalesced); {f.waiting} not started by the end of the window, the longest "
          f"waiting {f.waiting_longest:.1f} s")
    errors = ", ".join(f"{name} {n}" for name, n in f.errors.most_common(6)) or "none"
    statuses = ", ".join(f"{s} {n}" for s, n in f.statuses.most_common())
    print(f"  failures           {f.failed_runs} crawls not finished cleanly ({statuses}); error events: {errors}; "
          f"{len(run.bad_lines)} log lines not JSON")
    for line in run.bad_lines[:3]:
        print(f"    | {line}")
    served = ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(run.served.items()))
    print(f"  site served        {served}; articles in the database {run.articles_loaded}")


def print_summary(results: list[tuple[Run, Figures]]) -> None:
    print(f"\n{'mode':9}{'sources':>8}{'per 15 min':>11}{'crawls':>8}{'revisits':>9}{'CPU/revisit':>12}"
          f"{'capacity':>10}{'peak RSS':>10}{'peak PSS':>10}{'late (s)':>10}{'failed':>7}")
    for run, f in results:
        late = max(f.late_grid, f.waiting_longest, f.late_daemon or 0.0)
        print(f"{run.mode:9}{run.sources:>8}{run.sources * 900 / run.interval:>11,.0f}{f.crawls:>8}{f.revisits:>9}"
              f"{_ms(f.per_revisit):>12}{_capacity(f.per_revisit):>10}{run.sampler.peak_rss / 1024:>6.0f} MiB"
              f"{run.sampler.peak_pss / 1024:>6.0f} MiB{late:>10.1f}{f.failed_runs:>7}")
    by = {(run.mode, run.sources): f for run, f in results}
    for (mode, n), f in by.items():
        other = by.get(("shared", n)) if mode == "process" else None
        if other and f.per_revisit and other.per_revisit:
            print(f"CPU per revisit at {n} sources, process / shared: {f.per_revisit / other.per_revisit:.1f}x")
    print(f"capacity: sources per 15 minutes that {os.cpu_count()} cores could revisit at that CPU cost; late: the "
          f"longest of against the grid, still waiting at the end, and the daemon's late_seconds")
    print(f"goals: CPU per unchanged revisit <= {GOAL_CPU * 1000:.0f} ms; >= {GOAL_PER_15_MIN:,} sources per 15 "
          f"minutes with no crawl more than {GOAL_LATE:.0f} s late; whole tree <= {GOAL_MEMORY_MIB} MiB at 1,000 "
          f"sources")


# ---------------------------------------------------------------- main


def _concurrency(spec: str) -> dict[str, int]:
    """'4' (every mode) or 'process=4,shared=0'; 0 leaves the daemon's default."""
    if "=" not in spec:
        return dict.fromkeys(MODES, int(spec))
    found = dict.fromkeys(MODES, 0)
    for part in spec.split(","):
        mode, _, value = part.partition("=")
        if mode.strip() not in MODES:
            raise argparse.ArgumentTypeError(f"unknown mode {mode!r}")
        found[mode.strip()] = int(value)
    return found


def _exit_on_signal(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", type=_ints, action="append",
                    help="numbers of sources, a comma list or repeated (default 100,1000)")
    ap.add_argument("--modes", default="process,shared", help="comma list of process, shared")
    ap.add_argument("--window", type=float, default=150.0, help="seconds the daemon runs (default 150)")
    ap.add_argument("--interval", type=float, default=60.0, help="seconds between a source's crawls (default 60)")
    ap.add_argument("--load-interval", type=float, help="seconds between loads (default: interval / 4)")
    ap.add_argument("--start", choices=["warm", "cold"], default="warm",
                    help="warm (default): the daemon starts over a database that has crawled every source "
                         "(fetch state seeded), so every crawl is a revisit; cold: an empty database, the first "
                         "round (fetching every article) inside the window, revisits counted after it")
    ap.add_argument("--per-host", type=int, default=5, help="sources per loopback host (default 5)")
    ap.add_argument("--process-max-sources", type=int, default=100,
                    help="process mode runs only up to this many sources (default 100)")
    ap.add_argument("--concurrent-crawls", type=_concurrency, default="0",
                    help="[daemon] max_concurrent_crawls: K for every mode, or per mode as process=4,shared=16; "
                         "0 (the default) leaves the daemon's default")
    ap.add_argument("--dsn", default=ADMIN, help="a server where we may create and drop a database")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (configs, daemon logs)")
    args = ap.parse_args(argv)
    counts = [n for group in (args.sources or [[100, 1000]]) for n in group]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not counts or min(counts) < 1 or args.per_host < 1:
        ap.error(f"modes are {', '.join(MODES)}; sources and --per-host at least 1")
    load_interval = args.load_interval or max(args.interval / 4, 2.0)
    # Stopped from outside, stop the daemon first (the finally blocks), as for Ctrl-C.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if not become_subreaper():
        print("note: cannot become the subreaper of the daemon's tree: CPU of processes orphaned in it is missed")

    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, Python "
          f"{platform.python_version()}; load average {os.getloadavg()[0]:.2f} at start")
    print(f"{FEED_ITEMS} articles per source, {args.per_host} sources per host; 1 source in {NEWS_EVERY} publishes "
          f"an article at mid-window; loads every {load_interval:g} s")
    results: list[tuple[Run, Figures]] = []
    scratch = tempfile.mkdtemp(prefix="many-sources-")
    try:
        engines = {}
        for mode in modes:
            supported = engine_key(mode, Path(scratch))
            if supported:
                engines[mode] = mode
            elif mode == "process":
                engines[mode] = None  # this build has no crawl_engine key: its only design is a process per crawl
            else:
                print(f"mode {mode} not supported by this build (its config has no [daemon] crawl_engine = "
                      f"\"{mode}\"): skipped")
        for n in counts:
            for mode in modes:
                if mode not in engines:
                    continue
                if mode == "process" and n > args.process_max_sources:
                    print(f"\nprocess: {n} sources skipped (above --process-max-sources {args.process_max_sources})")
                    continue
                tmp = Path(scratch) / f"{mode}-{n}"
                tmp.mkdir()
                run = Run(mode, n, args.interval, args.window, args.concurrent_crawls[mode], args.start)
                name = f"newsingest_bench_{uuid.uuid4().hex[:8]}"
                with psycopg.connect(args.dsn, autocommit=True) as admin:
                    admin.execute(f'CREATE DATABASE "{name}"')
                try:
                    run_daemon(run, engines[mode], psycopg.conninfo.make_conninfo(args.dsn, dbname=name), tmp,
                               args.per_host, load_interval)
                finally:
                    with psycopg.connect(args.dsn, autocommit=True) as admin:
                        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                result = figures(run)
                print_run(run, result)
                results.append((run, result))
    finally:
        if args.keep:
            print(f"\nkept: {scratch} (per run: bench.toml, daemon.log)")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if results:
        print_summary(results)
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0 if results and all(f.failed_runs == 0 and not f.errors for _, f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
