"""Distributed mode: two crawl workers (separate processes and data directories, as on two machines)
share one source's frontier through a real Redis on 127.0.0.1:6379 (scrapy-redis queue and dupefilter).
No URL is fetched by both, and together they load every article once.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest
from conftest import write_config
from test_crawl import source_block

REDIS_URL = os.environ.get("NEWSINGEST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    client.close()


def start_worker(config, data_dir, database_url, source: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "NEWSINGEST_DATA_DIR": str(data_dir), "NEWSINGEST_CONFIG": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--log-format", "json", "--config", str(config), "crawl", source],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


@pytest.fixture
def site():
    from newssite import NewsSite

    # Without tracking parameters in the feed, each article has one URL: "fetched once" is then exact.
    site = NewsSite(rss_tracking_params=False).start()
    yield site
    site.stop()


def test_two_workers_share_the_frontier_fetch_each_url_once_and_load_each_article_once(
    site, db, database_url, redis_client, tmp_path
):
    news_site = site
    name = f"shared{uuid.uuid4().hex[:8]}"
    news_site.article_delay = 0.4  # serialised: the crawl outlasts both workers' start-up, so both take part
    source = source_block(name, feeds=[news_site.url("/feeds/rss.xml")], sitemaps=[news_site.sitemap_url],
                          start_urls=[news_site.url("/")])
    workers = []
    for i in range(2):
        data_dir = tmp_path / f"machine{i}"
        data_dir.mkdir()
        config = write_config(tmp_path / f"worker{i}.toml", data_dir, source, redis_url=f'"{REDIS_URL}"',
                              extract_workers="1")
        workers.append(start_worker(config, data_dir, database_url, name))
    try:
        outputs = [w.communicate(timeout=180) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        for key in redis_client.scan_iter(f"newsingest:{name}*"):
            redis_client.delete(key)
    for w, (_, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err[-3000:]
        assert "frontier_joined" in err
    private = [r.path for r in news_site.requests if r.bare_path.startswith("/private/")]
    assert not private  # robots.txt holds for requests a worker takes from the shared queue

    fetched = [r.path for r in news_site.requests if r.bare_path != "/robots.txt"]
    twice = sorted({p for p in fetched if fetched.count(p) > 1})
    assert not twice, twice
    assert {u for (u,) in db.execute("SELECT canonical_url FROM articles")} == set(news_site.article_urls())
    runs = db.execute("SELECT pages_fetched, articles_found FROM crawl_runs WHERE source = %s", (name,)).fetchall()
    assert len(runs) == 2
    assert sum(found for _, found in runs) == len(news_site.articles)  # each article extracted by one worker
    assert all(pages > 0 for pages, _ in runs), runs  # both took part


def test_with_redis_down_a_worker_crawls_alone_and_says_so(site, db, run_cli, tmp_path, data_dir):
    config = write_config(tmp_path / "newsingest.toml", data_dir,
                          source_block("alone", feeds=[site.url("/feeds/rss.xml")]),
                          redis_url='"redis://:secret@127.0.0.1:1/0"')
    result = run_cli("--config", str(config), "crawl", "alone")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "redis_unavailable" in result.stderr
    assert "secret" not in result.stderr
    assert {u for (u,) in db.execute("SELECT canonical_url FROM articles")} == set(site.article_urls())


# ------------------------------------------------------------------------------ Redis outage mid-crawl


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that the test may stop and start again.
    Append-only persistence in a temporary directory: a restart finds the frontier as it was."""

    def __init__(self, directory):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server binary to start a private Redis")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(directory)
    server.start()
    yield server
    server.stop()


def crawl_through_an_outage(site, private_redis, tmp_path, database_url, *, grace: str, down_for: float | None):
    """Start a worker, stop Redis once it has fetched a few articles, start Redis again after
    `down_for` seconds (never if None); returns the worker's (returncode, stderr)."""
    site.article_delay = 0.3  # serialised, so the crawl is still going when Redis stops
    data_dir = tmp_path / "machine"
    data_dir.mkdir()
    source = source_block("outage", feeds=[site.url("/feeds/rss.xml")])
    config = write_config(tmp_path / "worker.toml", data_dir, source, redis_url=f'"{private_redis.url}"',
                          redis_outage_grace=grace, extract_workers="1")
    worker = start_worker(config, data_dir, database_url, "outage")
    try:
        deadline = time.monotonic() + 60
        while len(article_paths(site)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        private_redis.stop()
        if down_for is not None:
            time.sleep(down_for)
            private_redis.start()
        _, err = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    return worker.returncode, err


def article_paths(site) -> set[str]:
    return {r.bare_path for r in site.requests if site.article_at(r.path) is not None}


def test_redis_back_within_the_grace_lets_the_crawl_finish_with_every_article(
    site, db, database_url, private_redis, tmp_path
):
    returncode, err = crawl_through_an_outage(site, private_redis, tmp_path, database_url, grace="30", down_for=2)
    assert returncode == 0, err[-3000:]
    assert "frontier_unavailable" in err and "frontier_restored" in err
    assert {u for (u,) in db.execute("SELECT canonical_url FROM articles")} == set(site.article_urls())


def test_redis_gone_past_the_grace_stops_the_worker_with_frontier_lost_and_keeps_what_it_fetched(
    site, db, database_url, private_redis, tmp_path
):
    returncode, err = crawl_through_an_outage(site, private_redis, tmp_path, database_url, grace="2", down_for=None)
    assert returncode != 0
    assert "frontier_lost" in err
    fetched = {site.url(path) for path in article_paths(site)}
    assert {u for (u,) in db.execute("SELECT canonical_url FROM articles")} == fetched
