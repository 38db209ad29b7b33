"""Free disk space: a crawl stops cleanly before the disk is full (``[crawl] min_free_space``).

A disk that fills up mid-crawl cuts a WARC record in half, makes SQLite fail mid-ingest
and makes every log handler print a traceback. So a crawl checks the free space of its data
directory before it starts (:class:`~crawler.components.session.CrawlSession`: the crawl is
skipped) and before it writes each exchange
(:class:`~crawler.components.capture.WarcCapture`: the spider is closed with reason
:data:`DISK_FULL`). Either way one line names the path and the free space, the run is
logged, and, since the crawl did not finish, its listing state is not saved: the next crawl
fetches what this one could not archive. A check is one ``statvfs`` call (about a
microsecond), cheap beside writing a record.

A write that fails anyway (another process filled the disk between two checks, or
``min_free_space = 0``) is treated the same way: the WARC file is cut back to its last
complete exchange and closed (:meth:`archive.warc.writer.RotatingWarcWriter.abort`).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DISK_FULL", "DISK_STAT", "disk_full_message", "free_bytes", "is_disk_full",
           "low_space", "size_text"]

#: The spider's close reason, and the ``runs`` row's finish reason, when the disk fills up.
DISK_FULL = "disk_full"

#: Stat: the one line that says why the crawl stopped.
DISK_STAT = "mediawatch/disk/stopped"

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged process may still write on the file system of ``path`` (its
    nearest existing ancestor, for a data directory not created yet)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def size_text(n: int) -> str:
    """``n`` bytes for a person: ``"150 MB"``, ``"1.2 GB"``, ``"512 B"``."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n} B"


def low_space(path: Path, minimum: int) -> str | None:
    """The one line to stop on when ``path`` has less than ``minimum`` bytes free, else None."""
    if minimum <= 0:
        return None
    free = free_bytes(path)
    if free >= minimum:
        return None
    return (f"disk full: only {size_text(free)} free on {path}"
            f" (min_free_space is {size_text(minimum)})")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or a quota, or the file size limit) is full."""
    if isinstance(exc, OSError):
        return exc.errno in _FULL_ERRNOS
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL \
            or "disk is full" in str(exc)
    return False


def disk_full_message(path: Path, exc: BaseException) -> str:
    """The one line for a write to ``path`` that failed because the disk is full."""
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"disk full: writing to {path} failed ({detail}); {size_text(free_bytes(path))} free"
