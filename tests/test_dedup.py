"""Deduplication and versions: one row per canonical URL, exact copies linked, near-copies clustered,
changed texts kept as versions, and every rule counted. Pages come from the labelled set in
tests/dedup_fixtures.py and go through the real path: spool segment -> load_spool -> PostgreSQL."""

import json
import random
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import structlog
from dedup_fixtures import FETCHED, SAME_TOPIC, labelled_pages

from crawler.records import Article
from crawler.spool import SpoolWriter
from ingest import dedup
from ingest.load import load_spool

# Story 3's copies (boilerplate 4 bits, paragraph dropped 7, sentence edited 2) are all within the
# distance the index finds with certainty (7), so these tests do not depend on probabilistic probes.
STORY = "3"


def pages(story: str = STORY) -> dict[str, object]:
    return {p.kind: p for p in labelled_pages() if p.story == story}


def to_article(page, **fields) -> Article:
    values = dict(url=page.url, source="site", text=page.text, fetched_at=page.fetched_at, http_status=200,
                  extractor_version="test", canonical_url=page.stated_canonical, title=page.title, language="en")
    values.update(fields)
    return Article(**values)


def load(db, root: Path, *articles: Article, run: str = "run-test"):
    writer = SpoolWriter(root, "site", run)
    for item in articles:
        writer.append(item)
    writer.flush_segment()
    return load_spool(db, root)


def rows(db, columns: str = "id, canonical_url, duplicate_of, cluster_id"):
    return db.execute(f"SELECT {columns} FROM articles ORDER BY id").fetchall()


def cluster_of(db, url: str) -> int:
    return db.execute("SELECT cluster_id FROM articles WHERE url = %s", (url,)).fetchone()[0]


# ---- Rule 1: same URL ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["amp/", "amp", "?amp=1", "?amp", "?outputType=amp"])
def test_amp_url_variants_map_to_the_article(suffix):
    article = "https://news.example/2026/11/20/story/"
    assert dedup.canonical_url(article + suffix, None) == article


def test_amp_file_suffix_maps_to_the_article():
    assert dedup.canonical_url("https://news.example/story.amp.html", None) == "https://news.example/story.html"


@pytest.mark.parametrize("url", ["https://news.example/story/print/", "https://news.example/print/story/",
                                 "https://news.example/story/?print=1", "https://news.example/story/?view=print"])
def test_print_url_variants_map_to_the_article(url):
    assert dedup.canonical_url(url, None) == "https://news.example/story/"


def test_amp_inside_a_slug_is_not_a_variant():
    for url in ("https://news.example/amplifier-sales-rise/", "https://news.example/2026/amp-up/"):
        assert dedup.canonical_url(url, None) == url


def test_tracking_amp_and_print_variants_are_one_row(db, tmp_path):
    p = pages()
    load(db, tmp_path, to_article(p["original"]))
    result = load(db, tmp_path, *(to_article(p[k]) for k in ("tracking", "amp_path", "amp_query", "print")))
    assert result.inserted == 0 and result.same_url == 4
    assert [r[1] for r in rows(db)] == [p["original"].url]


def test_amp_page_found_through_amphtml_is_its_articles_row(db, tmp_path):
    # The AMP page lives on another host; its rel=canonical names the article, so it maps there.
    p = pages()
    load(db, tmp_path, to_article(p["original"]))
    result = load(db, tmp_path, to_article(p["amp_page"]))
    assert result.unchanged == 1
    assert [r[1] for r in rows(db)] == [p["original"].url]


# ---- Rule 2: same text ------------------------------------------------------------------------------

def test_exact_copy_on_another_site_points_to_the_first_and_shares_its_cluster(db, tmp_path):
    p = pages()
    load(db, tmp_path, to_article(p["original"]))
    result = load(db, tmp_path, to_article(p["exact_copy"]))
    assert result.content_duplicates == 1 and result.near_duplicates == 0
    assert rows(db) == [(1, p["original"].url, None, 1), (2, p["exact_copy"].url, 1, 1)]


# ---- Rule 3: near-duplicates ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["boilerplate", "dropped_paragraph", "edited_sentence"])
def test_near_copy_joins_the_originals_cluster(db, tmp_path, kind):
    p = pages()
    load(db, tmp_path, to_article(p["original"]))
    result = load(db, tmp_path, to_article(p[kind]))
    assert result.inserted == 1 and result.near_duplicates == 1
    assert rows(db) == [(1, p["original"].url, None, 1), (2, p[kind].url, None, 1)]


def test_near_copies_in_one_segment_share_a_cluster(db, tmp_path):
    p = pages()
    load(db, tmp_path, *(to_article(p[k]) for k in ("boilerplate", "original", "edited_sentence", "exact_copy")))
    assert {cluster_id for *_, cluster_id in rows(db)} == {1}


def test_different_article_on_the_same_topic_is_not_merged(db, tmp_path):
    p = pages()
    topic = next(t for t in labelled_pages() if t.kind == "same_topic" and SAME_TOPIC[int(t.story[5:])][0] == 3)
    load(db, tmp_path, to_article(p["original"]), to_article(p["boilerplate"]))
    result = load(db, tmp_path, to_article(topic))
    assert result.near_duplicates == 0
    assert cluster_of(db, topic.url) != cluster_of(db, p["original"].url)


def test_different_stories_are_different_clusters(db, tmp_path):
    originals = [p for p in labelled_pages() if p.kind == "original"]
    load(db, tmp_path, *(to_article(p) for p in originals))
    assert db.execute("SELECT count(DISTINCT cluster_id), count(*) FROM articles").fetchone() == (15, 15)


def test_article_alone_is_its_own_cluster(db, tmp_path):
    load(db, tmp_path, to_article(pages()["original"]))
    assert rows(db, "id, cluster_id") == [(1, 1)]


def test_short_text_gets_no_simhash_and_is_never_a_near_duplicate(db, tmp_path):
    original = pages()["original"]
    load(db, tmp_path, to_article(original, text="Short note. Details follow."),
         to_article(original, url="https://other.example/a/", canonical_url=None,
                    text="Short note. Details to follow."))
    assert rows(db, "simhash, cluster_id") == [(None, 1), (None, 2)]


def test_article_that_bridges_two_clusters_merges_them():
    # 10 and 20 are clusters of their own; new article 30 is near both: all become the oldest cluster.
    edges = [dedup.Edge(30, None, 10, 10), dedup.Edge(30, None, 21, 20)]
    assignment = dedup.assign_clusters({30: None}, edges)
    assert assignment.articles == {30: 10}
    assert assignment.relabel == {20: 10}


def test_simhash_survives_the_signed_bigint_round_trip(db, tmp_path):
    for value in (0, 1, 2**63 - 1, 2**63, 2**64 - 1):
        assert dedup.from_bigint(dedup.to_bigint(value)) == value
    stored = dedup.to_bigint(2**64 - 2)
    assert stored == -2
    text = pages()["original"].text
    load(db, tmp_path, to_article(pages()["original"]))
    value = db.execute("SELECT simhash FROM articles").fetchone()[0]
    assert dedup.from_bigint(value) == dedup.simhash(text)
    assert stored_block_keys(db) == dedup.block_keys(dedup.simhash(text))  # the migration's keys are Python's


def test_stored_keys_match_python_for_hashes_with_the_top_bit_set(db, tmp_path):
    value = 0xFEDC_BA98_7654_3210
    load(db, tmp_path, to_article(pages()["original"]))
    db.execute("UPDATE articles SET simhash = %s", (dedup.to_bigint(value),))
    assert stored_block_keys(db) == dedup.block_keys(value) == [0x3210, 0x10000 | 0x7654, 0x20000 | 0xBA98,
                                                                  0x30000 | 0xFEDC]


def stored_block_keys(db) -> list[int]:
    return [k for (k,) in db.execute("SELECT block_key FROM article_simhash_blocks ORDER BY block_key")]


def test_probe_keys_reach_every_hash_within_seven_bits():
    rng = random.Random(7)
    for _ in range(2000):
        a = rng.getrandbits(64)
        b = a
        for bit in rng.sample(range(64), rng.randint(0, 7)):
            b ^= 1 << bit
        assert set(dedup.probe_keys(a)) & set(dedup.block_keys(b))


# ---- Rule 4: versions -------------------------------------------------------------------------------

def test_changed_text_keeps_the_previous_version(db, tmp_path):
    p = pages()
    first = to_article(p["original"])
    load(db, tmp_path, first)
    later = FETCHED + timedelta(hours=5)
    load(db, tmp_path, to_article(p["edited_sentence"], url=first.url, canonical_url=first.url, fetched_at=later))
    assert rows(db, "version, text") == [(2, p["edited_sentence"].text)]
    versions = db.execute("SELECT article_id, version, text, content_hash, seen_from, superseded_at"
                          " FROM article_versions").fetchall()
    assert versions == [(1, 1, first.text, dedup.content_hash(first.text), first.fetched_at, later)]


def test_unchanged_recrawl_adds_no_version(db, tmp_path):
    first = to_article(pages()["original"])
    load(db, tmp_path, first)
    result = load(db, tmp_path, replace(first, fetched_at=FETCHED + timedelta(hours=5)))
    assert result.unchanged == 1
    assert rows(db, "version, last_seen_at") == [(1, FETCHED + timedelta(hours=5))]
    assert db.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 0


def test_modified_at_from_the_page_is_kept_for_each_version(db, tmp_path):
    p = pages()
    modified = FETCHED - timedelta(hours=1)
    load(db, tmp_path, to_article(p["original"], modified_at=modified))
    load(db, tmp_path, to_article(p["original"], text=p["edited_sentence"].text,
                                  modified_at=modified + timedelta(hours=3), fetched_at=FETCHED + timedelta(hours=4)))
    assert rows(db, "modified_at") == [(modified + timedelta(hours=3),)]
    assert db.execute("SELECT modified_at FROM article_versions").fetchall() == [(modified,)]


def test_new_version_stays_in_its_cluster(db, tmp_path):
    p = pages()
    load(db, tmp_path, to_article(p["original"]), to_article(p["boilerplate"]))
    load(db, tmp_path,
         to_article(p["original"], text=p["edited_sentence"].text, fetched_at=FETCHED + timedelta(hours=4)))
    assert {cluster_id for *_, cluster_id in rows(db)} == {1}


# ---- Rule 5: counts ---------------------------------------------------------------------------------

def _mixed_load(db, tmp_path):
    p, other, new = pages(), pages("5"), pages("9")
    load(db, tmp_path, to_article(p["original"]), to_article(other["original"]))
    return load(db, tmp_path,
                to_article(p["tracking"]),  # same URL, same text
                to_article(p["exact_copy"]),  # same text under another URL
                to_article(p["boilerplate"]),  # near-duplicate
                to_article(new["original"]),  # new story
                to_article(other["amp_page"], text=other["edited_sentence"].text,  # a new version
                           fetched_at=FETCHED + timedelta(hours=2)))


def test_load_counts_what_each_rule_caught(db, tmp_path):
    result = _mixed_load(db, tmp_path)
    assert (result.records, result.inserted, result.same_url, result.content_duplicates,
            result.near_duplicates, result.updated) == (5, 3, 1, 1, 1, 1)


def test_load_runs_records_what_each_rule_caught(db, tmp_path):
    _mixed_load(db, tmp_path)
    row = db.execute("SELECT same_url, same_text, near_duplicates, new_versions FROM load_runs"
                     " ORDER BY id DESC LIMIT 1").fetchone()
    assert row == (1, 1, 1, 1)


def test_dedup_counts_are_logged(db, tmp_path):
    with structlog.testing.capture_logs() as logs:
        _mixed_load(db, tmp_path)
    event = [e for e in logs if e["event"] == "dedup_counts"][-1]
    assert {k: event[k] for k in ("same_url", "same_text", "near_duplicates", "new_versions")} == {
        "same_url": 1, "same_text": 1, "near_duplicates": 1, "new_versions": 1}


def test_export_has_cluster_id_and_duplicate_of(db, tmp_path, run_cli):
    p = pages()
    load(db, tmp_path, to_article(p["original"]), to_article(p["exact_copy"]), to_article(p["boilerplate"]))
    result = run_cli("export")
    assert result.returncode == 0, result.stderr
    exported = [(r["id"], r["duplicate_of"], r["cluster_id"]) for r in map(json.loads, result.stdout.splitlines())]
    assert exported == [(1, None, 1), (2, 1, 1), (3, None, 1)]


# ---- Concurrency ------------------------------------------------------------------------------------

_LOADER = ("import sys, psycopg; from pathlib import Path; from ingest.load import load_spool;"
           "sys.stdin.read(1); load_spool(psycopg.connect(sys.argv[1], autocommit=True), Path(sys.argv[2]))")


def test_concurrent_loaders_make_one_row_per_url_and_one_cluster_per_story(db, tmp_path, database_url):
    stories = [pages(str(n)) for n in (3, 4, 5, 9, 10, 12)]
    # Both spools hold every story's original and overlapping copies, in different orders.
    first = [to_article(s[k]) for s in stories for k in ("original", "boilerplate", "tracking", "exact_copy")]
    second = [to_article(s[k]) for s in reversed(stories) for k in ("edited_sentence", "original", "amp_path",
                                                                       "exact_copy", "boilerplate")]
    roots = [tmp_path / "a", tmp_path / "b"]
    for root, articles, run in zip(roots, (first, second), ("run-a", "run-b"), strict=True):
        writer = SpoolWriter(root, "site", run)
        for n, item in enumerate(articles):
            writer.append(item)
            if n % 5 == 4:
                writer.flush_segment()  # several segments, so the loads can interleave between them
        writer.flush_segment()
    loaders = [subprocess.Popen([sys.executable, "-c", _LOADER, database_url, str(root)], stdin=subprocess.PIPE)
               for root in roots]
    for loader in loaders:  # released together, once both have imported everything
        loader.stdin.write(b"go")
        loader.stdin.close()
    assert [loader.wait(timeout=120) for loader in loaders] == [0, 0]
    assert db.execute("SELECT count(*), count(DISTINCT canonical_url) FROM articles").fetchone() == (
        len({dedup.canonical_url(a.url, a.canonical_url) for a in first + second}),) * 2
    for story in stories:
        story_urls = [dedup.canonical_url(story[k].url, story[k].stated_canonical)
                      for k in ("original", "boilerplate", "exact_copy", "edited_sentence")]
        clusters = db.execute("SELECT DISTINCT cluster_id FROM articles WHERE canonical_url = ANY(%s)",
                              (story_urls,)).fetchall()
        assert len(clusters) == 1, story["original"].title
    assert db.execute("SELECT count(DISTINCT cluster_id) FROM articles").fetchone()[0] == len(stories)


def test_sql_probe_keys_are_the_python_ones(db):
    rng = random.Random(11)
    for value in [0, 2**64 - 1, 0xFEDC_BA98_7654_3210] + [rng.getrandbits(64) for _ in range(50)]:
        keys = db.execute("SELECT simhash_probe_keys(%s)", (dedup.to_bigint(value),)).fetchone()[0]
        assert keys == dedup.probe_keys(value)
