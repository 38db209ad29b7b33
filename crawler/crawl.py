"""``mediawatch crawl``: crawl sources (fetch, capture, ingest, log each run) and sum it up.

Everything per source happens in Scrapy components, the same ones ``scrapy crawl source -a
source=ID`` runs (see ``crawler.settings``): the lock (``<data>/locks/<source>.lock``), the
skip of a source already being crawled or, on a scheduled run, backing off, the recovery of
the ``*.warc.gz.open`` files a killed crawl left, WARC capture, the ingest at close and the
``runs`` row. This module runs one crawler per source, all at once in one reactor, and turns
their stats into the :class:`CrawlSummary` the CLI prints.

The Twisted reactor cannot be restarted, so this runs once per process: the CLI's ``crawl``
calls it, and the scheduler (and ``demo``) start that CLI in a subprocess per run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.components.diskspace import DISK_STAT
from crawler.components.ingest import ingest_progress
from crawler.figures import (
    COLUMNS,
    SKIPPED_STAT,
    FetchFigures,
    figures_from_stats,
    outcomes_from_stats,
    summary_row,
)
from crawler.ingest import IngestReport
from crawler.spiders.source import SourceSpider

if TYPE_CHECKING:
    from pathlib import Path

    from archive.config.sources import Config, Source


def scrapy_settings(config: Config, data_dir: Path, *, ingest: bool = True,
                    log_file: Path | None = None,
                    extra: dict[str, Any] | None = None) -> Settings:
    """The project settings with this config, data directory and logging applied
    (``extra``: more settings, e.g. a cluster worker's, :mod:`crawler.components.workermode`)."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict({"MEDIAWATCH_CONFIG": config.path, "MEDIAWATCH_DATA": str(data_dir),
                      "MEDIAWATCH_INGEST": ingest, **config.crawl.scrapy_settings(),
                      **config.evidence.scrapy_settings(), **(extra or {})},
                     priority="cmdline")
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        settings.set("LOG_FILE", str(log_file), priority="cmdline")
        settings.set("LOG_FILE_APPEND", True, priority="cmdline")
    return settings


class IngestProgress:
    """Turns every crawler's :data:`~crawler.components.ingest.ingest_progress` signal into
    one ``progress(done, total)`` over all of them (``total``: what is known so far)."""

    def __init__(self, progress: Callable[[int, int], None]):
        self.progress = progress
        self.totals: dict[int, int] = {}

    def handler(self, key: int) -> Callable[..., None]:
        """The signal handler for the crawler numbered ``key``."""
        def on_progress(done: int, total: int) -> None:
            self.totals[key] = total
            self.progress(done, sum(self.totals.values()))
        return on_progress


def run_crawl(config: Config, sources: list[Source], data_dir: Path, *,
              log_file: Path | None = None, ingest: bool = True, scheduled: bool = False,
              progress: Callable[[int, int], None] | None = None,
              extra: dict[str, Any] | None = None,
              ) -> list[tuple[Source, dict[str, Any]]]:
    """Crawl ``sources`` concurrently; block until done; each source's Scrapy stats."""
    process = CrawlerProcess(scrapy_settings(config, data_dir, ingest=ingest,
                                             log_file=log_file, extra=extra))
    crawlers = []
    tracker = IngestProgress(progress) if progress is not None else None
    handlers = []  # the dispatcher holds handlers weakly: keep them alive for the run
    for n, source in enumerate(sources):
        crawler = process.create_crawler(SourceSpider)
        if tracker is not None:
            handlers.append(tracker.handler(n))
            crawler.signals.connect(handlers[-1], signal=ingest_progress)
        process.crawl(crawler, source=source, scheduled=scheduled)
        crawlers.append((source, crawler))
    process.start()
    return [(src, crawler.stats.get_stats() if crawler.stats else {})
            for src, crawler in crawlers]


@dataclass(slots=True)
class CrawlSummary:
    """Per-source figures of one crawl: fetched pages and what became of the articles."""

    COLUMNS: ClassVar[tuple[str, ...]] = COLUMNS
    figures: list[FetchFigures]
    report: IngestReport
    log_file: Path
    errors: list[str] = field(default_factory=list)
    #: Why crawls stopped for lack of disk space, one line per source (exit code 2).
    disk_full: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per source, keyed by :attr:`COLUMNS`."""
        return [summary_row(fig, self.report.outcomes.get(fig.source, {}))
                for fig in self.figures]


def crawl_and_ingest(config: Config, sources: list[Source], data_dir: Path, *,
                     scheduled: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> CrawlSummary:
    """Crawl ``sources`` now (blocking); each crawl loads its WARC files and logs its run.

    ``scheduled`` runs honour per-feed poll intervals and source back-off; a manual crawl
    fetches every entry point now. Sources already being crawled by another process are
    left out (and logged as skipped). ``progress(done, total)`` follows the ingest in bytes.
    """
    started = datetime.now(UTC)
    log_file = data_dir / "logs" / f"crawl-{started:%Y%m%d}.log"
    results = run_crawl(config, sources, data_dir, log_file=log_file, scheduled=scheduled,
                        progress=progress)
    figures: list[FetchFigures] = []
    report = IngestReport()
    skipped: list[str] = []
    disk: list[str] = []
    for source, stats in results:
        if problem := stats.get(DISK_STAT):
            disk.append(f"{source.id}: {problem}")
        if reason := stats.get(SKIPPED_STAT):
            skipped.append(f"skipped {source.id}: {reason}")
            continue
        figures.append(figures_from_stats(source.id, stats))
        report.outcomes[source.id].update(outcomes_from_stats(stats))
        report.files.extend(stats.get("mediawatch/ingest/files") or [])
        report.errors.extend(stats.get("mediawatch/ingest/errors") or [])
    return CrawlSummary(figures, report, log_file, [*report.errors, *skipped], disk)
