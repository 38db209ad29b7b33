"""The read side of the archive: an article by id or alias URL, everything stored about it,
the export of every article (or of a search), and row counts.

Functions over the sqlite-utils ``Database`` of an :class:`~archive.store.db.Archive`
(``archive.db``), whose methods (:meth:`~archive.store.db.Archive.resolve`,
:meth:`~archive.store.db.Archive.show`...) call them; the write side
(:mod:`archive.store.articles`) looks articles up with the same functions. Rows become
records through :mod:`archive.store.records`; none of this writes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from archive.store.clusters import cluster_of
from archive.store.edits import article_flags, takedown
from archive.store.names import article_entities
from archive.store.records import article_dict, export_sql
from archive.store.screenshots import by_version as screenshot_locations
from archive.store.search import widened_match
from archive.store.urls import try_normalize_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    import sqlite_utils

__all__ = ["article_row", "count", "export", "resolve", "show", "stats"]


def article_row(db: sqlite_utils.Database, aid: str) -> dict[str, Any] | None:
    """The ``articles`` row of article ``aid`` as a dict, or None."""
    rows = list(db.query("SELECT * FROM articles WHERE id = ?", [aid]))
    return rows[0] if rows else None


def resolve(db: sqlite_utils.Database, url_or_id: str) -> str | None:
    """The id of the article ``url_or_id`` names: an article id or any alias URL."""
    text = url_or_id.strip()
    if not text:
        return None
    row = db.execute("SELECT id FROM articles WHERE id = ?", [text]).fetchone()
    if row:
        return str(row[0])
    norm = try_normalize_url(text)
    if norm is None:
        return None
    row = db.execute("SELECT article_id FROM aliases WHERE url = ?", [norm]).fetchone()
    return str(row[0]) if row else None


def show(db: sqlite_utils.Database, url_or_id: str) -> dict[str, Any] | None:
    """Everything about one article: current fields, aliases, entities (``[{id, name,
    kind}]``), versions, captures and its cluster (:func:`archive.store.clusters.cluster_of`).

    Captures are those linked to the article plus unlinked ones of its alias URLs (a
    short link's redirect, a later 404).
    """
    aid = resolve(db, url_or_id)
    if aid is None:
        return None
    row = article_row(db, aid)
    assert row is not None
    aliases = [
        r[0]
        for r in db.execute("SELECT original FROM aliases WHERE article_id = ?", [aid])
    ]
    out = article_dict(row, aliases)
    out["removed_at"] = row["removed_at"]
    # Derived data of the edits engineer's area: how it was taken down (with the WARC record
    # as evidence) and the date-integrity flags.
    out["removed"] = takedown(db.conn, aid)
    out["flags"] = article_flags(db.conn, aid)
    # The gazetteer entities the current text mentions (archive.store.names).
    out["entities"] = article_entities(db.conn, aid)
    out["versions"] = list(
        db.query(
            "SELECT version, fetched_at, url, title, lead, body, content_hash FROM versions"
            " WHERE article_id = ? ORDER BY version",
            [aid],
        )
    )
    # Where each version's screenshot is (a WARC resource record), or None.
    shots = screenshot_locations(db, aid)
    for version in out["versions"]:
        version["screenshot"] = shots.get(version["version"])
    out["captures"] = list(
        db.query(
            'SELECT warc_file, "offset", length, fetched_at, status, url, digest, record_id,'
            " kind, outcome FROM captures WHERE article_id = :id OR (article_id IS NULL AND"
            " url_norm IN (SELECT url FROM aliases WHERE article_id = :id))"
            " ORDER BY fetched_at, id",
            {"id": aid},
        )
    )
    # The story across outlets (archive.store.clusters): a cluster of one when alone.
    out["cluster"] = cluster_of(db.conn, aid)
    return out


def export(db: sqlite_utils.Database, query: str | None = None) -> Iterator[dict[str, Any]]:
    """Every article (or the full-text matches of ``query``), in export order.

    Each item is :func:`show` without ``versions`` and ``captures``. ``query`` uses the
    syntax of :func:`archive.store.search.fts_expression` and may raise
    :class:`archive.store.search.QueryError`. Names match in every script, as in a search.
    """
    sql, params = export_sql(_match(db, query))
    for row in db.query(sql, params):
        yield article_dict(row, json.loads(row["alias_originals"]))


def count(db: sqlite_utils.Database, query: str | None = None) -> int:
    """How many articles :func:`export` gives for ``query`` (all when None)."""
    sql, params = export_sql(_match(db, query))
    return int(db.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])


def _match(db: sqlite_utils.Database, query: str | None) -> str | None:
    """The FTS5 expression of ``query``, names widened to every script (None: all)."""
    return widened_match(db.conn, query) if query is not None else None


def stats(db: sqlite_utils.Database) -> dict[str, int]:
    """Row counts: articles, versions, aliases, captures."""
    return {
        name: db[name].count for name in ("articles", "versions", "aliases", "captures")
    }
