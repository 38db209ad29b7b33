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

__all__ = ["DATE_FLAGS", "DATE_FLAG_COLUMNS", "EDIT_COLUMNS", "TAKEDOWN_COLUMNS",
           "TOLERANCE_HOURS", "VersionError", "article_flags", "date_flags", "kinds_between",
           "recent_edits", "takedown", "takedowns", "version_pair"]

#: Columns of ``mediawatch edits --format table``.
EDIT_COLUMNS = ("fetched_at", "source", "id", "version", "kinds", "title")

#: Columns of ``mediawatch edits --dates --format table``.
DATE_FLAG_COLUMNS = ("flag", "source", "id", "published", "first_seen", "modified", "title")
#: Columns of ``mediawatch edits --takedowns --format table``.
TAKEDOWN_COLUMNS = ("removed_at", "kind", "source", "id", "status", "evidence", "title")
#: The date-integrity flags, in the order they are reported.
DATE_FLAGS: tuple[str, ...] = ("backdated", "silent_restamp")
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


def _flag_sql(where: str, limit: int | None) -> str:
    """The date-flag query over articles and their current versions (see :func:`date_flags`);
    ``where``: further conditions (``AND ...``)."""
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    return f"""SELECT a.id, a.source, a.url, a.title, a.published, a.first_seen, a.modified,
  v.fetched_at,
  a.published IS NOT NULL AND julianday(a.published) - julianday(a.first_seen)
    > (CASE WHEN length(a.published) = 10 THEN 1 ELSE :tol END) AS backdated,
  a.modified IS NOT NULL AND julianday(a.modified) - julianday(v.fetched_at) > :tol
    AS silent_restamp
FROM articles AS a JOIN versions AS v ON v.article_id = a.id AND v.version = a.version
WHERE (backdated OR silent_restamp){where}
ORDER BY a.first_seen DESC, a.id{tail}"""


def _flag_rows(conn: sqlite3.Connection, where: str, params: dict[str, Any],
               flags: Sequence[str], limit: int | None) -> list[dict[str, Any]]:
    out = []
    wanted = set(flags) or set(DATE_FLAGS)
    for row in conn.execute(_flag_sql(where, limit), {"tol": TOLERANCE_HOURS / 24, **params}):
        base = {"id": row[0], "source": row[1], "url": row[2], "title": row[3],
                "published": row[4], "first_seen": row[5], "modified": row[6],
                "version_fetched_at": row[7]}
        for flag, on in zip(DATE_FLAGS, (row[8], row[9]), strict=True):
            if on and flag in wanted:
                out.append({"flag": flag, **base})
    return out


def date_flags(conn: sqlite3.Connection, *, source: str | None = None,
               flags: Sequence[str] = (), limit: int = 50) -> list[dict[str, Any]]:
    """Date-integrity flags, newest first by first capture: ``{flag, id, source, url, title,
    published, first_seen, modified, version_fetched_at}``; ``flags``: only these (default:
    all of :data:`DATE_FLAGS`). A flag is one of

    * ``backdated``: ``published`` later than ``first_seen`` by more than
      :data:`TOLERANCE_HOURS` (a date-only ``published``, whose zone is unknown, by more
      than a day): the archive had the story before the date it now claims, so the page was
      re-dated (the issue's name for it);
    * ``silent_restamp``: ``modified`` later than the capture of the current text by more
      than :data:`TOLERANCE_HOURS`: a later capture of the *same* text brought a new
      ``modified`` (see :mod:`archive.store.identity`: metadata is refreshed by unchanged
      captures), so the date moved with no text change.

    Derived from the ``articles`` and ``versions`` tables when asked, so ``reindex`` (which
    rebuilds them from the WARC files) rebuilds the flags too.
    """
    where, params = "", {}
    if source is not None:
        where, params = " AND a.source = :source", {"source": source}
    return _flag_rows(conn, where, params, flags, limit)


def article_flags(conn: sqlite3.Connection, aid: str) -> list[dict[str, Any]]:
    """The date flags of one article (``show``): ``[{flag, published, first_seen, modified,
    version_fetched_at}]``."""
    keep = ("flag", "published", "first_seen", "modified", "version_fetched_at")
    return [{k: r[k] for k in keep}
            for r in _flag_rows(conn, " AND a.id = :aid", {"aid": aid}, (), None)]


_TAKEDOWN_SQL = """SELECT a.id, a.source, a.url, a.title, a.removed_at, a.removed_kind,
  a.removed_record, c.warc_file, c."offset", c.length, c.fetched_at, c.status, c.url
FROM articles AS a LEFT JOIN captures AS c ON c.record_id = a.removed_record
WHERE a.removed_at IS NOT NULL"""


def _takedown(row: Sequence[Any]) -> dict[str, Any]:
    capture = None if row[7] is None else {
        "warc_file": row[7], "offset": row[8], "length": row[9], "fetched_at": row[10],
        "status": row[11], "url": row[12], "record_id": row[6]}
    # Archives from before migration 0012 know the time only (a 404 / 410 then).
    return {"at": row[4], "kind": row[5] or "gone", "capture": capture}


def takedown(conn: sqlite3.Connection, aid: str) -> dict[str, Any] | None:
    """How article ``aid`` was taken down (``show``): ``{at, kind, capture}``, ``capture``
    being the WARC record of the answer that showed it (``warc_file, offset, length,
    fetched_at, status, url, record_id``); None while it is online."""
    row = conn.execute(f"{_TAKEDOWN_SQL} AND a.id = ? LIMIT 1", [aid]).fetchone()
    return _takedown(row) if row else None


def takedowns(conn: sqlite3.Connection, *, since: datetime | None = None,
              source: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Taken-down articles, newest takedown first: ``{removed_at, kind, id, source, url,
    title, status, evidence, capture}`` (``evidence``: ``warc_file@offset``)."""
    sql, params = _TAKEDOWN_SQL, []
    if since is not None:
        sql += " AND a.removed_at >= ?"
        params.append(utc_text(since, "since"))
    if source is not None:
        sql += " AND a.source = ?"
        params.append(source)
    out = []
    for row in conn.execute(f"{sql} ORDER BY a.removed_at DESC, a.id LIMIT {int(limit)}",
                            params):
        down = _takedown(row)
        capture = down["capture"]
        out.append({"removed_at": down["at"], "kind": down["kind"], "id": row[0],
                    "source": row[1], "url": row[2], "title": row[3],
                    "status": capture["status"] if capture else None,
                    "evidence": f"{capture['warc_file']}@{capture['offset']}" if capture
                    else None, "capture": capture})
    return out
