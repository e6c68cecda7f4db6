"""The durable hand-off between crawling and loading: append-only segment files under the data directory.

Layout under <data_dir>/spool:
    open/    segments being written (<name>.jsonl.part); never read by the loader
    ready/   closed segments (<name>.jsonl), fsynced and renamed atomically; the loader's input
    runs/    one JSON summary per finished crawl run (<run_id>.json), loaded into crawl_runs
    bad/     segments the loader could not read, set aside with an error naming them

A record is durable once its segment is in ready/. This module touches only the spool directory.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crawler.records import Article

SEGMENT_SUFFIX = ".jsonl"


@dataclass(frozen=True, slots=True)
class SpoolPaths:
    root: Path

    @property
    def open(self) -> Path:
        return self.root / "open"

    @property
    def ready(self) -> Path:
        return self.root / "ready"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def bad(self) -> Path:
        return self.root / "bad"

    def create(self) -> SpoolPaths:
        for path in (self.open, self.ready, self.runs, self.bad):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def ready_segments(self) -> list[Path]:
        """Closed segments, oldest first (names start with a UTC timestamp)."""
        if not self.ready.is_dir():
            return []
        return sorted(p for p in self.ready.iterdir() if p.name.endswith(SEGMENT_SUFFIX))

    def run_summaries(self) -> list[Path]:
        if not self.runs.is_dir():
            return []
        return sorted(p for p in self.runs.iterdir() if p.suffix == ".json")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Write a whole file so that readers see either nothing or all of it."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        tmp.unlink(missing_ok=True)  # a disk-full write leaves no half file behind
        raise
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class SpoolWriteError(OSError):
    """A record could not be written (disk full, I/O error). The message names the segment; the
    segment's whole records before it were closed into ready/, so nothing half-written is ever loaded."""


class SpoolWriter:
    """Appends articles to a segment and closes it atomically every `max_records` records and at close()."""

    def __init__(self, root: Path, source: str, run_id: str, max_records: int = 200, max_seconds: float = 30.0):
        self.paths = SpoolPaths(root).create()
        self.source = source
        self.run_id = run_id
        self.max_records = max_records
        self.max_seconds = max_seconds  # bounds what a killed crawl can leave unclosed
        self._opened_at = 0.0
        self._fh = None
        self._name: str | None = None
        self._count = 0
        self.segments_closed = 0
        self.records_written = 0

    def append(self, article: Article) -> None:
        if self._fh is None:
            self._open()
        line = article.to_json() + "\n"
        try:
            self._fh.write(line.encode("utf-8", "surrogatepass"))
        except OSError as exc:
            raise self._salvage(exc) from exc
        self._count += 1
        self.records_written += 1
        if self._count >= self.max_records or time.monotonic() - self._opened_at >= self.max_seconds:
            self.flush_segment()

    def _open(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        # The writer's pid in the name lets recover_orphans() tell a dead writer's segment from a live one.
        self._name = f"{stamp}-{self.source}-{self.run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._fh = open(self.paths.open / (self._name + SEGMENT_SUFFIX + ".part"), "wb")
        self._count = 0
        self._opened_at = time.monotonic()

    def flush_segment(self) -> Path | None:
        """Close the current segment (fsync, rename into ready/). Returns its path, or None if none was open."""
        if self._fh is None:
            return None
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        except OSError as exc:
            raise self._salvage(exc) from exc
        return self._publish()

    def _publish(self) -> Path:
        part = self.paths.open / (self._name + SEGMENT_SUFFIX + ".part")
        final = self.paths.ready / (self._name + SEGMENT_SUFFIX)
        os.replace(part, final)
        _fsync_dir(self.paths.ready)
        self._fh = None
        self.segments_closed += 1
        return final

    def _salvage(self, exc: OSError) -> SpoolWriteError:
        """After a failed write: cut the open segment back to its last whole record and close it into
        ready/ (or remove it if none is whole). Returns the error to raise, naming the segment."""
        name = self._name + SEGMENT_SUFFIX
        part = self.paths.open / (name + ".part")
        try:
            self._fh.close()
        except OSError:
            pass  # what never reached the file is lost with the buffer; the cut below drops any partial line
        self._fh = None
        try:
            with open(part, "r+b") as fh:
                data = fh.read()
                keep = data.rfind(b"\n") + 1
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
            if keep:
                self._publish()
            else:
                part.unlink()
        except OSError:
            pass  # left in open/: recover_orphans() keeps its whole lines once this process is gone
        return SpoolWriteError(exc.errno, f"cannot write spool segment {name}: {exc.strerror or exc}")

    def close(self) -> None:
        self.flush_segment()


def write_run_summary(root: Path, summary: dict) -> Path:
    """Record a finished crawl run in the spool; the loader copies it into crawl_runs."""
    paths = SpoolPaths(root).create()
    path = paths.runs / f"{summary['run_id']}.json"
    write_atomically(path, json.dumps(summary, ensure_ascii=False, default=str).encode())
    return path


def read_segment(path: Path) -> list[Article]:
    """Every article of a closed segment. Raises ValueError naming the line on any corrupt record."""
    articles = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                raise ValueError(f"{path.name}: line {number} is truncated")
            try:
                articles.append(Article.from_json(raw.decode("utf-8", "surrogatepass")))
            except (ValueError, TypeError, UnicodeDecodeError) as exc:
                raise ValueError(f"{path.name}: line {number}: {exc}") from None
    return articles


def segment_run_id(segment: Path) -> str:
    """The crawl run that wrote a segment (names end in -<run_id>-<pid>-<random>.jsonl)."""
    # Read from the end: source names may contain '.' and '-', run ids neither.
    fields = segment.name.removesuffix(SEGMENT_SUFFIX).split("-")
    return fields[-3] if len(fields) >= 5 else ""


def _writer_alive(part: Path) -> bool:
    fields = part.name.split("-")
    try:
        pid = int(fields[-2])
    except (IndexError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_orphans(root: Path) -> list[tuple[Path, int]]:
    """Close the open segments of writers that died (a crawl killed with SIGKILL): keep every complete
    line, drop a half-written last line, and move the segment into ready/. Returns (segment, records)."""
    paths = SpoolPaths(root).create()
    recovered = []
    for part in sorted(paths.open.glob("*" + SEGMENT_SUFFIX + ".part")):
        if _writer_alive(part):
            continue
        data = part.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if complete:
            final = paths.ready / part.name.removesuffix(".part")
            write_atomically(final, complete)
            recovered.append((final, complete.count(b"\n")))
        part.unlink()
    return recovered


def set_aside(root: Path, segment: Path) -> Path:
    """Move an unreadable segment out of the loader's way, keeping it for inspection."""
    paths = SpoolPaths(root).create()
    target = paths.bad / segment.name
    os.replace(segment, target)
    return target
