"""`newsingest status` and the crawl summary line tell the truth: a run's outcome as soon as its crawl ends, next
runs only while a daemon schedules them, the daemons it sees, why a crawl failed; and a daemon's clean stop
raises no false alarm. Real `newsingest` processes, the fixture news site, a real PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from conftest import write_config
from newssite import NewsSite, build_articles, spare_articles
from test_daemon import Daemon, daemon_config

from ingest.tables import daemons as daemons_sql
from ingest.tables.runs import publish_schedule


def empty_status_tables(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE articles, crawl_runs, loaded_segments, load_runs, crawl_requests, source_schedule,"
                     " fetch_state, daemons RESTART IDENTITY CASCADE")


def cli_runner(database_url: str, data_dir):
    """conftest's run_cli, for a module-scoped fixture."""

    def run(*args: str):
        env = {**os.environ, "DATABASE_URL": database_url, "NEWSINGEST_DATA_DIR": str(data_dir),
               "NEWSINGEST_CONFIG": ""}
        return subprocess.run([sys.executable, "-m", "ingest.cli", "--log-format", "json", *args],
                              capture_output=True, text=True, env=env, timeout=120)

    return run


def status_json(run_cli, config) -> dict:
    result = run_cli("--config", str(config), "status", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def by_source(report: dict) -> dict[str, dict]:
    return {s["source"]: s for s in report["sources"]}


@dataclass
class StatusSession:
    """One daemon (load interval an hour: one load, at 5 s), its first crawl, a triggered one, then SIGTERM; what
    `newsingest status` said along the way."""

    daemon_id: str
    live: dict  # status --json after the first crawl
    live_text: str
    triggered: dict  # the triggered crawl's crawl_ended event
    triggered_articles: int  # its crawl_finished's articles
    after_trigger: dict  # status --json as soon as the triggered crawl ended
    loads: int  # loads by then
    exit_status: int
    after_stop: dict  # status --json once the daemon stopped


@pytest.fixture(scope="module")
def status_session(database_url, tmp_path_factory) -> StatusSession:
    empty_status_tables(database_url)
    tmp = tmp_path_factory.mktemp("status")
    data_dir = tmp / "data"
    run_cli = cli_runner(database_url, data_dir)
    with NewsSite(articles=build_articles(2)) as site:
        config = daemon_config(tmp / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        config.write_text(config.read_text().replace('interval = "1s"', 'interval = "1h"', 1))  # [load]
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            daemon_id = daemon.wait_for_event("daemon_started")[0]["daemon_id"]
            daemon.wait_for_event("crawl_ended")
            live = status_json(run_cli, config)
            live_text = run_cli("--config", str(config), "status").stdout
            daemon.wait_for_event("load_finished")  # the first load; the next is an hour away
            site.add_article(spare_articles()[0])
            assert run_cli("--config", str(config), "trigger", "fixture").returncode == 0
            triggered = daemon.wait_for_event("crawl_ended", count=2)[-1]
            after_trigger = status_json(run_cli, config)
            loads = len(daemon.events("load_finished"))
            exit_status = daemon.stop()
        finally:
            daemon.kill()
    after_stop = status_json(run_cli, config)
    articles = [e["articles"] for e in daemon.events("crawl_finished") if e["run_id"] == triggered["run_id"]]
    return StatusSession(daemon_id, live, live_text, triggered, articles[0], after_trigger, loads, exit_status,
                         after_stop)


def test_status_shows_a_crawls_outcome_as_soon_as_it_ends_with_no_load_in_between(status_session):
    assert status_session.loads == 1
    fixture = by_source(status_session.after_trigger)["fixture"]
    assert fixture["last_status"] == status_session.triggered["status"] == "finished"
    assert fixture["last_articles"] == status_session.triggered_articles >= 1


def test_status_lists_a_live_daemon_with_the_sources_it_schedules_and_their_next_runs(status_session):
    daemons = status_session.live["daemons"]
    assert [(d["daemon_id"], d["sources"]) for d in daemons] == [(status_session.daemon_id, ["fixture"])]
    assert f"daemon {status_session.daemon_id}" in status_session.live_text
    next_run = datetime.fromisoformat(by_source(status_session.live)["fixture"]["next_run_at"])
    assert timedelta(minutes=50) < next_run - datetime.now(UTC) <= timedelta(hours=1)


def test_status_after_a_clean_daemon_stop_says_no_daemon_runs_and_shows_no_next_run(status_session):
    assert status_session.exit_status == 0
    assert status_session.after_stop["daemons"] == []
    assert by_source(status_session.after_stop)["fixture"]["next_run_at"] is None


def test_status_without_a_daemon_shows_no_next_run_and_says_no_daemon_runs(database_url, tmp_path, run_cli,
                                                                             data_dir):
    empty_status_tables(database_url)
    config = write_config(tmp_path / "newsingest.toml", data_dir, """
        [[sources]]
        name = "gazette"
        feeds = ["https://gazette.invalid/feed.xml"]
        """)
    with psycopg.connect(database_url, autocommit=True) as conn:  # what a daemon that stopped left behind
        publish_schedule(conn, "gazette", datetime.now(UTC) + timedelta(minutes=5), "gone-host:4242")
    report = status_json(run_cli, config)
    text = run_cli("--config", str(config), "status").stdout
    assert by_source(report)["gazette"]["next_run_at"] is None and report["daemons"] == []
    assert "no daemon running" in text


def test_status_does_not_count_a_daemon_unseen_for_several_heartbeats(database_url, tmp_path, run_cli, data_dir):
    empty_status_tables(database_url)
    config = write_config(tmp_path / "newsingest.toml", data_dir, """
        [[sources]]
        name = "gazette"
        feeds = ["https://gazette.invalid/feed.xml"]
        """)
    with psycopg.connect(database_url, autocommit=True) as conn:  # a daemon killed a minute ago
        daemons_sql.beat(conn, daemons_sql.DaemonBeat(
            "gone-host:4242", "gone-host", 4242, datetime.now(UTC) - timedelta(hours=1), 5.0,
            [daemons_sql.ScheduledSource("gazette", datetime.now(UTC) + timedelta(minutes=5), 900.0, None)]))
        conn.execute("UPDATE daemons SET last_seen_at = now() - interval '1 minute'")
    report = status_json(run_cli, config)
    assert report["daemons"] == [] and by_source(report)["gazette"]["next_run_at"] is None


def test_failed_crawl_summary_line_names_the_reason_its_count_and_the_setting_that_changes_it(
        run_cli, tmp_path, data_dir):
    with NewsSite(articles=build_articles(2)) as site:
        config = write_config(tmp_path / "newsingest.toml", data_dir, f"""
            [[sources]]
            name = "gazette"
            feeds = ["{site.url('/feeds/rss.xml')}"]
            """, allow_private_hosts="false")
        result = run_cli("--config", str(config), "crawl", "gazette", "--no-load")
    assert result.returncode == 1
    line = result.stdout.strip()
    assert "\n" not in line
    # As many failed as refused: robots.txt and the feed.
    assert re.search(r"failed (\d+) \(refused_private_host \1: allow with \[crawl\] allow_private_hosts", line), line


@pytest.fixture
def embedded_data_dir(tmp_path):
    path = tmp_path / "data"
    path.mkdir()
    return path


def test_clean_daemon_stop_on_the_embedded_database_logs_no_trigger_watch_failure(tmp_path, embedded_data_dir):
    with NewsSite(articles=build_articles(2)) as site:
        config = daemon_config(tmp_path / "newsingest.toml", embedded_data_dir, site.url("/feeds/rss.xml"),
                               interval="1h")
        # A long poll: the watcher surely sits in its LISTEN wait when the embedded server stops at our exit.
        config.write_text(config.read_text().replace('trigger_poll_interval = "1s"', 'trigger_poll_interval = "60s"'))
        daemon = Daemon.start(config, embedded_data_dir, "")  # no DATABASE_URL: the embedded server
        try:
            daemon.wait_for_event("crawl_ended", timeout=120)
            assert daemon.stop() == 0  # within the watcher's poll: it is still listening
        finally:
            daemon.kill()
    assert daemon.events("daemon_stopped")
    assert not daemon.events("trigger_watch_failed"), "\n".join(daemon.lines[-20:])
