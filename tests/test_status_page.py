"""The daemon's status page at `/` of the `[daemon] http` listener: asked over HTTP (urllib) and loaded in a real
browser (headless Chromium) from a running `newsingest run` that crawled the fixture site and a source that is down.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

import lxml.html
import pytest
from newssite import NewsSite, build_articles
from test_daemon import PASSWORD, Daemon, daemon_config, empty_database, wait_until, with_password
from test_metrics import free_port, get, with_http

from ingest.config import parse_config
from ingest.drift import Shift
from ingest.monitoring import DaemonMetrics, MonitoringServer, Probes, monitoring_app
from ingest.status import SpoolBacklog, StatusHistory, StatusReport
from ingest.status_page import StatusPage, render_page
from ingest.tables.drift import ActiveDrift
from ingest.tables.runs import SourceStatus

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_BROWSER_TIMEOUT = 60  # seconds; a browser that hangs fails the test instead of holding up the suite


@dataclass
class Served:
    url: str
    articles: int
    status: int
    content_type: str
    body: str


def settled(daemon: Daemon, articles: int) -> bool:
    """The fixture's articles loaded, two failed runs of the source that is down recorded, and a load finished
    after both: the database holds what the page should show."""
    events = daemon.events()
    if sum(e["inserted"] for e in events if e["event"] == "load_finished") < articles:
        return False
    loaded = [(i, e) for i, e in enumerate(events) if e["event"] == "crawl_loaded"]
    failed = [i for i, e in loaded if e["source"] == "offline" and e["status"] == "failed"]
    finished = [i for i, e in loaded if e["source"] == "fixture" and e["status"] == "finished"]
    if len(failed) < 2 or not finished:
        return False
    return any(e["event"] == "load_finished" for e in events[max(failed[1], finished[0]):])


@pytest.fixture(scope="module")
def served(database_url, tmp_path_factory):
    """A running daemon with two sources, `fixture` (crawled and loaded) and `offline` (refused: failing),
    and its status page as first fetched."""
    empty_database(database_url)
    tmp = tmp_path_factory.mktemp("status-page")
    data_dir = tmp / "data"
    port, closed = free_port(), free_port()
    # A source refused at once (private hosts not allowed for it): it fails fast, run after run.
    offline = (f'[[sources]]\n        name = "offline"\n        feeds = ["http://127.0.0.1:{closed}/feed.xml"]\n'
               '        interval = "1s"\n        allow_private_hosts = false')
    with NewsSite(articles=build_articles(4)) as site:  # a small site: the page is under test, not the crawl
        config = with_http(daemon_config(tmp / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"),
                                         interval="1h", extra_sources=offline), port)
        daemon = Daemon.start(config, data_dir, with_password(database_url))
        try:
            wait_until(lambda: settled(daemon, len(site.articles)), timeout=90)
            url = f"http://127.0.0.1:{port}/"
            with urllib.request.urlopen(url, timeout=10) as response:
                yield Served(url, len(site.articles), response.status, response.headers["Content-Type"],
                             response.read().decode())
        finally:
            daemon.stop()
            daemon.kill()


COLUMNS = ("source", "last run", "outcome", "articles (last run)", "articles 24 h", "health", "next run", "drift")


def rows(body: str) -> dict[str, dict[str, str]]:
    """The sources table: source name -> column heading -> the cell's text, whitespace collapsed."""
    tree = lxml.html.fromstring(body)
    headings = [" ".join(th.text_content().split()) for th in tree.xpath('//table[@id="sources"]/thead/tr/th')]
    assert tuple(headings) == COLUMNS
    return {
        row.get("data-source"): {
            heading: " ".join(cell.text_content().split())
            for heading, cell in zip(headings, row.xpath("td"), strict=True)
        }
        for row in tree.xpath('//table[@id="sources"]/tbody/tr')
    }


def test_status_page_is_an_html_page_at_the_root_of_the_http_listener(served):
    assert served.status == 200
    assert served.content_type.startswith("text/html")
    assert lxml.html.fromstring(served.body).findtext(".//title").endswith("status")


def test_status_page_reloads_itself(served):
    refresh = lxml.html.fromstring(served.body).xpath('//meta[@http-equiv="refresh"]/@content')
    assert refresh and int(refresh[0]) > 0


def test_status_page_has_one_row_per_configured_source(served):
    assert sorted(rows(served.body)) == ["fixture", "offline"]


def test_status_page_row_gives_the_last_outcome_and_the_articles_of_24_hours(served):
    row = rows(served.body)["fixture"]
    assert row["outcome"] == "finished"
    assert row["articles (last run)"] == row["articles 24 h"] == str(served.articles)
    assert row["health"] == "ok"


def test_status_page_marks_a_failing_source_unhealthy(served):
    assert rows(served.body)["offline"]["health"].startswith("UNHEALTHY")


def test_status_page_charts_every_loaded_article_per_hour_as_svg(served):
    chart = lxml.html.fromstring(served.body).xpath('//svg[@id="chart"]')
    assert chart
    counts = [int(n) for n in re.findall(r"UTC: (\d+) articles", lxml.html.tostring(chart[0], encoding="unicode"))]
    assert sum(counts) == served.articles


def test_status_page_lists_the_last_loads_and_the_spool_backlog(served):
    tree = lxml.html.fromstring(served.body)
    loads = [" ".join(r.text_content().split()) for r in tree.xpath('//table[@id="loads"]/tbody/tr')]
    assert loads and all("finished" in load for load in loads)
    assert "finished" in tree.xpath('string(//p[@id="last-load"])')
    assert "0 records" in tree.xpath('string(//p[@id="spool"])')


def test_status_page_fetches_nothing_from_elsewhere(served):
    tree = lxml.html.fromstring(served.body)
    assert not tree.xpath("//script | //link | //img | //iframe")
    assert "http://" not in served.body.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in served.body


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_status_page_shows_a_row_per_source_in_a_real_browser(served, tmp_path):
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", served.url],
        capture_output=True, text=True, timeout=_BROWSER_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shown = rows(result.stdout)
    assert sorted(shown) == ["fixture", "offline"]
    assert shown["fixture"]["outcome"] == "finished" and shown["fixture"]["articles 24 h"] == str(served.articles)
    assert shown["offline"]["health"].startswith("UNHEALTHY")
    assert lxml.html.fromstring(result.stdout).xpath('//svg[@id="chart"]//rect')


def test_status_page_escapes_text_from_the_database():
    hostile = '<script>alert("x")</script>'
    source = SourceStatus("wire", None, None, "failed", 0, hostile, None, 0, 1)
    report = StatusReport([source], 3, SpoolBacklog(0, 0, None, 0), None,
                          {"wire": [ActiveDrift("<b>text_length</b>", Shift(1.0, 0.1), "run-1")]})
    body = render_page(report, StatusHistory([], []), now=datetime.now(UTC))
    assert "<script>" not in body and "<b>" not in body
    assert hostile in rows(body)["wire"]["outcome"]


@pytest.fixture
def down_page():
    """The monitoring listener with the status page of a database that is a closed port on 127.0.0.1."""
    config = parse_config({"sources": [{"name": "wire", "feeds": ["https://wire.invalid/feed.xml"]}]}, None, env={})
    dsn = with_password(f"postgresql://postgres@127.0.0.1:{free_port()}/news")
    probes = Probes(dsn, stopping=threading.Event(), scheduler_running=lambda: True, engine_alive=lambda: True)
    port = free_port()
    server = MonitoringServer.start(("127.0.0.1", port),
                                    monitoring_app(DaemonMetrics(config).registry, probes, StatusPage(config, dsn)))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_status_page_is_503_saying_in_one_line_that_the_database_does_not_answer(down_page):
    status, body = get(down_page + "/")
    assert status == 503
    (line,) = lxml.html.fromstring(body).xpath('//p[@id="error"]')
    assert "database does not answer" in line.text_content() and "Traceback" not in body


def test_status_page_of_a_database_down_never_shows_its_password(down_page):
    body = get(down_page + "/")[1]
    assert PASSWORD not in body


def test_listener_goes_on_after_the_status_page_failed(down_page):
    assert get(down_page + "/")[0] == 503
    assert get(down_page + "/healthz") == (200, "ok (starting)\n")
    assert get(down_page + "/")[0] == 503
