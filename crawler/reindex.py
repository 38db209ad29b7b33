"""``mediawatch reindex``: rebuild ``archive.db`` from the WARC files alone.

The same ingest as a crawl's (:mod:`crawler.ingest`) over every WARC file, into a fresh
database built beside the archive and swapped in only when complete, under the archive-wide
writer lock (:mod:`archive.store.writerlock`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from archive.store import ledger
from archive.store.db import Archive
from archive.store.writerlock import writer_lock
from archive.warc.reader import list_warcs
from crawler.ingest import IngestReport, ingest_files

if TYPE_CHECKING:
    from collections.abc import Callable

    from archive.config.sources import Config

__all__ = ["rebuild"]


def rebuild(db_path: Path, warc_dir: Path, config: Config | None,
            progress: Callable[[int], None] | None = None, *, wait: bool = True,
            on_wait: Callable[[], None] | None = None) -> IngestReport:
    """Ingest every WARC in ``warc_dir`` into a fresh database and swap it in at ``db_path``.

    Runs under the writer lock held exclusive (:mod:`archive.store.writerlock`): it waits
    for every open writer to close (calling ``on_wait`` once), or raises
    :class:`~archive.store.writerlock.ArchiveBusy` when ``wait`` is False; writers opened
    meanwhile wait for the swap. Files closed while it ran (crawls keep fetching and
    closing WARC files without the lock; cluster workers and copies add files) are caught
    up before the swap, until a look at the folder finds none new; the operational tables
    are copied last, so no run row written before the swap is lost.

    ``progress`` is called with the bytes of each WARC file loaded."""
    tmp = db_path.with_name(db_path.name + ".reindex")
    with writer_lock(db_path, exclusive=True, wait=wait, on_wait=on_wait):
        for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            stale.unlink(missing_ok=True)
        fresh = Archive(tmp, writer_lock=False)
        try:
            report = ingest_files(fresh, list_warcs(warc_dir), config, progress=progress)
            while caught_up := ledger.pending(fresh, list_warcs(warc_dir)):
                ingest_files(fresh, caught_up, config, report=report, progress=progress)
            if db_path.exists():
                fresh.carry_over(db_path)
            fresh.checkpoint()
        finally:
            fresh.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, db_path)
    return report
