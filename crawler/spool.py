"""The durable hand-off between crawling and loading: append-only segment files under the data directory.

Layout under <data_dir>/spool:
    open/    segments being written (<name>.jsonl.part), each locked (flock) by its writer while it lives;
             never read by the loader until recover_orphans() finds the lock free (the writer died)
    ready/   closed segments (<name>.jsonl), fsynced and renamed atomically; the loader's input
    runs/    one JSON summary per finished crawl run (<run_id>.json), loaded into crawl_runs
    bad/     segments the loader could not read, set aside with an error naming them, and the bad lines of
             segments whose other records loaded (<name>.lines.jsonl)

A record is durable once its segment is in ready/. This module touches only the spool directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from crawler.records import Article

SEGMENT_SUFFIX = ".jsonl"
# Seconds an unlocked, never named segment (.part.new) is left alone: its writer may be about to lock it.
_FRESH_SEGMENT_GRACE = 60.0
T = TypeVar("T")


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
        self._name = f"{stamp}-{self.source}-{self.run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        part = self.paths.open / (self._name + SEGMENT_SUFFIX + ".part")
        # The lock, held until this process closes the file or dies, is how recover_orphans() tells a live
        # writer from a dead one (a pid alone may have been reused). It is taken before the file appears
        # under its .part name, so no recovery ever sees it unlocked while we write.
        fresh = part.with_name(part.name + ".new")
        self._fh = open(fresh, "wb")
        fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(fresh, part)
        self._count = 0
        self._opened_at = time.monotonic()

    def flush_segment(self) -> Path | None:
        """Close the current segment (fsync, rename into ready/). Returns its path, or None if none was open."""
        if self._fh is None:
            return None
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            raise self._salvage(exc) from exc
        # Renamed before the close: closing first drops the lock, and a load's recover_orphans() in between
        # would take this live segment as an orphan and leave the writer nothing to rename.
        fh, self._fh = self._fh, None
        try:
            return self._publish()
        except OSError as exc:
            # Left in open/ and unlocked once closed below: the next recovery keeps its records.
            raise SpoolWriteError(exc.errno, f"cannot close spool segment {self._name}{SEGMENT_SUFFIX}: "
                                             f"{exc.strerror or exc}") from exc
        finally:
            fh.close()

    def _publish(self) -> Path:
        part = self.paths.open / (self._name + SEGMENT_SUFFIX + ".part")
        final = self.paths.ready / (self._name + SEGMENT_SUFFIX)
        os.replace(part, final)
        _fsync_dir(self.paths.ready)
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
            pass  # left in open/, unlocked: recover_orphans() keeps its whole lines
        return SpoolWriteError(exc.errno, f"cannot write spool segment {name}: {exc.strerror or exc}")

    def close(self) -> None:
        self.flush_segment()


def write_run_summary(root: Path, summary: dict) -> Path:
    """Record a finished crawl run in the spool; the loader copies it into crawl_runs."""
    paths = SpoolPaths(root).create()
    # A fallback summary (the daemon's, for a child that died) has a name of its own: it must not replace
    # the child's, which may be there already; and one that sorts after it, so a load reads the child's first.
    path = paths.runs / f"{summary['run_id']}{'~fallback' if summary.get('fallback') else ''}.json"
    write_atomically(path, json.dumps(summary, ensure_ascii=False, default=str).encode())
    return path


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line of a closed segment that holds no valid record: its number (from 1), bytes and why."""

    number: int
    raw: bytes
    error: str  # "line N: ..."


def read_records(path: Path, convert: Callable[[Article], T]) -> tuple[list[T], list[BadLine]]:
    """Every valid record of a closed segment, passed through `convert` (whose ValueError makes a line
    bad too), and the bad lines, in order. One damaged line costs that record, not the segment's others."""
    good: list[T] = []
    bad: list[BadLine] = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                bad.append(BadLine(number, raw, f"line {number} is truncated"))
                continue
            try:
                good.append(convert(Article.from_json(raw.decode("utf-8", "surrogatepass"))))
            except (ValueError, TypeError, UnicodeDecodeError) as exc:
                bad.append(BadLine(number, raw, f"line {number}: {exc}"))
    return good, bad


def read_segment(path: Path) -> list[Article]:
    """Every article of a closed segment. Raises ValueError naming the line on any corrupt record."""
    articles, bad = read_records(path, lambda article: article)
    if bad:
        raise ValueError(f"{path.name}: {bad[0].error}")
    return articles


def set_aside_lines(root: Path, segment: Path, bad: list[BadLine]) -> Path:
    """Keep the bad lines of a segment whose other records load, byte for byte, in bad/<segment>.lines.jsonl:
    once repaired, that file can go back into ready/ (its name differs from the loaded segment's)."""
    target = bad_lines_path(root, segment)
    SpoolPaths(root).create()
    write_atomically(target, b"".join(line.raw for line in bad))
    return target


def bad_lines_path(root: Path, segment: Path) -> Path:
    return SpoolPaths(root).bad / (segment.name.removesuffix(SEGMENT_SUFFIX) + ".lines" + SEGMENT_SUFFIX)


_URL_FIELD = re.compile(r'"url"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _line_url(raw: bytes) -> str | None:
    """The URL of a damaged record, if it can still be read."""
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("url"), str):
        return data["url"]
    match = _URL_FIELD.search(text)
    if match:
        try:
            return json.loads(f'"{match.group(1)}"')
        except ValueError:
            pass
    return None


def set_aside_urls(root: Path, run_id: str) -> set[str] | None:
    """The URLs of a crawl run's records that were set aside (whole segments and bad lines in bad/), or
    None when one of them has no readable URL."""
    bad = SpoolPaths(root).bad
    if not run_id or not bad.is_dir():
        return set()
    urls: set[str] = set()
    for path in bad.iterdir():
        if not path.name.endswith(SEGMENT_SUFFIX) or f"-{run_id}-" not in path.name:
            continue
        with open(path, "rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue
                url = _line_url(raw)
                if url is None:
                    return None
                urls.add(url)
    return urls


def segment_run_id(segment: Path) -> str:
    """The crawl run that wrote a segment (names end in -<run_id>-<pid>-<random>.jsonl)."""
    # Read from the end: source names may contain '.' and '-', run ids neither.
    fields = segment.name.removesuffix(SEGMENT_SUFFIX).split("-")
    return fields[-3] if len(fields) >= 5 else ""


def _lock_if_orphaned(part: Path):
    """An open file of `part` holding its lock when its writer is gone (died, or closed it without
    publishing), else None. The writer holds a lock on its open segment for its whole life; the lock
    goes with the process, so a pid reused by another process does not keep the segment "alive"."""
    try:
        fh = open(part, "rb")
    except FileNotFoundError:
        return None  # published or recovered meanwhile
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Another recovery may have moved it on between our open and our lock.
        if os.fstat(fh.fileno()).st_ino != os.stat(part).st_ino:
            raise FileNotFoundError(part)
    except (BlockingIOError, FileNotFoundError):
        fh.close()
        return None
    return fh


def _open_parts(paths: SpoolPaths) -> list[Path]:
    if not paths.open.is_dir():
        return []
    return sorted(paths.open.glob("*" + SEGMENT_SUFFIX + ".part"))


def orphaned_segments(root: Path) -> list[tuple[Path, int, float]]:
    """Open segments of writers that are gone, without touching them: (segment, complete records, mtime)."""
    orphans = []
    for part in _open_parts(SpoolPaths(root)):
        fh = _lock_if_orphaned(part)
        if fh is None:
            continue
        with fh:
            records = sum(1 for line in fh if line.endswith(b"\n"))
            orphans.append((part, records, os.fstat(fh.fileno()).st_mtime))
    return orphans


def recover_orphans(root: Path) -> list[tuple[Path, int]]:
    """Close the open segments of writers that are gone (a crawl killed with SIGKILL): keep every complete
    line, drop a half-written last line, and move the segment into ready/. Returns (segment, records)."""
    paths = SpoolPaths(root).create()
    recovered = []
    for part in _open_parts(paths):
        fh = _lock_if_orphaned(part)
        if fh is None:
            continue
        with fh:  # held until the part file is gone, so two recoveries never both publish it
            data = fh.read()
            complete = data[: data.rfind(b"\n") + 1]
            if complete:
                final = paths.ready / part.name.removesuffix(".part")
                write_atomically(final, complete)
                recovered.append((final, complete.count(b"\n")))
            # A writer salvaging after a failed write renames it without the lock; its records are in ready/.
            part.unlink(missing_ok=True)
    for fresh in paths.open.glob("*" + SEGMENT_SUFFIX + ".part.new"):
        # A writer died between creating its segment and naming it: nothing was written to it yet. A young
        # one may be a live writer's between its open() and its flock(), which the lock alone cannot tell.
        fh = _lock_if_orphaned(fresh)
        if fh is not None:
            with fh:
                if os.fstat(fh.fileno()).st_mtime < time.time() - _FRESH_SEGMENT_GRACE:
                    fresh.unlink(missing_ok=True)
    return recovered


def set_aside(root: Path, segment: Path) -> Path:
    """Move an unreadable segment out of the loader's way, keeping it for inspection."""
    paths = SpoolPaths(root).create()
    target = paths.bad / segment.name
    os.replace(segment, target)
    return target
