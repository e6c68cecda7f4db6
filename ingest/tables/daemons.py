"""SQL for the daemons table (migration 0010): one heartbeat row per running daemon, with the schedule it runs.

Every statement is parameterised; this module touches only the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

# A daemon not seen for this many of its heartbeats is taken for dead (a missed beat or two is a busy database).
STALE_AFTER_BEATS = 3
# Rows of daemons that died are removed by the next daemon to start once they are this old (seconds).
_FORGET_AFTER = 86400


@dataclass(frozen=True, slots=True)
class ScheduledSource:
    source: str
    next_run_at: datetime | None  # None while the daemon is not scheduling it (stopping, paused)
    interval: float | None  # seconds, for an interval schedule
    cron: str | None  # for a crontab schedule

    def to_dict(self) -> dict:
        return {"next_run_at": self.next_run_at.isoformat() if self.next_run_at else None,
                "interval": self.interval, "cron": self.cron}

    @classmethod
    def from_dict(cls, source: str, data: dict) -> ScheduledSource:
        """Tolerant: a row another version wrote, or garbled by hand, gives what it can, not an error."""
        try:
            next_run = datetime.fromisoformat(data["next_run_at"]) if data.get("next_run_at") else None
        except (TypeError, ValueError):
            next_run = None
        interval = data.get("interval")
        cron = data.get("cron")
        return cls(source, next_run, float(interval) if isinstance(interval, int | float) else None,
                   cron if isinstance(cron, str) else None)


@dataclass(frozen=True, slots=True)
class DaemonBeat:
    daemon_id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_seconds: float
    schedule: list[ScheduledSource]


@dataclass(frozen=True, slots=True)
class LiveDaemon:
    daemon_id: str
    host: str
    pid: int
    started_at: datetime
    last_seen_at: datetime
    seen_seconds_ago: float  # by the database's clock, so clocks of other machines do not matter
    schedule: list[ScheduledSource]

    @property
    def sources(self) -> list[str]:
        return [s.source for s in self.schedule]


def beat(conn: psycopg.Connection, daemon: DaemonBeat) -> None:
    conn.execute(
        "INSERT INTO daemons (daemon_id, host, pid, started_at, last_seen_at, heartbeat_seconds, schedule)"
        " VALUES (%s, %s, %s, %s, now(), %s, %s)"
        " ON CONFLICT (daemon_id) DO UPDATE SET last_seen_at = now(),"
        " heartbeat_seconds = EXCLUDED.heartbeat_seconds, schedule = EXCLUDED.schedule",
        (daemon.daemon_id, daemon.host, daemon.pid, daemon.started_at, daemon.heartbeat_seconds,
         Jsonb({s.source: s.to_dict() for s in daemon.schedule})),
    )


def remove(conn: psycopg.Connection, daemon_id: str) -> None:
    conn.execute("DELETE FROM daemons WHERE daemon_id = %s", (daemon_id,))


def forget_dead(conn: psycopg.Connection) -> int:
    return conn.execute(
        "DELETE FROM daemons WHERE last_seen_at < now() - make_interval(secs => %s)", (_FORGET_AFTER,)
    ).rowcount


def live_daemons(conn: psycopg.Connection) -> list[LiveDaemon]:
    """The daemons seen within STALE_AFTER_BEATS of their heartbeats, oldest first."""
    rows = conn.execute(
        "SELECT daemon_id, host, pid, started_at, last_seen_at, extract(epoch FROM now() - last_seen_at), schedule"
        " FROM daemons"
        " WHERE last_seen_at >= now() - make_interval(secs => heartbeat_seconds * %s)"
        " ORDER BY started_at, daemon_id",
        (STALE_AFTER_BEATS,),
    ).fetchall()
    daemons = []
    for daemon_id, host, pid, started_at, last_seen_at, ago, schedule in rows:
        entries = schedule if isinstance(schedule, dict) else {}
        daemons.append(LiveDaemon(
            daemon_id, host, pid, started_at, last_seen_at, max(0.0, float(ago)),
            [ScheduledSource.from_dict(name, data) for name, data in sorted(entries.items())
             if isinstance(data, dict)],
        ))
    return daemons
