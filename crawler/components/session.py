"""Scrapy components around one source's crawl: lock, skip, recovery, run log.

:class:`CrawlSession` (an extension, first in ``EXTENSIONS`` so its ``spider_opened``
handler runs before the WARC capture can open a file) does, when the spider opens:

1. take ``<data>/locks/<source>.lock`` (``flock``, never blocking; the kernel releases it
   even when the process is killed), so one source is never crawled twice at once;
2. skip the crawl when the data directory has less free space than ``min_free_space``
   (:mod:`crawler.components.diskspace`), when the lock is held by another process, or, on
   a scheduled run (``-a scheduled=1``), when the source is backing off (``source_state``);
3. holding the lock, log the run as ``running`` (source, start, pid, host: so that a crawl
   killed with ``kill -9``, alone or with the service in its cgroup, still leaves its run in
   the log), after marking ``failed`` / ``interrupted`` every ``running`` row whose process
   is gone (:meth:`archive.store.db.Archive.fail_interrupted_runs`);
4. close the ``<source>-*.warc.gz.open`` files a killed crawl of the
   source left behind (cut after their last complete record, CDXJ-indexed) and list them in
   ``mediawatch/warc/recovered`` for the ingest at close.

At ``engine_stopped``, which Scrapy sends after every ``spider_closed`` handler (WARC files
closed, ingested, polling state saved), it completes the run's row in the ``runs`` table
(:mod:`crawler.figures`: the same figures ``mediawatch crawl`` prints) and releases the lock.

A skipped crawl sends no request at all: :class:`SkipGate`, a spider middleware, gives the
engine an empty ``start()`` when the session says so. The spider's own ``start()`` is never
iterated, no robots.txt is asked for, the engine finds nothing to do and closes normally
(so ``engine_stopped`` logs the ``skipped`` row like any other). Closing from
``spider_opened`` with ``CloseSpider`` would also work, but then Scrapy never starts the
engine and never sends ``engine_stopped``, so the row and the release would need a second
path.

Stats: ``mediawatch/session/skipped`` (the reason), ``mediawatch/warc/recovered``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Spider, signals
from scrapy.exceptions import NotConfigured

from archive.faults import stop_here
from archive.store.crawlstate import source_state_at
from archive.store.db import Archive
from archive.warc.cdxj import index_closed_warc
from archive.warc.repair import recover_open_file
from crawler.components.diskspace import DISK_STAT, is_disk_full, low_space
from crawler.components.state import spider_source
from crawler.components.workermode import WorkerPaths
from crawler.figures import (
    RECOVERED_STAT,
    SKIPPED_STAT,
    figures_from_stats,
    outcomes_from_stats,
    run_record,
    skipped_record,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

log = logging.getLogger(__name__)


class SourceLock:
    """An exclusive, non-blocking ``flock`` on ``<data>/locks/<source>.lock``."""

    def __init__(self, data_dir: Path, source_id: str):
        self.path = data_dir / "locks" / f"{source_id}.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another process holds it (never blocks)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the lock go (closing the descriptor releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def backoff_reason(db_path: Path, source_id: str, now: datetime) -> str | None:
    """Why a scheduled run of ``source_id`` must wait, if its source is backing off
    (``db_path``: the archive, or a cluster job's crawl-state snapshot)."""
    state = source_state_at(db_path, source_id)
    if state is None or state.backoff_until is None or state.backoff_until <= now:
        return None
    return (f"{state.status}: {state.reason}; backing off until"
            f" {state.backoff_until:%Y-%m-%dT%H:%M:%SZ}")


class CrawlSession:
    """Lock, skip and recovery at ``spider_opened``; run row and release at the end."""

    def __init__(self, data_dir: Path, stats: StatsCollector, min_free_space: int = 0,
                 worker: WorkerPaths | None = None):
        self.data_dir = data_dir
        self.worker = worker
        self.stats = stats
        self.min_free_space = min_free_space
        self.source_id: str | None = None
        self.skipped: str | None = None
        self.recovered: list[Path] = []
        self.started = self.finished = datetime.now(UTC)
        self.reason: str | None = None
        self._lock: SourceLock | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlSession:
        """Scrapy's extension protocol; off without ``MEDIAWATCH_DATA``."""
        data = crawler.settings.get("MEDIAWATCH_DATA")
        if not data:
            raise NotConfigured("MEDIAWATCH_DATA is not set")
        assert crawler.stats is not None
        ext = cls(Path(data), crawler.stats,
                  crawler.settings.getint("MEDIAWATCH_MIN_FREE_SPACE"),
                  WorkerPaths.from_settings(crawler.settings))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        """Lock the source, decide whether to skip, recover what a killed crawl left."""
        self.started = datetime.now(UTC)
        source = spider_source(spider)
        self.source_id = source.id if source is not None else spider.name
        if getattr(spider, "scheduled", False) is True:
            state_db = self.worker.state_db if self.worker else self.data_dir / "archive.db"
            self.skipped = backoff_reason(state_db, self.source_id, self.started)
        if self.skipped is None:
            self.skipped = low_space(self.data_dir, self.min_free_space)
            if self.skipped is not None:
                self.stats.set_value(DISK_STAT, self.skipped)
        if self.skipped is None:
            lock = SourceLock(self.data_dir, self.source_id)
            if lock.acquire():
                self._lock = lock
            else:
                self.skipped = "already being crawled by another process"
        if self.skipped is not None:
            log.warning("skipped %s: %s", self.source_id, self.skipped)
            self.stats.set_value(SKIPPED_STAT, self.skipped)
            return
        if self.worker is None:
            self._start_run()  # a cluster worker's run travels in its crawl-state record
        for path in self._left_open():
            self.recovered.append(recover_open_file(path, on_close=index_closed_warc))
            log.warning("recovered %s, left open by an interrupted crawl", path.name)
        if self.recovered:
            self.stats.set_value(RECOVERED_STAT, [str(p) for p in self.recovered])

    def _left_open(self) -> list[Path]:
        """The source's ``.open`` files: in ``<data>/warcs``, or for a cluster worker in
        every worker's folder of the shared WARC directory (the source's lease says no
        other worker crawls it now, so whatever is open there was left by a dead one)."""
        assert self.source_id is not None
        pattern = f"{self.source_id}-*.warc.gz.open"
        # The source's own files only: "a-<time>..." or "a-crawlstate-<time>...", never
        # those of a source "a-b", which another worker may be writing now.
        own = re.compile(rf"^{re.escape(self.source_id)}-(?:crawlstate-)?\d{{17}}-\d{{5}}-")
        if self.worker is None:
            found = set((self.data_dir / "warcs").glob(pattern))
        else:
            shared = self.worker.shared_dir
            found = {*shared.glob(pattern), *shared.glob(f"*/{pattern}")}
        return sorted((p for p in found if own.match(p.name)), key=lambda p: p.name)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """The crawl's end, before its files are closed and loaded (the run's ``finished``)."""
        self.finished = datetime.now(UTC)
        self.reason = reason

    def engine_stopped(self) -> None:
        """Log the run (every ``spider_closed`` handler has run by now), then unlock."""
        stop_here("state-saved")  # test hook (archive/faults.py)
        try:
            if self.source_id is not None and self.worker is None:
                self._log_run()
        except (sqlite3.Error, OSError) as exc:
            if not is_disk_full(exc):
                raise
            # The run stays ``running``; the next crawl or service marks it interrupted.
            log.error("could not log the run of %s: %s", self.source_id, exc)
        finally:
            self.release()

    def release(self) -> None:
        """Let the source's lock go (if this crawl holds it)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _start_run(self) -> None:
        """Log the run as ``running`` (module docstring). A failure to write it only costs
        the early row: the run is then logged once, at the end, as before."""
        assert self.source_id is not None
        try:
            with Archive(self.data_dir / "archive.db") as archive:
                archive.fail_interrupted_runs(self.started)
                self.run_id = archive.start_run(self.source_id, self.started)
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not log the start of the run of %s: %s", self.source_id, exc)

    def _log_run(self) -> None:
        assert self.source_id is not None
        stats: dict[str, Any] = self.stats.get_stats()
        if self.skipped is not None:
            row = skipped_record(self.source_id, self.started, self.finished, self.skipped)
        else:
            figures = figures_from_stats(self.source_id, stats)
            if self.reason is not None:  # what closed the spider, as its handlers heard it
                figures = replace(figures, finish_reason=self.reason)
            row = run_record(figures, outcomes_from_stats(stats), self.started, self.finished)
        with Archive(self.data_dir / "archive.db") as archive:
            if self.run_id is not None:
                archive.finish_run(self.run_id, row)
            else:
                archive.log_run(row)


class SkipGate:
    """Spider middleware: an empty ``start()`` for a crawl the session skipped."""

    def __init__(self, session: CrawlSession):
        self.session = session

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipGate:
        """Find the session extension (built before the middlewares)."""
        session = crawler.get_extension(CrawlSession)
        if session is None:
            raise NotConfigured("CrawlSession is not enabled")
        return cls(session)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Pass the spider's start requests on, or none when the crawl is skipped.

        Runs on the engine's first pull, after ``spider_opened``, when the session knows."""
        if self.session.skipped is not None:
            return
        async for item_or_request in start:
            yield item_or_request
