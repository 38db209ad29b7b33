"""Run Scrapy crawls of configured sources in this process and collect their figures.

The Twisted reactor cannot be restarted, so this runs once per process: the CLI's ``crawl``
calls it, and the scheduler (and ``demo``) start that CLI in a subprocess per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.config.sources import Config, Source
from crawler.spiders.source import SourceSpider


def scrapy_settings(config: Config, data_dir: Path, *, ingest: bool,
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


@dataclass(frozen=True, slots=True)
class FetchFigures:
    """What one source's crawl fetched, from Scrapy's stats."""

    source: str
    pages: int
    failures: int
    robots_blocked: int
    warc_files: tuple[str, ...]
    warc_bytes: int
    finish_reason: str
    blocked: int = 0
    revisits: int = 0
    revisit_bytes: int = 0
    source_status: str | None = None


def figures_from_stats(source: str, stats: dict[str, Any]) -> FetchFigures:
    """Pure: the summary figures from a Scrapy stats dict."""
    failures = sum(v for k, v in stats.items()
                   if k.startswith("mediawatch/failures/") and not k.endswith("IgnoreRequest"))
    return FetchFigures(
        source=source,
        pages=int(stats.get("downloader/response_count", 0)),
        failures=int(failures),
        robots_blocked=int(stats.get("robotstxt/forbidden", 0)),
        warc_files=tuple(stats.get("mediawatch/warc/files") or ()),
        warc_bytes=int(stats.get("mediawatch/warc/bytes", 0)),
        finish_reason=str(stats.get("finish_reason", "")),
        blocked=int(stats.get("mediawatch/blocked", 0)),
        revisits=int(stats.get("mediawatch/warc/revisits", 0)),
        revisit_bytes=int(stats.get("mediawatch/warc/revisit_bytes", 0)),
        source_status=stats.get("mediawatch/source/status"),
    )


def run_crawl(config: Config, sources: list[Source], data_dir: Path, *,
              log_file: Path | None = None, ingest: bool = False,
              scheduled: bool = False) -> list[FetchFigures]:
    """Crawl ``sources`` concurrently; block until done; figures per source."""
    process = CrawlerProcess(scrapy_settings(config, data_dir, ingest=ingest,
                                             log_file=log_file))
    crawlers = []
    for source in sources:
        crawler = process.create_crawler(SourceSpider)
        process.crawl(crawler, source=source, scheduled=scheduled)
        crawlers.append((source, crawler))
    process.start()
    return [figures_from_stats(src.id, crawler.stats.get_stats() if crawler.stats else {})
            for src, crawler in crawlers]
