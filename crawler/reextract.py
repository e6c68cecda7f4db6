"""Rebuild articles from the raw archive (crawler/archive.py) with the current extractor, into the spool.

`reextract_archive` reads every archived response (optionally of one source, fetched since a date),
extracts it as a crawl would (same min_article_chars and article_pattern), and appends the articles
to the spool under one run id per source, with a run summary, so the ordinary loader merges them:
a changed text becomes an update (a new version), an unchanged one touches nothing but last_seen_at.
This module touches the archive directory (read) and the spool; no network, no database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crawler import extract
from crawler.archive import iter_archived
from crawler.spool import SpoolWriter, write_run_summary
from ingest.config import Config


@dataclass(slots=True)
class ReextractResult:
    pages: int = 0
    articles: int = 0
    not_articles: int = 0
    run_ids: dict[str, str] = field(default_factory=dict)  # source -> run id


def reextract_archive(config: Config, *, source: str | None = None, since: datetime | None = None) -> ReextractResult:
    result = ReextractResult()
    writers: dict[str, SpoolWriter] = {}
    started = datetime.now(UTC)
    counts: dict[str, list[int]] = {}
    patterns = {s.name: s.article_pattern for s in config.sources}
    for page in iter_archived(config.data_dir / "archive", source, since):
        result.pages += 1
        extraction = extract.extract_page(page, min_article_chars=config.crawl.min_article_chars,
                                          article_pattern=patterns.get(page.source),
                                          max_elements=config.crawl.max_page_elements)
        tally = counts.setdefault(page.source, [0, 0])
        tally[0] += 1
        if extraction.article is None:
            result.not_articles += 1
            continue
        writer = writers.get(page.source)
        if writer is None:
            run_id = "reextract" + uuid.uuid4().hex[:16]  # no '-': segment names are split on it
            result.run_ids[page.source] = run_id
            writer = writers[page.source] = SpoolWriter(config.spool_dir, page.source, run_id)
        writer.append(extraction.article)
        tally[1] += 1
        result.articles += 1
    for name, writer in writers.items():
        writer.close()
        write_run_summary(config.spool_dir, {
            "run_id": result.run_ids[name], "source": name, "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(), "status": "finished", "finish_reason": "reextract",
            "pages_fetched": 0, "articles_found": counts[name][1], "failed": 0, "errors": {}, "daemon_id": None,
        })
    return result


def archive_root(config: Config) -> Path:
    return config.data_dir / "archive"
