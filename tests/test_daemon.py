"""The daemon as an operator runs it: a real `newsingest run` process, the fixture news site, a real
PostgreSQL, intervals of a few seconds. Its output is its log, one JSON object per line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from conftest import write_config
from newssite import NewsSite, spare_articles

PASSWORD = "pw-s3cr3t-9d41"  # the server trusts loopback, so any password connects; none may be logged


def with_password(url: str) -> str:
    return psycopg.conninfo.make_conninfo(url, password=PASSWORD)


def daemon_config(path: Path, data_dir: Path, feed: str, *, interval: str = "3s", extra_sources: str = "",
                  grace: str = "20s", engine: str = "shared", **crawl: str) -> Path:
    return write_config(
        path, data_dir,
        f"""
        [load]
        interval = "1s"

        [daemon]
        crawl_engine = "{engine}"
        grace_period = "{grace}"
        trigger_poll_interval = "1s"
        unhealthy_after = 2

        [[sources]]
        name = "fixture"
        feeds = ["{feed}"]
        interval = "{interval}"
        {extra_sources}
        """,
        **crawl,
    )


@dataclass
class Daemon:
    """A `newsingest run` process whose output lines are collected as they arrive."""

    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @classmethod
    def start(cls, config: Path, data_dir: Path, database_url: str) -> Daemon:
        env = {**os.environ, "DATABASE_URL": database_url, "NEWSINGEST_DATA_DIR": str(data_dir)}
        process = subprocess.Popen(
            [sys.executable, "-m", "ingest.cli", "--config", str(config), "--log-format", "json", "run"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        daemon = cls(process)
        daemon.reader = threading.Thread(target=daemon._read, daemon=True)
        daemon.reader.start()
        return daemon

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def events(self, name: str | None = None) -> list[dict]:
        parsed = []
        for line in list(self.lines):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if name is None or record.get("event") == name:
                parsed.append(record)
        return parsed

    def wait_for_event(self, name: str, timeout: float = 60, count: int = 1) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name)
            if len(found) >= count:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {name!r} event within {timeout} s; output:\n" + "\n".join(self.lines[-40:]))

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=10)  # its last lines too: those logged as it exited
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_until(predicate, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def article_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def empty_database(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE articles, crawl_runs, loaded_segments, load_runs, crawl_requests, source_schedule,"
                     " fetch_state"
                     " RESTART IDENTITY CASCADE")


@dataclass
class DaemonRun:
    lines: list[str]
    events: list[dict]
    exit_status: int
    count_after_first_cycle: int
    count_after_publishing: int
    published_title: str
    titles: list[str]


@pytest.fixture(scope="module")
def daemon_run(database_url, tmp_path_factory) -> DaemonRun:
    """One daemon run: first cycle, an article published, the next cycle, then SIGTERM."""
    empty_database(database_url)
    tmp = tmp_path_factory.mktemp("daemon")
    data_dir = tmp / "data"
    with NewsSite() as site:
        config = daemon_config(tmp / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"))
        daemon = Daemon.start(config, data_dir, with_password(database_url))
        try:
            first = wait_until(lambda: article_count(database_url) == len(site.articles) and len(site.articles))
            new = spare_articles()[0]
            site.add_article(new)
            second = wait_until(lambda: article_count(database_url) == len(site.articles) and len(site.articles))
            exit_status = daemon.stop()
        finally:
            daemon.kill()
    with psycopg.connect(database_url) as conn:
        titles = [t for (t,) in conn.execute("SELECT title FROM articles")]
    return DaemonRun(daemon.lines, daemon.events(), exit_status, first, second, new.title, titles)


def test_article_published_between_cycles_is_loaded_after_the_next(daemon_run):
    assert daemon_run.count_after_publishing == daemon_run.count_after_first_cycle + 1
    assert daemon_run.published_title in daemon_run.titles


def test_sigterm_exits_0_after_a_final_load(daemon_run):
    assert daemon_run.exit_status == 0
    stopped = [e for e in daemon_run.events if e["event"] == "daemon_stopped"]
    assert stopped and stopped[0]["final_load"] is True


def test_every_output_line_is_a_json_object(daemon_run):
    assert daemon_run.lines
    for line in daemon_run.lines:
        assert isinstance(json.loads(line), dict), line


def test_every_event_has_timestamp_level_and_a_snake_case_name(daemon_run):
    for event in daemon_run.events:
        assert event["timestamp"].endswith("Z") and event["level"] in ("debug", "info", "warning", "error")
        if event.get("logger", "newsingest").startswith(("newsingest", "news")):
            assert event["event"].replace("_", "").isalnum() and event["event"].islower(), event


@pytest.mark.parametrize("name, fields", [
    ("daemon_started", {"daemon_id", "sources", "load_interval"}),
    ("crawl_started", {"run_id", "source"}),
    ("crawl_finished", {"run_id", "source", "status", "pages", "articles", "errors", "seconds"}),
    ("crawl_dispatched", {"run_id", "source", "reason", "late_seconds"}),
    ("crawl_ended", {"run_id", "source", "status", "finish_reason", "seconds"}),
    ("load_finished", {"segments", "records", "inserted", "updated", "duplicates", "seconds"}),
    ("shutdown_requested", {"signal", "grace_period"}),
    ("daemon_stopped", {"daemon_id", "final_load"}),
])
def test_catalogued_event_appears_with_its_fields(daemon_run, name, fields):
    matching = [e for e in daemon_run.events if e["event"] == name]
    assert matching, f"no {name} event"
    assert fields <= set(matching[-1]), (name, set(matching[-1]))


def test_crawl_engine_logs_join_the_daemon_stream(daemon_run):
    engines = [e for e in daemon_run.events if e["event"] == "engine_started"]
    finished = [e for e in daemon_run.events if e["event"] == "crawl_finished"]
    assert engines and finished
    assert {e["run_id"] for e in finished} <= {e["run_id"] for e in daemon_run.events
                                               if e["event"] == "crawl_dispatched"}


def test_no_log_line_contains_the_database_password(daemon_run):
    assert not [line for line in daemon_run.lines if PASSWORD in line]


def test_sigterm_mid_crawl_exits_0_and_restart_loads_every_article_once(database_url, tmp_path):
    empty_database(database_url)
    data_dir = tmp_path / "data"
    with NewsSite() as site:
        site.article_delay = 2.0  # one article at a time: 24 s, longer than grace period and stop wait
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"),
                               interval="1h", grace="1s")
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            daemon.wait_for_event("crawl_started")
            wait_until(lambda: any(site.article_at(r.path) for r in list(site.requests)), timeout=30)
            assert daemon.stop() == 0
        finally:
            daemon.kill()
        interrupted = article_count(database_url)
        assert interrupted < len(site.articles)  # the crawl really was cut short
        site.article_delay = 0.0
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            wait_until(lambda: article_count(database_url) == len(site.articles))
            daemon.stop()
        finally:
            daemon.kill()
        with psycopg.connect(database_url) as conn:
            urls = [u for (u,) in conn.execute("SELECT canonical_url FROM articles")]
        assert sorted(urls) == sorted(site.article_urls())


def test_trigger_makes_the_daemon_crawl_within_seconds(database_url, tmp_path, run_cli):
    empty_database(database_url)
    data_dir = tmp_path / "data"
    with NewsSite() as site:
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            wait_until(lambda: article_count(database_url) == len(site.articles))
            site.add_article(spare_articles()[0])
            result = run_cli("--config", str(config), "trigger", "fixture")
            assert result.returncode == 0, result.stderr
            requested = time.monotonic()
            wait_until(lambda: article_count(database_url) == len(site.articles), timeout=20)
            assert time.monotonic() - requested < 15
            assert daemon.events("crawl_triggered")
        finally:
            daemon.stop()
            daemon.kill()


def _overlaps(spans: list[tuple]) -> list[tuple]:
    spans = sorted(spans)
    return [(a, b) for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1]]


def test_two_daemons_never_crawl_or_load_the_same_thing_at_once(database_url, tmp_path):
    empty_database(database_url)
    with NewsSite() as site:
        site.article_delay = 0.1
        daemons = []
        try:
            for name in ("a", "b"):
                data_dir = tmp_path / name
                config = daemon_config(tmp_path / f"{name}.toml", data_dir, site.url("/feeds/rss.xml"),
                                       interval="2s")
                daemons.append(Daemon.start(config, data_dir, database_url))
            wait_until(lambda: sum(len(d.events("crawl_ended")) for d in daemons) >= 3
                       and all(d.events("load_finished") for d in daemons), timeout=90)
        finally:
            for daemon in daemons:
                daemon.stop()
                daemon.kill()
        expected_urls = sorted(site.article_urls())
    with psycopg.connect(database_url) as conn:
        crawls = conn.execute("SELECT started_at, finished_at, daemon_id FROM crawl_runs WHERE source = 'fixture'"
                              " AND finished_at IS NOT NULL").fetchall()
        loads = conn.execute("SELECT started_at, finished_at, daemon_id FROM load_runs").fetchall()
        urls = [u for (u,) in conn.execute("SELECT canonical_url FROM articles")]
    assert len({d for _, _, d in loads}) == 2  # both daemons loaded their spools
    assert not _overlaps([(s, f) for s, f, _ in crawls])
    assert not _overlaps([(s, f) for s, f, _ in loads])
    skipped = [e for d in daemons for e in d.events("crawl_skipped")]
    assert any(e["reason"] == "running_elsewhere" for e in skipped)
    assert sorted(urls) == expected_urls


def test_status_reports_runs_and_a_failing_source_as_unhealthy(database_url, tmp_path, run_cli):
    empty_database(database_url)
    data_dir = tmp_path / "data"
    with NewsSite() as site:
        dead = '[[sources]]\n        name = "down"\n        feeds = ["http://127.0.0.1:9/feed.xml"]\n' \
               '        interval = "1s"'
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"),
                               interval="1h", extra_sources=dead)
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            warning = daemon.wait_for_event("source_unhealthy", timeout=90)[0]
            wait_until(lambda: article_count(database_url) == len(site.articles))
            time.sleep(1.5)  # one more load, so the failed runs' summaries reach crawl_runs
        finally:
            daemon.stop()
            daemon.kill()
    assert warning["source"] == "down" and warning["consecutive_failures"] >= 2
    result = run_cli("--config", str(config), "status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    by_name = {s["source"]: s for s in report["sources"]}
    assert by_name["fixture"]["last_status"] == "finished" and by_name["fixture"]["healthy"]
    assert by_name["fixture"]["articles_24h"] == len(site.articles)
    assert by_name["fixture"]["next_run_at"] is None  # its daemon stopped: no run is scheduled
    assert by_name["down"]["consecutive_failures"] >= 2 and not by_name["down"]["healthy"]
    assert report["last_load"]["status"] == "finished"
    text = run_cli("--config", str(config), "status")
    assert "UNHEALTHY" in text.stdout and "spool backlog" in text.stdout


def test_a_site_asking_a_day_between_requests_never_holds_up_the_other_sources(database_url, tmp_path):
    empty_database(database_url)
    data_dir = tmp_path / "data"
    with NewsSite() as site, NewsSite(articles=spare_articles()[:2]) as slow:
        slow.crawl_delay = 86400
        other = f'[[sources]]\n        name = "slow"\n        feeds = ["{slow.url("/feeds/rss.xml")}"]\n' \
                '        interval = "1h"'
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h",
                               extra_sources=other)
        config.write_text(config.read_text().replace("[daemon]\n", "[daemon]\nmax_concurrent_crawls = 1\n"))
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            finished = daemon.wait_for_event("crawl_ended", count=2, timeout=60)
            wait_until(lambda: article_count(database_url) == len(site.articles), timeout=30)
        finally:
            daemon.stop()
            daemon.kill()
    assert {e["source"] for e in finished} == {"fixture", "slow"}
    assert [e["reason"] for e in daemon.events("host_paused")] == ["crawl_delay_86400s"]


@pytest.mark.parametrize("engine", ["shared", "process"])
def test_sigterm_stops_a_crawl_waiting_on_a_crawl_delay_without_sigkill(database_url, tmp_path, engine):
    empty_database(database_url)
    data_dir = tmp_path / "data"
    with NewsSite() as site:
        site.crawl_delay = 29  # below the ceiling: the feed waits 29 s behind robots.txt, longer than grace + 15 s
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"),
                               interval="1h", grace="1s", engine=engine)
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            wait_until(lambda: site.requests_to("/robots.txt"), timeout=30)
            assert daemon.stop(timeout=60) == 0
        finally:
            daemon.kill()
    # The crawl's own end, with its own summary: interrupted, not killed.
    assert [e["status"] for e in daemon.events("crawl_ended")] == ["interrupted"]
    assert [e["status"] for e in daemon.events("crawl_finished")] == ["interrupted"]
    assert not daemon.events("crawl_lost")
