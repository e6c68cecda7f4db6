"""SQL for the crawl_runs table. Every statement is parameterised; touches only the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb


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
        )


def upsert_crawl_run(conn: psycopg.Connection, run: CrawlRun) -> None:
    conn.execute(
        "INSERT INTO crawl_runs (run_id, source, started_at, finished_at, status, pages_fetched,"
        " articles_found, failed, errors, finish_reason)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (run_id) DO UPDATE SET finished_at = EXCLUDED.finished_at, status = EXCLUDED.status,"
        " pages_fetched = EXCLUDED.pages_fetched, articles_found = EXCLUDED.articles_found,"
        " failed = EXCLUDED.failed, errors = EXCLUDED.errors, finish_reason = EXCLUDED.finish_reason",
        (
            run.run_id, run.source, run.started_at, run.finished_at, run.status, run.pages_fetched,
            run.articles_found, run.failed, Jsonb(run.errors), run.finish_reason,
        ),
    )
