"""Crawl runs as an operator sees them: one crawl of a source at a time, a run row for every crawl that
started and for no other, honest page counts, a failed run when a site fails, and load counts credited
to their run whatever the source's name. Real `newsingest` processes, the fixture site on 127.0.0.1 and
a real PostgreSQL.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from conftest import write_config
from newssite import NewsSite, build_articles
from test_crawl import source_block
from test_daemon import Daemon, daemon_config, wait_until
from test_faults import kill_group, spool_crawl_process
from test_politeness import events
from test_spool import article

from crawler.spool import SpoolWriter, segment_run_id


def config_with(tmp_path: Path, data_dir: Path, sources: str, daemon: str = "", **crawl: str) -> Path:
    return write_config(tmp_path / "newsingest.toml", data_dir, (f"[daemon]\n{daemon}\n" if daemon else "") + sources,
                        **crawl)


# ------------------------------------------------------------------------ load counts (item 8)


def test_segment_of_a_source_whose_name_has_dots_carries_its_run_id(tmp_path):
    writer = SpoolWriter(tmp_path, "news.example.com", "0123abcd" * 4)
    writer.append(article(1))
    assert segment_run_id(writer.flush_segment()) == "0123abcd" * 4


def test_source_whose_name_has_a_dot_is_credited_with_what_its_crawl_loaded(small_site, db, run_cli, tmp_path,
                                                                           data_dir):
    config = config_with(tmp_path, data_dir, source_block("news.example", feeds=[small_site.url("/feeds/rss.xml")]))
    result = run_cli("--config", str(config), "crawl", "news.example")
    assert result.returncode == 0, result.stderr[-3000:]
    new = db.execute("SELECT articles_new FROM crawl_runs WHERE source = 'news.example'").fetchall()
    assert new == [(len(small_site.articles),)]
    assert f"new {len(small_site.articles)}," in result.stdout


# ------------------------------------------------------------------ failed sites fail runs (item 7)


def crawl_and_report(run_cli, config: Path, name: str):
    """`newsingest crawl NAME` (loading its run), then the run's row and the source's `status --json` entry."""
    result = run_cli("--config", str(config), "crawl", name, timeout=90)
    status = run_cli("--config", str(config), "status", "--json")
    assert status.returncode == 0, status.stderr[-3000:]
    health = {s["source"]: s for s in json.loads(status.stdout)["sources"]}[name]
    return result, health


def crawl_feed_source(site: NewsSite, run_cli, tmp_path: Path, data_dir: Path, name: str, **crawl: str):
    """Crawl a source of the site's RSS feed, one failed run making it unhealthy; crawl_and_report's result."""
    config = config_with(tmp_path, data_dir, source_block(name, feeds=[site.url("/feeds/rss.xml")]),
                         daemon="unhealthy_after = 1", **crawl)
    return crawl_and_report(run_cli, config, name)


def run_row(db, name: str) -> tuple[str, int]:
    rows = db.execute("SELECT status, pages_fetched FROM crawl_runs WHERE source = %s", (name,)).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_crawl_whose_every_page_answers_503_is_a_failed_run_and_makes_the_source_unhealthy(
        small_site, db, run_cli, tmp_path, data_dir):
    for fixture in small_site.articles:
        small_site.busy[fixture.path] = [(503, "")] * 10
    result, health = crawl_feed_source(small_site, run_cli, tmp_path, data_dir, "down", max_retries="1",
                                       retry_backoff="0.1")
    assert small_site.statuses(small_site.articles[0].path)[0] == 503  # the pages were asked for
    assert result.returncode == 1, result.stderr[-3000:]
    assert run_row(db, "down") == ("failed", 0)
    assert not health["healthy"] and health["last_status"] == "failed"


def test_crawl_whose_every_page_times_out_is_a_failed_run_with_no_page_fetched(
        small_site, db, run_cli, tmp_path, data_dir):
    small_site.article_delay = 3.0  # one article at a time: each waits past the 1 s download timeout
    result, health = crawl_feed_source(small_site, run_cli, tmp_path, data_dir, "slow", max_retries="0",
                                       download_timeout="1")
    assert small_site.requests_to("/robots.txt") and small_site.requests_to(small_site.articles[0].path)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "pages fetched 0," in result.stdout
    assert run_row(db, "slow") == ("failed", 0)
    assert not health["healthy"]


def test_crawl_whose_fetches_mostly_failed_is_a_failed_run(small_site, db, run_cli, tmp_path, data_dir):
    for fixture in small_site.articles[1:]:
        small_site.custom[fixture.path] = (404, "<!DOCTYPE html><html><body><p>Gone.</p></body></html>")
    result, health = crawl_feed_source(small_site, run_cli, tmp_path, data_dir, "gone")
    assert result.returncode == 1, result.stderr[-3000:]
    assert run_row(db, "gone") == ("failed", 1)
    assert not health["healthy"]


def test_pages_fetched_counts_pages_not_robots_txt_redirects_or_retries(small_site, db, run_cli, tmp_path,
                                                                        data_dir):
    small_site.feed_redirects = True  # every feed link answers 301 to its article first
    small_site.busy[small_site.articles[0].path] = [(503, "")]  # then 200 on the retry
    config = config_with(tmp_path, data_dir, source_block("site", feeds=[small_site.url("/feeds/rss.xml")]),
                         retry_backoff="0.1")
    result, health = crawl_and_report(run_cli, config, "site")
    assert result.returncode == 0, result.stderr[-3000:]
    assert small_site.requests_to("/robots.txt") and len(small_site.requests_to(small_site.articles[0].path)) == 2
    assert run_row(db, "site") == ("finished", len(small_site.articles))
    assert health["healthy"]


CHALLENGE = """<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head>
<body><div id="cf-wrapper"><h1>Sorry, you have been blocked</h1><p>You are unable to access this site.</p>
<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></div></body></html>"""


def test_crawl_whose_every_page_is_refused_with_a_bot_challenge_is_a_failed_run(small_site, db, run_cli, tmp_path,
                                                                                 data_dir):
    for fixture in small_site.articles:
        small_site.custom[fixture.path] = (403, CHALLENGE)
    result, health = crawl_feed_source(small_site, run_cli, tmp_path, data_dir, "blocked")
    assert result.returncode == 1, result.stderr[-3000:]
    assert run_row(db, "blocked") == ("failed", 0)
    assert not health["healthy"]


def test_redirects_nobody_follows_are_not_pages(small_site, db, run_cli, tmp_path, data_dir):
    for fixture in small_site.articles:
        small_site.custom[fixture.path] = (302, "<html><body>moved</body></html>")  # and no Location
    result, health = crawl_feed_source(small_site, run_cli, tmp_path, data_dir, "moved")
    assert "pages fetched 0," in result.stdout, result.stderr[-3000:]
    assert result.returncode == 1 and run_row(db, "moved") == ("failed", 0)
    assert not health["healthy"]


def test_a_quiet_crawl_with_one_dead_feed_among_working_ones_stays_healthy(small_site, db, run_cli, tmp_path,
                                                                          data_dir):
    feeds = [small_site.url("/feeds/rss.xml"), small_site.url("/feeds/atom.xml"), small_site.url("/feeds/gone.xml")]
    config = config_with(tmp_path, data_dir, source_block("feeds", feeds=feeds), daemon="unhealthy_after = 1")
    first, _ = crawl_and_report(run_cli, config, "feeds")
    assert first.returncode == 0, first.stderr[-3000:]
    second, health = crawl_and_report(run_cli, config, "feeds")  # nothing due: no page fetched at all
    assert second.returncode == 0, second.stderr[-3000:]
    assert "pages fetched 0," in second.stdout and "failed 1" in second.stdout
    assert health["healthy"] and health["last_status"] == "finished"


# ------------------------------------------------------------- one crawl of a source at a time (item 5)






def crawling(site: NewsSite) -> bool:
    return any(site.article_at(r.path) for r in list(site.requests))


def assert_each_article_fetched_once(site: NewsSite) -> None:
    assert {f.path: len(site.requests_to(f.path)) for f in site.articles} == {f.path: 1 for f in site.articles}


@pytest.mark.parametrize("second_data_dir, reason", [("same", "already_running"), ("other", "running_elsewhere")])
def test_foreground_crawl_of_a_source_already_being_crawled_is_refused(
        second_data_dir, reason, held_site, db, database_url, run_cli, tmp_path, data_dir):
    config = daemon_config(tmp_path / "newsingest.toml", data_dir, held_site.url("/feeds/rss.xml"), interval="1h")
    first = spool_crawl_process(config, data_dir, database_url)
    try:
        wait_until(lambda: crawling(held_site), timeout=30)
        # Another data directory stands for another machine: only the database's lock is shared.
        other = tmp_path / "other-machine" if second_data_dir == "other" else data_dir
        second = run_cli("--config", str(config), "crawl", "fixture", "--no-load", timeout=60,
                         env={"NEWSINGEST_DATA_DIR": str(other)})
        held_site.articles_released.set()
        assert first.wait(timeout=60) == 0
    finally:
        kill_group(first.pid)
        first.wait()
    assert second.returncode == 1, second.stderr[-3000:]
    assert "already running" in second.stderr
    assert [e["reason"] for e in events(second, "crawl_skipped")] == [reason]
    assert not events(second, "crawl_started")
    assert_each_article_fetched_once(held_site)


def test_foreground_crawl_beside_the_daemons_crawl_of_the_source_is_refused(held_site, db, database_url, run_cli,
                                                                           tmp_path, data_dir):
    config = daemon_config(tmp_path / "newsingest.toml", data_dir, held_site.url("/feeds/rss.xml"), interval="1h")
    daemon = Daemon.start(config, data_dir, database_url)
    try:
        daemon.wait_for_event("crawl_dispatched")
        wait_until(lambda: crawling(held_site), timeout=30)
        second = run_cli("--config", str(config), "crawl", "fixture", timeout=60)
        held_site.articles_released.set()
        daemon.wait_for_event("crawl_ended", timeout=60)
    finally:
        daemon.stop()
        daemon.kill()
    assert second.returncode == 1, second.stderr[-3000:]
    assert [e["reason"] for e in events(second, "crawl_skipped")] == ["already_running"]
    assert_each_article_fetched_once(held_site)


def test_a_trigger_waiting_for_a_foreground_crawl_of_its_source_holds_no_crawl_slot(
        held_site, db, database_url, run_cli, tmp_path, data_dir):
    with NewsSite(articles=build_articles(2)) as other_site:
        sources = (source_block("fixture", feeds=[held_site.url("/feeds/rss.xml")], interval="1h")
                   + source_block("other", feeds=[other_site.url("/feeds/rss.xml")], interval="1h"))
        config = config_with(tmp_path, data_dir, "[load]\ninterval = 1\n" + sources,
                             daemon="max_concurrent_crawls = 1\ntrigger_poll_interval = 1")
        foreground = spool_crawl_process(config, data_dir, database_url)
        daemon = None
        try:
            wait_until(lambda: crawling(held_site), timeout=30)
            daemon = Daemon.start(config, data_dir, database_url)  # crawls `other`, skips `fixture`
            daemon.wait_for_event("crawl_ended")
            assert run_cli("--config", str(config), "trigger", "fixture").returncode == 0
            daemon.wait_for_event("crawl_triggered")
            assert run_cli("--config", str(config), "trigger", "other").returncode == 0
            # The only slot is free for `other` while `fixture`'s trigger waits for the foreground crawl.
            started = daemon.wait_for_event("crawl_dispatched", count=2, timeout=40)
            assert started[1]["source"] == "other" and foreground.poll() is None
        finally:
            held_site.articles_released.set()
            foreground.wait(timeout=60)
            if daemon is not None:
                daemon.stop()
                daemon.kill()


# ------------------------------------------------------------------- run rows at daemon shutdown (item 6)


def test_crawl_that_gets_a_slot_after_sigterm_starts_nothing_and_every_started_run_is_closed(
        slow_site, db, database_url, run_cli, tmp_path, data_dir):
    feed = slow_site.url("/feeds/rss.xml")
    sources = "".join(source_block(name, feeds=[feed], interval="1h") for name in ("first", "second"))
    # One crawl slot: one source's crawl waits for the other's. A process per crawl, to end one alone.
    config = config_with(tmp_path, data_dir, "[load]\ninterval = 1\n" + sources,
                         daemon='crawl_engine = "process"\nmax_concurrent_crawls = 1\ngrace_period = 30')
    daemon = Daemon.start(config, data_dir, database_url)
    try:
        running = daemon.wait_for_event("crawl_process_started")[0]
        wait_until(lambda: crawling(slow_site), timeout=30)
        daemon.process.send_signal(signal.SIGTERM)
        # The running crawl ends right after SIGTERM (as one that was just finishing): the waiting one gets its slot.
        kill_group(running["pid"])
        assert daemon.process.wait(timeout=60) == 0
    finally:
        daemon.kill()
    started = {e["run_id"]: e["source"] for e in daemon.events("crawl_process_started")}
    assert list(started.values()) == [running["source"]]
    runs = db.execute("SELECT run_id, source, status, finished_at IS NOT NULL FROM crawl_runs").fetchall()
    assert runs == [(running["run_id"], running["source"], "failed", True)]
    status = run_cli("--config", str(config), "status", "--json")
    last = {s["source"]: s["last_status"] for s in json.loads(status.stdout)["sources"]}
    assert last == {running["source"]: "failed", ({"first", "second"} - {running["source"]}).pop(): None}


def _summary(run_id: str, status: str, **extra) -> dict:
    return {"run_id": run_id, "source": "gazette", "started_at": "2026-12-04T10:00:00+00:00",
            "finished_at": "2026-12-04T10:01:00+00:00", "status": status, "finish_reason": "finished",
            "pages_fetched": 3, "articles_found": 2, "errors": {}, **extra}


@pytest.mark.parametrize("order", ["fallback_first", "crawl_first", "one_load"])
def test_daemons_summary_of_a_dead_child_closes_its_run_and_never_overrides_the_crawls_own(db, tmp_path, order):
    from crawler.spool import write_run_summary
    from ingest.load import load_spool

    db.execute("INSERT INTO crawl_runs (run_id, source, started_at, status) VALUES ('r1', 'gazette', now(), 'running')")
    db.execute("INSERT INTO crawl_runs (run_id, source, started_at, status) VALUES ('r2', 'gazette', now(), 'running')")
    fallback = _summary("r1", "failed", finish_reason="process_failed", fallback=True,
                        error="crawl process exited with status 1")
    summaries = [fallback, _summary("r1", "finished")]
    for summary in summaries if order == "fallback_first" else summaries[::-1]:
        write_run_summary(tmp_path, summary)
        if order != "one_load":
            load_spool(db, tmp_path)
    write_run_summary(tmp_path, _summary("r2", "failed", finish_reason="process_failed", fallback=True,
                                         error="crawl process exited with status 1"))
    load_spool(db, tmp_path)
    rows = {run: (status, error) for run, status, error in
            db.execute("SELECT run_id, status, error FROM crawl_runs WHERE finished_at IS NOT NULL").fetchall()}
    assert rows == {"r1": ("finished", None), "r2": ("failed", "crawl process exited with status 1")}
