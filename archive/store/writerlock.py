"""The archive-wide writer lock: who may write ``archive.db``, and when it may be replaced.

Two kinds of writer use the archive:

* **in-place writers**: every read-write :class:`~archive.store.db.Archive` (a crawl logging
  its run, loading its WARC files, saving its polling state; ``mediawatch ingest``,
  ``import``, the scheduler's run log, alert delivery). Any number may write at once: SQLite
  serialises their transactions. Each holds the lock **shared** while it is open.
* **the replacer**: ``mediawatch reindex`` builds a new database beside the archive and
  renames it over ``archive.db``. A write to the old file after the new one was built would
  be lost with the old file, so reindex holds the lock **exclusive** from before it lists
  the WARC files until after the rename.

So a crawl started during a reindex waits (at its first write, the ``running`` row) until
the new archive is in place, and reindex waits until every open writer has closed: neither
loses the other's work. The WARC files a crawl closes while reindex runs are loaded by the
reindex's catch-up (files closed before the rename) or by the crawl itself once the lock
is free (files closed after): the ingest ledger makes both idempotent.

The lock is two ``flock`` files beside the archive: ``.writer-lock`` (shared / exclusive)
and ``.writer-gate``, which a writer passes through and reindex holds, so that a steady
stream of overlapping crawls can never starve a waiting reindex (``flock`` itself grants a
shared lock to newcomers while an exclusive one waits). Reindex writes its pid into the
gate file, so a waiting writer can say who it waits for. The kernel releases both when a
process dies, so ``kill -9`` never leaves the archive locked.

Within one process the lock is re-entrant (a crawl of several sources opens several
archives; reindex opens the old archive to carry its run log over), and forked children
(the parser pool) drop their copies of the descriptors (:func:`close_inherited`), so a
stray child never holds the archive after its parent died.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ArchiveBusy", "close_inherited", "reindex_pid", "writer_lock"]


class ArchiveBusy(Exception):
    """The lock is held and the caller asked not to wait (``reindex --no-wait``)."""


@dataclass(slots=True)
class _Held:
    exclusive: bool
    fds: tuple[int, ...]
    count: int = 1


_HELD: dict[Path, _Held] = {}
_GUARD = threading.Lock()


def _paths(db_path: Path) -> tuple[Path, Path]:
    directory = db_path.resolve().parent
    return directory / ".writer-lock", directory / ".writer-gate"


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _try(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _take(fd: int, mode: int, wait: bool, on_wait: Callable[[], None] | None) -> None:
    """Lock ``fd``; when it is busy: :class:`ArchiveBusy` unless ``wait``, else tell
    ``on_wait`` once and block."""
    if _try(fd, mode):
        return
    if not wait:
        raise ArchiveBusy
    if on_wait is not None:
        on_wait()
    fcntl.flock(fd, mode)


def _once(call: Callable[[], None] | None) -> Callable[[], None] | None:
    """``call``, doing something the first time only."""
    if call is None:
        return None
    done: list[bool] = []

    def first() -> None:
        if not done:
            done.append(True)
            call()
    return first


def reindex_pid(db_path: str | Path) -> int | None:
    """The pid a running (or last) reindex wrote into the gate file, if any."""
    with suppress(OSError, ValueError):
        return int(_paths(Path(db_path))[1].read_text().strip() or "x")
    return None


def _acquire(db_path: Path, exclusive: bool, wait: bool,
             on_wait: Callable[[], None] | None) -> tuple[int, ...]:
    lock_path, gate_path = _paths(db_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    gate, lock = _open(gate_path), _open(lock_path)
    on_wait = _once(on_wait)  # said once, though there are two locks to wait for
    try:
        if exclusive:
            _take(gate, fcntl.LOCK_EX, wait, on_wait)  # no new writer gets in from now on
            os.ftruncate(gate, 0)
            os.write(gate, str(os.getpid()).encode())
            _take(lock, fcntl.LOCK_EX, wait, on_wait)  # every open writer has closed
            return gate, lock
        _take(gate, fcntl.LOCK_SH, wait, on_wait)  # not while a reindex holds or waits
        _take(lock, fcntl.LOCK_SH, wait, on_wait)
        os.close(gate)
        return (lock,)
    except BaseException:
        for fd in (gate, lock):
            with suppress(OSError):
                os.close(fd)
        raise


@contextmanager
def writer_lock(db_path: str | Path, *, exclusive: bool = False, wait: bool = True,
                on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the writer lock of the archive at ``db_path`` for the block (module docstring).

    Shared by default; ``exclusive`` for the replacer. When it is busy, ``on_wait`` is
    called once before blocking, or :class:`ArchiveBusy` is raised when ``wait`` is False.
    Re-entrant within a process; a shared holder asking for it exclusive is a bug
    (:class:`RuntimeError`: it would wait for itself).
    """
    key = _paths(Path(db_path))[0]
    with _GUARD:
        held = _HELD.get(key)
        if held is not None:
            if exclusive and not held.exclusive:
                raise RuntimeError(f"{key}: held shared by this process; cannot upgrade")
            held.count += 1
    if held is None:
        fds = _acquire(Path(db_path), exclusive, wait, on_wait)
        with _GUARD:
            held = _HELD.setdefault(key, _Held(exclusive, fds, 0))
            held.count += 1
        if held.fds != fds:  # another thread of this process took it meanwhile
            for fd in fds:
                os.close(fd)
    try:
        yield
    finally:
        with _GUARD:
            held.count -= 1
            if held.count == 0:
                del _HELD[key]
                for fd in held.fds:
                    os.close(fd)


def close_inherited() -> None:
    """In a forked child: drop the inherited descriptors (the parent keeps its lock)."""
    with _GUARD:
        for held in _HELD.values():
            for fd in held.fds:
                with suppress(OSError):
                    os.close(fd)
        _HELD.clear()
