"""`newsingest status`: per source its last and next run, recent articles, health and extraction drift; the spool
backlog on this machine; the last load; the live daemons (ingest/tables/daemons.py). A next run is shown only
for a source a live daemon schedules: a stopped daemon's schedule is no promise. For the daemon's status page
(ingest/status_page.py) also the last loads and the articles loaded per hour. Reads the database and the local
spool; writes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from crawler.spool import SpoolPaths, orphaned_segments
from ingest.config import Config
from ingest.tables.articles import HourCount, articles_per_hour
from ingest.tables.daemons import LiveDaemon, live_daemons
from ingest.tables.drift import ActiveDrift, current_drifts
from ingest.tables.runs import LoadRun, SourceStatus, last_load_run, recent_load_runs, source_status


@dataclass(frozen=True, slots=True)
class SpoolBacklog:
    segments: int
    records: int
    oldest_seconds: float | None
    bad_segments: int
    orphaned_segments: int = 0  # of `segments`: left open by crawls that died; the next load recovers them


@dataclass(frozen=True, slots=True)
class StatusReport:
    sources: list[SourceStatus]
    unhealthy_after: int
    spool: SpoolBacklog
    last_load: LoadRun | None
    drifts: dict[str, list[ActiveDrift]] = field(default_factory=dict)  # source -> measures drifting now
    daemons: list[LiveDaemon] = field(default_factory=list)

    def healthy(self, source: SourceStatus) -> bool:
        return source.consecutive_failures < self.unhealthy_after

    def to_dict(self) -> dict:
        def plain(value):
            return value.isoformat() if isinstance(value, datetime) else value

        return {
            "sources": [
                {**{k: plain(v) for k, v in dataclasses.asdict(s).items()}, "healthy": self.healthy(s),
                 "drift": [{"measure": d.measure, **d.to_dict()} for d in self.drifts.get(s.source, [])]}
                for s in self.sources
            ],
            "spool": dataclasses.asdict(self.spool),
            "last_load": (
                {k: plain(v) for k, v in dataclasses.asdict(self.last_load).items()} if self.last_load else None
            ),
            "daemons": [
                {"daemon_id": d.daemon_id, "host": d.host, "pid": d.pid, "started_at": plain(d.started_at),
                 "last_seen_at": plain(d.last_seen_at), "seen_seconds_ago": round(d.seen_seconds_ago, 1),
                 "sources": d.sources}
                for d in self.daemons
            ],
        }


def spool_backlog(config: Config, line_counts: dict[tuple, int] | None = None) -> SpoolBacklog:
    """`line_counts`, kept by a caller that asks again and again (the daemon's /metrics), remembers the records
    of the segments already counted, so each closed segment (which never changes) is read once."""
    paths = SpoolPaths(config.spool_dir)
    segments = []
    records = 0
    times = []
    counted: dict[tuple, int] = {}
    for segment in paths.ready_segments():
        try:
            with open(segment, "rb") as fh:
                stat = os.fstat(fh.fileno())
                key = (segment.name, stat.st_size, stat.st_mtime_ns)
                count = line_counts.get(key) if line_counts is not None else None
                counted[key] = sum(1 for _ in fh) if count is None else count
                records += counted[key]
                times.append(stat.st_mtime)
        except FileNotFoundError:
            continue  # loaded (and removed) by a running load since it was listed
        segments.append(segment)
    if line_counts is not None:  # only the segments still there: it stays as small as the backlog
        line_counts.clear()
        line_counts.update(counted)
    orphans = orphaned_segments(paths.root)
    records += sum(count for _, count, _ in orphans)
    times += [mtime for _, _, mtime in orphans]
    oldest = min(times, default=None)
    bad = len(list(paths.bad.iterdir())) if paths.bad.is_dir() else 0
    return SpoolBacklog(len(segments) + len(orphans), records, time.time() - oldest if oldest else None, bad,
                        len(orphans))


def _next_runs(daemons: list[LiveDaemon]) -> dict[str, datetime]:
    """Per source a live daemon schedules, its soonest next run."""
    soonest: dict[str, datetime] = {}
    for daemon in daemons:
        for entry in daemon.schedule:
            if entry.next_run_at is not None and (entry.source not in soonest
                                                  or entry.next_run_at < soonest[entry.source]):
                soonest[entry.source] = entry.next_run_at
    return soonest


def collect_status(conn: psycopg.Connection, config: Config,
                   line_counts: dict[tuple, int] | None = None) -> StatusReport:
    """`line_counts`: as for spool_backlog."""
    daemons = live_daemons(conn)
    next_runs = _next_runs(daemons)
    sources = [dataclasses.replace(s, next_run_at=next_runs.get(s.source))
               for s in source_status(conn, [s.name for s in config.sources])]
    return StatusReport(
        daemons=daemons,
        sources=sources,
        unhealthy_after=config.daemon.unhealthy_after,
        spool=spool_backlog(config, line_counts),
        last_load=last_load_run(conn),
        drifts=current_drifts(conn, [s.source for s in sources]),
    )


@dataclass(frozen=True, slots=True)
class StatusHistory:
    loads: list[LoadRun]  # the last loads that loaded something or failed, newest first
    articles_per_hour: list[HourCount]  # oldest first, the current hour last


def collect_history(conn: psycopg.Connection, *, hours: int, loads: int) -> StatusHistory:
    """Of the last `hours` hours: the last `loads` loads that loaded something or failed, and the articles loaded
    in each hour."""
    return StatusHistory(recent_load_runs(conn, loads, hours), articles_per_hour(conn, hours))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z") if value else "-"


def render_status(report: StatusReport) -> str:
    header = ("source", "last run", "outcome", "articles", "next run", "24 h", "failures", "health", "drift")
    rows = [header]
    for s in report.sources:
        rows.append((
            s.source, _when(s.last_started_at), s.last_status or "never run",
            "-" if s.last_articles is None else str(s.last_articles), _when(s.next_run_at), str(s.articles_24h),
            str(s.consecutive_failures), "ok" if report.healthy(s) else "UNHEALTHY",
            ",".join(d.measure for d in report.drifts.get(s.source, [])) or "-",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    for s in report.sources:
        if s.last_error:
            lines.append(f"  {s.source}: last error: {s.last_error}")
        for d in report.drifts.get(s.source, []):
            lines.append(f"  {s.source}: extraction drift: {d.measure} {d.shift.before:.2f} before,"
                         f" {d.shift.now:.2f} now (since run {d.since_run_id})")
    lines.append("")
    if report.daemons:
        for d in report.daemons:
            lines.append(f"daemon {d.daemon_id}: running since {_when(d.started_at)}, seen {d.seen_seconds_ago:.0f} s"
                         f" ago; schedules {', '.join(d.sources) or 'nothing'}")
    else:
        lines.append("no daemon running (`newsingest run` starts one): no next runs")
    b = report.spool
    age = f", oldest {b.oldest_seconds:.0f} s" if b.oldest_seconds is not None else ""
    lines.append("")
    orphaned = f" ({b.orphaned_segments} left open by crawls that died)" if b.orphaned_segments else ""
    lines.append(f"spool backlog: {b.segments} segments{orphaned}, {b.records} records{age};"
                 f" {b.bad_segments} set aside")
    load = report.last_load
    if load is None:
        lines.append("last load: never")
    else:
        lines.append(
            f"last load: {_when(load.started_at)}, {load.status}: {load.segments} segments, inserted {load.inserted},"
            f" updated {load.updated}, duplicates {load.duplicates}" + (f"; error: {load.error}" if load.error else "")
        )
    return "\n".join(lines)
