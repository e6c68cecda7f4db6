"""SQL for the fetch_state table (migrations 0004, 0007, 0009, 0011): read one source's state at crawl start, apply the
state files crawls leave in <spool>/state/ (crawler/fetch_state.py).

`apply_fetch_states(conn, spool_root)` is the loader's hook: each file is applied, without the states of
article records the loader set aside (<spool>/bad/), in its own
transaction and deleted after COMMIT, so a crash re-applies a file at worst, which is harmless
(a row only moves forward in last_fetched_at).
This module touches the database and the state files, and reads <spool>/bad/.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

from crawler.fetch_state import FetchState, pending_state_files, read_state_file, state_key
from crawler.spool import segment_run_id, set_aside_urls

logger = logging.getLogger(__name__)

_COLUMNS = (
    "url", "source", "kind", "status", "etag", "last_modified", "content_hash", "first_fetched_at",
    "last_fetched_at", "last_changed_at", "next_due_at", "revisit_seconds", "consecutive_failures", "redirect_to",
    "listed_at", "change_seconds", "next_pages",
)

_UPSERT = f"""
INSERT INTO fetch_state ({", ".join(_COLUMNS)})
VALUES ({", ".join("%s" for _ in _COLUMNS)})
ON CONFLICT (url) DO UPDATE SET
    source = EXCLUDED.source,
    kind = EXCLUDED.kind,
    status = EXCLUDED.status,
    etag = EXCLUDED.etag,
    last_modified = EXCLUDED.last_modified,
    content_hash = EXCLUDED.content_hash,
    first_fetched_at = LEAST(fetch_state.first_fetched_at, EXCLUDED.first_fetched_at),
    last_fetched_at = EXCLUDED.last_fetched_at,
    last_changed_at = COALESCE(EXCLUDED.last_changed_at, fetch_state.last_changed_at),
    next_due_at = EXCLUDED.next_due_at,
    revisit_seconds = EXCLUDED.revisit_seconds,
    consecutive_failures = EXCLUDED.consecutive_failures,
    redirect_to = EXCLUDED.redirect_to,
    listed_at = GREATEST(EXCLUDED.listed_at, fetch_state.listed_at),
    change_seconds = COALESCE(EXCLUDED.change_seconds, fetch_state.change_seconds),
    next_pages = EXCLUDED.next_pages,
    updated_at = now()
WHERE fetch_state.last_fetched_at IS NULL OR EXCLUDED.last_fetched_at >= fetch_state.last_fetched_at
"""


def read_states(conn: psycopg.Connection, source: str) -> list[FetchState]:
    rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM fetch_state WHERE source = %s", (source,)).fetchall()
    return [FetchState(**dict(zip(_COLUMNS, row, strict=True))) for row in rows]


def upsert_states(conn: psycopg.Connection, states: list[FetchState]) -> None:
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, [tuple(getattr(s, c) for c in _COLUMNS) for s in states])


def loaded_only(spool_root: Path, path: Path, states: list[FetchState]) -> list[FetchState]:
    """The states of a crawl's state file without those of its article records that the loader set aside:
    applied, they would tell the next crawl the article is known and not due, and it would be lost. Without
    a state the next crawl fetches it again. When a set-aside record's URL cannot be read, every article
    state of the run is withheld (refetching costs less than losing)."""
    urls = set_aside_urls(spool_root, segment_run_id(path))
    if urls is not None and not urls:
        return states
    keys = None if urls is None else {state_key(url) for url in urls}
    kept = [s for s in states if s.status != "article" or (keys is not None and s.url not in keys)]
    if len(kept) < len(states):
        logger.warning("fetch_state_withheld", extra={"file": path.name, "urls": len(states) - len(kept)})
    return kept


def apply_fetch_states(conn: psycopg.Connection, spool_root: Path, files: list[Path] | None = None) -> int:
    """Apply the pending state files (`files`, default every one); returns the number of URLs updated.
    `conn` in autocommit mode."""
    applied = 0
    for path in pending_state_files(spool_root) if files is None else files:
        try:
            states = read_state_file(path)
        except (OSError, ValueError, TypeError) as exc:
            # Losing fetch state only costs refetches: set the file aside rather than block loading.
            target = path.with_name(path.name + ".bad")
            path.replace(target)
            logger.error("fetch_state_unreadable",
                         extra={"file": path.name, "moved_to": str(target), "error": str(exc)})
            continue
        states = loaded_only(spool_root, path, states)
        with conn.transaction():
            upsert_states(conn, states)
        path.unlink(missing_ok=True)
        applied += len(states)
    if applied:
        logger.info("fetch_state_applied", extra={"urls": applied})
    return applied
