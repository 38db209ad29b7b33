"""Scrapy extension that loads the crawl's WARC files into ``archive.db`` when it ends.

Connected after :class:`crawler.components.capture.WarcCapture`, so its ``spider_closed``
handler runs once the last WARC file is closed: it ingests the files a killed crawl left
(``mediawatch/warc/recovered``, closed by :class:`crawler.components.session.CrawlSession`)
and those this crawl wrote (``mediawatch/warc/files``), and then every other closed file in
``<data>/warcs`` the ingest ledger does not have completely (:func:`crawler.ingest.
pending_files`: left by a crawl or ingest killed while loading, or written with ingest off,
by any source, except the files of another source's crawl still running, which loads them
itself so that its run's figures count them), through :func:`crawler.ingest.ingest_files`,
the one path from captures to articles. ``MEDIAWATCH_INGEST = False`` turns it off
(cluster workers leave ingest to one process; the next ``mediawatch ingest`` or crawl loads
the files).

The ingest runs in the reactor thread: this crawl's downloads are over, and with several
sources in one process (``mediawatch crawl`` without ids) the ingests run one after another
in the order the crawls end, never interleaved. Article parsing fans out to
``MEDIAWATCH_INGEST_WORKERS`` processes (0: :func:`crawler.ingest.default_workers`).

While the crawl goes on, each WARC file the capture closes (small files:
``MEDIAWATCH_HANDOVER_SIZE``) is handed to parser processes and loaded by a thread
(:class:`crawler.handover.HandOver`), so parsing runs while fetching continues; at
``spider_closed`` the ingest waits for those loads, then loads the rest as above (the
ledger skips what is loaded). The stats and outcomes cover both.

Its progress is the :data:`ingest_progress` signal (``done`` and ``total`` bytes), which
``mediawatch crawl`` turns into its progress bar. Stats: ``mediawatch/ingest/outcome/<what>``
(``inserted``, ``updated``, ``unchanged``, ``duplicate``, ``not_article``, ``parse_error``,
``removed``, ``blocked``), ``mediawatch/ingest/files``, ``mediawatch/ingest/errors`` and
``mediawatch/ingest/handed_over`` (files loaded while the crawl went on).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import Spider, signals
from scrapy.exceptions import NotConfigured

from archive.config.sources import load_config
from archive.faults import stop_here
from archive.store.db import Archive
from crawler.components.capture import META_KEY, warc_file_closed
from crawler.components.diskspace import DISK_STAT, is_disk_full
from crawler.components.state import spider_source
from crawler.figures import INGEST_OUTCOME, RECOVERED_STAT, WARC_FILES_STAT
from crawler.handover import HandOver
from crawler.ingest import IngestReport, default_workers, ingest_files, leftover_files

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.signalmanager import SignalManager
    from scrapy.statscollectors import StatsCollector

    from archive.config.sources import Config

log = logging.getLogger(__name__)

#: Files loaded while the crawl went on (:mod:`crawler.handover`).
HANDED_OVER_STAT = "mediawatch/ingest/handed_over"

#: A crawl that schedules this many article requests starts its parser processes then
#: (:meth:`HandOver.start`): they are ready when the first file closes. Fewer articles
#: rarely fill more than one file, which the crawl loads at its end.
EARLY_START = 64

#: Sent for each file loaded: ``done`` (its size in bytes) and ``total`` (all the files').
ingest_progress = object()


class IngestOnClose:
    """On ``spider_closed``, ingest the recovered files and the files this crawl wrote."""

    def __init__(self, data_dir: Path, config_path: str | None, stats: StatsCollector,
                 signals: SignalManager, workers: int | None = None,
                 max_payload: int = 0):
        self.data_dir = data_dir
        self.config_path = config_path
        self.stats = stats
        self.signals = signals
        self.workers = workers
        self.max_payload = max_payload
        self.handover: HandOver | None = None
        self.articles_scheduled = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestOnClose:
        """Scrapy's extension protocol; ``MEDIAWATCH_INGEST = False`` switches it off."""
        settings = crawler.settings
        if not settings.getbool("MEDIAWATCH_INGEST"):
            raise NotConfigured("MEDIAWATCH_INGEST is off")
        if not settings.get("MEDIAWATCH_DATA"):
            raise NotConfigured("MEDIAWATCH_DATA is not set")
        assert crawler.stats is not None
        ext = cls(Path(settings["MEDIAWATCH_DATA"]), settings.get("MEDIAWATCH_CONFIG"),
                  crawler.stats, crawler.signals,
                  settings.getint("MEDIAWATCH_INGEST_WORKERS") or None,
                  settings.getint("DOWNLOAD_MAXSIZE"))
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        if settings.getint("MEDIAWATCH_HANDOVER_SIZE"):
            crawler.signals.connect(ext.file_closed, signal=warc_file_closed)
            crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        return ext

    def config(self) -> Config | None:
        """The crawl's config (None when there is no config file)."""
        return load_config(self.config_path) \
            if self.config_path and Path(self.config_path).is_file() else None

    def _handover(self) -> HandOver:
        if self.handover is None:
            config = self.config()
            max_payload = config.crawl.max_page_size if config is not None \
                else self.max_payload
            self.handover = HandOver(self.data_dir / "archive.db", self.data_dir / "warcs",
                                     config, self.workers or default_workers(), max_payload)
        return self.handover

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        """Count the article requests; at :data:`EARLY_START`, start the parsers."""
        if (request.meta.get(META_KEY) or {}).get("kind") != "article":
            return
        self.articles_scheduled += 1
        if self.articles_scheduled == EARLY_START:
            self._handover().start()

    def file_closed(self, path: Path, last: bool) -> None:
        """Hand a file closed while the crawl goes on to the parser processes, and the last
        one too when others were (or the parsers started); a crawl of one file loads it at
        ``spider_closed``."""
        if last and self.handover is None:
            return
        self._handover().closed(path)

    def files(self) -> list[Path]:
        """The recovered files and the files the capture closed, as the stats list them."""
        listed = [*(self.stats.get_value(RECOVERED_STAT) or []),
                  *(self.stats.get_value(WARC_FILES_STAT) or [])]
        return [Path(p) for p in listed]

    def spider_closed(self, spider: Spider) -> None:
        """Ingest :meth:`files` and every other closed file not completely loaded (the
        ledger's pending files, of any source); outcomes and problems go to the stats."""
        early = self.handover.finish() if self.handover is not None else IngestReport()
        if early.files:
            self.stats.set_value(HANDED_OVER_STAT, len(early.files))
        stop_here("indexed")  # test hook (archive/faults.py)
        try:
            archive = Archive(self.data_dir / "archive.db")
            try:
                source = spider_source(spider)
                self._ingest(archive, early, source.id if source else spider.name)
            finally:
                archive.close()
        except (sqlite3.Error, OSError) as exc:
            if not is_disk_full(exc):
                raise
            # What was loaded is in (one transaction per batch, with the ledger): the next
            # crawl or `mediawatch ingest` loads the rest once there is space again.
            problem = f"disk full: loading into {self.data_dir / 'archive.db'} failed ({exc})"
            log.error("%s", problem)
            self.stats.set_value(DISK_STAT, problem)
            return
        stop_here("loaded")  # test hook (archive/faults.py)

    def _ingest(self, archive: Archive, report: IngestReport, source_id: str) -> None:
        """Load what is not loaded yet, adding to ``report`` (the loads while crawling),
        except the files of other sources' crawls still going on."""
        loaded = set(report.files)
        own = [p for p in self.files() if p.name not in loaded]
        names = {p.name for p in own} | loaded
        # Files a killed crawl or ingest left behind, or crawls without ingest wrote: the
        # ledger, not this crawl's memory, says what is missing. One ingest_files call takes
        # them all in capture-time order, so older leftovers load before this crawl's files.
        left = [p for p in leftover_files(archive, self.data_dir / "warcs", source_id)
                if p.name not in names]
        files = [*own, *left]
        if not files and not report.files:
            return
        total = sum(p.stat().st_size for p in files)

        def progress(done: int) -> None:
            self.signals.send_catch_log(ingest_progress, done=done, total=total)

        if files:
            ingest_files(archive, files, self.config(), report, workers=self.workers,
                         progress=progress)
        for outcomes in report.outcomes.values():
            for what, n in outcomes.items():
                self.stats.inc_value(INGEST_OUTCOME + what, n)
        self.stats.set_value("mediawatch/ingest/files", list(report.files))
        if report.errors:
            self.stats.set_value("mediawatch/ingest/errors", list(report.errors))
        log.info("ingested %d WARC file(s)", len(report.files))
