"""The one way to open ``archive.db``: :func:`connect`.

Every reader and writer of the archive (the :class:`~archive.store.db.Archive`, a crawl's
read-only :class:`~archive.store.crawlstate.CrawlState`, the web UI, the replay lookup)
opens it here, so that they agree on what a connection is:

* **read-write**: creates the file (and its directory) when missing, WAL journal (readers
  never block the single writer, nor it them), ``synchronous=NORMAL`` (safe in WAL mode:
  a crash may lose the last transactions, never corrupt the file; the WARC files are the
  record and the ingest ledger reloads what was lost), foreign keys enforced;
* **read-only**: ``mode=ro`` in a ``file:`` URI, so a missing file is an error and is never
  created, and ``PRAGMA query_only``, so a stray write fails even where SQLite would let a
  read-only handle write (temporary tables, a checkpoint). SQLite 3.22+ opens a WAL
  database read-only even after the last writer removed its ``-wal``/``-shm`` files, as
  long as the directory is writable (it recreates the WAL index);
* both: a busy timeout of :data:`BUSY_TIMEOUT_MS`, so a reader or a second writer waits for
  a write lock instead of failing with "database is locked".

**Opening under the schema lock.** Two processes that open a fresh data directory at the
same moment (``mediawatch schedule`` starting while ``mediawatch runs`` is called) would
both find no migration applied and both create the tables: "table articles already
exists". SQLite's own locks cannot prevent it, since sqlite-utils reads the applied
migrations before it opens a transaction and ``executescript`` commits whatever is open.
So :func:`schema_lock` takes an ``flock`` on ``.schema-lock`` in the archive's directory
(one per directory, so that the database ``reindex`` builds beside the archive leaves no
file of its own; never the database file itself, since closing any descriptor of that file
would drop the POSIX locks SQLite holds on it): exclusive while a read-write opener
switches to WAL and applies the pending migrations (re-reading which are applied once it
holds the lock), shared while a read-only opener checks that none is pending. The kernel
releases it when a process dies, so a killed migration never leaves the archive locked
(its transaction rolls back).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["BUSY_TIMEOUT_MS", "connect", "schema_lock", "schema_lock_path"]

#: How long a statement waits for a lock another connection holds, in milliseconds.
BUSY_TIMEOUT_MS = 5000


def connect(path: str | Path, *, readonly: bool = False,
            check_same_thread: bool = True) -> sqlite3.Connection:
    """A ``sqlite3`` connection to the archive at ``path`` (module docstring).

    ``readonly`` opens an existing file for reading only: :class:`FileNotFoundError` when it
    does not exist. ``check_same_thread`` False lets a connection move between threads
    (the web app streams from a thread pool); it is still used by one thread at a time.
    """
    path = Path(path)
    if readonly:
        if not path.is_file():
            raise FileNotFoundError(2, "no archive", str(path))
        with schema_lock(path, shared=True):  # not in the middle of a migration
            conn = _open_readonly(path, check_same_thread)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=check_same_thread)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        if readonly:
            conn.execute("PRAGMA query_only=ON")
        else:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_readonly(path: Path, check_same_thread: bool) -> sqlite3.Connection:
    """``mode=ro``; on a full disk, where SQLite cannot create the WAL index (``-shm``) a
    reader needs, ``immutable=1``: no index, no locks, and what was checkpointed into the
    file (SQLite checkpoints when the last connection closes; nobody can write more while
    the disk is full). Read commands so keep working on a full disk."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=check_same_thread)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in (sqlite3.SQLITE_IOERR,
                                                              sqlite3.SQLITE_FULL,
                                                              sqlite3.SQLITE_CANTOPEN):
            raise
        conn = sqlite3.connect(f"{uri}&immutable=1", uri=True,
                               check_same_thread=check_same_thread)
    return conn


def schema_lock_path(path: str | Path) -> Path:
    """The lock file that guards opening and migrating the archive at ``path``."""
    return Path(path).with_name(".schema-lock")


@contextmanager
def schema_lock(path: str | Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the schema lock of the archive at ``path`` for the block (module docstring).

    Exclusive by default (creating the directory when missing); ``shared`` for readers,
    which only wait for a migration in progress. Blocks until the lock is free. A reader
    that cannot create the lock file (a read-only directory: nobody can migrate there
    either) goes on without it.
    """
    lock = schema_lock_path(path)
    if not shared:
        lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if not shared:
            raise
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
