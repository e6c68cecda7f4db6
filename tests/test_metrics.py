"""The daemon's monitoring endpoints as Prometheus and Kubernetes use them: a real `newsingest run` with
`[daemon] http` set, asked over HTTP by a real client (urllib), after a crawl of the fixture news site and a load.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from newssite import NewsSite
from prometheus_client.parser import text_string_to_metric_families
from test_daemon import PASSWORD, Daemon, daemon_config, empty_database, wait_until, with_password

from ingest.config import parse_config
from ingest.monitoring import DaemonMetrics, MonitoringServer, Probes, monitoring_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in a Prometheus text exposition, or None when it is absent."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def with_http(config, port: int):
    config.write_text(config.read_text().replace("[daemon]\n", f'[daemon]\nhttp = "127.0.0.1:{port}"\n'))
    return config


def crawl_and_load_done(daemon: Daemon, articles: int) -> bool:
    """Every article loaded, and a load finished after the one that recorded the crawl's run: the metrics
    have both (a load's counts and the runs it recorded reach them before its load_finished event)."""
    events = daemon.events()
    if sum(e["inserted"] for e in events if e["event"] == "load_finished") < articles:
        return False
    recorded = [i for i, e in enumerate(events) if e["event"] == "crawl_loaded"]
    return bool(recorded) and any(e["event"] == "load_finished" for e in events[recorded[0]:])


@dataclass
class Scrape:
    healthz: tuple[int, str]
    readyz: tuple[int, str]
    not_found: tuple[int, str]
    metrics: str
    articles: int
    started: float
    scraped: float


@pytest.fixture(scope="module")
def scraped(database_url, tmp_path_factory) -> Scrape:
    """A daemon that crawled the fixture site once and loaded it, asked while it runs."""
    empty_database(database_url)
    tmp = tmp_path_factory.mktemp("metrics")
    data_dir = tmp / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with NewsSite() as site:
        config = with_http(daemon_config(tmp / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"),
                                         interval="1h"), port)
        started = time.time()
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            wait_until(lambda: crawl_and_load_done(daemon, len(site.articles)), timeout=60)
            scrape = Scrape(get(base + "/healthz"), get(base + "/readyz"), get(base + "/nothing-here"),
                            get(base + "/metrics")[1], len(site.articles), started, time.time())
        finally:
            daemon.stop()
            daemon.kill()
    return scrape


def test_healthz_answers_ok_while_the_daemon_runs(scraped):
    assert scraped.healthz == (200, "ok\n")


def test_readyz_is_ready_with_the_database_up(scraped):
    status, body = scraped.readyz
    assert status == 200
    assert json.loads(body) == {"status": "ready", "checks": {"daemon": "ok", "database": "ok", "engine": "ok"}}


def test_other_paths_are_not_found(scraped):
    assert scraped.not_found[0] == 404


def test_metrics_count_the_finished_crawl_of_the_source(scraped):
    assert sample(scraped.metrics, "newsingest_crawls_total", source="fixture", status="finished") == 1
    assert sample(scraped.metrics, "newsingest_crawls_total", source="fixture", status="failed") == 0


def test_metrics_count_the_pages_and_articles_of_the_crawl(scraped):
    assert sample(scraped.metrics, "newsingest_articles_found_total", source="fixture") == scraped.articles
    assert sample(scraped.metrics, "newsingest_pages_fetched_total", source="fixture") >= scraped.articles


def test_metrics_count_every_loaded_article_as_new(scraped):
    assert sample(scraped.metrics, "newsingest_articles_loaded_total", outcome="new") == scraped.articles
    assert sample(scraped.metrics, "newsingest_load_duration_seconds_count") >= 1


def test_metrics_give_the_time_of_the_last_successful_crawl(scraped):
    when = sample(scraped.metrics, "newsingest_last_successful_crawl_timestamp_seconds", source="fixture")
    assert when is not None and scraped.started <= when <= scraped.scraped


def test_extraction_time_histogram_counts_every_extracted_article_page(scraped):
    count = sample(scraped.metrics, "newsingest_extraction_seconds_count")
    assert count is not None and count >= scraped.articles
    assert sample(scraped.metrics, "newsingest_extraction_seconds_bucket", le="+Inf") == count
    assert sample(scraped.metrics, "newsingest_extraction_seconds_sum") > 0


def test_metrics_show_an_empty_spool_once_loaded(scraped):
    assert sample(scraped.metrics, "newsingest_spool_segments") == 0
    assert sample(scraped.metrics, "newsingest_spool_records") == 0


@dataclass
class DownScrape:
    readyz: tuple[int, str]
    metrics: str
    articles: int


@pytest.fixture(scope="module")
def database_down(tmp_path_factory) -> DownScrape:
    """A daemon whose database is a closed port on 127.0.0.1: it crawls into the spool, and cannot load."""
    tmp = tmp_path_factory.mktemp("metrics-db-down")
    data_dir = tmp / "data"
    port, closed = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    with NewsSite() as site:
        config = with_http(daemon_config(tmp / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"),
                                         interval="1h"), port)
        daemon = Daemon.start(config, data_dir, with_password(f"postgresql://postgres@127.0.0.1:{closed}/news"))
        try:
            daemon.wait_for_event("crawl_ended", timeout=60)
            daemon.wait_for_event("load_failed", timeout=30)
            readyz = get(base + "/readyz")
            metrics = get(base + "/metrics")[1]
        finally:
            daemon.stop()
            daemon.kill()
    return DownScrape(readyz, metrics, len(site.articles))


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(database_down):
    status, body = database_down.readyz
    assert status == 503
    answer = json.loads(body)
    assert answer["status"] == "not_ready" and answer["checks"]["database"] == "unreachable"
    assert answer["checks"]["engine"] == "ok"


def test_readyz_never_shows_the_database_url(database_down):
    assert PASSWORD not in database_down.readyz[1] and "postgresql" not in database_down.readyz[1]


def test_metrics_count_failed_loads_and_the_spool_backlog_they_leave(database_down):
    assert sample(database_down.metrics, "newsingest_load_failures_total") >= 1
    assert sample(database_down.metrics, "newsingest_spool_records") == database_down.articles
    assert sample(database_down.metrics, "newsingest_spool_segments") >= 1
    assert sample(database_down.metrics, "newsingest_spool_oldest_seconds") > 0


def test_invalid_http_address_is_refused_naming_the_key(run_cli, tmp_path, data_dir):
    config = tmp_path / "newsingest.toml"
    config.write_text('[daemon]\nhttp = "127.0.0.1:99999"\n\n[[sources]]\nname = "x"\n'
                      'feeds = ["http://127.0.0.1:9/feed.xml"]\n')
    result = run_cli("--config", str(config), "run", timeout=30)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "daemon.http" in lines[0] and "65535" in lines[0]


def test_daemon_stops_at_start_when_its_http_port_is_taken(database_url, tmp_path):
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = with_http(daemon_config(tmp_path / "newsingest.toml", data_dir, "http://127.0.0.1:9/feed.xml"),
                           port)
        daemon = Daemon.start(config, data_dir, database_url)
        try:
            assert daemon.process.wait(timeout=60) == 1
        finally:
            daemon.kill()
    (failed,) = daemon.events("http_server_failed")
    assert failed["address"] == f"127.0.0.1:{port}" and failed["error"]
    assert not daemon.events("crawl_dispatched")


def test_drift_gauge_is_1_while_a_measure_drifts_and_0_after(database_url):
    import threading

    config = parse_config({"sources": [{"name": "wire", "feeds": ["https://wire.invalid/feed.xml"]}]}, None, env={})
    metrics = DaemonMetrics(config)
    probes = Probes(database_url, stopping=threading.Event(), scheduler_running=lambda: True,
                    engine_alive=lambda: True)
    port = free_port()
    server = MonitoringServer.start(("127.0.0.1", port), monitoring_app(metrics.registry, probes))
    try:
        metrics.set_drift("wire", "text_length", True)
        drifting = get(f"http://127.0.0.1:{port}/metrics")[1]
        metrics.set_drift("wire", "text_length", False)
        settled = get(f"http://127.0.0.1:{port}/metrics")[1]
    finally:
        server.stop()
    assert sample(drifting, "newsingest_extraction_drift", source="wire", measure="text_length") == 1
    assert sample(settled, "newsingest_extraction_drift", source="wire", measure="text_length") == 0
