"""SQL for the articles table family: articles, the per-load staging table, loaded_segments.

Every statement is parameterised; rows arrive as ArticleRow. This module touches only the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True, slots=True)
class ArticleRow:
    canonical_url: str
    url: str
    source: str
    title: str | None
    authors: list[str]
    published_at: datetime | None
    modified_at: datetime | None
    language: str | None
    description: str | None
    site_name: str | None
    image_url: str | None
    tags: list[str]
    text: str
    content_hash: str
    http_status: int | None
    extractor_version: str
    field_sources: dict[str, str]
    fetched_at: datetime


@dataclass(slots=True)
class MergeCounts:
    inserted: int = 0
    updated: int = 0  # same canonical URL, changed text
    unchanged: int = 0  # same canonical URL and same text: only last_seen_at moves
    content_duplicates: int = 0  # new rows whose text equals an earlier article's under another URL


_COLUMNS = (
    "canonical_url, url, source, title, authors, published_at, modified_at, language, description,"
    " site_name, image_url, tags, text, content_hash, http_status, extractor_version, field_sources, fetched_at"
)
_CONTENT_COLUMNS = (
    "url", "title", "authors", "published_at", "modified_at", "language", "description", "site_name",
    "image_url", "tags", "text", "content_hash", "http_status", "extractor_version", "field_sources", "fetched_at",
)


def segment_already_loaded(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM loaded_segments WHERE name = %s", (name,)).fetchone() is not None


def stage(conn: psycopg.Connection, rows: list[ArticleRow]) -> None:
    """COPY rows into a staging table that lives until the end of the transaction."""
    conn.execute(
        "CREATE TEMP TABLE staging_articles ON COMMIT DROP AS"
        f" SELECT {_COLUMNS} FROM articles WITH NO DATA"
    )
    with conn.cursor().copy(f"COPY staging_articles ({_COLUMNS}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row((
                r.canonical_url, r.url, r.source, r.title, r.authors, r.published_at, r.modified_at,
                r.language, r.description, r.site_name, r.image_url, r.tags, r.text, r.content_hash,
                r.http_status, r.extractor_version, Jsonb(r.field_sources), r.fetched_at,
            ))


def merge_staged(conn: psycopg.Connection) -> MergeCounts:
    """Merge staging_articles into articles: insert new URLs, update changed text, touch unchanged rows."""
    counts = MergeCounts()
    counts.unchanged = conn.execute(
        "UPDATE articles a SET last_seen_at = greatest(a.last_seen_at, s.fetched_at)"
        " FROM staging_articles s"
        " WHERE a.canonical_url = s.canonical_url AND a.content_hash = s.content_hash"
    ).rowcount
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _CONTENT_COLUMNS)
    results = conn.execute(
        f"INSERT INTO articles ({_COLUMNS}, first_seen_at, last_seen_at)"
        f" SELECT {_COLUMNS}, fetched_at, fetched_at FROM staging_articles s"
        " WHERE NOT EXISTS (SELECT 1 FROM articles a"
        "   WHERE a.canonical_url = s.canonical_url AND a.content_hash = s.content_hash)"
        " ORDER BY s.fetched_at"
        " ON CONFLICT (canonical_url) DO UPDATE SET"
        f" {updates}, last_seen_at = EXCLUDED.fetched_at, updated_at = now(), duplicate_of = NULL"
        " RETURNING (xmax = 0) AS inserted"
    ).fetchall()
    counts.inserted = sum(1 for (inserted,) in results if inserted)
    counts.updated = len(results) - counts.inserted
    # Copies of an article whose text just changed are copies no more; their text gets a new original.
    orphaned = [
        h for (h,) in conn.execute(
            "UPDATE articles a SET duplicate_of = NULL FROM articles o"
            " WHERE a.duplicate_of = o.id AND o.content_hash <> a.content_hash"
            "   AND o.canonical_url IN (SELECT canonical_url FROM staging_articles)"
            " RETURNING a.content_hash"
        )
    ]
    # The earliest row with a given text is the original; later copies point at it.
    counts.content_duplicates = conn.execute(
        "UPDATE articles a SET duplicate_of = f.first_id"
        " FROM (SELECT content_hash, min(id) AS first_id FROM articles"
        "       WHERE content_hash IN (SELECT content_hash FROM staging_articles)"
        "          OR content_hash = ANY(%s)"
        "       GROUP BY content_hash) f"
        " WHERE a.content_hash = f.content_hash AND a.id <> f.first_id"
        "   AND a.duplicate_of IS DISTINCT FROM f.first_id",
        (orphaned,),
    ).rowcount
    return counts


def record_segment(conn: psycopg.Connection, name: str, records: int) -> None:
    """Last statement before commit: a crash before it leaves the segment to be loaded again."""
    conn.execute("INSERT INTO loaded_segments (name, records) VALUES (%s, %s)", (name, records))


EXPORT_COLUMNS = (
    "id", "url", "canonical_url", "source", "title", "authors", "published_at", "modified_at", "language",
    "description", "site_name", "image_url", "tags", "text", "fetched_at", "first_seen_at", "last_seen_at",
    "updated_at", "content_hash", "duplicate_of", "extractor_version", "field_sources",
)


def iter_articles(conn: psycopg.Connection, *, since: datetime | None = None, source: str | None = None,
                  limit: int | None = None, newest_first: bool = False):
    """Articles as dicts keyed by EXPORT_COLUMNS, streamed through a server-side cursor."""
    order = "published_at DESC NULLS LAST, id DESC" if newest_first else "id"
    query = (
        f"SELECT {', '.join(EXPORT_COLUMNS)} FROM articles"
        " WHERE (%(since)s::timestamptz IS NULL OR updated_at >= %(since)s::timestamptz)"
        "   AND (%(source)s::text IS NULL OR source = %(source)s::text)"
        f" ORDER BY {order} LIMIT %(limit)s"
    )
    with conn.transaction(), conn.cursor(name="export_articles") as cur:
        cur.itersize = 500
        cur.execute(query, {"since": since, "source": source, "limit": limit})
        for row in cur:
            yield dict(zip(EXPORT_COLUMNS, row, strict=True))
