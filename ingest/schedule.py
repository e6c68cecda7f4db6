"""The daemon behind `newsingest run`: APScheduler jobs for crawls, loads, triggers and housekeeping.

- Each source is crawled on its interval or cron expression. With `crawl_engine = "shared"` (the default) every
  crawl runs in one long-running crawl engine process (crawler/engine.py, through ingest/engine_process.py),
  many at once, so a revisit costs milliseconds; the daemon restarts the engine if it dies. With "process",
  each crawl is a child process (`newsingest crawl SOURCE --no-load`). A source's crawl never overlaps
  itself (one job instance, and ingest/locks.py's lock file and PostgreSQL advisory lock, which
  foreground crawls take too; the daemon holds them for its crawls); missed runs coalesce into one.
- Loads run on their own interval; one load at a time per database (advisory lock). A database
  that is down makes loads fail and retry with backoff while crawls go on into the spool.
- `newsingest trigger SOURCE` requests reach the daemon by LISTEN/NOTIFY, with polling as fallback.
- SIGTERM/SIGINT: stop scheduling, give running crawls the grace period, then stop them; run a final
  load; exit 0. A second signal stops at once; closed spool segments are kept for the next start.
- With `[daemon] http` set, the status page /, /metrics, /healthz and /readyz (ingest/monitoring.py,
  ingest/status_page.py); each ended crawl's run summary and each load feed the metrics.
- When a crawl ends, its run row is closed at once from its run summary (the crawl's own, else the daemon's
  fallback, which never overrides the crawl's); the next load records it again, unchanged, and judges drift.
- A heartbeat row per daemon (ingest/tables/daemons.py) says it is alive and what it schedules, for
  `newsingest status`; it is removed on a clean stop, after the trigger watcher and the heartbeat have stopped.

This module touches child processes, the data directory (spool, lock files) and the database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, JobExecutionEvent, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.spool import SpoolPaths, write_run_summary
from ingest.config import Config, Source
from ingest.db import DatabaseUnavailable, connect, resolve_dsn
from ingest.engine_process import EngineProcess, RunTicket
from ingest.failures import failure_reasons
from ingest.load import load_spool, recover_orphan_segments
from ingest.locks import SourceLock
from ingest.logs import error_text
from ingest.migrate import migrate
from ingest.monitoring import DaemonMetrics, MonitoringServer, Probes, format_address, monitoring_app, read_run_summary
from ingest.tables import daemons as daemons_sql
from ingest.tables import runs as runs_sql
from ingest.tables.drift import current_drifts

log = structlog.get_logger("newsingest.daemon")

_MAX_LOAD_BACKOFF = 600.0  # seconds
_STOP_WAIT = 15.0  # seconds a crawl gets to close its spool after SIGTERM before SIGKILL
# Seconds past a run's time budget (max_crawl_seconds) after which the daemon stops it, then kills the engine.
_OVERDUE_MARGIN = 120.0
_BOOKKEEPING_WAIT = 10.0  # seconds shutdown waits for ended crawls' run summaries before the final load
_MAX_HEARTBEAT = 30.0  # seconds between heartbeats at most; less for sources crawled more often
_MIN_HEARTBEAT = 1.0
_WATCH_SLICE = 0.5  # seconds the trigger watcher waits for a NOTIFY before it looks whether to stop
_THREAD_STOP_WAIT = 15.0  # seconds shutdown waits for the watcher and the heartbeat (a connect times out in 10)


class Daemon:
    def __init__(self, config: Config, *, log_format: str, log_level: str, config_path: str | None):
        self.config = config
        self.log_format = log_format
        self.log_level = log_level
        self.config_path = config_path
        self.daemon_id = f"{socket.gethostname()}:{os.getpid()}"
        self.started_at = datetime.now(UTC)
        self.dsn = resolve_dsn(config)
        self.stopping = threading.Event()
        self.forced = threading.Event()
        self._signals = 0
        # Running crawls by run id: a child process each, or the engine's ticket for each.
        self._children: dict[str, subprocess.Popen | RunTicket] = {}
        self._children_lock = threading.Lock()
        self._crawl_slots = threading.BoundedSemaphore(config.daemon.max_concurrent_crawls)
        self._load_mutex = threading.Lock()
        self._local = threading.local()  # per job thread: `conn`, its crawl lock's connection
        self._load_failures = 0
        self._failures: dict[str, int] = {}
        workers = config.daemon.max_concurrent_crawls + len(config.sources) + 4
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_listener(self._on_skipped_run, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        self._scheduled_for: dict[str, datetime] = {}  # job id -> the run time it was last submitted for
        self.engine = (EngineProcess(self._engine_command(), self._child_env(), sys.stdout, self.stopping)
                       if config.daemon.crawl_engine == "shared" else None)
        self.metrics = DaemonMetrics(config)
        # For /readyz: whether the crawl engine runs (with a process per crawl there is none to be down).
        self.engine_alive: Callable[[], bool] = self.engine.alive if self.engine is not None else (lambda: True)
        self.probes = Probes(self.dsn, stopping=self.stopping, scheduler_running=lambda: self.scheduler.running,
                             engine_alive=lambda: self.engine_alive())
        self._http: MonitoringServer | None = None
        # The threads that hold database connections of their own: stopped before the final load and exit,
        # so that neither reports a database closing under it (an embedded server stops when we exit).
        self._threads_stop = threading.Event()
        self._beat_now = threading.Event()  # a crawl ended: its source's next run changed
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- lifecycle

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        if self.config.daemon.http and not self._start_http():
            return 1
        spool = SpoolPaths(self.config.spool_dir).create()
        self._recover_orphans()
        self._migrate()
        self._best_effort_db(self._restore_drift_gauges)
        if self.engine is not None:
            self.engine.start()  # now: the first crawls need not wait for it
        now = datetime.now(UTC)
        for source in self.config.sources:
            self.scheduler.add_job(
                self._crawl_job, self._trigger_for(source), args=[source.name, "schedule"],
                id=f"crawl:{source.name}", name=f"crawl {source.name}", next_run_time=now,
            )
        self.scheduler.add_job(
            self._load_job, IntervalTrigger(seconds=self.config.load_interval, timezone=UTC),
            id="load", name="load", next_run_time=now + timedelta(seconds=min(5.0, self.config.load_interval)),
        )
        self.scheduler.add_job(
            self._housekeeping_job, IntervalTrigger(seconds=self.config.daemon.housekeeping_interval, timezone=UTC),
            id="housekeeping", name="housekeeping", next_run_time=now + timedelta(seconds=60),
        )
        self.scheduler.start()
        for source in self.config.sources:
            self._publish_next_run(source.name)
        for target, name in ((self._watch_triggers, "trigger-watcher"), (self._heartbeat, "heartbeat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info(
            "daemon_started", daemon_id=self.daemon_id, sources=[s.name for s in self.config.sources],
            load_interval=self.config.load_interval, spool=str(spool.root),
            max_concurrent_crawls=self.config.daemon.max_concurrent_crawls,
            crawl_engine=self.config.daemon.crawl_engine,
        )
        while not self.stopping.wait(0.5):
            self.probes.beat()
        try:
            return self._shutdown()
        finally:
            if self._http is not None:
                self._http.stop()

    def _start_http(self) -> bool:
        """The monitoring endpoints; False (the daemon does not start) when they cannot listen."""
        from ingest.status_page import StatusPage  # the page's modules: only with the listener on

        address = format_address(self.config.daemon.http)
        try:
            self._http = MonitoringServer.start(
                self.config.daemon.http,
                monitoring_app(self.metrics.registry, self.probes, StatusPage(self.config, self.dsn)))
        except OSError as exc:
            log.error("http_server_failed", address=address, error=exc.strerror or str(exc))
            return False
        log.info("http_server_started", address=address)
        return True

    def _migrate(self) -> None:
        try:
            with connect(self.dsn, autocommit=True) as conn:
                applied = migrate(conn)
            if applied:
                log.info("schema_migrated", applied=applied)
        except (DatabaseUnavailable, psycopg.Error) as exc:
            # Crawls need no database; loads will retry (and migrate) when it is back.
            log.error("database_unavailable", error=error_text(exc))

    def _restore_drift_gauges(self, conn) -> None:
        """Drifts found before this start stay visible in /metrics until a run ends them."""
        for source, drifts in current_drifts(conn, [s.name for s in self.config.sources]).items():
            for drift in drifts:
                self.metrics.set_drift(source, drift.measure, True)

    def _on_signal(self, signum, _frame) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            log.info("shutdown_requested", signal=name, grace_period=self.config.daemon.grace_period)
            self.stopping.set()
        else:
            log.warning("shutdown_forced", signal=name)
            self.forced.set()
            self._signal_children(signal.SIGKILL)

    def _shutdown(self) -> int:
        self.scheduler.pause()
        deadline = time.monotonic() + self.config.daemon.grace_period
        while self._running_children() and time.monotonic() < deadline and not self.forced.is_set():
            time.sleep(0.2)
        if self._running_children() and not self.forced.is_set():
            log.warning("crawls_stopping", runs=list(self._running_children()), reason="grace_period_over")
            # Scrapy's graceful stop: the spider closes and the pipeline closes its spool segment.
            self._signal_children(signal.SIGTERM)
            stop_deadline = time.monotonic() + _STOP_WAIT
            while self._running_children() and time.monotonic() < stop_deadline and not self.forced.is_set():
                time.sleep(0.2)
            self._signal_children(signal.SIGKILL)
        if self.engine is not None and not self.forced.is_set():
            self.engine.stop_all()  # no crawl left: it exits at once
            if not self.engine.wait_exit(_STOP_WAIT):
                self.engine.kill()
        # The final load must find every ended crawl's run summary, or its row stays 'running'.
        bookkeeping_deadline = time.monotonic() + _BOOKKEEPING_WAIT
        while self._unfinished_runs() and time.monotonic() < bookkeeping_deadline and not self.forced.is_set():
            time.sleep(0.1)
        # No waiting for job threads: their children are gone, and a job calling into the scheduler
        # while shutdown(wait=True) holds its lock would deadlock. The final load takes the load mutex.
        self.scheduler.shutdown(wait=False)
        self._stop_threads()
        if self.forced.is_set():
            log.info("daemon_stopped", daemon_id=self.daemon_id, final_load=False)
            return 1
        self._recover_orphans()
        self._load_job(final=True)
        self._best_effort_db(lambda c: daemons_sql.remove(c, self.daemon_id))
        log.info("daemon_stopped", daemon_id=self.daemon_id, final_load=True)
        return 0

    def _stop_threads(self) -> None:
        self._threads_stop.set()
        self._beat_now.set()
        deadline = time.monotonic() + (0.0 if self.forced.is_set() else _THREAD_STOP_WAIT)
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _running_children(self) -> dict[str, subprocess.Popen | RunTicket]:
        with self._children_lock:
            return {run_id: c for run_id, c in self._children.items()
                    if (not c.done.is_set() if isinstance(c, RunTicket) else c.poll() is None)}

    def _unfinished_runs(self) -> bool:
        """Crawls started whose run summary is not yet written (running, or just ended)."""
        with self._children_lock:
            return bool(self._children)

    def _signal_children(self, signum: int) -> None:
        """SIGTERM: every crawl stops gracefully; SIGKILL: at once."""
        if self.engine is not None:
            if signum == signal.SIGKILL:
                self.engine.kill()
            else:
                self.engine.stop_all()
            return
        for process in self._running_children().values():
            try:
                process.send_signal(signum)
            except ProcessLookupError:
                pass

    def _trigger_for(self, source: Source):
        if source.cron:
            return CronTrigger.from_crontab(source.cron, timezone=UTC)
        return IntervalTrigger(seconds=source.interval, timezone=UTC)

    def _on_skipped_run(self, event: JobExecutionEvent) -> None:
        log.info("run_coalesced", job=event.job_id, reason="previous_run_still_running")

    def _on_submitted(self, event: JobSubmissionEvent) -> None:
        if event.scheduled_run_times:
            self._scheduled_for[event.job_id] = event.scheduled_run_times[-1]

    def _dispatched(self, source_name: str, run_id: str, reason: str) -> None:
        """The crawl is handed over: how late it starts against its schedule (waiting for a crawl slot, for
        its source's lock, for the scheduler) is what an operator with many sources watches."""
        scheduled = self._scheduled_for.get(f"crawl:{source_name}") if reason == "schedule" else None
        late = round((datetime.now(UTC) - scheduled).total_seconds(), 3) if scheduled is not None else None
        log.info("crawl_dispatched", source=source_name, run_id=run_id, reason=reason, late_seconds=late)

    # ---------------------------------------------------------------- crawls

    def _crawl_job(self, source_name: str, reason: str) -> None:
        if self.stopping.is_set():
            return
        published = False
        lock_dir = self.config.data_dir / "locks"
        try:
            # A triggered crawl waits for a running one of its source (a foreground crawl, say) before it takes
            # a crawl slot, so the other sources go on meanwhile; a scheduled one is coalesced.
            if reason == "trigger" and SourceLock(lock_dir, source_name, None).wait_free(self.stopping):
                return
        except OSError as exc:
            self._lock_failed(source_name, exc)
            return
        while not self._crawl_slots.acquire(timeout=0.5):
            if self.stopping.is_set():
                return
        lock = SourceLock(lock_dir, source_name, self.dsn)
        try:
            if self.stopping.is_set():
                return  # the slot was freed by a crawl ending at shutdown: no new start
            try:
                refused = lock.acquire(self.stopping, wait=reason == "trigger")
            except OSError as exc:
                self._lock_failed(source_name, exc)
                return
            if refused:
                if not self.stopping.is_set():
                    log.info("crawl_skipped", source=source_name, reason=refused)
                return
            # The lock's connection carries this crawl's bookkeeping: no connection of its own per statement.
            self._local.conn = lock.connection
            try:
                if self.engine is not None:
                    self._run_in_engine(source_name, reason)
                else:
                    self._run_child(source_name, reason)
                if not self.stopping.is_set():
                    self._publish_next_run(source_name)
                    published = True
            finally:
                self._local.conn = None
                lock.release()
        finally:
            self._crawl_slots.release()
            if not self.stopping.is_set() and not published:  # the scheduler may be shutting down: no call into it
                self._publish_next_run(source_name)

    def _lock_failed(self, source_name: str, exc: OSError) -> None:
        """The lock file cannot be opened (permissions, a full or read-only disk): no crawl, and a failure
        counted towards source_unhealthy."""
        log.error("crawl_lock_failed", source=source_name, error=str(exc))
        self._count_failure(source_name, True)

    def _cli_command(self) -> list[str]:
        command = [sys.executable, "-m", "ingest.cli", "--log-format", self.log_format, "--log-level", self.log_level]
        if self.config_path:
            command += ["--config", self.config_path]
        return command

    def _child_command(self, source_name: str, run_id: str) -> list[str]:
        return self._cli_command() + ["crawl", source_name, "--no-load", "--run-id", run_id,
                                      "--daemon-id", self.daemon_id]

    def _engine_command(self) -> list[str]:
        return self._cli_command() + ["engine", "--daemon-id", self.daemon_id]

    def _child_env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.dsn, "NEWSINGEST_DATA_DIR": str(self.config.data_dir)}

    def _run_in_engine(self, source_name: str, reason: str) -> None:
        run_id = uuid.uuid4().hex
        started_at = datetime.now(UTC)
        with self._children_lock:
            if self.stopping.is_set():
                return
            ticket = self.engine.submit(source_name, run_id)
            self._children[run_id] = ticket
        try:
            self._dispatched(source_name, run_id, reason)
            if ticket.outcome == "running":
                # As for a child process: a row only for a crawl that started.
                self._best_effort_db(
                    lambda c: runs_sql.crawl_run_started(c, run_id, source_name, started_at, self.daemon_id))
            self._wait_for_engine(ticket, self.config.source(source_name).max_crawl_seconds)
            summary = ticket.summary
            if summary is None:
                log.error("crawl_lost", source=source_name, run_id=run_id, reason=ticket.outcome, error=ticket.error)
                self._write_fallback(source_name, run_id, started_at, ticket.outcome, ticket.error or ticket.outcome)
        finally:
            # Only once its end is recorded: shutdown's final load waits for the runs listed here.
            with self._children_lock:
                self._children.pop(run_id, None)
        self._crawl_ended(source_name, run_id, started_at, summary or read_run_summary(self.config.spool_dir, run_id)
                          or {"run_id": run_id, "source": source_name, "status": "failed",
                              "finish_reason": ticket.outcome})
        failed = summary is None or summary.get("status") != "finished"
        self._count_failure(source_name, failed and not self.stopping.is_set())

    def _wait_for_engine(self, ticket: RunTicket, budget: float) -> None:
        """Until the engine ends the run. A run its engine does not end within its time budget and a margin
        (an engine whose reactor is stuck) is stopped, and past _STOP_WAIT more the engine is killed: its
        runs end as engine_died, and a new engine takes the next crawls."""
        if ticket.done.wait(budget + _OVERDUE_MARGIN):
            return
        log.error("crawl_overdue", source=ticket.source, run_id=ticket.run_id, seconds=round(budget + _OVERDUE_MARGIN))
        self.engine.stop_run(ticket.run_id)
        if not ticket.done.wait(_STOP_WAIT):
            self.engine.kill()
        ticket.done.wait()  # the engine's reader ends it as soon as the engine has exited

    def _write_fallback(self, source_name: str, run_id: str, started_at: datetime, finish_reason: str,
                        error: str) -> None:
        """Closes the run row of a crawl that ended without its own summary (its process died, or failed before
        recording its run). It never overrides the crawl's own summary, whichever the loader reads first."""
        if (SpoolPaths(self.config.spool_dir).runs / f"{run_id}.json").exists():  # the crawl's own says it all
            return
        write_run_summary(self.config.spool_dir, {
            "run_id": run_id, "source": source_name, "started_at": started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(), "status": "failed", "finish_reason": finish_reason,
            "daemon_id": self.daemon_id, "error": error, "errors": {finish_reason: 1}, "fallback": True,
        })

    def _run_child(self, source_name: str, reason: str) -> None:
        run_id = uuid.uuid4().hex
        started_at = datetime.now(UTC)
        env = self._child_env()
        with self._children_lock:
            if self.stopping.is_set():
                return
            # Child logs join the daemon's stream: its stderr is our stdout; its summary line is not needed.
            process = subprocess.Popen(
                self._child_command(source_name, run_id), stdout=subprocess.DEVNULL, stderr=sys.stdout,
                env=env, start_new_session=True,
            )
            self._children[run_id] = process
        try:
            self._dispatched(source_name, run_id, reason)
            self._watch_child(source_name, run_id, reason, started_at, process)
        finally:
            with self._children_lock:
                self._children.pop(run_id, None)

    def _watch_child(self, source_name: str, run_id: str, reason: str, started_at: datetime,
                     process: subprocess.Popen) -> None:
        """From a started crawl process to its run summary in the spool (the child's own, else ours)."""
        log.info("crawl_process_started", source=source_name, run_id=run_id, pid=process.pid, reason=reason)
        # Only now: a row for a crawl that never started would stay 'running' until housekeeping abandons it.
        # If the child's summary was loaded first, this does nothing.
        self._best_effort_db(lambda c: runs_sql.crawl_run_started(c, run_id, source_name, started_at, self.daemon_id))
        code = process.wait()
        log.info("crawl_process_finished", source=source_name, run_id=run_id, exit_status=code,
                 seconds=round((datetime.now(UTC) - started_at).total_seconds(), 3))
        if code == 0:
            failed = False
        else:
            failed = True
            if code != 1:  # 1: the run finished but not cleanly, and said so in its own summary
                log.error("crawl_process_failed", source=source_name, run_id=run_id, exit_status=code)
            # A child that died, or failed before recording its run, leaves the run row 'running'.
            finish_reason = "process_died" if code != 1 else "process_failed"
            self._write_fallback(source_name, run_id, started_at, finish_reason,
                                 f"crawl process exited with status {code}")
        # None when a load took it first: _load_job reports it to the metrics then.
        summary = read_run_summary(self.config.spool_dir, run_id)
        self._crawl_ended(source_name, run_id, started_at, summary or {
            "status": "finished" if code == 0 else "failed",
            "finish_reason": "finished" if code == 0 else "process_died" if code != 1 else "process_failed"},
            recorded=summary is not None)
        self._count_failure(source_name, failed and not self.stopping.is_set())

    def _crawl_ended(self, source_name: str, run_id: str, started_at: datetime, summary: dict,
                     recorded: bool = True) -> None:
        """One event per crawl, whichever way it ran, once the daemon has recorded its end; its run summary
        (crawler/runner.py's dict, or the daemon's fallback) closes its run row at once and feeds the metrics
        when `recorded`."""
        if recorded:
            self._record_run(summary)
        if not self.stopping.is_set():  # (stopping, the row is about to go)
            # Its source's next run, for `newsingest status`, as soon as the run is visible there.
            self._best_effort_db(self._beat)
        errors = summary.get("errors")
        log.info("crawl_ended", source=source_name, run_id=run_id, status=summary.get("status"),
                 finish_reason=summary.get("finish_reason"),
                 failures=failure_reasons(errors if isinstance(errors, dict) else {}) or None,
                 seconds=round((datetime.now(UTC) - started_at).total_seconds(), 3))
        if recorded:
            self.metrics.crawl_ended(summary)

    def _record_run(self, summary: dict) -> None:
        """The run's outcome in crawl_runs now, not at the next load (which records it again, the same, and
        judges drift). upsert_crawl_run keeps a fallback from overriding a row the crawl's own summary closed."""
        try:
            run = runs_sql.CrawlRun.from_dict(summary)
        except (KeyError, ValueError, TypeError):
            return  # no complete summary (a load took it first): the load recorded the run
        self._best_effort_db(lambda c: runs_sql.upsert_crawl_run(c, run))

    def _count_failure(self, source_name: str, failed: bool) -> None:
        self._failures[source_name] = self._failures.get(source_name, 0) + 1 if failed else 0
        count = self._failures[source_name]
        if count >= self.config.daemon.unhealthy_after:
            log.warning("source_unhealthy", source=source_name, consecutive_failures=count)

    def _publish_next_run(self, source_name: str) -> None:
        job = self.scheduler.get_job(f"crawl:{source_name}")
        next_run = job.next_run_time if job is not None else None
        self._best_effort_db(lambda c: runs_sql.publish_schedule(c, source_name, next_run, self.daemon_id))
        self._beat_now.set()

    # ---------------------------------------------------------------- heartbeat

    def heartbeat_seconds(self) -> float:
        """Often enough that a source's next run is seldom stale, bounded both ways."""
        intervals = [s.interval for s in self.config.sources if not s.cron]
        return max(_MIN_HEARTBEAT, min([_MAX_HEARTBEAT, self.config.load_interval, *intervals]))

    def _schedule(self) -> list[daemons_sql.ScheduledSource]:
        scheduling = self.scheduler.running and not self.stopping.is_set()
        entries = []
        for source in self.config.sources:
            job = self.scheduler.get_job(f"crawl:{source.name}") if scheduling else None
            entries.append(daemons_sql.ScheduledSource(
                source.name, job.next_run_time if job is not None else None,
                None if source.cron else float(source.interval), source.cron))
        return entries

    def _beat(self, conn: psycopg.Connection) -> None:
        daemons_sql.beat(conn, daemons_sql.DaemonBeat(self.daemon_id, socket.gethostname(), os.getpid(),
                                                      self.started_at, self.heartbeat_seconds(), self._schedule()))

    def _heartbeat(self) -> None:
        """The daemon's row in `daemons`, every heartbeat_seconds and when a crawl ends, on a connection of its
        own; one warning when the database goes away, one info line when it is back."""
        interval = self.heartbeat_seconds()
        failing = False
        conn: psycopg.Connection | None = None
        first = True
        try:
            while not self._threads_stop.is_set():
                try:
                    if conn is None or conn.closed or conn.broken:
                        conn = connect(self.dsn, autocommit=True)
                    if first:
                        daemons_sql.forget_dead(conn)
                        first = False
                    self._beat(conn)
                    if failing:
                        log.info("heartbeat_recovered", daemon_id=self.daemon_id)
                        failing = False
                except (DatabaseUnavailable, psycopg.Error) as exc:
                    if self._threads_stop.is_set():
                        return
                    if not failing:
                        log.warning("heartbeat_failed", daemon_id=self.daemon_id, error=str(exc).strip(),
                                    retry_in=interval)
                        failing = True
                    if conn is not None:
                        conn.close()
                        conn = None
                self._beat_now.wait(interval)
                self._beat_now.clear()
        finally:
            if conn is not None:
                conn.close()

    # ---------------------------------------------------------------- loads

    def _load_job(self, final: bool = False) -> None:
        with self._load_mutex:
            try:
                with connect(self.dsn, autocommit=True) as conn:
                    migrate(conn)
                    result = load_spool(conn, self.config.spool_dir, wait=final, daemon_id=self.daemon_id)
            except (DatabaseUnavailable, psycopg.Error) as exc:
                self._load_failures += 1
                retry_in = min(self.config.load_interval * 2 ** (self._load_failures - 1), _MAX_LOAD_BACKOFF)
                log.error("load_failed", error=error_text(exc), attempt=self._load_failures, retry_in=retry_in)
                self.metrics.load_failed()
                if not final and not self.stopping.is_set():
                    self.scheduler.modify_job("load", next_run_time=datetime.now(UTC) + timedelta(seconds=retry_in))
                return
            if result is None:
                log.info("load_skipped", reason="another_load_running")
                return
            if self._load_failures:
                log.info("load_recovered", after_failures=self._load_failures)
            self._load_failures = 0
            self.metrics.load_finished(inserted=result.inserted, updated=result.updated,
                                       duplicates=result.duplicates, seconds=result.seconds)
            for summary in result.run_summaries:
                self.metrics.crawl_ended(summary)  # a run whose summary a load took before the daemon read it
            for drift in result.drifts:
                self.metrics.set_drift(drift.source, drift.measure, drift.active)
            log.info(
                "load_finished", segments=result.segments, records=result.records, inserted=result.inserted,
                updated=result.updated, duplicates=result.duplicates, bad_segments=len(result.bad_segments),
                bad_lines=sum(len(lines) for lines in result.bad_lines.values()),
                crawl_runs=result.crawl_runs, seconds=round(result.seconds, 3), final=final,
            )

    # ---------------------------------------------------------------- triggers

    def _watch_triggers(self) -> None:
        sources = [s.name for s in self.config.sources]
        poll = self.config.daemon.trigger_poll_interval
        while not self.stopping.is_set():
            try:
                with connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {runs_sql.CRAWL_REQUESTS_CHANNEL}")
                    while not self.stopping.is_set():
                        for request_id, source in runs_sql.claim_crawl_requests(conn, sources, self.daemon_id):
                            self._start_triggered(request_id, source)
                        self._wait_for_notice(conn, poll)
            except (DatabaseUnavailable, psycopg.Error) as exc:
                if self.stopping.is_set():
                    return  # the database going away as we stop is no outage
                log.warning("trigger_watch_failed", error=str(exc).strip(), retry_in=poll)
                self.stopping.wait(poll)

    def _wait_for_notice(self, conn: psycopg.Connection, poll: float) -> None:
        """Until a NOTIFY, or `poll` seconds to catch requests whose notice was missed; in short slices, so that
        the watcher ends (and closes its connection) within one when the daemon stops."""
        deadline = time.monotonic() + poll
        while not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for _notice in conn.notifies(timeout=min(_WATCH_SLICE, left), stop_after=1):
                return

    def _start_triggered(self, request_id: int, source: str) -> None:
        log.info("crawl_triggered", source=source, request_id=request_id)
        self.scheduler.add_job(
            self._crawl_job, args=[source, "trigger"], id=f"trigger:{source}:{request_id}",
            name=f"triggered crawl {source}",
        )

    # ---------------------------------------------------------------- housekeeping

    def _recover_orphans(self) -> None:
        # Also done by every load; here too so that a database that is down does not hold them back.
        recover_orphan_segments(self.config.spool_dir)

    def _housekeeping_job(self) -> None:
        self._recover_orphans()
        keep = self.config.daemon.keep_bad_segments
        removed = 0
        for path in SpoolPaths(self.config.spool_dir).bad.iterdir():
            if time.time() - path.stat().st_mtime > keep:
                path.unlink(missing_ok=True)
                removed += 1
        counts = {"bad_segments_removed": removed}

        def prune(conn):
            counts["runs_abandoned"] = runs_sql.abandon_stale_runs(conn, self.config.daemon.stale_run_after)
            counts["requests_pruned"] = runs_sql.prune_crawl_requests(conn, keep)

        self._best_effort_db(prune)
        log.info("housekeeping_finished", **counts)

    # ---------------------------------------------------------------- helpers

    def _best_effort_db(self, action) -> None:
        """Bookkeeping that must never stop a crawl: skipped, with a warning, when the database is down. On the
        connection of the crawl lock this thread holds, if any."""
        held = getattr(self._local, "conn", None)
        if held is not None and not held.closed:
            try:
                action(held)
                return
            except psycopg.OperationalError:
                pass  # the server restarted under the lock's connection: a new one may work
        try:
            with connect(self.dsn, autocommit=True) as conn:
                action(conn)
        except (DatabaseUnavailable, psycopg.Error) as exc:
            log.warning("bookkeeping_skipped", error=str(exc).strip())
