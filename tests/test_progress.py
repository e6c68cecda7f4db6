"""Foreground crawl progress: the numbers, the status line, the log event, and when the extension loads.

No reactor and no crawl: the extension is driven by hand with a fake clock, fake stats and a
stand-in crawler, so these tests never install a Twisted reactor in the test process.
"""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

import pytest
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

from crawler import progress
from crawler.progress import CrawlProgress, ProgressFields, progress_fields, render_progress


class FakeStats:
    def __init__(self, values: dict | None = None):
        self.values = dict(values or {})

    def get_stats(self) -> dict:
        return dict(self.values)


class FakeClock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeLoopingCall:
    def __init__(self, func):
        self.func = func
        self.running = False
        self.started_with: tuple | None = None

    def start(self, interval, now=True):
        self.running = True
        self.started_with = (interval, now)

    def stop(self):
        self.running = False


class RecordingSignals:
    def __init__(self):
        self.connected: dict = {}

    def connect(self, receiver, signal):
        self.connected[signal] = receiver


def fake_crawler(settings: dict, stats: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(settings=Settings(settings), stats=FakeStats(stats), signals=RecordingSignals())


def opened(ext: CrawlProgress, clock: FakeClock, monkeypatch) -> FakeLoopingCall:
    calls: list[FakeLoopingCall] = []

    def create(func):
        calls.append(FakeLoopingCall(func))
        return calls[-1]

    monkeypatch.setattr(progress, "create_looping_call", create)
    ext.spider_opened(None)
    return calls[0]


# --- progress_fields ---------------------------------------------------------------------------------


def test_fields_read_pages_and_articles_from_newsingest_stats():
    fields = progress_fields({"newsingest/pages_fetched": 40, "newsingest/articles": 12}, 10)
    assert (fields.pages, fields.articles) == (40, 12)


def test_fields_sum_every_error_kind():
    stats = {"newsingest/errors/http_404": 3, "newsingest/errors/timeout": 2, "newsingest/skipped/offsite": 9}
    assert progress_fields(stats, 1).errors == 5


def test_fields_rate_is_pages_per_second_since_start():
    assert progress_fields({"newsingest/pages_fetched": 30}, 12).pages_per_s == 2.5


def test_fields_rate_is_zero_before_any_time_has_passed():
    assert progress_fields({"newsingest/pages_fetched": 3}, 0).pages_per_s == 0.0


def test_fields_of_an_empty_crawl_are_zero():
    assert progress_fields({}, 5) == ProgressFields(pages=0, articles=0, errors=0, pages_per_s=0.0)


# --- render_progress ---------------------------------------------------------------------------------


def test_render_shows_counts_rate_and_elapsed_time():
    assert render_progress(120, 45, 2, 65) == "120 pages, 45 articles, 2 errors, 1.8 pages/s, 1:05"


def test_render_uses_singular_for_one():
    assert render_progress(1, 1, 1, 1).startswith("1 page, 1 article, 1 error,")


def test_render_shows_hours_for_long_crawls():
    assert render_progress(0, 0, 0, 3723).endswith("1:02:03")


def test_render_is_one_line():
    assert "\n" not in render_progress(5, 2, 0, 3) and "\r" not in render_progress(5, 2, 0, 3)


# --- from_crawler ------------------------------------------------------------------------------------


def test_off_by_default():
    with pytest.raises(NotConfigured):
        CrawlProgress.from_crawler(fake_crawler({}))


def test_unknown_mode_is_an_error_not_silence():
    with pytest.raises(ValueError, match="NEWSINGEST_PROGRESS"):
        CrawlProgress.from_crawler(fake_crawler({"NEWSINGEST_PROGRESS": "dispaly"}))


@pytest.mark.parametrize(("mode", "interval"), [("display", 1.0), ("log", 10.0)])
def test_default_interval_depends_on_mode(mode, interval):
    assert CrawlProgress.from_crawler(fake_crawler({"NEWSINGEST_PROGRESS": mode})).interval == interval


def test_interval_setting_overrides_default():
    crawler = fake_crawler({"NEWSINGEST_PROGRESS": "log", "NEWSINGEST_PROGRESS_INTERVAL": 2.5})
    assert CrawlProgress.from_crawler(crawler).interval == 2.5


def test_connects_to_spider_opened_and_closed():
    crawler = fake_crawler({"NEWSINGEST_PROGRESS": "log"})
    ext = CrawlProgress.from_crawler(crawler)
    assert crawler.signals.connected == {
        signals.spider_opened: ext.spider_opened,
        signals.spider_closed: ext.spider_closed,
    }


# --- the loop ----------------------------------------------------------------------------------------


def test_display_starts_at_once_every_interval(monkeypatch):
    ext = CrawlProgress(FakeStats(), "display", 1.0, stream=io.StringIO(), clock=FakeClock())
    assert opened(ext, FakeClock(), monkeypatch).started_with == (1.0, True)


def test_log_waits_one_interval_before_the_first_event(monkeypatch):
    ext = CrawlProgress(FakeStats(), "log", 10.0, clock=FakeClock())
    assert opened(ext, FakeClock(), monkeypatch).started_with == (10.0, False)


def test_closing_stops_the_loop(monkeypatch):
    ext = CrawlProgress(FakeStats(), "log", 10.0, clock=FakeClock())
    loop = opened(ext, FakeClock(), monkeypatch)
    ext.spider_closed(None, "finished")
    assert not loop.running


# --- display -----------------------------------------------------------------------------------------


def test_display_rewrites_one_line_on_the_stream(monkeypatch):
    clock, out = FakeClock(), io.StringIO()
    stats = FakeStats({"newsingest/pages_fetched": 10, "newsingest/articles": 4})
    ext = CrawlProgress(stats, "display", 1.0, stream=out, clock=clock)
    opened(ext, clock, monkeypatch)
    clock.now += 5
    ext.tick()
    assert out.getvalue() == "\r\x1b[2K10 pages, 4 articles, 0 errors, 2.0 pages/s, 0:05"


def test_display_ends_the_line_when_the_spider_closes(monkeypatch):
    clock, out = FakeClock(), io.StringIO()
    ext = CrawlProgress(FakeStats({"newsingest/pages_fetched": 3}), "display", 1.0, stream=out, clock=clock)
    opened(ext, clock, monkeypatch)
    clock.now += 3
    ext.spider_closed(None, "finished")
    assert out.getvalue().endswith("3 pages, 0 articles, 0 errors, 1.0 pages/s, 0:03\n")


def test_display_writes_to_stderr_by_default(monkeypatch, capsys):
    ext = CrawlProgress(FakeStats(), "display", 1.0, clock=FakeClock())
    ext.tick()
    captured = capsys.readouterr()
    assert captured.out == "" and "0 pages" in captured.err


# --- log ---------------------------------------------------------------------------------------------


def test_log_mode_emits_crawl_progress_with_fields(monkeypatch, caplog):
    clock = FakeClock()
    stats = FakeStats({"newsingest/pages_fetched": 50, "newsingest/articles": 20, "newsingest/errors/dns": 1})
    ext = CrawlProgress(stats, "log", 10.0, clock=clock)
    opened(ext, clock, monkeypatch)
    clock.now += 20
    with caplog.at_level(logging.INFO, logger="newsingest.progress"):
        ext.tick()
    (record,) = caplog.records
    assert record.getMessage() == "crawl_progress"
    assert (record.pages, record.articles, record.errors, record.pages_per_s) == (50, 20, 1, 2.5)


def test_log_mode_writes_nothing_to_the_stream(monkeypatch):
    out = io.StringIO()
    ext = CrawlProgress(FakeStats(), "log", 10.0, stream=out, clock=FakeClock())
    opened(ext, FakeClock(), monkeypatch)
    ext.tick()
    ext.spider_closed(None, "finished")
    assert out.getvalue() == ""
