"""``mediawatch crawl``: crawl sources (fetch, capture, ingest, log each run) and sum it up.

Everything per source happens in Scrapy components, the same ones ``scrapy crawl source -a
source=ID`` runs (see ``crawler.settings``): the lock (``<data>/locks/<source>.lock``), the
skip of a source already being crawled or, on a scheduled run, backing off, the recovery of
the ``*.warc.gz.open`` files a killed crawl left, WARC capture, the ingest at close and the
``runs`` row. This module runs them for several sources in one process and turns their
stats into the :class:`CrawlSummary` the CLI prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from archive.config.sources import Config, Source
from crawler.components.state import SKIPPED_STAT
from crawler.figures import (
    COLUMNS,
    FetchFigures,
    figures_from_stats,
    outcomes_from_stats,
    summary_row,
)
from crawler.ingest import IngestReport
from crawler.runner import run_crawl


@dataclass(slots=True)
class CrawlSummary:
    """Per-source figures of one crawl: fetched pages and what became of the articles."""

    COLUMNS: ClassVar[tuple[str, ...]] = COLUMNS
    figures: list[FetchFigures]
    report: IngestReport
    log_file: Path
    errors: list[str] = field(default_factory=list)

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
    for source, stats in results:
        if reason := stats.get(SKIPPED_STAT):
            skipped.append(f"skipped {source.id}: {reason}")
            continue
        figures.append(figures_from_stats(source.id, stats))
        report.outcomes[source.id].update(outcomes_from_stats(stats))
        report.files.extend(stats.get("mediawatch/ingest/files") or [])
        report.errors.extend(stats.get("mediawatch/ingest/errors") or [])
    return CrawlSummary(figures, report, log_file, [*report.errors, *skipped])
