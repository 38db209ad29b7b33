"""Where replay reads from: the ``captures`` index of ``archive.db`` and the WARC files.

The I/O half of replay (the rules are in :mod:`archive.replay.rules`). Read-only: nothing here
writes to the archive, so a replay server can run beside crawls.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.models import WarcLocation
from archive.replay.rules import Capture, ordered_by_nearness, prefix_bounds, resolve_revisit
from archive.store.connection import connect
from archive.store.urls import try_normalize_url
from archive.times import parse_utc
from archive.warc.payload import DEFAULT_MAX_PAYLOAD
from archive.warc.reader import StoredResponse, WarcError, read_response

if TYPE_CHECKING:
    import sqlite3
    from datetime import datetime

log = logging.getLogger(__name__)
_COLUMNS = ('warc_file, "offset", length, url, status, fetched_at, digest, record_id, '
            "revisit, refers_to")


@dataclass(frozen=True, slots=True)
class Replayed:
    """A capture chosen for a request and its stored response, revisits resolved (the
    payload and, for a 304, the headers are those of the capture it repeats). For a
    revisit, ``original`` is the capture it resolved to and ``record`` the revisit record
    as stored (its own status line: ``304 Not Modified`` for a 304)."""

    capture: Capture
    stored: StoredResponse
    original: Capture | None = None
    record: StoredResponse | None = None


def _capture(row: tuple[Any, ...]) -> Capture:
    # A raw sqlite3 row in _COLUMNS order: its value types are the captures schema's.
    return Capture(warc_file=str(row[0]), offset=int(row[1]), length=int(row[2]),
                   url=str(row[3]), status=int(row[4]), fetched_at=parse_utc(str(row[5])),
                   digest=row[6], record_id=row[7], revisit=row[8],
                   refers_to=row[9])


@dataclass(frozen=True, slots=True)
class CapturedUrl:
    """One URL of a URL-prefix listing: how often and when it was captured."""

    url: str
    captures: int
    first: datetime
    last: datetime


class ReplayStore:
    """Captures of ``<data>/archive.db`` and their records in ``<data>/warcs``.

    One SQLite connection per thread (the web app answers from a thread pool). A missing
    database is an empty archive: every lookup finds nothing. No payload is decoded past
    ``max_payload`` bytes (``[crawl] max_page_size``): such a capture cannot be replayed.
    """

    def __init__(self, data_dir: str | Path, max_payload: int = DEFAULT_MAX_PAYLOAD):
        self.data_dir = Path(data_dir)
        self.max_payload = max_payload
        self.db_path = self.data_dir / "archive.db"
        self.warc_dir = self.data_dir / "warcs"
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection | None:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.db_path.is_file():
                return None
            conn = connect(self.db_path, readonly=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (a one-request store: the web interface's
        banner, which must see a reindexed archive on its next request)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def captures(self, url: str) -> list[Capture]:
        """Every capture (responses and revisits) of ``url`` and of the URLs that normalize
        like it, in no particular order."""
        conn = self._conn()
        if conn is None:
            return []
        norm = try_normalize_url(url)
        if norm is not None:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM captures WHERE url_norm = ?",
                                (norm,)).fetchall()
        else:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM captures WHERE url = ?",
                                (url,)).fetchall()
        return [_capture(r) for r in rows]

    def article_id(self, url: str) -> str | None:
        """The id of the article ``url`` is an alias of, or None."""
        conn = self._conn()
        norm = try_normalize_url(url)
        if conn is None or norm is None:
            return None
        row = conn.execute("SELECT article_id FROM aliases WHERE url = ?", (norm,)).fetchone()
        return str(row[0]) if row else None

    def urls_with_prefix(self, prefix: str, limit: int = 1000) -> list[CapturedUrl]:
        """The captured URLs starting with ``prefix`` exactly (at most ``limit``, in URL
        order), each with its number of captures and first and last capture time."""
        conn = self._conn()
        if conn is None:
            return []
        low, high = prefix_bounds(prefix)
        # A closed range when there is an upper bound, so the scan of captures_url_exact
        # stops at the end of the prefix rather than at the end of the index.
        below = "" if high is None else " AND url < ?"
        rows = conn.execute(
            "SELECT url, count(*), min(fetched_at), max(fetched_at) FROM captures "
            f"WHERE url >= ?{below} GROUP BY url ORDER BY url LIMIT ?",
            (low, *(() if high is None else (high,)), limit)).fetchall()
        return [CapturedUrl(str(r[0]), int(r[1]), parse_utc(str(r[2])), parse_utc(str(r[3])))
                for r in rows]

    def _originals(self, revisit: Capture) -> list[Capture]:
        conn = self._conn()
        assert conn is not None
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM captures WHERE revisit IS NULL AND "
            "(record_id = ? OR digest = ?)", (revisit.refers_to or "", revisit.digest or "")
        ).fetchall()
        if revisit.revisit and revisit.revisit.endswith("/server-not-modified"):
            rows += conn.execute(
                f"SELECT {_COLUMNS} FROM captures WHERE revisit IS NULL AND url = ?",
                (revisit.url,)).fetchall()
        return [_capture(r) for r in rows]

    def read(self, capture: Capture) -> StoredResponse:
        """The stored response of one capture, revisit resolved. Raises WarcError when the
        record cannot be read and LookupError when a revisit's original is not archived."""
        return self.resolve(capture).stored

    def resolve(self, capture: Capture) -> Replayed:
        """One capture read and, for a revisit, resolved: the response to serve, the
        capture it came from and the record as stored. Raises as :meth:`read`."""
        stored = read_response(self.warc_dir, WarcLocation(capture.warc_file, capture.offset,
                                                            capture.length), self.max_payload)
        if stored.too_large:
            raise WarcError(f"{capture.warc_file}@{capture.offset}: payload larger than "
                            f"max_page_size ({self.max_payload} bytes); not replayed")
        if stored.revisit is None:
            return Replayed(capture, stored)
        info = stored.revisit
        original = resolve_revisit(capture, self._originals(capture),
                                   refers_to_uri=info.refers_to_uri,
                                   refers_to_date=info.refers_to_date,
                                   not_modified=info.not_modified)
        if original is None:
            raise LookupError(f"{capture.url}: revisit at {capture.timestamp} refers to a "
                              "capture that is not in the archive")
        # resolve_revisit only returns full captures: this read does not recurse further.
        return Replayed(capture, stored.with_payload(self.read(original)), original, stored)

    def lookup(self, url: str, at: datetime, captures: list[Capture] | None = None
               ) -> Replayed | None:
        """The readable capture of ``url`` nearest ``at`` (next nearest when one cannot be
        read or resolved), or None when the URL was never captured."""
        for capture in ordered_by_nearness(captures if captures is not None
                                           else self.captures(url), url, at):
            try:
                return self.resolve(capture)
            except (WarcError, LookupError) as exc:
                log.warning("replay of %s skips a capture: %s", url, exc)
                continue
        return None
