"""Export articles as JSON lines (one object per article), for `newsingest export` and the demo.

Dates are ISO 8601 with their UTC offset. Touches the database (read only) and the output stream.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TextIO

import psycopg

from ingest.tables.articles import iter_articles


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


def article_record(row: dict) -> dict:
    return {key: _jsonable(value) for key, value in row.items()}


def export_articles(conn: psycopg.Connection, out: TextIO, *, since: datetime | None = None,
                    source: str | None = None) -> int:
    count = 0
    for row in iter_articles(conn, since=since, source=source):
        out.write(json.dumps(article_record(row), ensure_ascii=False) + "\n")
        count += 1
    out.flush()
    return count


def recent_articles(conn: psycopg.Connection, *, source: str | None = None, limit: int = 3) -> list[dict]:
    return [article_record(row) for row in iter_articles(conn, source=source, limit=limit, newest_first=True)]
