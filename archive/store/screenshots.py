"""The ``screenshots`` table: which WARC record holds the screenshot of an article version.

Filled by ingest from the screenshot files (:mod:`archive.warc.screenshots`), so it is
derived from the WARCs like the versions it points at, and ``reindex`` links them again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archive.models import WarcLocation

if TYPE_CHECKING:
    import sqlite_utils

    from archive.warc.screenshots import ScreenshotRecord


@dataclass(frozen=True, slots=True)
class VersionToShoot:
    """An article version and the capture it was parsed from (what gets rendered)."""

    article_id: str
    version: int
    url: str
    fetched_at: str
    record_id: str | None
    source: str


def link(db: sqlite_utils.Database, record: ScreenshotRecord) -> bool:
    """Store where ``record`` is, for the version it shows; False when that version is not
    in the archive (its capture was never loaded). The capture the record refers to names
    the article when it is known (its id is what ingest gave it); else the URI's id."""
    aid = record.article_id
    if record.refers_to:
        row = db.execute("SELECT article_id FROM captures WHERE record_id = ?"
                         " AND article_id IS NOT NULL", [record.refers_to]).fetchone()
        if row:
            aid = str(row[0])
    known = db.execute("SELECT 1 FROM versions WHERE article_id = ? AND version = ?",
                       [aid, record.version]).fetchone()
    if not known:
        return False
    loc = record.location
    db.execute(
        'INSERT OR REPLACE INTO screenshots (article_id, version, warc_file, "offset", length,'
        " refers_to, rendered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [aid, record.version, loc.file, loc.offset, loc.length, record.refers_to,
         record.rendered_at])
    return True


def location(db: sqlite_utils.Database, article_id: str, version: int) -> WarcLocation | None:
    """Where the screenshot of one version is, or None."""
    row = db.execute('SELECT warc_file, "offset", length FROM screenshots'
                     " WHERE article_id = ? AND version = ?", [article_id, version]).fetchone()
    return WarcLocation(row[0], row[1], row[2]) if row else None


def by_version(db: sqlite_utils.Database, article_id: str) -> dict[int, dict[str, Any]]:
    """``{version: {warc_file, offset, length}}`` for the screenshots of one article."""
    return {
        r[0]: {"warc_file": r[1], "offset": r[2], "length": r[3]}
        for r in db.execute('SELECT version, warc_file, "offset", length FROM screenshots'
                            " WHERE article_id = ?", [article_id])
    }


def new_versions(db: sqlite_utils.Database, files: Iterable[str]) -> list[VersionToShoot]:
    """The versions the captures of ``files`` created (outcome ``inserted`` or ``updated``)
    that have no screenshot yet, in capture order: the capture with the version's text and
    fetch time is the one rendered."""
    names = list(files)
    if not names:
        return []
    marks = ", ".join("?" for _ in names)
    rows = db.execute(
        "SELECT v.article_id, v.version, c.url, c.fetched_at, c.record_id, c.source"
        " FROM captures c JOIN versions v ON v.article_id = c.article_id"
        " AND v.content_hash = c.content_hash AND v.fetched_at = c.fetched_at"
        f" WHERE c.warc_file IN ({marks}) AND c.outcome IN ('inserted', 'updated')"
        " AND NOT EXISTS (SELECT 1 FROM screenshots s WHERE s.article_id = v.article_id"
        " AND s.version = v.version) ORDER BY c.fetched_at, c.id", names).fetchall()
    return [VersionToShoot(*row) for row in rows]
