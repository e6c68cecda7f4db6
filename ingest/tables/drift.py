"""SQL for the extraction-drift canary: the runs' quality counts and drift verdicts in crawl_runs
(migration 0008; the rule is ingest/drift.py).

Every statement is parameterised and bounded; this module touches only the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from ingest.drift import HISTORY_RUNS, Counts, Shift

# Runs judged by the canary: a failed run's pages say more about the site's health than its template.
JUDGED_STATUSES = ["finished", "interrupted"]


@dataclass(frozen=True, slots=True)
class JudgedRun:
    run_id: str
    started_at: datetime
    quality: Counts


@dataclass(frozen=True, slots=True)
class ActiveDrift:
    """A measure drifting after a run: its shares and the run it started at."""

    measure: str
    shift: Shift
    since_run_id: str | None

    def to_dict(self) -> dict:
        s = self.shift
        return {"before": s.before, "now": s.now, "pages_before": s.pages_before, "pages_now": s.pages_now,
                "hits_now": s.hits_now, "runs": s.runs, "since_run_id": self.since_run_id}

    @classmethod
    def from_dict(cls, measure: str, data: dict) -> ActiveDrift:
        shift = Shift(float(data["before"]), float(data["now"]), int(data.get("pages_before", 0)),
                      int(data.get("pages_now", 0)), int(data.get("hits_now", 0)), int(data.get("runs", 1)))
        return cls(measure, shift, data.get("since_run_id"))


def unjudged_runs(conn: psycopg.Connection, source: str) -> list[JudgedRun]:
    """The source's runs with quality counts not judged yet, oldest first (the newest HISTORY_RUNS at most)."""
    rows = conn.execute(
        "SELECT run_id, started_at, quality FROM crawl_runs"
        " WHERE source = %s AND quality IS NOT NULL AND drift IS NULL AND status = ANY(%s)"
        " ORDER BY started_at DESC, run_id DESC LIMIT %s",
        (source, JUDGED_STATUSES, HISTORY_RUNS),
    ).fetchall()
    return [JudgedRun(run_id, started_at, Counts.from_dict(quality)) for run_id, started_at, quality in reversed(rows)]


def runs_before(conn: psycopg.Connection, source: str, run: JudgedRun) -> list[Counts]:
    """The quality of the source's judged-status runs with pages before `run`, oldest first, at most
    HISTORY_RUNS - 1 of them."""
    rows = conn.execute(
        "SELECT quality FROM crawl_runs"
        " WHERE source = %s AND quality IS NOT NULL AND status = ANY(%s) AND (quality->>'pages')::int > 0"
        " AND (started_at, run_id) < (%s, %s)"
        " ORDER BY started_at DESC, run_id DESC LIMIT %s",
        (source, JUDGED_STATUSES, run.started_at, run.run_id, HISTORY_RUNS - 1),
    ).fetchall()
    return [Counts.from_dict(quality) for (quality,) in reversed(rows)]


def drift_before(conn: psycopg.Connection, source: str, run: JudgedRun) -> dict[str, ActiveDrift]:
    """The measures drifting after the source's last judged run before `run`."""
    row = conn.execute(
        "SELECT drift FROM crawl_runs WHERE source = %s AND drift IS NOT NULL AND (started_at, run_id) < (%s, %s)"
        " ORDER BY started_at DESC, run_id DESC LIMIT 1",
        (source, run.started_at, run.run_id),
    ).fetchone()
    return _active(row[0]) if row else {}


def record_drift(conn: psycopg.Connection, run_id: str, active: list[ActiveDrift]) -> None:
    conn.execute("UPDATE crawl_runs SET drift = %s WHERE run_id = %s",
                 (Jsonb({d.measure: d.to_dict() for d in active}), run_id))


def current_drifts(conn: psycopg.Connection, sources: list[str]) -> dict[str, list[ActiveDrift]]:
    """Per source, the measures drifting after its last judged run (none for a source never judged)."""
    rows = conn.execute(
        "SELECT name, (SELECT drift FROM crawl_runs WHERE source = name AND drift IS NOT NULL"
        "              ORDER BY started_at DESC, run_id DESC LIMIT 1)"
        " FROM unnest(%s::text[]) AS name",
        (sources,),
    ).fetchall()
    return {source: list(_active(drift).values()) for source, drift in rows if drift}


def _active(drift: dict) -> dict[str, ActiveDrift]:
    return {measure: ActiveDrift.from_dict(measure, data) for measure, data in sorted(drift.items())}
