"""Run Scrapy crawls of configured sources in this process, with the project's components.

The Twisted reactor cannot be restarted, so this runs once per process: the CLI's ``crawl``
calls it, and the scheduler (and ``demo``) start that CLI in a subprocess per run. Each
source is one crawler with the settings of ``crawler.settings`` (the same components
``scrapy crawl source -a source=ID`` runs: lock, recovery, capture, ingest, run log); all
of them run concurrently in one reactor.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.config.sources import Config, Source
from crawler.components.ingest import ingest_progress
from crawler.figures import FetchFigures, figures_from_stats
from crawler.spiders.source import SourceSpider

__all__ = ["FetchFigures", "IngestProgress", "figures_from_stats", "run_crawl",
           "scrapy_settings"]


def scrapy_settings(config: Config, data_dir: Path, *, ingest: bool = True,
                    log_file: Path | None = None) -> Settings:
    """The project settings with this config, data directory and logging applied."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict({"MEDIAWATCH_CONFIG": config.path, "MEDIAWATCH_DATA": str(data_dir),
                      "MEDIAWATCH_INGEST": ingest, **config.crawl.scrapy_settings()},
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
              ) -> list[tuple[Source, dict[str, Any]]]:
    """Crawl ``sources`` concurrently; block until done; each source's Scrapy stats."""
    process = CrawlerProcess(scrapy_settings(config, data_dir, ingest=ingest,
                                             log_file=log_file))
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
