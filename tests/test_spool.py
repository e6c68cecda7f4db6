"""The spool: segments close atomically, and a dead writer's open segment is recovered, not lost."""

import subprocess
import sys
from datetime import UTC, datetime

from crawler.records import Article
from crawler.spool import SpoolPaths, SpoolWriter, read_segment, recover_orphans, segment_run_id


def article(n: int) -> Article:
    return Article(url=f"https://news.example/{n}/", source="site", text=f"Story {n}.",
                   fetched_at=datetime(2026, 11, 20, tzinfo=UTC), http_status=200, extractor_version="test")


def test_open_segment_is_invisible_to_the_loader_until_closed(tmp_path):
    writer = SpoolWriter(tmp_path, "site", "run1")
    writer.append(article(1))
    assert SpoolPaths(tmp_path).ready_segments() == []
    closed = writer.flush_segment()
    assert SpoolPaths(tmp_path).ready_segments() == [closed]
    assert [a.url for a in read_segment(closed)] == ["https://news.example/1/"]


def test_segment_name_carries_the_run_id(tmp_path):
    writer = SpoolWriter(tmp_path, "my-site", "0123abcd" * 4)
    writer.append(article(1))
    assert segment_run_id(writer.flush_segment()) == "0123abcd" * 4


def test_segment_closes_after_max_seconds_so_a_killed_crawl_loses_little(tmp_path):
    writer = SpoolWriter(tmp_path, "site", "run1", max_seconds=0.0)
    writer.append(article(1))
    assert len(SpoolPaths(tmp_path).ready_segments()) == 1


def test_dead_writers_segment_is_recovered_without_its_half_written_line(tmp_path):
    script = (
        "import os, sys; from datetime import UTC, datetime; from pathlib import Path;"
        "from crawler.records import Article; from crawler.spool import SpoolWriter\n"
        "w = SpoolWriter(Path(sys.argv[1]), 'site', 'run1')\n"
        "for n in range(3):\n"
        "    w.append(Article(url=f'https://news.example/{n}/', source='site', text='t',"
        " fetched_at=datetime.now(UTC), http_status=200, extractor_version='x'))\n"
        "w._fh.write(b'{\"url\": \"https://news.exa'); w._fh.flush(); os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False)
    recovered = recover_orphans(tmp_path)
    assert [records for _, records in recovered] == [3]
    assert len(read_segment(recovered[0][0])) == 3
    assert list(SpoolPaths(tmp_path).open.iterdir()) == []


def test_live_writers_segment_is_left_alone(tmp_path):
    writer = SpoolWriter(tmp_path, "site", "run1")
    writer.append(article(1))
    assert recover_orphans(tmp_path) == []
    assert len(list(SpoolPaths(tmp_path).open.iterdir())) == 1


def test_segment_whose_writer_pid_now_belongs_to_another_process_is_recovered(tmp_path):
    dead_writer = (
        "import os, sys; from datetime import UTC, datetime; from pathlib import Path;"
        "from crawler.records import Article; from crawler.spool import SpoolWriter\n"
        "w = SpoolWriter(Path(sys.argv[1]), 'site', 'run1')\n"
        "w.append(Article(url='https://news.example/1/', source='site', text='t',"
        " fetched_at=datetime.now(UTC), http_status=200, extractor_version='x'))\n"
        "w._fh.flush(); os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", dead_writer, str(tmp_path)], check=False)
    [part] = SpoolPaths(tmp_path).open.iterdir()
    other = subprocess.Popen(["sleep", "60"])  # a live process that is not a crawl, under the writer's pid
    try:
        fields = part.name.split("-")
        fields[-2] = str(other.pid)
        part.rename(part.with_name("-".join(fields)))
        recovered = recover_orphans(tmp_path)
    finally:
        other.kill()
        other.wait()
    assert [records for _, records in recovered] == [1]
