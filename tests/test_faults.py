"""Faults the service must survive, with real processes and a real PostgreSQL: a crawl or the daemon
killed with SIGKILL, the database going away while the daemon runs, a corrupt spool segment, and a
full disk under the data directory. After each, every article of the fixture site is loaded exactly
once and nothing half-written reaches the database.

(The loader killed between COPY and COMMIT, and the loader setting a corrupt segment aside, are in
test_load.py.) Each test is bounded by its waits: about 10-40 s each.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from conftest import write_config
from newssite import NewsSite, build_articles, spare_articles
from test_daemon import Daemon, article_count, daemon_config, empty_database, wait_until

from crawler.pool import ExtractionLost, ExtractorPool
from crawler.records import Article, Page
from crawler.spool import SpoolPaths, SpoolWriteError, SpoolWriter, read_segment


def loaded_urls(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return sorted(u for (u,) in conn.execute("SELECT canonical_url FROM articles"))


def assert_each_article_loaded_once(database_url: str, site: NewsSite) -> None:
    # canonical_url is unique in the schema, so the count alone could hide a duplicate under another
    # URL: compare the full list, and also every row's text with what the site published.
    assert loaded_urls(database_url) == sorted(site.article_urls())
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT url, text FROM articles").fetchall()
    for url, text in rows:
        assert text == site.article_at(url).text, url


def spool_crawl_process(config: Path, data_dir: Path, database_url: str) -> subprocess.Popen:
    """`newsingest crawl fixture --no-load` in its own process group, so SIGKILL reaches its workers too."""
    env = {**os.environ, "DATABASE_URL": database_url, "NEWSINGEST_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), "--log-format", "json",
         "crawl", "fixture", "--no-load"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )


def open_segment_records(data_dir: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in SpoolPaths(data_dir / "spool").open.glob("*.part"))


def spooled_paths(spool: SpoolPaths) -> set[str]:
    paths = set()
    for segment in spool.ready_segments():
        try:
            paths.update(urlsplit(a.url).path for a in read_segment(segment))
        except OSError:
            continue  # loaded and removed meanwhile
    return paths


def process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie has finished its work
    except FileNotFoundError:
        return True


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ------------------------------------------------------------------------------------ kill -9


def test_crawl_killed_with_sigkill_loses_nothing_and_restart_loads_each_article_once(database_url, tmp_path):
    empty_database(database_url)
    data_dir = tmp_path / "data"
    with NewsSite() as site:
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        assert killed_crawl(config, data_dir, database_url, site) < len(site.articles)  # segment left open
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            wait_until(lambda: article_count(database_url) == len(site.articles))
            recovered = daemon.wait_for_event("segment_recovered")
            wait_until(lambda: not SpoolPaths(data_dir / "spool").ready_segments())
        finally:
            daemon.stop()
            daemon.kill()
        assert recovered[0]["records"] >= 2
        with psycopg.connect(database_url) as conn:
            loaded = {n for (n,) in conn.execute("SELECT name FROM loaded_segments")}
        assert recovered[0]["segment"] in loaded  # the dead crawl's records were loaded, not only re-crawled
        assert_each_article_loaded_once(database_url, site)


def test_daemon_killed_with_sigkill_mid_crawl_restart_loads_each_article_once(database_url, tmp_path):
    empty_database(database_url)
    data_dir = tmp_path / "data"
    orphans: list[int] = []
    with NewsSite() as site:
        site.article_delay = 0.5
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            orphans = [e["pid"] for e in daemon.wait_for_event("crawl_engine_started")]
            wait_until(lambda: any(site.article_at(r.path) for r in list(site.requests)), timeout=30)
            daemon.process.send_signal(signal.SIGKILL)
            daemon.process.wait()
            assert article_count(database_url) < len(site.articles)
            # The crawl engine runs in its own session and outlives the daemon (as under an OOM kill) until it
            # has closed its crawls; the restarted daemon crawls beside it, and the merge keeps each article once.
            site.article_delay = 0.0
            daemon = Daemon.start(config, data_dir, database_url)
            wait_until(lambda: article_count(database_url) == len(site.articles))
            wait_until(lambda: all(process_gone(pid) for pid in orphans), timeout=60)
            spool = SpoolPaths(data_dir / "spool")
            wait_until(lambda: not spool.ready_segments() and not list(spool.open.iterdir()), timeout=30)
        finally:
            daemon.stop()
            daemon.kill()
            for pid in orphans:
                kill_group(pid)
        assert_each_article_loaded_once(database_url, site)


def killed_crawl(config: Path, data_dir: Path, database_url: str, site: NewsSite) -> int:
    """`crawl --no-load` killed with SIGKILL while it writes; returns the complete records it left in open/."""
    site.article_delay = 0.4  # one article at a time: the crawl is still writing when it is killed
    crawl = spool_crawl_process(config, data_dir, database_url)
    try:
        wait_until(lambda: open_segment_records(data_dir) >= 2, timeout=60)
    finally:
        kill_group(crawl.pid)
        crawl.wait()
    site.article_delay = 0.0
    return open_segment_records(data_dir)


def test_load_recovers_the_open_segment_of_a_crawl_killed_with_sigkill(database_url, tmp_path, data_dir, run_cli):
    empty_database(database_url)
    with NewsSite() as site:
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        left = killed_crawl(config, data_dir, database_url, site)
    result = run_cli("--config", str(config), "load", timeout=60)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    recovered = [e for e in events if e["event"] == "segment_recovered"]
    assert [e["records"] for e in recovered] == [left]
    assert article_count(database_url) == left
    assert list(SpoolPaths(data_dir / "spool").open.iterdir()) == []


def test_status_counts_the_open_segment_of_a_crawl_killed_with_sigkill_in_the_backlog(
        database_url, tmp_path, data_dir, run_cli):
    empty_database(database_url)
    with NewsSite() as site:
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        left = killed_crawl(config, data_dir, database_url, site)
    result = run_cli("--config", str(config), "status", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    backlog = json.loads(result.stdout)["spool"]
    assert (backlog["segments"], backlog["records"], backlog["orphaned_segments"]) == (1, left, 1)
    assert open_segment_records(data_dir) == left  # status only reads: the load recovers it


# ------------------------------------------------------------------------------ database outage


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 to the test database that a test can cut and restore.
    Cut: open connections are closed and new ones are accepted then closed at once, as a server
    that went away (connection reset), so clients fail fast rather than waiting for a timeout."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def dsn(self, database_url: str) -> str:
        return psycopg.conninfo.make_conninfo(database_url, host="127.0.0.1", port=str(self.port))

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            for sock in self._sockets:
                _close(sock)
            self._sockets.clear()

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


@pytest.fixture
def db_proxy(database_url):
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    proxy = TcpProxy(info.get("host") or "127.0.0.1", int(info.get("port") or 5432))
    yield proxy
    proxy.close()


def test_database_outage_crawls_go_on_loads_retry_with_backoff_and_the_backlog_drains(
        database_url, tmp_path, db_proxy):
    empty_database(database_url)
    data_dir = tmp_path / "data"
    spool = SpoolPaths(data_dir / "spool")
    with NewsSite() as site:
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="2s")
        daemon = Daemon.start(config, data_dir, db_proxy.dsn(database_url))
        try:
            wait_until(lambda: article_count(database_url) == len(site.articles))
            db_proxy.cut()
            for article in spare_articles():
                site.add_article(article)
            # Crawls go on into the spool while every load fails.
            new_paths = {a.path for a in spare_articles()}
            wait_until(lambda: new_paths <= spooled_paths(spool), timeout=60)
            failures = daemon.wait_for_event("load_failed", count=3, timeout=40)
            assert article_count(database_url) == len(site.articles) - len(spare_articles())
            db_proxy.restore()
            wait_until(lambda: article_count(database_url) == len(site.articles), timeout=60)
            recovered = daemon.wait_for_event("load_recovered", timeout=10)
        finally:
            daemon.stop()
            daemon.kill()
        retry_in = [e["retry_in"] for e in failures[:3]]
        assert retry_in == sorted(retry_in) and retry_in[2] > retry_in[0]  # backoff, not a tight loop
        assert all(e["error"] and e["attempt"] >= 1 for e in failures)
        assert recovered[0]["after_failures"] >= 3
        assert_each_article_loaded_once(database_url, site)


# ------------------------------------------------------------------------------ corrupt segment


def test_daemon_sets_aside_a_corrupt_segment_naming_it_and_loads_the_rest(database_url, tmp_path):
    empty_database(database_url)
    data_dir = tmp_path / "data"
    spool = SpoolPaths(data_dir / "spool").create()
    broken = spool.ready / "20260101T000000000000Z-fixture-deadbeef-1-00000000.jsonl"
    broken.write_bytes(b'{"url": "https://news.example/b/", "text": "trunc')
    with NewsSite() as site:
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            error = daemon.wait_for_event("segment_unreadable")[0]
            wait_until(lambda: article_count(database_url) == len(site.articles))
        finally:
            daemon.stop()
            daemon.kill()
        assert error["segment"] == broken.name and error["level"] == "error" and "truncated" in error["error"]
        assert (spool.bad / broken.name).exists() and not broken.exists()
        assert_each_article_loaded_once(database_url, site)


# ---------------------------------------------------------------------------------- disk full


@pytest.fixture
def small_disk(tmp_path):
    """A 24 KiB tmpfs: room for a few fixture records, not for a whole crawl. Needs root (CI is root)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


def test_full_disk_stops_the_crawl_with_an_error_naming_the_segment_and_only_whole_records_load(
        database_url, tmp_path, small_disk, run_cli):
    empty_database(database_url)
    data_dir = small_disk / "data"
    spool = SpoolPaths(data_dir / "spool")
    with NewsSite() as site:
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        crawl = run_cli("--config", str(config), "crawl", "fixture", "--no-load", timeout=90,
                        env={"NEWSINGEST_DATA_DIR": str(data_dir)})
        assert crawl.returncode != 0
        events = [json.loads(line) for line in crawl.stderr.splitlines() if line.startswith("{")]
        failed = [e for e in events if e["event"] == "spool_write_failed"]
        assert len(failed) == 1 and failed[0]["level"] == "error"
        assert "No space left on device" in failed[0]["error"] and ".jsonl" in failed[0]["error"]
        # Nothing half-written is left for the loader: no open segment, no temporary file.
        assert not list(spool.open.iterdir()) and not list(spool.runs.glob("*.tmp"))
        for segment in spool.ready_segments():
            read_segment(segment)  # every line a whole record
        load = run_cli("--config", str(config), "load", env={"NEWSINGEST_DATA_DIR": str(data_dir)})
        assert load.returncode == 0, load.stderr
        assert not list(spool.bad.iterdir())
        with psycopg.connect(database_url) as conn:
            rows = conn.execute("SELECT url, text FROM articles").fetchall()
    assert 0 < len(rows) < len(site.articles)
    for url, text in rows:
        assert text == site.article_at(url).text, url


class _FillsUp:
    """A segment file on a disk that fills up after `room` bytes: writes a prefix, then ENOSPC."""

    def __init__(self, fh, room: int):
        self._fh, self._room = fh, room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            self._fh.write(data[: self._room])
            self._fh.flush()
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name):
        return getattr(self._fh, name)


def article(n: int) -> Article:
    from datetime import UTC, datetime

    return Article(url=f"https://news.example/{n}/", source="site", text=f"Story {n}. " * 50,
                   fetched_at=datetime(2026, 11, 20, tzinfo=UTC), http_status=200, extractor_version="test")


def test_write_error_closes_the_segment_at_its_last_whole_record_and_names_it(tmp_path):
    writer = SpoolWriter(tmp_path, "site", "run-full")
    writer.append(article(0))
    record_bytes = len(article(0).to_json()) + 1
    writer._fh = _FillsUp(writer._fh, room=record_bytes + record_bytes // 2)  # room for 1.5 more records
    writer.append(article(1))
    with pytest.raises(SpoolWriteError) as error:
        writer.append(article(2))
    assert error.value.errno == errno.ENOSPC and writer._name is not None
    segments = SpoolPaths(tmp_path).ready_segments()
    assert len(segments) == 1 and segments[0].name in str(error.value)
    assert [a.url for a in read_segment(segments[0])] == [article(0).url, article(1).url]
    assert not list(SpoolPaths(tmp_path).open.iterdir())


# ------------------------------------------------------------------------------ extraction workers


LOG_PAGE = "/2026/03/01/endless-server-log/"


def crawl_events(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def child_pids(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def extraction_workers(crawl_pid: int) -> list[int]:
    """The crawl's extraction workers: children of its fork server, itself a child of the crawl."""
    return [worker for child in child_pids(crawl_pid) for worker in child_pids(child)]


def test_page_past_extract_timeout_is_counted_and_the_other_pages_are_extracted(run_cli, tmp_path, data_dir):
    with NewsSite(articles=build_articles(2)) as site:
        # 60,000 short paragraphs: seconds of trafilatura's time, even cut at max_page_elements.
        site.custom[LOG_PAGE] = (200, "<html><body>" + "<p>A line of the log.</p>\n" * 60_000 + "</body></html>")
        log_url = site.url(LOG_PAGE)
        config = write_config(tmp_path / "newsingest.toml", data_dir, extract_timeout="1")
        result = run_cli("--config", str(config), "crawl", "--allow-private-hosts", "--no-load",
                         "--url", log_url, *site.article_urls(), timeout=90)
    assert result.returncode == 0, result.stderr[-3000:]
    events = crawl_events(result.stderr)
    finished = next(e for e in events if e["event"] == "crawl_finished")
    assert finished["errors"] == {"extraction_timeout": 1}
    assert finished["articles"] == 2
    assert [e["url"] for e in events if e["event"] == "extraction_timeout"] == [log_url]


LOG_HTML = "<html><body>" + "<p>A line of the log.</p>\n" * 60_000 + "</body></html>"


GOOD_HTML = ("<html><head><title>Good story</title></head><body><article>"
             + "".join(f"<p>Sentence {i} of a news story, with enough words to make an article body.</p>"
                       for i in range(30))
             + "</article></body></html>")


def extract_in_pool(pool: ExtractorPool, htmls: list[str]) -> list[str]:
    """Each page's outcome, pages offered to the pool at once and in order: "article", a not-article
    reason, or the kind of ExtractionLost."""

    async def outcome(n: int, html: str) -> str:
        page = Page(url=f"http://127.0.0.1/2026/03/01/page-{n}/", source="site", html=html, status=200,
                    fetched_at=datetime.now(UTC))
        try:
            extraction = await pool.extract(page)
        except ExtractionLost as lost:
            return lost.kind
        return "article" if extraction.article is not None else extraction.reason

    async def every_page():
        return await asyncio.gather(*(outcome(n, html) for n, html in enumerate(htmls)))

    try:
        return asyncio.run(asyncio.wait_for(every_page(), timeout=300))
    finally:
        pool.shutdown()


def test_a_page_queued_behind_pages_past_their_deadline_is_extracted_and_no_worker_counts_as_dead():
    # One worker: the good page waits behind a slow one, and each slow page's deadline kills the pool.
    deaths = []
    pool = ExtractorPool(1, min_article_chars=400, article_pattern=None, timeout=1,
                         on_worker_died=lambda: deaths.append(1))
    outcomes = extract_in_pool(pool, [LOG_HTML, GOOD_HTML, LOG_HTML, LOG_HTML, LOG_HTML])
    assert outcomes == ["extraction_timeout", "article", "extraction_timeout", "extraction_timeout",
                        "extraction_timeout"]
    assert deaths == []


def test_pages_sharing_the_pool_with_pages_past_their_deadline_are_extracted_and_each_slow_page_times_out(
        run_cli, tmp_path, data_dir):
    # Killing a slow page's worker breaks the whole pool under the pages interleaved with it.
    with NewsSite(articles=build_articles(6)) as site:
        log_urls = []
        for n in range(6):
            site.custom[f"/2026/03/01/server-log-{n}/"] = (200, LOG_HTML)
            log_urls.append(site.url(f"/2026/03/01/server-log-{n}/"))
        urls = [url for pair in zip(log_urls, site.article_urls(), strict=True) for url in pair]
        config = write_config(tmp_path / "newsingest.toml", data_dir, extract_timeout="1", extract_workers="2")
        result = run_cli("--config", str(config), "crawl", "--allow-private-hosts", "--no-load", "--url", *urls,
                         timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    events = crawl_events(result.stderr)
    finished = next(e for e in events if e["event"] == "crawl_finished")
    assert spooled_paths(SpoolPaths(data_dir / "spool")) == {a.path for a in site.articles}
    assert sorted(e["url"] for e in events if e["event"] == "extraction_timeout") == sorted(log_urls)
    assert finished["errors"] == {"extraction_timeout": len(log_urls)}
    assert finished["articles"] + sum(finished["errors"].values()) + finished["not_articles"] == finished["pages"]


def test_extraction_worker_killed_mid_crawl_its_pages_are_retried_and_the_death_is_an_error(database_url, tmp_path):
    data_dir = tmp_path / "data"
    log = tmp_path / "crawl.log"
    with NewsSite() as site:
        site.article_delay = 0.3  # one article at a time: the crawl is still extracting when a worker dies
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        env = {**os.environ, "DATABASE_URL": database_url, "NEWSINGEST_DATA_DIR": str(data_dir)}
        with open(log, "w") as stderr:
            crawl = subprocess.Popen(
                [sys.executable, "-m", "ingest.cli", "--config", str(config), "--log-format", "json",
                 "crawl", "fixture", "--no-load"],
                stdout=subprocess.DEVNULL, stderr=stderr, env=env, start_new_session=True,
            )
        try:
            wait_until(lambda: open_segment_records(data_dir) >= 2 and extraction_workers(crawl.pid), timeout=60)
            os.kill(extraction_workers(crawl.pid)[0], signal.SIGKILL)  # as the OOM killer does
            assert crawl.wait(timeout=90) == 0
        finally:
            kill_group(crawl.pid)
            crawl.wait()
    output = log.read_text()
    finished = next(e for e in crawl_events(output) if e["event"] == "crawl_finished")
    assert finished["errors"] == {"worker_died": 1}
    assert finished["articles"] == len(site.articles)
    assert spooled_paths(SpoolPaths(data_dir / "spool")) == {a.path for a in site.articles}
    assert not any(a.paragraphs[0] in output for a in site.articles)  # no page body in any log line
