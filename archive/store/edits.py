"""Edits read from the ``versions`` table at query time (classified by :mod:`archive.diffs`).

Nothing is stored: every call diffs the versions' texts again, so a better classifier
applies to the whole archive at once and ``reindex`` has nothing to rebuild.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from archive.diffs import Change, changes, edit_kinds
from archive.times import utc_text

if TYPE_CHECKING:
    import sqlite3
    from datetime import datetime

if TYPE_CHECKING:
    import sqlite3
    from datetime import datetime

__all__ = ["DATE_FLAG_COLUMNS", "EDIT_COLUMNS", "TOLERANCE_HOURS", "VersionError", "date_flags",
           "kinds_between", "recent_edits", "version_pair"]

#: Columns of ``mediawatch edits --format table``.
EDIT_COLUMNS = ("fetched_at", "source", "id", "version", "kinds", "title")

#: Columns of ``mediawatch edits --dates --format table``.
DATE_FLAG_COLUMNS = ("flag", "source", "id", "published", "first_seen", "modified", "title")
#: How far a publisher's date may run ahead of what the archive saw before it is flagged:
#: clocks and feeds are a little off, and a date given to the minute is not to the second.
TOLERANCE_HOURS = 1

_VERSION_SQL = ("SELECT version, fetched_at, url, title, lead, body FROM versions"
                " WHERE article_id = ? AND version = ?")


class VersionError(ValueError):
    """A version number the article does not have, or a range that is not one."""


def _version(conn: sqlite3.Connection, aid: str, number: int) -> dict[str, Any] | None:
    cur = conn.execute(_VERSION_SQL, [aid, number])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def version_pair(conn: sqlite3.Connection, aid: str, latest: int, start: int | None,
                 end: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Versions ``start`` and ``end`` of article ``aid`` (default: the last two, ``latest``
    being its current version number). :class:`VersionError` for a missing version, a
    range that does not go forward, or an article with one version only."""
    if latest < 2:
        raise VersionError("the article has one version only: nothing to diff")
    end = latest if end is None else end
    start = end - 1 if start is None else start
    if start >= end:
        raise VersionError(f"--from {start} must be before --to {end}")
    old, new = _version(conn, aid, start), _version(conn, aid, end)
    for number, found in ((start, old), (end, new)):
        if found is None:
            raise VersionError(f"no version {number} (the article has versions 1 to {latest})")
    assert old is not None
    assert new is not None
    return old, new


def recent_edits(conn: sqlite3.Connection, *, since: datetime | None = None,
                 source: str | None = None, kinds: Sequence[str] = (),
                 limit: int = 50) -> Iterator[dict[str, Any]]:
    """The archive's edits (each version after the first, against the one before), newest
    first: ``{fetched_at, id, source, url, version, previous, title, kinds, changes}``.
    ``kinds``: only edits with at least one change of these kinds."""
    where, params = ["v.version > 1"], []
    if since is not None:
        where.append("v.fetched_at >= ?")
        params.append(utc_text(since, "since"))
    if source is not None:
        where.append("a.source = ?")
        params.append(source)
    sql = ("SELECT v.article_id, a.source, v.version, v.fetched_at, v.url, v.title, v.lead,"
           " v.body, p.title AS p_title, p.lead AS p_lead, p.body AS p_body"
           " FROM versions AS v JOIN articles AS a ON a.id = v.article_id"
           " JOIN versions AS p ON p.article_id = v.article_id AND p.version = v.version - 1"
           f" WHERE {' AND '.join(where)} ORDER BY v.fetched_at DESC, v.article_id")
    wanted = set(kinds)
    given = 0
    for row in conn.execute(sql, params):
        found = _changes(row)
        found_kinds = edit_kinds(found)
        if wanted and not wanted.intersection(found_kinds):
            continue
        yield {"fetched_at": row[3], "id": row[0], "source": row[1], "url": row[4],
               "version": row[2], "previous": row[2] - 1, "title": row[5],
               "kinds": found_kinds, "changes": [c.as_dict() for c in found]}
        given += 1
        if given >= limit:
            return


def _changes(row: Sequence[Any]) -> list[Change]:
    return changes({"title": row[8], "lead": row[9], "body": row[10]},
                   {"title": row[5], "lead": row[6], "body": row[7]})


def kinds_between(conn: sqlite3.Connection, aid: str, old: int, new: int) -> list[str]:
    """The kinds of the changes from version ``old`` to version ``new`` of article ``aid``
    (empty when either is missing)."""
    before, after = _version(conn, aid, old), _version(conn, aid, new)
    if before is None or after is None:
        return []
    return edit_kinds(changes(before, after))


def date_flags(conn: sqlite3.Connection, *, source: str | None = None,
               limit: int = 50) -> list[dict[str, Any]]:
    """Date-integrity flags, newest first by first capture: ``{flag, id, source, url, title,
    published, first_seen, modified, version_fetched_at}``, flag one of

    * ``published_after_seen``: ``published`` later than ``first_seen`` by more than
      :data:`TOLERANCE_HOURS` (a date-only ``published``, whose zone is unknown, by more
      than a day): the archive had the story before the date it now claims, so the page was
      re-dated;
    * ``silent_restamp``: ``modified`` later than the capture of the current text by more
      than :data:`TOLERANCE_HOURS`: a later capture of the *same* text brought a new
      ``modified`` (see :mod:`archive.store.identity`: metadata is refreshed by unchanged
      captures), so the date moved with no text change.
    """
    tol = TOLERANCE_HOURS / 24
    params: list[Any] = [tol, tol]
    where = ""
    if source is not None:
        where = " AND a.source = ?"
        params.append(source)
    sql = f"""SELECT a.id, a.source, a.url, a.title, a.published, a.first_seen, a.modified,
  v.fetched_at,
  a.published IS NOT NULL AND julianday(a.published) - julianday(a.first_seen)
    > (CASE WHEN length(a.published) = 10 THEN 1 ELSE ? END) AS after_seen,
  a.modified IS NOT NULL AND julianday(a.modified) - julianday(v.fetched_at) > ? AS restamp
FROM articles AS a JOIN versions AS v ON v.article_id = a.id AND v.version = a.version
WHERE (after_seen OR restamp){where}
ORDER BY a.first_seen DESC, a.id LIMIT {int(limit)}"""
    out = []
    for row in conn.execute(sql, params):
        base = {"id": row[0], "source": row[1], "url": row[2], "title": row[3],
                "published": row[4], "first_seen": row[5], "modified": row[6],
                "version_fetched_at": row[7]}
        for flag, on in (("published_after_seen", row[8]), ("silent_restamp", row[9])):
            if on:
                out.append({"flag": flag, **base})
    return out
