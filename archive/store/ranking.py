"""Relevance ranking of a search's window: bm25 with the window as its collection.

Why not FTS5's ``bm25()``
-------------------------
A relevance search ranks the newest :data:`~archive.store.search.RANK_WINDOW` matches of a
query (:mod:`archive.store.search`). FTS5's ``bm25()`` weighs each phrase by its IDF, and to
get it, counts *every* row of the whole index that matches the phrase before it scores the
first one: at a million articles, ranking the newest 2,000 matches of ``"of with"`` took
161 ms, of which walking those 2,000 rows took 6 (``bench/search.py``, README). The window
does not bound that count, and Python's ``sqlite3`` module cannot register an FTS5
function that would get the counts elsewhere. APSW (the maintained SQLite wrapper that
exposes the FTS5 extension API) can.

What ranks instead
------------------
:func:`phrase_weights`, an FTS5 auxiliary function, returns for each row the saturated
term frequency of every phrase of the query, exactly as FTS5's bm25 computes it (column
weights :data:`WEIGHTS`, k1 = 1.2, b = 0.75, document length and average length over all
columns), but no IDF. :func:`window_scores` then weighs the phrases by an IDF counted
within the window: the window is the collection (``log(1 + (n - df + 0.5) / (df + 0.5))``,
Lucene's non-negative form, ``n`` rows in the window, ``df`` of them holding the phrase).
A query of one phrase (a word, a quoted phrase, a prefix, a name widened into the OR of its
spellings counts as several) ranks exactly as ``bm25()`` would, since its IDF only scales
every score alike. Several phrases are weighed by how rare each is among the window's
matches rather than in the whole archive: an OR ranks its rarer side higher, as bm25 does;
the words of an AND, which every match holds, weigh the same (bm25 would favour the rarer
word's occurrences).

Two copies of SQLite in one process
-----------------------------------
APSW carries its own SQLite, beside the one Python's ``sqlite3`` uses. The hazard SQLite
documents for that (howtocorrupt.html, 2.2.1) is closing a file: POSIX locks belong to the
process, so one library closing its descriptor of the database drops the locks the other
holds. So the ranking connections (:func:`borrow`) are read-only, never checkpoint, and
are never closed while the process may still use that database through ``sqlite3``: one
small pool per database file (per process, since a forked worker must not share its
parent's), kept until the process ends. Only a pool of a database file that was replaced
(``reindex`` swaps in a new file) or that falls out of the last :data:`MAX_DATABASES` is
closed. :func:`borrow` yields None (the caller ranks with ``bm25()``) for an in-memory
database, a connection inside a transaction (its uncommitted rows are not visible
elsewhere), or a file APSW cannot open (a full disk, where ``sqlite3`` reads immutable).
"""

from __future__ import annotations

import logging
import os
import threading
from array import array
from collections import OrderedDict
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import apsw
import numpy as np

from archive.store.connection import BUSY_TIMEOUT_MS

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator, Sequence

__all__ = ["FUNCTION", "WEIGHTS", "borrow", "phrase_weights", "ranked_page", "window_scores"]

log = logging.getLogger(__name__)

#: Column weights in FTS column order (title, lead, body, filter tokens: never counted).
WEIGHTS = (10.0, 4.0, 1.0, 0.0)
K1 = 1.2
B = 0.75
#: The SQL name :func:`phrase_weights` is registered under.
FUNCTION = "mw_phrase_weights"
#: Database files whose ranking connections are kept per process.
MAX_DATABASES = 8


def phrase_weights(api: apsw.FTS5ExtensionApi, *args: Any) -> bytes:
    """FTS5 auxiliary function: each phrase's bm25 term-frequency part for the current row,
    as packed doubles (module docstring)."""
    avgdl = api.aux_data
    if avgdl is None:  # once per query: the index's average row length
        rows = api.row_count
        avgdl = api.aux_data = (api.column_total_size(-1) / rows) if rows else 1.0
    norm = K1 * (1 - B + B * api.column_size(-1) / (avgdl or 1.0))
    parts = array("d", bytes(8 * api.phrase_count))
    for phrase in range(len(parts)):
        # Only the columns that hold the phrase (most phrases of a widened name are other
        # spellings, absent from the row; a filter token is in the unweighted column).
        tf = 0.0
        for column in api.phrase_columns(phrase):
            if weight := WEIGHTS[column]:
                tf += weight * len(api.phrase_column_offsets(phrase, column))
        if tf:
            parts[phrase] = tf * (K1 + 1) / (tf + norm)
    return parts.tobytes()


def window_scores(weights: Sequence[bytes]) -> np.ndarray:
    """Scores of the window's rows from their :func:`phrase_weights` (pure): lower is better,
    as with ``bm25()``; each phrase weighed by its IDF within the window."""
    if not weights:
        return np.zeros(0)
    parts = np.frombuffer(b"".join(weights), dtype=np.float64).reshape(len(weights), -1)
    n = parts.shape[0]
    df = np.count_nonzero(parts, axis=0)
    idf = np.log1p((n - df + 0.5) / (df + 0.5))
    return -(parts @ idf)


def ranked_page(window: Sequence[tuple[int, bytes]], offset: int, limit: int
                ) -> list[tuple[int, float]]:
    """``(pk, score)`` of the page ``offset:offset + limit`` of the window's rows
    (``(pk, phrase weights)``) in ranking order: best score first, then newest (pure)."""
    pks = np.fromiter((pk for pk, _weights in window), dtype=np.int64, count=len(window))
    scores = window_scores([weights for _pk, weights in window])
    order = np.lexsort((-pks, scores))[offset:offset + limit]
    return [(int(pks[i]), float(scores[i])) for i in order]


class _Pool:
    """Idle read-only ranking connections to one database file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.idle: list[apsw.Connection] = []
        self.closed = False

    def open(self) -> apsw.Connection:
        conn = apsw.Connection(self.path, flags=apsw.SQLITE_OPEN_READONLY)
        try:
            # Belt and braces: a read-only connection cannot checkpoint anyway.
            conn.config(apsw.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1)
            conn.set_busy_timeout(BUSY_TIMEOUT_MS)
            conn.register_fts5_function(FUNCTION, phrase_weights)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except BaseException:
            conn.close()
            raise
        return conn

    def give_back(self, conn: apsw.Connection) -> None:
        """Return a borrowed connection (closed if the pool was meanwhile); under _LOCK."""
        if self.closed:
            conn.close()
        else:
            self.idle.append(conn)

    def close(self) -> None:
        """Close the idle connections, and the borrowed ones when they come back."""
        self.closed = True
        for conn in self.idle:
            conn.close()
        self.idle.clear()


_POOLS: OrderedDict[tuple[int, str, int, int], _Pool] = OrderedDict()
#: Pools a forked process inherited from its parent: never used, and never closed either
#: (closing the inherited descriptors would drop this process's own locks on those files).
_INHERITED: list[_Pool] = []
_LOCK = threading.Lock()


def _database_file(conn: sqlite3.Connection) -> str | None:
    """The file of ``conn``'s main database; None in memory."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or None
    return None


def _pool(path: str) -> _Pool:
    """The pool of ``path`` for this process, closing the pools of a replaced file and of
    the least recently used files beyond :data:`MAX_DATABASES`."""
    stat = os.stat(path)
    pid = os.getpid()
    key = (pid, path, stat.st_dev, stat.st_ino)
    with _LOCK:
        pool = _POOLS.get(key)
        if pool is not None:
            _POOLS.move_to_end(key)
            return pool
        for old in [k for k in _POOLS if k[0] != pid]:
            _INHERITED.append(_POOLS.pop(old))
        for old in [k for k in _POOLS if k[1] == path]:
            _POOLS.pop(old).close()
        while len(_POOLS) >= MAX_DATABASES:
            _POOLS.pop(next(iter(_POOLS))).close()
        pool = _POOLS[key] = _Pool(path)
        return pool


@contextmanager
def borrow(conn: sqlite3.Connection) -> Iterator[apsw.Connection | None]:
    """A ranking connection (:func:`phrase_weights` registered) to ``conn``'s database, or
    None where one cannot be used (module docstring)."""
    path = None if conn.in_transaction else _database_file(conn)
    ranker = None
    if path is not None:
        try:
            pool = _pool(path)
            with _LOCK:
                ranker = pool.idle.pop() if pool.idle else None
            if ranker is None:
                ranker = pool.open()
        except (OSError, apsw.Error) as exc:
            log.info("ranking with bm25(): cannot open %s with APSW (%s)", path, exc)
            ranker = None
    try:
        yield ranker
    finally:
        if ranker is not None:
            with _LOCK:
                pool.give_back(ranker)
