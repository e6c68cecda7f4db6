"""The spool: segments close atomically, and a dead writer's open segment is recovered, not lost."""

import fcntl
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

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


def _recover_in_another_process(root: Path) -> list:
    """What a `newsingest load` (or `status`, or the daemon) does to the spool, from its own process."""
    script = (
        "import json, sys; from pathlib import Path; from crawler.spool import recover_orphans\n"
        "print(json.dumps([[str(p), n] for p, n in recover_orphans(Path(sys.argv[1]))]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


class _RecoverWhenClosed:
    """A writer's segment file whose close() is surrounded by recoveries from another process: the moment
    the reviewer found a load taking a live writer's segment as an orphan."""

    def __init__(self, fh, root: Path):
        self._fh = fh
        self._root = root
        self.recovered: list = []

    def close(self):
        self.recovered += _recover_in_another_process(self._root)
        self._fh.close()
        self.recovered += _recover_in_another_process(self._root)

    def __getattr__(self, name):
        return getattr(self._fh, name)


def test_a_recovery_while_a_segment_closes_cannot_take_it_and_the_writer_keeps_spooling(tmp_path):
    writer = SpoolWriter(tmp_path, "site", "run1", max_records=2)
    writer.append(article(1))
    segment_file = writer._fh = _RecoverWhenClosed(writer._fh, tmp_path)
    writer.append(article(2))  # the segment is full: it closes
    for n in range(3, 6):
        writer.append(article(n))
    writer.close()
    assert segment_file.recovered == []
    urls = [a.url for segment in SpoolPaths(tmp_path).ready_segments() for a in read_segment(segment)]
    assert sorted(urls) == sorted(article(n).url for n in range(1, 6))
    assert list(SpoolPaths(tmp_path).open.iterdir()) == []


def test_a_segment_being_created_is_not_removed_before_its_writer_locks_it(tmp_path):
    paths = SpoolPaths(tmp_path).create()
    fresh = paths.open / "20261120T000000000000Z-site-run1-1-abcd0123.jsonl.part.new"
    with open(fresh, "wb") as fh:  # a writer between creating its segment and locking it
        recover_orphans(tmp_path)
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(fresh, fresh.with_name(fresh.name.removesuffix(".new")))
    stale = paths.open / "20261120T000000000000Z-site-run2-2-abcd0123.jsonl.part.new"
    stale.touch()
    os.utime(stale, (time.time() - 3600, time.time() - 3600))  # its writer died long ago, before writing
    recover_orphans(tmp_path)
    assert not stale.exists()
