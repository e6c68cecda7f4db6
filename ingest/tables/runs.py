"""SQL for the run-history family: crawl_runs, load_runs, crawl_requests, source_schedule.

Every statement is parameterised; this module touches only the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from ingest.drift import Counts


@dataclass(frozen=True, slots=True)
class CrawlRun:
    run_id: str
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # finished | failed | interrupted
    pages_fetched: int
    articles_found: int
    failed: int
    errors: dict[str, int]
    finish_reason: str | None
    daemon_id: str | None = None
    error: str | None = None
    fallback: bool = False  # the daemon's summary of a child that died: closes a running row, overrides nothing
    quality: Counts | None = None  # what the run's pages gave, for the extraction-drift canary

    @classmethod
    def from_dict(cls, data: dict) -> CrawlRun:
        return cls(
            run_id=str(data["run_id"]),
            source=str(data["source"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            finished_at=datetime.fromisoformat(data["finished_at"]) if data.get("finished_at") else None,
            status=str(data["status"]),
            pages_fetched=int(data.get("pages_fetched", 0)),
            articles_found=int(data.get("articles_found", 0)),
            failed=int(data.get("failed", 0)),
            errors={str(k): int(v) for k, v in (data.get("errors") or {}).items()},
            finish_reason=data.get("finish_reason"),
            daemon_id=data.get("daemon_id"),
            error=data.get("error"),
            fallback=data.get("fallback") is True,
            quality=Counts.from_dict(data["quality"]) if data.get("quality") is not None else None,
        )


def upsert_crawl_run(conn: psycopg.Connection, run: CrawlRun) -> bool:
    """Record a run's summary; False when a fallback summary found the run already closed (nothing done)."""
    cursor = conn.execute(
        "INSERT INTO crawl_runs (run_id, source, started_at, finished_at, status, pages_fetched,"
        " articles_found, failed, errors, finish_reason, daemon_id, error, quality)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (run_id) DO UPDATE SET started_at = EXCLUDED.started_at,"
        " finished_at = EXCLUDED.finished_at, status = EXCLUDED.status,"
        " pages_fetched = EXCLUDED.pages_fetched, articles_found = EXCLUDED.articles_found,"
        " failed = EXCLUDED.failed, errors = EXCLUDED.errors, finish_reason = EXCLUDED.finish_reason,"
        " daemon_id = coalesce(EXCLUDED.daemon_id, crawl_runs.daemon_id),"
        " error = EXCLUDED.error, quality = coalesce(EXCLUDED.quality, crawl_runs.quality)"
        " WHERE NOT %s OR crawl_runs.status = 'running'"
        " RETURNING run_id",
        (
            run.run_id, run.source, run.started_at, run.finished_at, run.status, run.pages_fetched,
            run.articles_found, run.failed, Jsonb(run.errors), run.finish_reason, run.daemon_id, run.error,
            Jsonb(run.quality.to_dict()) if run.quality is not None else None, run.fallback,
        ),
    )
    return cursor.fetchone() is not None


def add_loaded_counts(conn: psycopg.Connection, run_id: str, source: str, new: int, updated: int,
                      duplicates: int) -> None:
    """Credit a run with what one of its segments brought; the run's summary may arrive before or after."""
    conn.execute(
        "INSERT INTO crawl_runs (run_id, source, started_at, status, articles_new, articles_updated, duplicates)"
        " VALUES (%s, %s, now(), 'running', %s, %s, %s)"
        " ON CONFLICT (run_id) DO UPDATE SET articles_new = crawl_runs.articles_new + EXCLUDED.articles_new,"
        " articles_updated = crawl_runs.articles_updated + EXCLUDED.articles_updated,"
        " duplicates = crawl_runs.duplicates + EXCLUDED.duplicates",
        (run_id, source, new, updated, duplicates),
    )


@dataclass(frozen=True, slots=True)
class LoadedCounts:
    new: int
    updated: int
    duplicates: int


def loaded_counts(conn: psycopg.Connection, run_id: str) -> LoadedCounts | None:
    row = conn.execute(
        "SELECT articles_new, articles_updated, duplicates FROM crawl_runs WHERE run_id = %s", (run_id,)
    ).fetchone()
    return LoadedCounts(*row) if row else None


def crawl_run_started(conn: psycopg.Connection, run_id: str, source: str, started_at: datetime, daemon_id: str) -> None:
    """A placeholder row while the crawl runs; the spool's summary replaces it when loaded."""
    conn.execute(
        "INSERT INTO crawl_runs (run_id, source, started_at, status, daemon_id) VALUES (%s, %s, %s, 'running', %s)"
        " ON CONFLICT (run_id) DO NOTHING",
        (run_id, source, started_at, daemon_id),
    )


# Two-key advisory locks: (namespace, hashtext(source)); the namespace keeps clear of other users' locks.
_CRAWL_LOCK_NAMESPACE = 0x6E73  # "ns"


def try_crawl_lock(conn: psycopg.Connection, source: str) -> bool:
    """Take the source's crawl lock for this session (released when the session ends); False if taken."""
    return conn.execute(
        "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (_CRAWL_LOCK_NAMESPACE, source)
    ).fetchone()[0]


def abandon_stale_runs(conn: psycopg.Connection, older_than_seconds: float) -> int:
    return conn.execute(
        "UPDATE crawl_runs SET status = 'abandoned', finished_at = now(),"
        " error = 'no summary arrived; the crawl process or its daemon died'"
        " WHERE status = 'running' AND started_at < now() - make_interval(secs => %s)",
        (older_than_seconds,),
    ).rowcount


@dataclass(slots=True)
class LoadRun:
    daemon_id: str | None
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    segments: int = 0
    records: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    bad_segments: int = 0
    error: str | None = None
    # What each dedup rule caught (see migration 0003).
    same_url: int = 0
    same_text: int = 0
    near_duplicates: int = 0
    new_versions: int = 0


def record_load_run(conn: psycopg.Connection, run: LoadRun) -> int:
    return conn.execute(
        "INSERT INTO load_runs (daemon_id, started_at, finished_at, status, segments, records, inserted, updated,"
        " duplicates, bad_segments, error, same_url, same_text, near_duplicates, new_versions)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (run.daemon_id, run.started_at, run.finished_at, run.status, run.segments, run.records, run.inserted,
         run.updated, run.duplicates, run.bad_segments, run.error, run.same_url, run.same_text,
         run.near_duplicates, run.new_versions),
    ).fetchone()[0]


CRAWL_REQUESTS_CHANNEL = "newsingest_crawl_requests"


def request_crawl(conn: psycopg.Connection, source: str, requested_by: str) -> int:
    """Record a crawl request and wake listening daemons."""
    with conn.transaction():
        request_id = conn.execute(
            "INSERT INTO crawl_requests (source, requested_by) VALUES (%s, %s) RETURNING id", (source, requested_by)
        ).fetchone()[0]
        conn.execute("SELECT pg_notify(%s, %s)", (CRAWL_REQUESTS_CHANNEL, source))
    return request_id


def claim_crawl_requests(conn: psycopg.Connection, sources: list[str], daemon_id: str) -> list[tuple[int, str]]:
    """Claim open requests for the sources this daemon runs; each request is claimed by one daemon only."""
    return conn.execute(
        "UPDATE crawl_requests SET claimed_at = now(), claimed_by = %s"
        " WHERE id IN (SELECT id FROM crawl_requests WHERE claimed_at IS NULL AND source = ANY(%s)"
        "              ORDER BY id FOR UPDATE SKIP LOCKED)"
        " RETURNING id, source",
        (daemon_id, sources),
    ).fetchall()


def prune_crawl_requests(conn: psycopg.Connection, older_than_seconds: float) -> int:
    return conn.execute(
        "DELETE FROM crawl_requests WHERE claimed_at < now() - make_interval(secs => %s)", (older_than_seconds,)
    ).rowcount


def publish_schedule(conn: psycopg.Connection, source: str, next_run_at: datetime | None, daemon_id: str) -> None:
    conn.execute(
        "INSERT INTO source_schedule (source, next_run_at, daemon_id, updated_at) VALUES (%s, %s, %s, now())"
        " ON CONFLICT (source) DO UPDATE SET next_run_at = EXCLUDED.next_run_at, daemon_id = EXCLUDED.daemon_id,"
        " updated_at = now()",
        (source, next_run_at, daemon_id),
    )


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_status: str | None
    last_articles: int | None
    last_error: str | None
    next_run_at: datetime | None
    articles_24h: int
    consecutive_failures: int


_FAILED_STATUSES = ("failed", "abandoned")


def source_status(conn: psycopg.Connection, sources: list[str]) -> list[SourceStatus]:
    """Per source: its last run, next scheduled run, articles in the last 24 h, consecutive failed runs."""
    rows = conn.execute(
        "WITH names AS (SELECT unnest(%(sources)s::text[]) AS source"
        "               UNION SELECT DISTINCT source FROM crawl_runs),"
        " last AS (SELECT DISTINCT ON (source) source, started_at, finished_at, status, articles_found, error"
        "          FROM crawl_runs ORDER BY source, started_at DESC),"
        " last_ok AS (SELECT source, max(started_at) AS started_at FROM crawl_runs"
        "             WHERE status <> ALL(%(failed)s) AND status <> 'running' GROUP BY source)"
        " SELECT n.source, l.started_at, l.finished_at, l.status, l.articles_found, l.error, s.next_run_at,"
        "  (SELECT count(*) FROM articles a"
        "     WHERE a.source = n.source AND a.first_seen_at > now() - interval '24 hours'),"
        "  (SELECT count(*) FROM crawl_runs c WHERE c.source = n.source AND c.status = ANY(%(failed)s)"
        "     AND c.started_at > coalesce(o.started_at, '-infinity'))"
        " FROM names n LEFT JOIN last l USING (source) LEFT JOIN last_ok o USING (source)"
        " LEFT JOIN source_schedule s USING (source) ORDER BY n.source",
        {"sources": sources, "failed": list(_FAILED_STATUSES)},
    ).fetchall()
    return [SourceStatus(*row) for row in rows]


def last_load_run(conn: psycopg.Connection) -> LoadRun | None:
    row = conn.execute(
        "SELECT daemon_id, started_at, finished_at, status, segments, records, inserted, updated, duplicates,"
        " bad_segments, error FROM load_runs ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    return LoadRun(*row) if row else None


def recent_load_runs(conn: psycopg.Connection, limit: int, within_hours: int) -> list[LoadRun]:
    """The last `limit` loads of the last `within_hours` hours that had something to do (records, segments set
    aside) or did not finish, newest first: a daemon loads every few seconds, mostly nothing."""
    rows = conn.execute(
        "SELECT daemon_id, started_at, finished_at, status, segments, records, inserted, updated, duplicates,"
        " bad_segments, error FROM load_runs"
        " WHERE started_at > now() - make_interval(hours => %s)"
        "  AND (records > 0 OR segments > 0 OR bad_segments > 0 OR status <> 'finished')"
        " ORDER BY started_at DESC LIMIT %s",
        (within_hours, limit),
    ).fetchall()
    return [LoadRun(*row) for row in rows]
