"""Load closed spool segments into PostgreSQL, one transaction per batch of segments.

First the open segments of crawls that died are closed into ready/ (crawler/spool.py: recover_orphans).
For each segment in <spool>/ready: read and validate every record (a corrupt segment is set aside
in <spool>/bad with an error naming it), derive canonical URL, content hash and Simhash
(ingest/dedup.py); then, for a batch of consecutive segments of one crawl run, COPY into staging, merge
into articles (new versions, exact copies, near-duplicate clusters), record each segment as loaded,
commit, and only then delete the files. A crash at any point
loses nothing and a replay loads nothing twice: an uncommitted segment is still in ready/, a committed
one is in loaded_segments and is skipped.
Also copies crawl run summaries from <spool>/runs into crawl_runs, and judges the runs' extraction quality
against their source's history (the extraction-drift canary, ingest/drift.py).
This module touches the spool directory and the database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import structlog

from crawler.fetch_state import pending_state_files
from crawler.records import Article
from crawler.spool import (
    BadLine,
    SpoolPaths,
    bad_lines_path,
    read_records,
    recover_orphans,
    segment_run_id,
    set_aside,
    set_aside_lines,
)
from ingest import dedup, drift
from ingest.tables import articles as articles_sql
from ingest.tables.drift import ActiveDrift, drift_before, record_drift, runs_before, unjudged_runs
from ingest.tables.fetch_state import apply_fetch_states
from ingest.tables.runs import (
    CrawlRun,
    LoadRun,
    add_loaded_counts,
    loaded_counts,
    record_load_run,
    upsert_crawl_run,
)

log = structlog.get_logger("newsingest.load")

# Arbitrary constant shared by every newsingest process: one load at a time per database.
LOAD_LOCK = 0x6E736C6F6164
# Segments of one crawl run are merged together up to this many records: each transaction has a fixed
# cost (staging table, statistics, commit) that 200-record segments paid once each.
BATCH_ROWS = 1000


@dataclass(slots=True)
class LoadResult:
    segments: int = 0
    records: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    content_duplicates: int = 0
    in_segment_duplicates: int = 0  # same canonical URL twice in one segment: the later fetch wins
    near_duplicates: int = 0  # new or changed articles, not exact copies, that joined another's cluster
    bad_segments: list[str] = field(default_factory=list)
    bad_lines: dict[str, list[int]] = field(default_factory=dict)  # segment -> lines set aside, the rest loaded
    crawl_runs: int = 0
    # The run summaries recorded, as the crawls wrote them: the daemon's metrics count the runs it did not see end.
    run_summaries: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    # Per source whose runs this load judged, each measure's extraction-drift state (ingest/drift.py).
    drifts: list[drift.Drift] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.unchanged + self.content_duplicates + self.in_segment_duplicates

    @property
    def same_url(self) -> int:
        """Records not stored again: their canonical URL already had this text, or came again in the segment."""
        return self.unchanged + self.in_segment_duplicates


def _clean(value: str | None) -> str | None:
    """PostgreSQL text holds neither NUL nor lone surrogates; drop the one, replace the other."""
    if value is None:
        return None
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def to_row(article: Article) -> articles_sql.ArticleRow:
    """The record as the articles table stores it. Raises ValueError for a value no column can hold."""
    # The staging COPY is binary, where an int4 out of range is wrapped around by the client instead
    # of refused by the server: refuse it here.
    if article.http_status is not None and not 0 <= article.http_status <= 999:
        raise ValueError(f"http_status out of range: {article.http_status}")
    text = _clean(article.text) or ""
    # The crawl's workers fingerprint the text they extracted; a record without fingerprints (an older
    # spool file) or whose text had to be cleaned here gets them computed now.
    if article.content_hash is not None and text == article.text:
        text_hash, fingerprint = article.content_hash, article.simhash
    else:
        text_hash, fingerprint = dedup.content_hash(text), dedup.simhash(text)
    return articles_sql.ArticleRow(
        canonical_url=_clean(dedup.canonical_url(_clean(article.url), _clean(article.canonical_url))),
        url=_clean(article.url),
        source=_clean(article.source),
        title=_clean(article.title),
        authors=[_clean(a) for a in article.authors],
        published_at=article.published_at,
        modified_at=article.modified_at,
        language=_clean(article.language),
        description=_clean(article.description),
        site_name=_clean(article.site_name),
        image_url=_clean(article.image_url),
        tags=[_clean(t) for t in article.tags],
        text=text,
        content_hash=text_hash,
        http_status=article.http_status,
        extractor_version=article.extractor_version,
        field_sources={_clean(k): _clean(v) for k, v in article.field_sources.items()},
        fetched_at=article.fetched_at,
        simhash=None if fingerprint is None else dedup.to_bigint(fingerprint),
    )


def _latest_per_url(rows: list[articles_sql.ArticleRow]) -> list[articles_sql.ArticleRow]:
    latest: dict[str, articles_sql.ArticleRow] = {}
    for row in rows:
        kept = latest.get(row.canonical_url)
        if kept is None or row.fetched_at >= kept.fetched_at:
            latest[row.canonical_url] = row
    return list(latest.values())


@dataclass(slots=True)
class ReadSegment:
    """A segment read and turned into rows, or the error that made it unreadable."""

    segment: Path
    records: int = 0
    rows: list[articles_sql.ArticleRow] = field(default_factory=list)
    error: Exception | None = None
    bad_lines: list[BadLine] = field(default_factory=list)  # set aside; the rows load without them


def read_rows(segment: Path) -> ReadSegment:
    try:
        rows, bad = read_records(segment, to_row)
    except OSError as exc:
        return ReadSegment(segment, error=exc)
    if bad and not rows:
        return ReadSegment(segment, error=ValueError(f"{segment.name}: {bad[0].error}"))
    return ReadSegment(segment, len(rows), rows, bad_lines=bad)


def _batches(reads: Iterator[ReadSegment]) -> Iterator[list[ReadSegment]]:
    """Consecutive segments of one crawl run, up to BATCH_ROWS rows together; an unreadable segment alone.
    A segment that repeats a URL of the batch starts the next one, so that each fetch of a URL whose text
    changed between segments still becomes a version."""
    batch: list[ReadSegment] = []
    urls: set[str] = set()
    for read in reads:
        seen = {row.canonical_url for row in read.rows}
        if batch and (read.error is not None or segment_run_id(read.segment) != segment_run_id(batch[0].segment)
                      or sum(len(r.rows) for r in batch) + len(read.rows) > BATCH_ROWS or not seen.isdisjoint(urls)):
            yield batch
            batch, urls = [], set()
        batch.append(read)
        urls |= seen
        if read.error is not None:
            yield batch
            batch, urls = [], set()
    if batch:
        yield batch


def _read_ahead(batches: Iterator[list[ReadSegment]]) -> Iterator[list[ReadSegment]]:
    """Batches read by a thread one ahead of the caller: reading is Python work and merging is the
    server's, so while the server merges one batch the next is parsed on the other core."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment-reader") as reader:
        upcoming = reader.submit(next, batches, None)
        while (batch := upcoming.result()) is not None:
            upcoming = reader.submit(next, batches, None)
            yield batch


def load_segments(conn: psycopg.Connection, spool_root: Path, segments: list[Path], result: LoadResult) -> None:
    for batch in _read_ahead(_batches(map(read_rows, segments))):
        load_batch(conn, spool_root, batch, result)


def load_batch(conn: psycopg.Connection, spool_root: Path, batch: list[ReadSegment], result: LoadResult) -> None:
    """Load segments of one crawl run in one transaction, recording each in loaded_segments."""
    started = time.monotonic()
    if batch[0].error is not None:
        segment = batch[0].segment
        target = set_aside(spool_root, segment)
        result.bad_segments.append(segment.name)
        log.error("segment_unreadable", segment=segment.name, moved_to=str(target), error=str(batch[0].error))
        return
    try:
        with conn.transaction():
            done = articles_sql.loaded_segments(conn, [read.segment.name for read in batch])
            for name in sorted(done):
                # Committed by an earlier run that stopped before deleting the file.
                log.info("segment_already_loaded", segment=name)
            fresh = [read for read in batch if read.segment.name not in done]
            rows = [row for read in fresh for row in read.rows]
            unique = _latest_per_url(rows)
            counts = articles_sql.MergeCounts()
            if unique:
                articles_sql.stage(conn, unique)
                counts = articles_sql.merge_staged(conn, dedup.NEAR_DUPLICATE_DISTANCE)
                duplicates = counts.unchanged + counts.content_duplicates + len(rows) - len(unique)
                run_id = segment_run_id(fresh[0].segment)
                if run_id:
                    add_loaded_counts(conn, run_id, rows[0].source, counts.inserted, counts.updated, duplicates)
            for read in fresh:
                articles_sql.record_segment(conn, read.segment.name, read.records)
                if read.bad_lines:
                    # Kept before COMMIT: once the segment counts as loaded, its file may go at any moment.
                    set_aside_lines(spool_root, read.segment, read.bad_lines)
    except (psycopg.DataError, UnicodeError) as exc:
        if len(batch) > 1:
            # One segment's data is at fault: load them one by one so that only that one is set aside.
            for read in batch:
                load_batch(conn, spool_root, [read], result)
            return
        # The data, not the database, is at fault: set the segment aside rather than block every later one.
        segment = batch[0].segment
        target = set_aside(spool_root, segment)
        result.bad_segments.append(segment.name)
        # The whole segment, bad lines included, is set aside instead.
        bad_lines_path(spool_root, segment).unlink(missing_ok=True)
        log.error("segment_rejected", segment=segment.name, moved_to=str(target), error=str(exc).strip())
        return
    for read in batch:
        read.segment.unlink(missing_ok=True)
    for read in fresh:
        if read.bad_lines:
            _report_bad_lines(spool_root, read, result)
    records = sum(read.records for read in fresh)
    result.segments += len(fresh)
    result.records += records
    result.inserted += counts.inserted
    result.updated += counts.updated
    result.unchanged += counts.unchanged
    result.content_duplicates += counts.content_duplicates
    result.in_segment_duplicates += len(rows) - len(unique)
    result.near_duplicates += counts.near_duplicates
    if fresh:
        log.debug(
            "segments_loaded",
            segments=len(fresh),
            first=fresh[0].segment.name,
            records=records,
            inserted=counts.inserted,
            updated=counts.updated,
            unchanged=counts.unchanged,
            same_text=counts.content_duplicates,
            near_duplicates=counts.near_duplicates,
            ms=round((time.monotonic() - started) * 1000, 1),
        )


def _report_bad_lines(spool_root: Path, read: ReadSegment, result: LoadResult) -> None:
    target = bad_lines_path(spool_root, read.segment)
    numbers = [line.number for line in read.bad_lines]
    result.bad_lines[read.segment.name] = numbers
    log.error("segment_lines_set_aside", segment=read.segment.name, lines=numbers[:100], moved_to=str(target),
              records_loaded=read.records, error=read.bad_lines[0].error)


def load_run_summaries(conn: psycopg.Connection, paths: SpoolPaths, result: LoadResult) -> None:
    judged: set[str] = set()  # sources with runs for the extraction-drift canary
    for path in paths.run_summaries():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            run = CrawlRun.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            target = set_aside(paths.root, path)
            log.error("run_summary_unreadable", file=path.name, moved_to=str(target), error=str(exc))
            continue
        with conn.transaction():
            applied = upsert_crawl_run(conn, run)
            loaded = loaded_counts(conn, run.run_id)
        path.unlink(missing_ok=True)
        if not applied:
            continue  # the daemon's fallback for a run the crawl recorded itself
        result.crawl_runs += 1
        if run.quality is not None:
            judged.add(run.source)
        result.run_summaries.append(data)
        log.info("crawl_loaded", run_id=run.run_id, source=run.source, status=run.status, new=loaded.new,
                 updated=loaded.updated, duplicates=loaded.duplicates)
    for source in sorted(judged):
        result.drifts.extend(judge_drift(conn, source))


def judge_drift(conn: psycopg.Connection, source: str) -> list[drift.Drift]:
    """The extraction-drift canary: judge the source's runs not judged yet, oldest first; log each drift as it
    starts or ends. Returns the state of each measure after the last."""
    states: dict[str, drift.Drift] = {}
    for run in unjudged_runs(conn, source):
        previous = drift_before(conn, source, run)
        verdicts = drift.judge([*runs_before(conn, source, run), run.quality],
                               {measure: active.shift for measure, active in previous.items()})
        active = []
        for verdict in verdicts:
            shift = verdict.shift
            if verdict.active:
                since = run.run_id if verdict.change == "started" else previous[verdict.measure].since_run_id
                active.append(ActiveDrift(verdict.measure, shift, since))
            if verdict.change == "started":
                log.warning("extraction_drift", source=source, measure=verdict.measure, before=shift.before,
                            now=shift.now, pages_before=shift.pages_before, pages_now=shift.pages_now,
                            run_id=run.run_id)
            elif verdict.change == "ended":
                log.info("extraction_drift_ended", source=source, measure=verdict.measure, before=shift.before,
                         now=shift.now, reason=verdict.reason, runs=shift.runs, run_id=run.run_id)
            states[verdict.measure] = drift.Drift(source, verdict.measure, verdict.active,
                                                  shift.before if shift else None, shift.now if shift else None,
                                                  run.run_id)
        record_drift(conn, run.run_id, active)
    return list(states.values())


def recover_orphan_segments(spool_root: Path) -> int:
    """Move the open segments of crawls that died into ready/ (their complete records); returns how many."""
    recovered = recover_orphans(spool_root)
    for segment, records in recovered:
        log.warning("segment_recovered", segment=segment.name, records=records)
    return len(recovered)


def load_spool(conn: psycopg.Connection, spool_root: Path, *, wait: bool = True,
               daemon_id: str | None = None) -> LoadResult | None:
    """Load every closed segment and run summary waiting in the spool, and record the run in load_runs.

    `conn` must be in autocommit mode, so that each batch of segments is its own transaction. Only one load runs
    at a time per database: with wait=False, returns None at once if another process is loading.
    """
    started_at = datetime.now(UTC)
    started = time.monotonic()
    result = LoadResult()
    paths = SpoolPaths(spool_root)
    if wait:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOAD_LOCK,))
    elif not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOAD_LOCK,)).fetchone()[0]:
        return None
    run = LoadRun(daemon_id=daemon_id, started_at=started_at)
    try:
        # Every load, not only the daemon's start: `crawl --no-load` killed before a plain `load` must not
        # leave its records behind.
        recover_orphan_segments(spool_root)
        # A crawl writes its fetch state after closing its last segment: the state files listed before the
        # segments belong to runs whose segments are all in this load, so whichever of their records it
        # sets aside is known when their state is applied.
        state_files = pending_state_files(spool_root)
        load_segments(conn, spool_root, paths.ready_segments(), result)
        apply_fetch_states(conn, spool_root, state_files)
        load_run_summaries(conn, paths, result)
        run.status = "finished"
    except Exception as exc:
        run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        result.seconds = time.monotonic() - started
        log.info("dedup_counts", records=result.records, same_url=result.same_url,
                 same_text=result.content_duplicates, near_duplicates=result.near_duplicates,
                 new_versions=result.updated)
        _record(conn, run, result)
        if not conn.closed and not conn.broken:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOAD_LOCK,))
    return result


def _record(conn: psycopg.Connection, run: LoadRun, result: LoadResult) -> None:
    if conn.closed or conn.broken:
        return  # the database went away; the failure is reported by the caller
    run.finished_at = datetime.now(UTC)
    run.segments, run.records = result.segments, result.records
    run.inserted, run.updated, run.duplicates = result.inserted, result.updated, result.duplicates
    run.bad_segments = len(result.bad_segments)
    run.same_url, run.same_text = result.same_url, result.content_duplicates
    run.near_duplicates, run.new_versions = result.near_duplicates, result.updated
    record_load_run(conn, run)
