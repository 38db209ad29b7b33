"""WARC files of mediawatch that hold no captures, as ingest loads them: screenshot files
(:mod:`archive.warc.screenshots`, linked to the versions they show) and a cluster worker's
crawl-state records (:mod:`archive.warc.crawlstate`). Each is small and loaded in one go;
loading one again is harmless. Kept apart from :mod:`crawler.ingest`, whose records are
captures."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from archive.store import ledger, screenshots
from archive.store.workerstate import apply_crawl_state
from archive.warc.crawlstate import is_state_file, read_crawl_state
from archive.warc.screenshots import is_screenshot_file, iter_screenshots

if TYPE_CHECKING:
    from pathlib import Path

    from archive.store.db import Archive
    from crawler.ingest import IngestReport

log = logging.getLogger(__name__)


def is_side_file(name: str) -> bool:
    """Whether the WARC file ``name`` holds screenshots or crawl states, not captures."""
    return is_screenshot_file(name) or is_state_file(name)


def load_side_file(archive: Archive, path: Path, report: IngestReport) -> None:
    """Load a screenshot or crawl-state file and mark it complete in the ledger."""
    if is_screenshot_file(path.name):
        _load_screenshots(archive, path, report)
    else:
        _load_crawl_state(archive, path, report)


def _load_screenshots(archive: Archive, path: Path, report: IngestReport) -> None:
    """Link the screenshot records of ``path`` to their versions and mark it complete, in
    one transaction (a screenshot file is small; linking again is harmless)."""
    counts = report.records[path.name]
    try:
        found = list(iter_screenshots(path))
    except (OSError, ValueError, EOFError) as exc:  # damaged: what it says is lost
        log.error("%s: cannot read screenshots (%s)", path.name, exc)
        report.errors.append(f"{path.name}: cannot read screenshots ({exc})")
        found = []
    with archive.transaction():
        for record in found:
            counts["records"] += 1
            if screenshots.link(archive.db, record):
                counts["screenshots"] += 1
            else:
                report.notices.append(f"{path.name}@{record.location.offset}: screenshot of "
                                      f"{record.article_id} v{record.version}, a version "
                                      "not in the archive")
        ledger.advance(archive, path.name, len(found), path.stat().st_size)
    ledger.finish(archive, path.name, path.stat().st_size)


def _load_crawl_state(archive: Archive, path: Path, report: IngestReport) -> None:
    """Apply a cluster worker's crawl-state record (:mod:`archive.warc.crawlstate`), then
    mark the file complete; applying it again is harmless."""
    try:
        payloads = read_crawl_state(path)
    except (OSError, ValueError, EOFError) as exc:  # damaged: the next crawl refetches
        log.error("%s: cannot read crawl state (%s)", path.name, exc)
        report.errors.append(f"{path.name}: cannot read crawl state ({exc})")
        payloads = []
    for payload in payloads:
        report.records[path.name]["records"] += 1
        report.records[path.name]["fetch_states"] += apply_crawl_state(archive, payload)
    ledger.finish(archive, path.name, path.stat().st_size)
