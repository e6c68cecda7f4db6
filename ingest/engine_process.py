"""The daemon's handle on its crawl engine (crawler/engine.py): starts the engine process, hands it crawls,
reads back when each started and finished, and restarts it when it dies. A run the engine held when it died
ends as `engine_died`; its spool segment, left open, is recovered by the next load (crawler/spool.py).

This module touches the engine's child process only; the daemon (ingest/schedule.py) keeps the locks, the
crawl slots and the run rows.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import IO

import structlog

log = structlog.get_logger("newsingest.daemon")

_RESTART_BACKOFF = (1.0, 60.0)  # seconds before a dead engine is started again: first, longest
_MAX_LINE_BYTES = 1024 * 1024  # an engine message longer than this is not one of ours


@dataclass(slots=True, eq=False)
class RunTicket:
    """One crawl handed to the engine, until it ends: `summary` is the engine's run summary, or None when the
    run ended without one (`outcome` then says why: rejected, engine_died)."""

    source: str
    run_id: str
    process: subprocess.Popen | None = None  # the engine holding it: its reader ends it if that engine dies
    done: threading.Event = field(default_factory=threading.Event)
    outcome: str = "running"  # running | finished | rejected | engine_died
    summary: dict | None = None
    error: str | None = None

    def end(self, outcome: str, summary: dict | None = None, error: str | None = None) -> None:
        if self.done.is_set():
            return
        self.outcome, self.summary, self.error = outcome, summary, error
        self.done.set()


class EngineProcess:
    def __init__(self, command: list[str], env: dict[str, str], log_stream: IO, stopping: threading.Event):
        self._command = command
        self._env = env
        self._log_stream = log_stream
        self._stopping = stopping
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._tickets: dict[str, RunTicket] = {}
        self._deaths = 0  # in a row, without a crawl finishing in between: the restart backoff
        self._restart_at = 0.0
        self.restarts = 0

    # ------------------------------------------------------------ daemon side

    def start(self) -> None:
        with self._lock:
            self._ensure_started()

    def alive(self) -> bool:
        process = self._process
        return process is not None and process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def running(self) -> list[str]:
        with self._lock:
            return list(self._tickets)

    def submit(self, source: str, run_id: str) -> RunTicket:
        ticket = RunTicket(source, run_id)
        with self._lock:
            if not self._ensure_started():
                ticket.end("engine_died", error="the crawl engine is restarting after a failure")
                return ticket
            ticket.process = self._process
            self._tickets[run_id] = ticket
            if not self._send({"op": "crawl", "source": source, "run_id": run_id}):
                self._tickets.pop(run_id, None)
                ticket.end("engine_died", error="the crawl engine could not be reached")
        return ticket

    def stop_run(self, run_id: str) -> None:
        """That crawl stops gracefully (an overdue one)."""
        with self._lock:
            self._send({"op": "stop", "run_id": run_id})

    def stop_all(self) -> None:
        """Every crawl stops gracefully (Scrapy's close, spool segments closed); then the engine exits."""
        with self._lock:
            self._send({"op": "shutdown"})

    def kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    def wait_exit(self, timeout: float) -> bool:
        process = self._process
        if process is None:
            return True
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    # ------------------------------------------------------------ internals

    def _ensure_started(self) -> bool:
        """Called with the lock held. False while a dead engine waits out its restart backoff."""
        if self.alive():
            return True
        if self._stopping.is_set() or time.monotonic() < self._restart_at:
            return False
        restarted = self._process is not None
        try:
            # Its logs join the daemon's stream (stderr to our stdout); its standard output is the protocol.
            process = subprocess.Popen(
                self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log_stream,
                env=self._env, start_new_session=True,
            )
        except OSError as exc:  # no memory for a fork, too many processes: try again later
            self._deaths += 1
            self._restart_at = time.monotonic() + self._backoff()
            log.error("crawl_engine_start_failed", error=str(exc), restart_in=round(self._backoff(), 1))
            return False
        self._process = process
        if restarted:
            self.restarts += 1
        log.info("crawl_engine_started", pid=self._process.pid, restart=restarted)
        threading.Thread(target=self._read, args=(self._process,), name="engine-reader", daemon=True).start()
        return True

    def _send(self, message: dict) -> bool:
        process = self._process
        if process is None or process.stdin is None:
            return False
        try:
            process.stdin.write((json.dumps(message) + "\n").encode())
            process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def _backoff(self) -> float:
        return min(_RESTART_BACKOFF[0] * 2 ** max(0, self._deaths - 1), _RESTART_BACKOFF[1])

    def _read(self, process: subprocess.Popen) -> None:
        """One engine's messages, until it exits; then its runs end as engine_died, whichever engine runs now."""
        try:
            self._dispatch(process)
        except Exception as exc:  # a reader gone would leave the engine's runs waiting for good: end the engine
            log.error("crawl_engine_bad_message", error=f"{type(exc).__name__}: {str(exc)[:200]}")
            process.kill()
        code = process.wait()
        with self._lock:
            lost = [ticket for ticket in self._tickets.values() if ticket.process is process]
            for ticket in lost:
                del self._tickets[ticket.run_id]
            if not self._stopping.is_set():
                self._deaths += 1
                self._restart_at = time.monotonic() + self._backoff()
        for ticket in lost:
            ticket.end("engine_died", error=f"the crawl engine exited with status {code}")
        if self._stopping.is_set():
            return
        log.error("crawl_engine_died", exit_status=code, runs=[t.run_id for t in lost],
                  restart_in=round(self._restart_at - time.monotonic(), 1))
        if self._stopping.wait(max(0.0, self._restart_at - time.monotonic())):
            return
        with self._lock:
            self._ensure_started()  # nothing to do when a crawl handed over meanwhile started one

    def _dispatch(self, process: subprocess.Popen) -> None:
        for raw in iter(lambda: process.stdout.readline(_MAX_LINE_BYTES), b""):
            if not raw.endswith(b"\n") and len(raw) >= _MAX_LINE_BYTES:
                raise ValueError(f"a message longer than {_MAX_LINE_BYTES} bytes")
            try:
                message = json.loads(raw)
                event, run_id = message["event"], str(message.get("run_id"))
            except (ValueError, KeyError, TypeError):
                log.warning("crawl_engine_bad_message", line=raw[:200].decode("utf-8", "replace"))
                continue
            if event in ("finished", "rejected"):
                with self._lock:
                    ticket = self._tickets.pop(run_id, None)
                    if event == "finished":
                        self._deaths = 0
                if ticket is None:
                    continue
                summary = message.get("summary")
                if event == "rejected":
                    ticket.end("rejected", error=str(message.get("error")))
                elif isinstance(summary, dict):
                    ticket.end("finished", summary)
                else:  # the engine could not write the run's summary: the daemon's fallback records the run
                    ticket.end("run_summary_failed", error="the crawl engine could not record the run")
