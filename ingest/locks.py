"""The per-source crawl lock, taken by the daemon for each crawl child and by a foreground `newsingest crawl`:
a lock file under <data_dir>/locks (this machine) and, when the database answers, a session advisory lock
(every machine on the database). A source is crawled by one process at a time.

This module touches the lock directory and the database (one connection held while the lock is).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import psycopg
import structlog

from ingest.db import DatabaseUnavailable, connect
from ingest.tables.runs import try_crawl_lock

log = structlog.get_logger("newsingest.locks")

# Why a crawl was not started (the `crawl_skipped` reasons).
ALREADY_RUNNING = "already_running"  # on this machine (lock file)
RUNNING_ELSEWHERE = "running_elsewhere"  # on another machine sharing the database (advisory lock)

_RETRY_SECONDS = 0.5  # how often a waiting acquire tries the lock file again


class SourceLock:
    """Held while a source is crawled. acquire() then release(), from one thread."""

    def __init__(self, lock_dir: Path, source: str, dsn: str | None):
        """`dsn` None: the lock file alone (an embedded database serves this machine only)."""
        self.source = source
        self.dsn = dsn
        self.path = lock_dir / f"crawl-{source}.lock"
        lock_dir.mkdir(parents=True, exist_ok=True)
        self._file: int | None = None  # file descriptor
        self._conn: psycopg.Connection | None = None

    def acquire(self, stopping: threading.Event | None = None, wait: bool = False) -> str | None:
        """None when acquired, else why not: ALREADY_RUNNING or RUNNING_ELSEWHERE. With `wait`, waits for
        the lock file until it is free or `stopping` is set."""
        stopping = stopping or threading.Event()
        # A new open file each time: flock excludes other open files, not other threads using this one.
        # Read-only: flock needs no write access, so a lock file another user created (a foreground crawl
        # run with sudo) still works for the daemon's user.
        self._file = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or stopping.wait(_RETRY_SECONDS):
                    self._close_file()
                    return ALREADY_RUNNING
        if self.dsn is None:
            return None
        try:
            self._conn = connect(self.dsn, autocommit=True)
        except DatabaseUnavailable as exc:
            # A crawl never needs the database: run with the local lock alone and say so.
            log.warning("crawl_lock_local_only", source=self.source, error=str(exc))
            return None
        if not try_crawl_lock(self._conn, self.source):
            self.release()
            return RUNNING_ELSEWHERE
        return None

    @property
    def connection(self) -> psycopg.Connection | None:
        """The autocommit connection holding the advisory lock, while held: usable for the crawl's bookkeeping
        from the thread holding the lock (closing it would release the lock)."""
        return self._conn

    def wait_free(self, stopping: threading.Event) -> bool:
        """Wait, holding nothing, until no crawl of the source runs on this machine; True when `stopping`
        was set first."""
        if self.acquire(stopping, wait=True) is not None:
            return True
        self.release()
        return False

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ends the session, which releases its advisory locks
            self._conn = None
        self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            os.close(self._file)  # closing releases the flock
            self._file = None
