"""Read-only archive connections kept per thread of each server process.

Opening the archive costs milliseconds (SQLite reads and parses the schema, the store
checks its migrations) where a page's queries take a fraction of one; under load that
opening was most of a request. So each thread of each worker process keeps one read-only
:class:`~archive.store.db.Archive` and reuses it. Never shared: a thread uses its own, and
a forked worker opens its own (the process id is part of the key).

``reindex`` replaces ``archive.db`` with a new file (``os.replace``); a kept connection
would go on reading the old one. The file's identity (device, inode) is checked on every
request and a changed file is reopened, so a page never shows a replaced archive.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from archive.store.db import Archive
from archive.store.schema import ArchiveError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ReadPool"]


class ReadPool:
    """One read-only :class:`Archive` per thread and process, reopened when the file is
    replaced."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self._local = threading.local()

    def _identity(self) -> tuple[int, int, int]:
        try:
            stat = os.stat(self.db_path)
        except FileNotFoundError:
            raise ArchiveError(f"no archive at {self.db_path}") from None
        return (os.getpid(), stat.st_dev, stat.st_ino)

    def archive(self) -> Archive:
        """This thread's archive, opened (or reopened) as needed. Do not close it."""
        identity = self._identity()
        held: tuple[tuple[int, int, int], Archive] | None = getattr(self._local, "held", None)
        if held is not None and held[0] == identity:
            return held[1]
        if held is not None and held[0][0] == identity[0]:  # same process, replaced file
            held[1].close()
        archive = Archive.open_readonly(self.db_path)
        self._local.held = (identity, archive)
        return archive
