"""``mediawatch schedule``: the long-running service that crawls every source on its schedule.

How it works:

* **One APScheduler 3.x job per source** (job id = source id), trigger from
  :func:`scheduler.timing.trigger_for`, ``max_instances=1`` (a source never overlaps
  itself: a slot that comes while the previous crawl still runs is skipped and logged),
  ``coalesce=True`` (slots missed while the process was stalled run once), and
  ``misfire_grace_time`` from ``[crawl] misfire_grace``.
* **A BackgroundScheduler, not a BlockingScheduler**: the main thread stays ours. Python
  runs signal handlers only in the main thread, and SIGHUP (reload) and SIGTERM (stop) must
  add, remove and pause jobs; doing that from our own loop, never from inside APScheduler's
  loop or from a signal handler, keeps it simple and race-free. Handlers only set flags.
* **Each crawl is a subprocess** (``python -m scheduler.cli ... crawl --scheduled ID``):
  the Twisted reactor cannot restart in one process, and a crash or a hang stays in its
  process. It runs in a session of its own, so a Ctrl-C in the terminal reaches the service
  only, which then stops the crawls in order. Its output is appended to
  ``<data>/logs/runs/<source>-YYYYMMDD.log``.
* **Time limit** (``[crawl] run_timeout``): SIGTERM to the crawl process (Scrapy closes the
  spider and its WARC files), :data:`KILL_GRACE` seconds, then SIGKILL to its whole process
  group (the ingest worker processes too). SIGTERM goes to the crawl process only, since
  its workers are its business while it shuts down cleanly.
* **The run log is the state.** A crawl logs its own row in ``runs`` as ``running`` when it
  starts and completes it when it finishes; a crawl that timed out, exited non-zero, was
  killed or was interrupted by a stop is logged here as ``failed`` with ``extra.reason``
  and ``extra.log`` (its own row amended when it wrote one). When the service and its
  crawls are killed together (a cgroup kill), nobody completes the rows: at start the
  service marks every ``running`` row whose process is gone ``failed``, reason
  ``interrupted`` (:meth:`archive.store.db.Archive.fail_interrupted_runs`). At start, and
  for a source whose schedule changed, :func:`scheduler.timing.plan_start` reads the last
  run's start from that log: a run missed while the service was down runs once.
* **SIGHUP** re-reads the sources file: new sources scheduled, removed ones dropped,
  changed schedules rescheduled, ``[crawl]`` values applied to the next runs. A bad file
  is logged and the running schedule kept.
* **SIGTERM / SIGINT**: no new runs start, running crawls get SIGTERM, are waited for up
  to :data:`KILL_GRACE` seconds, then killed; those that did not finish cleanly are logged
  as failed, reason ``interrupted``.
* Logs go to stderr and ``<data>/logs/schedule-YYYYMMDD.log`` (UTC dates and times).
* **Cluster mode** (``[cluster] redis_url`` or ``MEDIAWATCH_REDIS_URL``): a due source is
  enqueued for the crawl workers with its crawl-state snapshot
  (:mod:`scheduler.cluster.enqueue`) instead of crawled in a subprocess; a source whose
  last job is still queued or running is not enqueued again.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from archive.config import ConfigError
from archive.config.sources import Config, load_config
from archive.store.db import Archive
from scheduler.runlog import last_started, parse_time
from scheduler.timing import plan_start, trigger_for

if TYPE_CHECKING:
    from types import FrameType

__all__ = ["KILL_GRACE", "PARALLEL_CRAWLS", "Service", "crawl_command", "failure_reason",
           "run_service", "service_logging"]

log = logging.getLogger("mediawatch.schedule")

KILL_GRACE = 30.0  # seconds between SIGTERM and SIGKILL (time limit and stop)
PARALLEL_CRAWLS = 4  # crawl subprocesses at once; more sources wait for a free slot
_LOG_FORMAT = "%(asctime)sZ %(levelname)s %(name)s: %(message)s"


def utc_now() -> datetime:
    """The wall clock, aware, in UTC (the service's default clock)."""
    return datetime.now(UTC)


def crawl_command(config_path: str | Path, data_dir: str | Path, source_id: str,
                  watchlists: str | Path | None = None) -> list[str]:
    """The command line of one scheduled crawl (which also delivers watchlist alerts)."""
    lists = ["--watchlists", str(watchlists)] if watchlists is not None else []
    return [sys.executable, "-m", "scheduler.cli", "--config", str(config_path),
            "--data", str(data_dir), *lists, "crawl", "--scheduled", source_id]


def failure_reason(returncode: int | None, *, timed_out: bool,
                   interrupted: bool) -> str | None:
    """Why a crawl subprocess counts as failed, or None when it finished (and logged its
    own run).

    A crawl stopped at its time limit failed even if it then shut down cleanly. A crawl
    interrupted by a service stop that still exited 0 closed its files and logged itself.
    """
    if timed_out:
        return "timeout"
    if returncode == 0:
        return None
    if interrupted:
        return "interrupted"
    if returncode is None:
        return "killed"
    if returncode < 0:
        return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class Service:
    """The scheduler service over one sources file and one data directory.

    ``clock`` gives the current aware time (tests may pass their own); ``kill_grace`` is
    the wait between SIGTERM and SIGKILL; ``command(source_id)`` is the crawl's command
    line (:func:`crawl_command` unless a test stands in a program that hangs or crashes).
    :meth:`serve_forever` is the whole life cycle; :meth:`start`, :meth:`reload` and
    :meth:`stop` are its steps.
    """

    def __init__(self, config_path: str | Path, data_dir: str | Path, *,
                 clock: Callable[[], datetime] = utc_now, kill_grace: float = KILL_GRACE,
                 parallel: int = PARALLEL_CRAWLS,
                 command: Callable[[str], list[str]] | None = None,
                 watchlists: str | Path | None = None) -> None:
        self.config_path = Path(config_path)
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.kill_grace = kill_grace
        self.command = command or (lambda sid: crawl_command(self.config_path,
                                                             self.data_dir, sid, watchlists))
        self.config = read_config(self.config_path)  # a bad file fails before anything runs
        self._schedules: dict[str, str] = {}
        self._lock = threading.Lock()
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._interrupted: set[str] = set()
        self._stopping = False
        self._wake = threading.Event()
        self._stop_requested = False
        self._reload_requested = False
        self.scheduler = BackgroundScheduler(
            timezone=UTC, executors={"default": ThreadPoolExecutor(parallel)})

    # -- life cycle ------------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Start, then reload on SIGHUP until SIGTERM or SIGINT; then stop cleanly."""
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            self.start()
            while not self._stop_requested:
                # A timeout as well as the event: a signal landing between the check and
                # the wait is then noticed within a second at worst.
                self._wake.wait(1.0)
                self._wake.clear()
                if self._reload_requested and not self._stop_requested:
                    self._reload_requested = False
                    self.reload()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload_requested = True
        else:
            self._stop_requested = True
        self._wake.set()

    def start(self) -> None:
        """Start the scheduler and schedule every configured source."""
        log.info("mediawatch schedule: %d source(s) from %s, data in %s, pid %d",
                 len(self.config.sources), self.config_path, self.data_dir, os.getpid())
        with Archive(self.data_dir / "archive.db") as archive:
            for run_id in archive.fail_interrupted_runs(self.clock()):
                log.warning("run %d was interrupted (its process is gone): logged as failed",
                            run_id)
        self.scheduler.start()
        self._sync(self.config)

    def reload(self) -> None:
        """Re-read the sources file and apply it; a bad file keeps the current schedule."""
        try:
            config = read_config(self.config_path)
        except ConfigError as exc:
            log.error("reload failed, keeping the current schedule: %s", exc)
            return
        log.info("reloading %s", self.config_path)
        self._sync(config)

    def stop(self) -> None:
        """No new runs; stop running crawls (SIGTERM, grace, SIGKILL); wait for their
        jobs to log them."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            running = dict(self._running)
            self._interrupted |= set(running)
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        if running:
            log.info("stopping: %d crawl(s) running (%s)", len(running), ", ".join(running))
        for proc in running.values():
            _signal(proc, signal.SIGTERM, group=False)
        deadline = time.monotonic() + self.kill_grace
        for source_id, proc in running.items():
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s: crawl did not stop within %.0fs, killing it", source_id,
                            self.kill_grace)
                _signal(proc, signal.SIGKILL, group=True)
        self.scheduler.shutdown(wait=True)  # the jobs log the interrupted runs
        log.info("mediawatch schedule: stopped")

    # -- jobs ------------------------------------------------------------------------------

    def _sync(self, config: Config) -> None:
        """Make the jobs match ``config`` (add, reschedule, drop), catch-up rule included."""
        now = self.clock()
        grace = math.ceil(config.crawl.misfire_grace)
        starts = self._last_starts([s.id for s in config.sources])
        wanted = {s.id for s in config.sources}
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
                self._schedules.pop(job.id, None)
                log.info("%s: removed from the config, unscheduled", job.id)
        for src in config.sources:
            existing = self.scheduler.get_job(src.id)
            if existing is not None and self._schedules.get(src.id) == src.schedule:
                existing.modify(misfire_grace_time=grace)
                continue
            plan = plan_start(src.schedule, starts.get(src.id), now)
            trigger = trigger_for(src.schedule, plan.anchor)
            if existing is not None:
                existing.modify(trigger=trigger, next_run_time=plan.next_run,
                                misfire_grace_time=grace)
            else:
                self.scheduler.add_job(
                    self._run_source, trigger=trigger, args=[src.id], id=src.id,
                    name=src.id, next_run_time=plan.next_run, max_instances=1,
                    coalesce=True, misfire_grace_time=grace)
            self._schedules[src.id] = src.schedule
            log.info("%s: %s (%s)", src.id, plan.reason, src.schedule)
        self.config = config

    def _last_starts(self, source_ids: list[str]) -> dict[str, datetime]:
        archive = Archive(self.data_dir / "archive.db")
        try:
            found = {sid: last_started(archive.runs(sid)) for sid in source_ids}
        finally:
            archive.close()
        return {sid: t for sid, t in found.items() if t is not None}

    def _run_source(self, source_id: str) -> None:
        """One scheduled crawl (runs in an executor thread): spawn, time-limit, log; in
        cluster mode, a job on the queue instead (:mod:`scheduler.cluster.enqueue`)."""
        config = self.config
        if (cluster := config.cluster_settings).enabled:
            from scheduler.cluster import connect
            from scheduler.cluster.enqueue import enqueue_crawls

            for done in enqueue_crawls(connect(cluster.redis_url or ""), cluster, config,
                                       [config.source(source_id)],
                                       self.data_dir / "archive.db", scheduled=True):
                log.info("%s", done.line())
            return
        started = self.clock()
        run_log = self.data_dir / "logs" / "runs" / f"{source_id}-{started:%Y%m%d}.log"
        run_log.parent.mkdir(parents=True, exist_ok=True)
        command = self.command(source_id)
        with open(run_log, "ab") as out:
            with self._lock:
                if self._stopping:
                    return
                out.write(f"=== {started:%Y-%m-%dT%H:%M:%SZ} {' '.join(command)}\n".encode())
                out.flush()
                try:
                    proc = _spawn(command, out)
                except OSError as exc:
                    self._log_failed(source_id, started, f"could not start: {exc}", run_log)
                    return
                self._running[source_id] = proc
            log.info("%s: crawl started (pid %d)", source_id, proc.pid)
            timed_out = False
            try:
                proc.wait(config.crawl.run_timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                log.warning("%s: crawl exceeded run_timeout (%.0fs), stopping it", source_id,
                            config.crawl.run_timeout)
                self._terminate(proc)
            finally:
                with self._lock:
                    self._running.pop(source_id, None)
                    interrupted = source_id in self._interrupted
                    self._interrupted.discard(source_id)
        reason = failure_reason(proc.returncode, timed_out=timed_out, interrupted=interrupted)
        own_row, own_status = self._logged_since(source_id, started)
        if reason == "interrupted" and own_row is not None and own_status != "running":
            # The stop caught it after it had logged its run, while the process was
            # exiting: the crawl did finish.
            reason = None
        seconds = (self.clock() - started).total_seconds()
        if reason is None:
            log.info("%s: crawl finished in %.1fs", source_id, seconds)
        else:
            log.warning("%s: crawl failed after %.1fs: %s (log %s)", source_id, seconds,
                        reason, run_log)
            self._log_failed(source_id, started, reason, run_log, own_row,
                             unfinished=own_status == "running")

    def _logged_since(self, source_id: str, started: datetime
                      ) -> tuple[int | None, str | None]:
        """The id and status of the run the crawl logged itself, if it did: a row of the
        source that started at or after ``started`` (the crawl's row starts a moment after
        the spawn); ``running`` when the crawl died before completing it."""
        archive = Archive(self.data_dir / "archive.db")
        try:
            since = started.replace(microsecond=0)
            for row in reversed(archive.runs(source_id)):
                t = parse_time(row.get("started"))
                if row.get("status") != "failed" and t is not None and t >= since:
                    return int(row["id"]), row.get("status")
            return None, None
        finally:
            archive.close()

    def _terminate(self, proc: subprocess.Popen[bytes]) -> None:
        _signal(proc, signal.SIGTERM, group=False)
        try:
            proc.wait(self.kill_grace)
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL, group=True)
            proc.wait()

    def _log_failed(self, source_id: str, started: datetime, reason: str,
                    run_log: Path, own_row: int | None = None, *,
                    unfinished: bool = False) -> None:
        """Log the run as failed; a crawl stopped at its time limit that still closed and
        logged itself keeps its one row (with its figures), marked failed; a crawl that
        died with its row ``running`` (``unfinished``) has that row ended now."""
        archive = Archive(self.data_dir / "archive.db")
        try:
            if own_row is not None:
                archive.amend_run(own_row, "failed", reason=reason, log=str(run_log),
                                  finished=self.clock() if unfinished else None)
            else:
                archive.log_run({"source": source_id, "started": started,
                                 "finished": self.clock(), "status": "failed",
                                 "extra": {"reason": reason, "log": str(run_log)}})
        finally:
            archive.close()


def read_config(path: str | Path) -> Config:
    """Load the sources file and check that APScheduler can read every schedule."""
    config = load_config(path)
    for src in config.sources:
        try:
            trigger_for(src.schedule, datetime(2000, 1, 1, tzinfo=UTC))
        except ConfigError as exc:
            raise ConfigError(path, src.id, "schedule", exc.msg) from exc
    return config


def _spawn(command: list[str], out: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _signal(proc: subprocess.Popen[bytes], sig: int, *, group: bool) -> None:
    """Send ``sig`` to the crawl process (or its whole process group); gone is fine."""
    try:
        if group:
            os.killpg(proc.pid, sig)  # start_new_session: the group id is the pid
        elif proc.poll() is None:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


class DailyFileHandler(logging.Handler):
    """Appends records to ``<directory>/<prefix>-YYYYMMDD.log``, the day (UTC) taken from
    each record, so a service running for months writes one file per day."""

    def __init__(self, directory: Path, prefix: str) -> None:
        super().__init__()
        self.directory, self.prefix = directory, prefix
        self._day = ""
        self._stream: IO[str] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Write one formatted record, switching files when the day changes."""
        try:
            day = time.strftime("%Y%m%d", time.gmtime(record.created))
            if day != self._day or self._stream is None:
                self.close_stream()
                self.directory.mkdir(parents=True, exist_ok=True)
                # Kept open across records (closed by close()), so no ``with`` here.
                self._stream = open(self.directory / f"{self.prefix}-{day}.log", "a",  # noqa: SIM115
                                    encoding="utf-8")
                self._day = day
            self._stream.write(self.format(record) + "\n")
            self._stream.flush()
        except OSError:
            self.handleError(record)

    def close_stream(self) -> None:
        """Close the current file (the next record opens the right one)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        """Close the file and the handler."""
        self.close_stream()
        super().close()


@contextmanager
def service_logging(data_dir: str | Path) -> Iterator[None]:
    """Log the service (and APScheduler's warnings) to stderr and to
    ``<data>/logs/schedule-YYYYMMDD.log`` for the duration of the block."""
    formatter = logging.Formatter(_LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr),
                                       DailyFileHandler(Path(data_dir) / "logs", "schedule")]
    loggers = [logging.getLogger("mediawatch"), logging.getLogger("apscheduler")]
    # APScheduler's INFO lines ("Running job ...") repeat ours; its warnings (a slot
    # skipped because the previous crawl still runs, a misfire) are worth keeping.
    levels = [(lg, lg.level, lg.propagate) for lg in loggers]
    loggers[0].setLevel(logging.INFO)
    loggers[1].setLevel(logging.WARNING)
    for handler in handlers:
        handler.setFormatter(formatter)
        for lg in loggers:
            lg.addHandler(handler)
    for lg in loggers:
        lg.propagate = False
    try:
        yield
    finally:
        for handler in handlers:
            for lg in loggers:
                lg.removeHandler(handler)
            handler.close()
        for lg, level, propagate in levels:
            lg.setLevel(level)
            lg.propagate = propagate


def run_service(config_path: str | Path, data_dir: str | Path,
                watchlists: str | Path | None = None) -> None:
    """``mediawatch schedule``: run the service in the foreground until SIGTERM/SIGINT."""
    service = Service(config_path, data_dir, watchlists=watchlists)
    with service_logging(data_dir):
        service.serve_forever()
