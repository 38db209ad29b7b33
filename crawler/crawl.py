"""``mediawatch crawl``: fetch sources into WARC files, then ingest them, then log the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from archive.db import Archive
from crawler.ingest import IngestReport, ingest_files
from crawler.runner import FetchFigures, run_crawl
from crawler.sources import Config, Source


@dataclass(slots=True)
class CrawlSummary:
    """Per-source figures of one crawl: fetched pages and what became of the articles."""

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "source", "pages", "failures", "robots", "new", "updated", "unchanged", "duplicates",
        "not_articles", "parse_errors")
    figures: list[FetchFigures]
    report: IngestReport
    log_file: Path
    errors: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per source, keyed by :attr:`COLUMNS`."""
        rows = []
        for fig in self.figures:
            out = self.report.outcomes.get(fig.source, {})
            rows.append({
                "source": fig.source, "pages": fig.pages, "failures": fig.failures,
                "robots": fig.robots_blocked, "new": out.get("inserted", 0),
                "updated": out.get("updated", 0), "unchanged": out.get("unchanged", 0),
                "duplicates": out.get("duplicate", 0),
                "not_articles": out.get("not_article", 0),
                "parse_errors": out.get("parse_error", 0),
            })
        return rows


def crawl_and_ingest(config: Config, sources: list[Source], data_dir: Path, *,
                     scheduled: bool = False) -> CrawlSummary:
    """Crawl ``sources`` now (blocking), load the new WARC files, record the run.

    ``scheduled`` runs honour per-feed poll intervals and source back-off; a manual crawl
    fetches every entry point now.
    """
    started = datetime.now(UTC)
    log_file = data_dir / "logs" / f"crawl-{started:%Y%m%d}.log"
    figures = run_crawl(config, sources, data_dir, log_file=log_file, ingest=False)
    finished = datetime.now(UTC)
    files = [Path(f) for fig in figures for f in fig.warc_files]
    archive = Archive(data_dir / "archive.db")
    try:
        report = ingest_files(archive, files, config)
        summary = CrawlSummary(figures, report, log_file, list(report.errors))
        for row, fig in zip(summary.rows(), figures, strict=True):
            archive.log_run({
                **row, "started": started.isoformat(), "finished": finished.isoformat(),
                "status": "ok" if fig.finish_reason == "finished" else fig.finish_reason,
                "warc_bytes": fig.warc_bytes, "warc_files": list(fig.warc_files)})
    finally:
        archive.close()
    return summary
