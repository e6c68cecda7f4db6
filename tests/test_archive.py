"""The raw archive and `newsingest reextract`: a crawl with `archive = true` keeps every article
candidate's response as WARC under <data_dir>/archive/<source>/; reextract rebuilds the same rows from
it without any network, and reports how many changed.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from conftest import write_config
from test_crawl import source_block

from crawler.archive import archive_files, iter_archived
from crawler.extract import EXTRACTOR_VERSION

COLUMNS = ("canonical_url", "url", "source", "title", "authors", "published_at", "modified_at", "language",
           "description", "site_name", "image_url", "tags", "text", "content_hash", "http_status",
           "extractor_version", "field_sources", "fetched_at")


def rows(db) -> list[tuple]:
    return db.execute(f"SELECT {', '.join(COLUMNS)} FROM articles ORDER BY canonical_url").fetchall()


def test_reextract_from_the_archive_reproduces_the_stored_rows(news_site, db, run_cli, tmp_path, data_dir):
    config = write_config(tmp_path / "newsingest.toml", data_dir,
                          source_block("feed", feeds=[news_site.url("/feeds/rss.xml")]), archive="true")
    result = run_cli("--config", str(config), "crawl", "feed")
    assert result.returncode == 0, result.stderr[-3000:]
    stored = rows(db)
    assert len(stored) == len(news_site.articles)
    assert {r[COLUMNS.index("extractor_version")] for r in stored} == {EXTRACTOR_VERSION}
    files = archive_files(data_dir / "archive", "feed")
    assert files and all(f.name.endswith(".warc.gz") for f in files)
    assert len(list(iter_archived(data_dir / "archive", "feed"))) == len(news_site.articles)
    news_site.stop()  # no network from here on

    result = run_cli("--config", str(config), "reextract", "--source", "feed")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"articles {len(stored)}, changed 0, new 0, unchanged {len(stored)}" in result.stdout
    assert rows(db) == stored

    db.execute("TRUNCATE articles RESTART IDENTITY CASCADE")
    result = run_cli("--config", str(config), "reextract")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"changed 0, new {len(stored)}" in result.stdout
    assert rows(db) == stored

    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    result = run_cli("--config", str(config), "reextract", "--since", future)
    assert "archived pages 0" in result.stdout


def test_archive_rotates_files(tmp_path):
    from crawler.archive import WarcArchive

    archive = WarcArchive(tmp_path, "s", "run1", max_bytes=1024)
    body = ("<html><body><p>" + os.urandom(2000).hex() + "</p></body></html>").encode()  # gzip cannot shrink it
    now = datetime.now(UTC)
    for i in range(3):
        archive.write(f"https://s.example/{i}", 200, [(b"Content-Type", b"text/html; charset=utf-8")], body, now)
    archive.close()
    assert len(archive_files(tmp_path, "s")) == 3
    pages = list(iter_archived(tmp_path))
    assert [p.url for p in pages] == [f"https://s.example/{i}" for i in range(3)]
    assert pages[0].html == body.decode()
