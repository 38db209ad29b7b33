"""``mediawatch reindex``: rebuild ``archive.db`` from the WARC files and the config alone.

The new database is built beside the old one and swapped in only when complete, so a failed
reindex leaves the archive as it was. The operational tables (run log, polling state,
alerts: the things WARCs cannot rebuild) are copied over.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from archive.store.db import Archive
from archive.warc.reader import list_warcs
from crawler.ingest import IngestReport, ingest_files

if TYPE_CHECKING:
    from archive.config.sources import Config


def rebuild(db_path: Path, warc_dir: Path, config: Config | None,
            progress: Callable[[int], None] | None = None) -> IngestReport:
    """Ingest every WARC in ``warc_dir`` into a fresh database at ``db_path``.

    ``progress`` is called with the bytes of each WARC file loaded."""
    tmp = db_path.with_name(db_path.name + ".reindex")
    for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        stale.unlink(missing_ok=True)
    fresh = Archive(tmp)
    try:
        report = ingest_files(fresh, list_warcs(warc_dir), config, progress=progress)
        if db_path.exists():
            fresh.carry_over(db_path)
        fresh.checkpoint()
    finally:
        fresh.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, db_path)
    return report
