"""The daemon's status page, `GET /` on the `[daemon] http` listener (ingest/monitoring.py): one HTML page that
refreshes itself, with what `newsingest status` shows (a row per source: last run and outcome, articles, health,
next run, drift; the spool backlog; the last load) plus the last loads that brought records and a chart of the
articles loaded per hour.

Rendering only: the data comes from ingest/status.py. The page is self-contained (inline CSS, the chart as
server-rendered SVG; no script, nothing fetched from elsewhere) and every text from the database or the config is
escaped. This module touches, per page built (at most every few seconds), a short read-only database
connection and the spool directory (read only, to count the backlog).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape

import psycopg
import structlog

from ingest.config import Config
from ingest.logs import error_text, mask_secrets
from ingest.status import StatusHistory, StatusReport, collect_history, collect_status
from ingest.tables.articles import HourCount

log = structlog.get_logger("newsingest.monitoring")

REFRESH_SECONDS = 30  # the page reloads itself this often
CHART_HOURS = 72
RECENT_LOADS = 10
_DB_TIMEOUT = 2  # seconds to connect; a page must not hang on a database that is down
_STATEMENT_TIMEOUT_MS = 5000
_PAGE_CACHE_SECONDS = 5.0  # however many browsers watch, the database is asked at most this often
_MAX_ERROR_CHARS = 300


def _e(value: object) -> str:
    """Text for HTML, quotes included (it also goes into attributes)."""
    return escape(str(value), quote=True)


def _utc(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _ago(value: datetime | None, now: datetime) -> str:
    """'5 min ago' or 'in 2 h': how far `value` is from now, roughly."""
    if value is None:
        return ""
    seconds = (value - now).total_seconds()
    size = abs(seconds)
    if size < 90:
        text = f"{size:.0f} s"
    elif size < 90 * 60:
        text = f"{size / 60:.0f} min"
    elif size < 48 * 3600:
        text = f"{size / 3600:.0f} h"
    else:
        text = f"{size / 86400:.0f} d"
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _time_cell(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "<td>-</td>"
    return f'<td><time datetime="{_e(value.isoformat())}">{_e(_utc(value))}</time>' \
           f' <span class="ago">{_e(_ago(value, now))}</span></td>'


_OUTCOME_CLASS = {"finished": "ok", "running": "info", "interrupted": "warn", "failed": "bad", "abandoned": "bad"}

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0; } h2 { font-size: 1.1em; margin: 1.5em 0 .5em; }
.meta, .ago, .detail { color: #666; font-size: .9em; }
time { white-space: nowrap; } .ago { display: block; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; }
.ok { color: #1a7f37; } .bad { color: #c62828; font-weight: bold; } .warn { color: #b26a00; } .info { color: #0b5cad; }
.detail { max-width: 40em; overflow-wrap: anywhere; }
svg { background: #fff; border: 1px solid #ddd; } svg text { font: 11px system-ui, sans-serif; fill: #555; }
svg rect.bar { fill: #4a78c2; } svg line { stroke: #e3e3e3; }
"""


def _sources_table(report: StatusReport, now: datetime) -> str:
    rows = []
    for s in report.sources:
        outcome = s.last_status or "never run"
        detail = f'<div class="detail">{_e(s.last_error[:_MAX_ERROR_CHARS])}</div>' if s.last_error else ""
        healthy = report.healthy(s)
        health = "ok" if healthy else f"UNHEALTHY ({s.consecutive_failures} failed runs)"
        drifts = report.drifts.get(s.source, [])
        drift = "<br>".join(
            f"{_e(d.measure)}: {d.shift.before:.2f} before, {d.shift.now:.2f} now" for d in drifts
        ) or "-"
        rows.append(
            f'<tr data-source="{_e(s.source)}">'
            f"<td>{_e(s.source)}</td>{_time_cell(s.last_started_at, now)}"
            f'<td class="outcome"><span class="{_OUTCOME_CLASS.get(outcome, "")}">{_e(outcome)}</span>{detail}</td>'
            f'<td class="num">{"-" if s.last_articles is None else s.last_articles}</td>'
            f'<td class="num">{s.articles_24h}</td>'
            f'<td class="health {"ok" if healthy else "bad"}">{_e(health)}</td>'
            f"{_time_cell(s.next_run_at, now)}"
            f'<td class="drift{"" if not drifts else " warn"}">{drift}</td></tr>'
        )
    return (
        '<table id="sources"><thead><tr><th>source</th><th>last run</th><th>outcome</th>'
        "<th>articles (last run)</th><th>articles 24 h</th><th>health</th><th>next run</th><th>drift</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _spool(report: StatusReport) -> str:
    b = report.spool
    orphaned = f" ({b.orphaned_segments} left open by crawls that died)" if b.orphaned_segments else ""
    oldest = f", oldest {b.oldest_seconds:.0f} s" if b.oldest_seconds is not None else ""
    bad = f' <span class="bad">{b.bad_segments} set aside as unreadable</span>' if b.bad_segments else ""
    return f'<p id="spool">{b.segments} segments{_e(orphaned)}, {b.records} records{oldest} waiting.{bad}</p>'


def _last_load(report: StatusReport, now: datetime) -> str:
    load = report.last_load
    if load is None:
        return '<p id="last-load">No load yet.</p>'
    error = f": {_e(load.error[:_MAX_ERROR_CHARS])}" if load.error else ""
    return (f'<p id="last-load">Last load {_e(_utc(load.started_at))} ({_e(_ago(load.started_at, now))}):'
            f' <span class="{"ok" if load.status == "finished" else "bad"}">{_e(load.status)}</span>{error},'
            f" {load.records} records.</p>")


def _loads_table(history: StatusHistory, now: datetime) -> str:
    if not history.loads:
        return f'<p id="loads">No load brought records or failed in the last {CHART_HOURS} hours.</p>'
    rows = []
    for load in history.loads:
        seconds = f"{(load.finished_at - load.started_at).total_seconds():.1f} s" if load.finished_at else "-"
        error = f'<div class="detail">{_e(load.error[:_MAX_ERROR_CHARS])}</div>' if load.error else ""
        rows.append(
            f"<tr>{_time_cell(load.started_at, now)}"
            f'<td><span class="{"ok" if load.status == "finished" else "bad"}">{_e(load.status)}</span>{error}</td>'
            f'<td class="num">{load.segments}</td><td class="num">{load.records}</td>'
            f'<td class="num">{load.inserted}</td><td class="num">{load.updated}</td>'
            f'<td class="num">{load.duplicates}</td><td class="num">{seconds}</td></tr>'
        )
    return (
        "<p>The last loads that brought records or failed:</p>"
        '<table id="loads"><thead><tr><th>started</th><th>outcome</th><th>segments</th><th>records</th>'
        "<th>new</th><th>updated</th><th>duplicates</th><th>took</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>"
    )


def _nice_top(value: int) -> int:
    """A round axis maximum at or above `value`: 1, 2, 5, 10, 20, 50 ..."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if top * step >= value:
                return top * step
        top *= 10


def render_chart(hours: list[HourCount]) -> str:
    """Articles per hour as bars, an inline SVG: a tick per UTC midnight, the scale's top and middle."""
    width, height, left, right, top, bottom = 900, 180, 44, 10, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_top(max((h.articles for h in hours), default=0))
    slot = plot_w / max(len(hours), 1)
    parts = [
        f'<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="articles loaded per hour over the last {len(hours)} hours">'
    ]
    for value in (0, peak / 2, peak):
        y = top + plot_h - plot_h * value / peak
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    for i, h in enumerate(hours):
        x = left + i * slot
        hour = h.hour.astimezone(UTC)
        if hour.hour == 0:
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}"/>'
                         f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{hour:%b %d}</text>')
        if h.articles:
            bar_h = plot_h * h.articles / peak
            parts.append(
                f'<rect class="bar" x="{x + 0.5:.1f}" y="{top + plot_h - bar_h:.1f}" width="{max(slot - 1, 1):.1f}"'
                f' height="{bar_h:.1f}"><title>{hour:%Y-%m-%d %H:00} UTC: {h.articles} articles</title></rect>'
            )
    parts.append(f'<text x="{width - right}" y="{height - 6}" text-anchor="end">now</text></svg>')
    return "".join(parts)


def render_page(report: StatusReport, history: StatusHistory, *, now: datetime, title: str = "newsingest") -> str:
    total = sum(h.articles for h in history.articles_per_hour)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} status</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)} status</h1>"
        f'<p class="meta">As of {_e(_utc(now))}; this page reloads every {REFRESH_SECONDS} s.'
        ' Also served: <a href="/metrics">/metrics</a>, <a href="/healthz">/healthz</a>,'
        ' <a href="/readyz">/readyz</a>.</p>'
        f"<h2>Sources</h2>{_sources_table(report, now)}"
        f"<h2>Articles loaded per hour, last {len(history.articles_per_hour)} hours (UTC): {total}</h2>"
        f"{render_chart(history.articles_per_hour)}"
        f"<h2>Spool backlog on this machine</h2>{_spool(report)}"
        f"<h2>Loads</h2>{_last_load(report, now)}{_loads_table(history, now)}"
        "</body></html>\n"
    )


def render_unavailable(reason: str) -> str:
    """The page when it cannot be built: one line saying why."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}"><title>newsingest status: unavailable</title>'
        f"<style>{_STYLE}</style></head><body><h1>newsingest status</h1>"
        f'<p id="error" class="bad">{_e(reason)}</p></body></html>\n'
    )


class StatusPage:
    """Builds the page for each request (reusing one built in the last few seconds). Called on the HTTP server's
    threads: returns (True, html) or (False, html of the one-line reason)."""

    def __init__(self, config: Config, dsn: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._config = config
        self._dsn = dsn
        self._clock = clock
        self._lock = threading.Lock()
        self._line_counts: dict[tuple, int] = {}
        self._built: tuple[bool, str] | None = None
        self._at = 0.0

    def __call__(self) -> tuple[bool, str]:
        with self._lock:  # one build at a time; the other requests take its page
            if self._built is None or time.monotonic() - self._at >= _PAGE_CACHE_SECONDS:
                self._built, self._at = self._build(), time.monotonic()
            return self._built

    def _build(self) -> tuple[bool, str]:
        try:
            conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=_DB_TIMEOUT)
        except (psycopg.Error, ValueError) as exc:  # ValueError: a DSN libpq cannot be given
            return self._failed("database_unavailable", f"The database does not answer: {error_text(exc)}")
        try:
            with conn:
                conn.execute("SELECT set_config('statement_timeout', %s, false)", (str(_STATEMENT_TIMEOUT_MS),))
                report = collect_status(conn, self._config, self._line_counts)
                history = collect_history(conn, hours=CHART_HOURS, loads=RECENT_LOADS)
        except psycopg.Error as exc:
            return self._failed("database_query_failed", f"Reading the status from the database failed:"
                                f" {error_text(exc)}")
        except OSError as exc:
            return self._failed("spool_unreadable", f"The spool could not be read: {exc.strerror or exc}")
        return True, render_page(report, history, now=self._clock())

    def _failed(self, kind: str, reason: str) -> tuple[bool, str]:
        reason = mask_secrets(reason)[:_MAX_ERROR_CHARS]
        log.warning("status_page_failed", kind=kind, error=reason)
        return False, render_unavailable(reason)
