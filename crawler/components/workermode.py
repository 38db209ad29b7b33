"""Where a cluster worker's crawl reads and writes: the settings of the worker mode.

``MEDIAWATCH_WORKER = True`` (set by :mod:`scheduler.cluster.crawljob` for each job) makes the
components run without ``archive.db``: the crawl's view of the archive is the job's
snapshot (``MEDIAWATCH_STATE_DB``, :mod:`archive.store.snapshot`); WARC files go to the
worker's own folder of the shared WARC directory (``MEDIAWATCH_WARC_DIR``, a sub-folder of
``MEDIAWATCH_SHARED_WARCS``), where the ingest finds them; what the crawl learned goes into
a crawl-state record (:mod:`archive.warc.crawlstate`) instead of the database; the run row
travels there too; nothing is ingested at close. Off (the default): every path is the
data directory's, as on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = ["WorkerPaths"]


@dataclass(frozen=True, slots=True)
class WorkerPaths:
    """A cluster worker's crawl: its state snapshot, its WARC folder, the shared root."""

    state_db: Path
    warc_dir: Path
    shared_dir: Path

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> WorkerPaths | None:
        """The worker mode's paths; None when ``MEDIAWATCH_WORKER`` is off."""
        if not settings.getbool("MEDIAWATCH_WORKER"):
            return None
        warc_dir = Path(settings["MEDIAWATCH_WARC_DIR"])
        shared = settings.get("MEDIAWATCH_SHARED_WARCS") or warc_dir.parent
        return cls(Path(settings["MEDIAWATCH_STATE_DB"]), warc_dir, Path(shared))
