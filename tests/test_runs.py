"""Crawl runs as an operator sees them: one crawl of a source at a time, a run row for every crawl that
started and for no other, honest page counts, a failed run when a site fails, and load counts credited
to their run whatever the source's name. Real `newsingest` processes, the fixture site on 127.0.0.1 and
a real PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_config
from newssite import NewsSite, build_articles
from test_crawl import source_block
from test_spool import article

from crawler.spool import SpoolWriter, segment_run_id


def events(stderr: str, name: str) -> list[dict]:
    found = []
    for line in stderr.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == name:
            found.append(record)
    return found


@pytest.fixture
def small_site():
    site = NewsSite(articles=build_articles(4)).start()
    yield site
    site.stop()


def config_with(tmp_path: Path, data_dir: Path, sources: str, daemon: str = "", **crawl: str) -> Path:
    return write_config(tmp_path / "newsingest.toml", data_dir, (f"[daemon]\n{daemon}\n" if daemon else "") + sources,
                        **crawl)


# ------------------------------------------------------------------------ load counts (item 8)


def test_segment_of_a_source_whose_name_has_dots_carries_its_run_id(tmp_path):
    writer = SpoolWriter(tmp_path, "news.example.com", "0123abcd" * 4)
    writer.append(article(1))
    assert segment_run_id(writer.flush_segment()) == "0123abcd" * 4


def test_source_whose_name_has_a_dot_is_credited_with_what_its_crawl_loaded(small_site, db, run_cli, tmp_path,
                                                                           data_dir):
    config = config_with(tmp_path, data_dir, source_block("news.example", feeds=[small_site.url("/feeds/rss.xml")]))
    result = run_cli("--config", str(config), "crawl", "news.example")
    assert result.returncode == 0, result.stderr[-3000:]
    new = db.execute("SELECT articles_new FROM crawl_runs WHERE source = 'news.example'").fetchall()
    assert new == [(len(small_site.articles),)]
    assert f"new {len(small_site.articles)}," in result.stdout
