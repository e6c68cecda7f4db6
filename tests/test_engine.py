"""The daemon's crawl engine: many sources crawled at once in one long-running process, each crawl its own
run, and an engine that dies is restarted without losing what it had spooled. Real `newsingest run`
daemons, fixture sites on 127.0.0.x and the session's PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal

import psycopg
from newssite import NewsSite, build_articles
from test_crawl import source_block
from test_daemon import Daemon, article_count, wait_until
from test_metrics import free_port, get, with_http
from test_runs import config_with, crawling


def test_revisits_run_in_the_one_engine_process_without_starting_another(small_site, db, database_url, tmp_path,
                                                                          data_dir):
    config = config_with(tmp_path, data_dir, "[load]\ninterval = 1\n"
                         + source_block("fixture", feeds=[small_site.url("/feeds/rss.xml")], interval="1s"))
    daemon = Daemon.start(config, data_dir, database_url)
    try:
        ended = daemon.wait_for_event("crawl_ended", count=3, timeout=60)
    finally:
        daemon.stop()
        daemon.kill()
    assert [e["status"] for e in ended] == ["finished"] * 3
    assert len(daemon.events("crawl_engine_started")) == 1
    assert not daemon.events("crawl_process_started")
    assert article_count(database_url) == len(small_site.articles)


def test_the_engines_later_crawls_of_a_host_reuse_its_robots_txt(small_site, db, database_url, tmp_path, data_dir):
    config = config_with(tmp_path, data_dir, "[load]\ninterval = 1\n"
                         + source_block("fixture", feeds=[small_site.url("/feeds/rss.xml")], interval="1s"))
    daemon = Daemon.start(config, data_dir, database_url)
    try:
        daemon.wait_for_event("crawl_ended", count=3, timeout=60)
    finally:
        daemon.stop()
        daemon.kill()
    assert len(small_site.requests_to("/feeds/rss.xml")) >= 3
    assert len(small_site.requests_to("/robots.txt")) == 1


def test_a_held_source_does_not_hold_up_another_crawled_in_the_same_engine(held_site, db, database_url, tmp_path,
                                                                           data_dir):
    with NewsSite(host="127.0.0.2", articles=build_articles(3)) as quick:
        sources = (source_block("held", feeds=[held_site.url("/feeds/rss.xml")], interval="1h")
                   + source_block("quick", feeds=[quick.url("/feeds/rss.xml")], interval="1h"))
        config = config_with(tmp_path, data_dir, "[load]\ninterval = 1\n" + sources)
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            wait_until(lambda: crawling(held_site), timeout=30)
            quick_end = daemon.wait_for_event("crawl_ended", timeout=60)[0]
            held_running = not held_site.articles_released.is_set()
            held_site.articles_released.set()
            ended = daemon.wait_for_event("crawl_ended", count=2, timeout=60)
            wait_until(lambda: article_count(database_url) == len(held_site.articles) + len(quick.articles))
        finally:
            held_site.articles_released.set()
            daemon.stop()
            daemon.kill()
    assert quick_end["source"] == "quick" and quick_end["status"] == "finished" and held_running
    assert {e["source"]: e["status"] for e in ended} == {"quick": "finished", "held": "finished"}
    assert len(daemon.events("crawl_engine_started")) == 1


def source_article_count(database_url: str, source: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM articles WHERE source = %s", (source,)).fetchone()[0]


def test_a_crawl_past_its_time_budget_is_stopped_alone_while_the_engine_crawls_on(slow_site, db, database_url,
                                                                                   tmp_path, data_dir):
    with NewsSite(host="127.0.0.2", articles=build_articles(3)) as quick:
        # The slow site serves an article every 0.75 s: its crawl needs 3 s, and gets 1.
        sources = (source_block("held", feeds=[slow_site.url("/feeds/rss.xml")], interval="1h", max_crawl_seconds=1)
                   + source_block("quick", feeds=[quick.url("/feeds/rss.xml")], interval="1s"))
        config = config_with(tmp_path, data_dir, "[load]\ninterval = 1\n" + sources)
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            wait_until(lambda: any(e["source"] == "held" for e in daemon.events("crawl_ended")), timeout=120)
            wait_until(lambda: sum(e["source"] == "quick" for e in daemon.events("crawl_ended")) >= 3, timeout=120)
            # The held crawl may store an article or two before its budget runs out: only quick's are counted.
            wait_until(lambda: source_article_count(database_url, "quick") == len(quick.articles))
        finally:
            daemon.stop()
            daemon.kill()
    ended = daemon.events("crawl_ended")
    held = [(e["status"], e["finish_reason"]) for e in ended if e["source"] == "held"]
    assert held == [("finished", "time_budget")]
    assert {e["status"] for e in ended if e["source"] == "quick"} == {"finished"}
    assert len(daemon.events("crawl_engine_started")) == 1


def test_an_engine_killed_mid_crawl_is_restarted_its_run_failed_and_its_records_loaded_once(
        slow_site, db, database_url, tmp_path, data_dir):
    config = config_with(tmp_path, data_dir, "[load]\ninterval = 1\n"
                         + source_block("fixture", feeds=[slow_site.url("/feeds/rss.xml")], interval="2s"))
    slow_site.article_delay = 2.0
    daemon = Daemon.start(config, data_dir, database_url)
    try:
        engine = daemon.wait_for_event("crawl_engine_started")[0]
        # An article is in the crawl's open spool segment when the engine dies.
        wait_until(lambda: any(p.stat().st_size for p in (data_dir / "spool" / "open").glob("*")), timeout=30)
        os.kill(engine["pid"], signal.SIGKILL)
        died = daemon.wait_for_event("crawl_engine_died", timeout=30)[0]
        lost = daemon.wait_for_event("crawl_lost", timeout=30)[0]
        restarted = daemon.wait_for_event("crawl_engine_started", count=2, timeout=30)[1]
        slow_site.article_delay = 0.0
        wait_until(lambda: article_count(database_url) == len(slow_site.articles), timeout=60)
        recovered = daemon.wait_for_event("segment_recovered", timeout=30)[0]
    finally:
        daemon.stop()
        daemon.kill()
    assert lost["run_id"] in died["runs"] and lost["reason"] == "engine_died"
    assert restarted["restart"] is True and restarted["pid"] != engine["pid"]
    assert recovered["records"] >= 1
    with psycopg.connect(database_url) as conn:
        status = conn.execute("SELECT status, finish_reason FROM crawl_runs WHERE run_id = %s",
                              (lost["run_id"],)).fetchone()
        copies = conn.execute("SELECT count(*) FROM articles GROUP BY canonical_url HAVING count(*) > 1").fetchall()
    assert status == ("failed", "engine_died")
    assert not copies


def test_readyz_says_the_engine_is_down_while_it_cannot_be_restarted(small_site, db, database_url, tmp_path,
                                                                     data_dir):
    port = free_port()
    config = with_http(config_with(tmp_path, data_dir, "[load]\ninterval = 1\n"
                                   + source_block("fixture", feeds=[small_site.url("/feeds/rss.xml")], interval="1h"),
                                   daemon='crawl_engine = "shared"'), port)
    daemon = Daemon.start(config, data_dir, database_url)
    try:
        engine = daemon.wait_for_event("crawl_engine_started")[0]
        daemon.wait_for_event("crawl_ended")
        ready_before = get(f"http://127.0.0.1:{port}/readyz")[0]
        # The engine reads the config file when it starts: broken on disk, every restart fails at once.
        config.write_text(config.read_text() + "\n[daemon.nonsense\n")
        os.kill(engine["pid"], signal.SIGKILL)
        daemon.wait_for_event("crawl_engine_died", count=2, timeout=30)
        status, body = get(f"http://127.0.0.1:{port}/readyz")
    finally:
        daemon.stop()
        daemon.kill()
    assert ready_before == 200
    assert status == 503 and json.loads(body)["checks"]["engine"] != "ok"
