"""Loading spool segments into PostgreSQL: once, deduplicated, and safe against a crash at any moment."""

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from crawler.fetch_state import FetchStateBook, RevisitPolicy
from crawler.records import Article
from crawler.spool import SpoolPaths, SpoolWriter, read_segment
from ingest.load import load_spool

FETCHED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def article(url: str, text: str = "First paragraph.\n\nSecond paragraph.", **fields) -> Article:
    defaults = dict(title="A headline", authors=["Jane Doe"], published_at=FETCHED - timedelta(hours=2),
                    language="en", fetched_at=FETCHED, http_status=200)
    defaults.update(fields)
    return Article(url=url, source="site", text=text, extractor_version="test", **defaults)


def spool(root, *articles: Article):
    writer = SpoolWriter(root, "site", "run-test")
    for item in articles:
        writer.append(item)
    return writer.flush_segment()


def count(db, where: str = "true", params=()) -> int:
    return db.execute(f"SELECT count(*) FROM articles WHERE {where}", params).fetchone()[0]


def test_segment_is_loaded_and_then_removed(db, tmp_path):
    segment = spool(tmp_path, article("https://news.example/a/"), article("https://news.example/b/", text="Other."))
    result = load_spool(db, tmp_path)
    assert (result.segments, result.inserted) == (1, 2)
    assert not segment.exists()
    assert count(db) == 2


def test_tracking_parameter_variant_does_not_create_a_second_row(db, tmp_path):
    spool(tmp_path, article("https://news.example/a/?utm_source=feed&fbclid=xyz"))
    load_spool(db, tmp_path)
    spool(tmp_path, article("https://news.example/a/", fetched_at=FETCHED + timedelta(hours=1)))
    result = load_spool(db, tmp_path)
    assert result.inserted == 0 and result.unchanged == 1
    assert db.execute("SELECT canonical_url FROM articles").fetchall() == [("https://news.example/a/",)]


def test_same_site_rel_canonical_is_the_identity(db, tmp_path):
    spool(tmp_path, article("https://news.example/story?id=7&ref=home", canonical_url="https://news.example/story/7/"))
    load_spool(db, tmp_path)
    assert db.execute("SELECT canonical_url FROM articles").fetchone()[0] == "https://news.example/story/7/"


def test_canonical_pointing_to_another_site_is_ignored(db, tmp_path):
    spool(tmp_path, article("https://news.example/story/", canonical_url="https://aggregator.invalid/copy/"))
    load_spool(db, tmp_path)
    assert db.execute("SELECT canonical_url FROM articles").fetchone()[0] == "https://news.example/story/"


def test_reloading_unchanged_articles_adds_nothing(db, tmp_path):
    spool(tmp_path, article("https://news.example/a/"))
    load_spool(db, tmp_path)
    spool(tmp_path, article("https://news.example/a/", fetched_at=FETCHED + timedelta(hours=3)))
    result = load_spool(db, tmp_path)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 1)
    last_seen = db.execute("SELECT last_seen_at FROM articles").fetchone()[0]
    assert last_seen == FETCHED + timedelta(hours=3)


def test_changed_text_updates_the_row_in_place(db, tmp_path):
    spool(tmp_path, article("https://news.example/a/"))
    load_spool(db, tmp_path)
    spool(tmp_path, article("https://news.example/a/", text="Corrected text.", fetched_at=FETCHED + timedelta(hours=1)))
    result = load_spool(db, tmp_path)
    assert result.updated == 1
    assert db.execute("SELECT text FROM articles").fetchall() == [("Corrected text.",)]


def test_same_text_under_another_url_points_to_the_first(db, tmp_path):
    spool(tmp_path, article("https://news.example/a/"))
    load_spool(db, tmp_path)
    spool(tmp_path, article("https://mirror.example/copy-of-a/"))
    load_spool(db, tmp_path)
    rows = db.execute("SELECT id, duplicate_of FROM articles ORDER BY id").fetchall()
    assert rows == [(1, None), (2, 1)]


def test_replayed_segment_is_not_loaded_twice(db, tmp_path):
    segment = spool(tmp_path, article("https://news.example/a/"))
    saved = segment.read_bytes()
    load_spool(db, tmp_path)
    segment.write_bytes(saved)  # as if the loader died after commit, before deleting the file
    result = load_spool(db, tmp_path)
    assert result.segments == 0 and count(db) == 1
    assert not segment.exists()


def test_corrupt_segment_is_set_aside_and_others_load(db, tmp_path):
    good = spool(tmp_path, article("https://news.example/a/"))
    paths = SpoolPaths(tmp_path)
    broken = paths.ready / ("0000-broken" + good.suffix)
    broken.write_bytes(b'{"url": "https://news.example/b/", "text": "trunc')
    result = load_spool(db, tmp_path)
    assert result.bad_segments == [broken.name]
    assert (paths.bad / broken.name).exists()
    assert count(db) == 1


def damage_line(segment, number: int) -> bytes:
    """Put an invalid UTF-8 byte into line `number` of a closed segment, as a bad disk sector would;
    returns the damaged line."""
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[number - 1] = lines[number - 1].replace(b"Body of story", b"Body \xff story", 1)
    segment.write_bytes(b"".join(lines))
    return lines[number - 1]


def story_segment(root, run_id: str, count: int):
    writer = SpoolWriter(root, "site", run_id)
    for n in range(1, count + 1):
        writer.append(article(f"https://news.example/{n}/", text=f"Body of story {n}."))
    return writer.flush_segment()


def test_damaged_segment_loads_its_good_records_and_sets_aside_only_the_bad_line_naming_it(db, tmp_path):
    segment = story_segment(tmp_path, "run1", 5)
    damaged = damage_line(segment, 3)
    result = load_spool(db, tmp_path)
    kept = SpoolPaths(tmp_path).bad / segment.name.replace(".jsonl", ".lines.jsonl")
    assert result.bad_lines == {segment.name: [3]}
    assert kept.read_bytes() == damaged  # as it was, to repair and move back into ready/
    assert sorted(u for (u,) in db.execute("SELECT url FROM articles")) == [
        f"https://news.example/{n}/" for n in (1, 2, 4, 5)]
    assert not segment.exists()


def test_fetch_state_is_applied_only_for_the_records_that_were_loaded(db, tmp_path):
    segment = story_segment(tmp_path, "run1", 3)
    damage_line(segment, 2)
    book = FetchStateBook("site", None, RevisitPolicy())
    for n in range(1, 4):
        book.extracted(f"https://news.example/{n}/", f"Body of story {n}.", "article")
    book.write(tmp_path, "run1")
    load_spool(db, tmp_path)
    # Without a state, the next incremental crawl fetches the URL whose record was set aside again.
    assert sorted(u for (u,) in db.execute("SELECT url FROM fetch_state")) == [
        "https://news.example/1/", "https://news.example/3/"]


@pytest.mark.parametrize("field, value", [
    ("authors", "Jane Doe"), ("title", 123), ("tags", None), ("field_sources", []), ("http_status", "200"),
])
def test_record_with_a_value_of_the_wrong_type_sets_its_segment_aside_naming_the_field(db, tmp_path, field, value):
    good = spool(tmp_path, article("https://news.example/a/"))
    paths = SpoolPaths(tmp_path)
    record = {**article("https://news.example/b/").to_dict(), field: value}
    wrong = paths.ready / ("0000-wrong" + good.suffix)
    wrong.write_text(json.dumps(record) + "\n")
    with pytest.raises(ValueError, match=f"line 1: {field} is not"):
        read_segment(wrong)
    result = load_spool(db, tmp_path)
    assert result.bad_segments == [wrong.name]
    assert (paths.bad / wrong.name).exists()
    assert [u for (u,) in db.execute("SELECT url FROM articles")] == ["https://news.example/a/"]


def test_several_segments_of_a_run_load_in_one_go_and_each_is_recorded(db, tmp_path):
    segments = [spool(tmp_path, article(f"https://news.example/{n}/", text=f"Story number {n}.")) for n in range(5)]
    result = load_spool(db, tmp_path)
    assert (result.segments, result.inserted) == (5, 5)
    recorded = {name for (name,) in db.execute("SELECT name FROM loaded_segments")}
    assert recorded == {s.name for s in segments}
    assert not any(s.exists() for s in segments)


def test_a_url_fetched_again_in_a_later_segment_keeps_its_first_text_as_a_version(db, tmp_path):
    spool(tmp_path, article("https://news.example/a/", text="First text."))
    spool(tmp_path, article("https://news.example/a/", text="Second text.", fetched_at=FETCHED + timedelta(hours=1)))
    result = load_spool(db, tmp_path)
    assert (result.inserted, result.updated) == (1, 1)
    assert db.execute("SELECT text, version FROM articles").fetchall() == [("Second text.", 2)]
    assert db.execute("SELECT text FROM article_versions").fetchall() == [("First text.",)]


def test_segment_postgres_rejects_is_set_aside_and_the_rest_of_its_run_loads(db, tmp_path):
    # The server refuses one row's data, as it would a value no column type accepts.
    db.execute("CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
               " IF NEW.title = 'poison' THEN RAISE EXCEPTION 'refused' USING ERRCODE = 'data_exception'; END IF;"
               " RETURN NEW; END $$")
    db.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse_poison()")
    try:
        before = spool(tmp_path, article("https://news.example/a/"))
        rejected = spool(tmp_path, article("https://news.example/b/", text="Other.", title="poison"))
        after = spool(tmp_path, article("https://news.example/c/", text="Third."))
        result = load_spool(db, tmp_path)
    finally:
        db.execute("DROP FUNCTION refuse_poison() CASCADE")
    assert result.bad_segments == [rejected.name]
    assert (SpoolPaths(tmp_path).bad / rejected.name).exists()
    assert not before.exists() and not after.exists()
    assert sorted(u for (u,) in db.execute("SELECT url FROM articles")) == [
        "https://news.example/a/", "https://news.example/c/"]


def test_status_code_no_column_can_hold_sets_the_segment_aside_instead_of_storing_a_wrong_value(db, tmp_path):
    rejected = spool(tmp_path, article("https://news.example/b/", http_status=2**40))
    result = load_spool(db, tmp_path)
    assert result.bad_segments == [rejected.name]
    assert (SpoolPaths(tmp_path).bad / rejected.name).exists()
    assert count(db) == 0


def test_nul_bytes_and_lone_surrogates_are_stored_cleanly(db, tmp_path):
    spool(tmp_path, article("https://news.example/a/", text="Text\x00 with NUL and \ud800 surrogate.",
                            title="Bobby'); DROP TABLE articles;--"))
    result = load_spool(db, tmp_path)
    assert result.inserted == 1
    title, text = db.execute("SELECT title, text FROM articles").fetchone()
    assert title == "Bobby'); DROP TABLE articles;--"
    assert "\x00" not in text and text.startswith("Text with NUL")


def test_loader_killed_between_copy_and_commit_loses_and_duplicates_nothing(db, tmp_path, database_url):
    urls = [f"https://news.example/{n}/" for n in range(50)]
    spool(tmp_path, *(article(u, text=f"Body of story {n}.") for n, u in enumerate(urls)))
    # Holding this lock makes the loader wait at its last statement before COMMIT, after COPY and merge.
    with psycopg.connect(database_url) as blocker:
        blocker.execute("LOCK TABLE loaded_segments IN ACCESS EXCLUSIVE MODE")
        loader = subprocess.Popen(
            [sys.executable, "-c", "import sys, psycopg; from pathlib import Path; from ingest.load import load_spool;"
             "load_spool(psycopg.connect(sys.argv[1], autocommit=True), Path(sys.argv[2]))",
             database_url, str(tmp_path)],
        )
        _wait_for_lock_waiter(db, timeout=30)
        loader.send_signal(signal.SIGKILL)
        loader.wait()
        blocker.rollback()
    assert count(db) == 0  # the killed transaction left nothing behind
    result = load_spool(db, tmp_path)
    assert result.inserted == 50
    assert count(db) == 50
    assert db.execute("SELECT count(DISTINCT canonical_url) FROM articles").fetchone()[0] == 50
    assert SpoolPaths(tmp_path).ready_segments() == []


def _wait_for_lock_waiter(db, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%loaded_segments%'"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the loader never reached its final statement")


def test_export_writes_one_json_object_per_article(db, tmp_path, run_cli):
    spool(tmp_path, article("https://news.example/a/"), article("https://news.example/b/", text="Other story."))
    load_spool(db, tmp_path)
    result = run_cli("export")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2
    first = records[0]
    for key in ("id", "url", "canonical_url", "source", "title", "authors", "published_at", "language", "text",
                "fetched_at", "content_hash", "duplicate_of"):
        assert key in first
    assert first["authors"] == ["Jane Doe"]
    assert datetime.fromisoformat(first["published_at"]) == FETCHED - timedelta(hours=2)
    assert first["published_at"].endswith("+00:00")
    assert first["duplicate_of"] is None


def test_export_filters_by_source(db, tmp_path, run_cli):
    spool(tmp_path, article("https://news.example/a/"))
    load_spool(db, tmp_path)
    result = run_cli("export", "--source", "elsewhere")
    assert result.returncode == 0 and result.stdout == ""
