"""``mediawatch crawl``: fetch sources into WARC files, then ingest them, then log the run.

Each source is crawled under an exclusive lock (``<data>/locks/<source>.lock``, released by
the kernel even when the process is killed), so one source never runs twice at once. Holding
it, the crawl first closes the ``*.warc.gz.open`` files a killed crawl of that source left
behind (cut after their last complete record) and ingests them with its own. A scheduled run
skips a source that is backing off (``source_state``) and logs it as ``skipped``.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from archive.config.sources import Config, Source
from archive.store.crawlstate import source_states
from archive.store.db import Archive
from archive.warc.repair import recover_open_file
from crawler.ingest import IngestReport, ingest_files
from crawler.runner import FetchFigures, run_crawl

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CrawlSummary:
    """Per-source figures of one crawl: fetched pages and what became of the articles."""

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "source", "pages", "failures", "robots", "new", "updated", "unchanged", "duplicates",
        "not_articles", "parse_errors", "removed", "blocked", "revisits")
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
                "removed": out.get("removed", 0), "blocked": fig.blocked,
                "revisits": fig.revisits,
            })
        return rows


def crawl_and_ingest(config: Config, sources: list[Source], data_dir: Path, *,
                     scheduled: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> CrawlSummary:
    """Crawl ``sources`` now (blocking), load the new WARC files, record the run.

    ``scheduled`` runs honour per-feed poll intervals and source back-off; a manual crawl
    fetches every entry point now. Sources already being crawled by another process are
    left out (and logged as skipped). ``progress(done, total)`` follows the ingest in bytes.
    """
    started = datetime.now(UTC)
    log_file = data_dir / "logs" / f"crawl-{started:%Y%m%d}.log"
    skipped: dict[str, str] = {}
    with ExitStack() as locks:
        todo = []
        states = {}
        if scheduled:
            with Archive(data_dir / "archive.db") as archive:
                states = source_states(archive)
        for source in sources:
            state = states.get(source.id)
            if state is not None and state.backoff_until and state.backoff_until > started:
                skipped[source.id] = (f"{state.status}: {state.reason}; backing off until"
                                      f" {state.backoff_until:%Y-%m-%dT%H:%M:%SZ}")
            elif not locks.enter_context(source_lock(data_dir, source.id)):
                skipped[source.id] = "already being crawled by another process"
            else:
                todo.append(source)
        recovered = [recover_open_file(p) for src in todo
                     for p in sorted((data_dir / "warcs").glob(f"{src.id}-*.warc.gz.open"))]
        for path in recovered:
            log.warning("recovered %s, left open by an interrupted crawl", path.name)
        figures = run_crawl(config, todo, data_dir, log_file=log_file, ingest=False,
                            scheduled=scheduled) if todo else []
    finished = datetime.now(UTC)
    files = recovered + [Path(f) for fig in figures for f in fig.warc_files]
    archive = Archive(data_dir / "archive.db")
    try:
        total = sum(p.stat().st_size for p in files)
        report = ingest_files(archive, files, config,
                              progress=(lambda n: progress(n, total)) if progress else None)
        summary = CrawlSummary(figures, report, log_file, list(report.errors))
        for row, fig in zip(summary.rows(), figures, strict=True):
            archive.log_run({
                **row, "failed": row["failures"],
                "started": started.isoformat(), "finished": finished.isoformat(),
                "status": "ok" if fig.finish_reason == "finished" else fig.finish_reason,
                "warc_bytes": fig.warc_bytes, "revisit_bytes": fig.revisit_bytes,
                "warc_files": list(fig.warc_files), "source_status": fig.source_status})
        for source_id, reason in skipped.items():
            log.warning("skipped %s: %s", source_id, reason)
            summary.errors.append(f"skipped {source_id}: {reason}")
            archive.log_run({"source": source_id, "started": started.isoformat(),
                             "finished": finished.isoformat(), "status": "skipped",
                             "reason": reason})
    finally:
        archive.close()
    return summary


@contextmanager
def source_lock(data_dir: Path, source_id: str) -> Iterator[bool]:
    """Hold ``<data>/locks/<source>.lock`` exclusively; yields False when another process
    holds it (never blocks)."""
    path = data_dir / "locks" / f"{source_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock
