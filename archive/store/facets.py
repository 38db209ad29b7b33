"""Facets of a result set: counts per source, day, language, tag and gazetteer entity;
browsing and export rows.

A result set is a :class:`~archive.store.search.Filters` value: search text (the syntax of
:func:`archive.store.search.fts_expression`; None means every article) plus source, date range,
language and tag. The SQL is built by pure functions (``*_sql``, returning SQL and
parameters) and executed separately by :func:`rows`, so the generated SQL is testable.

Semantics shared with :mod:`archive.store.search`: the date of an article is its published time,
or its first capture when the page had none; ``since`` is inclusive and ``until`` exclusive;
``language`` matches the primary subtag too (``en`` finds ``en-GB``). ``tag`` matches one of
the article's tags, ignoring case. Counts are built for a million articles: the total is
exact up to :data:`archive.store.search.COUNT_CAP` (then "more than"), and the counts per source,
language, tag and day cover the newest :data:`FACET_WINDOW` articles of the result set
(all of it when it is smaller), walked newest first off the date-ordered FTS index.

Copies of a story in other outlets are no longer computed here when a page is viewed: they
are linked into clusters at ingest (:mod:`archive.clusters`, :mod:`archive.store.clusters`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from archive.store.schema import FTS_TABLE
from archive.store.search import Filters, count_sql, where_sql
from archive.times import utc_text

if TYPE_CHECKING:
    import sqlite3
    from datetime import datetime

__all__ = [
    "FACET_WINDOW",
    "Filters",  # re-exported from archive.store.search, as are count_sql and where_sql
    "browse_sql",
    "count_sql",
    "counts_sql",
    "day_counts_sql",
    "export_sql",
    "new_per_day_sql",
    "newest_sql",
    "rows",
    "tags_of_sql",
    "where_sql",
]

#: Facet counts run over this many of the newest articles of a result set.
FACET_WINDOW = 20_000
_DATE = "coalesce(a.published, a.first_seen)"
_FACET_COLUMNS = {"source": "a.source", "language": "lower(a.language)"}


def newest_sql(f: Filters, window: int | None = None) -> tuple[str, dict[str, Any]]:
    """The newest ``window`` articles of ``f`` (every column, rowid order = date order):
    what the facet counts run over, so that they cost the window, not the whole match."""
    base, params = where_sql(f)
    params["facet_window"] = window or FACET_WINDOW
    return f"SELECT a.* {base}\nORDER BY {_walk_order(base)} DESC LIMIT :facet_window", params


def _walk_order(base: str) -> str:
    # The rowid of the table that drives the walk, so that its order is read, not sorted.
    return f"{FTS_TABLE}.rowid" if f"{FTS_TABLE} MATCH" in base else "a.pk"


def counts_sql(f: Filters, facet: str, limit: int = 50) -> tuple[str, dict[str, Any]]:
    """Articles per ``facet`` (``source``, ``language``, ``tag`` or ``entity``: a gazetteer
    id of ``article_entities``) among the newest :data:`FACET_WINDOW` of ``f``, most first
    (exact when ``f`` has no more).

    Columns ``value`` and ``n``; ties in name order; at most ``limit`` rows.
    """
    window, params = newest_sql(f)
    params["facet_limit"] = limit
    if facet == "tag":
        return (f"SELECT t.value AS value, count(*) AS n FROM ({window}) AS a,"
                " json_each(a.tags) AS t"
                "\nGROUP BY t.value ORDER BY n DESC, value LIMIT :facet_limit"), params
    if facet == "entity":
        return (f"SELECT e.entity_id AS value, count(*) AS n FROM ({window}) AS a"
                " JOIN article_entities AS e ON e.article_id = a.id"
                "\nGROUP BY value ORDER BY n DESC, value LIMIT :facet_limit"), params
    if facet not in _FACET_COLUMNS:
        raise ValueError(f"unknown facet {facet!r}")
    column = _FACET_COLUMNS[facet]
    return (f"SELECT {column} AS value, count(*) AS n FROM ({window}) AS a"
            f"\nGROUP BY value ORDER BY n DESC, value LIMIT :facet_limit"), params


def day_counts_sql(f: Filters) -> tuple[str, dict[str, Any]]:
    """Articles per UTC day of their date (``day`` as ``YYYY-MM-DD``, ``n``) among the
    newest :data:`FACET_WINDOW` of ``f``, in day order; days without articles are absent."""
    window, params = newest_sql(f)
    return (f"SELECT substr({_DATE}, 1, 10) AS day, count(*) AS n FROM ({window}) AS a"
            "\nGROUP BY day ORDER BY day"), params


def new_per_day_sql(since: datetime) -> tuple[str, dict[str, Any]]:
    """New articles (by ``first_seen``, when the archive got them) per source and UTC day
    from ``since`` on: columns ``source``, ``day``, ``n``."""
    return ("SELECT source, substr(first_seen, 1, 10) AS day, count(*) AS n FROM articles"
            " WHERE first_seen >= :since GROUP BY source, day ORDER BY source, day",
            {"since": utc_text(since, "since")})


def browse_sql(f: Filters, limit: int, offset: int) -> tuple[str, dict[str, Any]]:
    """A page of the articles of ``f``, newest first (rowid order is date order, so the
    page is read off the primary key), in the columns of a search hit (``snippet`` is the
    start of the lead, ``rank`` is NULL): listing without search text."""
    base, params = where_sql(f)
    params.update(limit=limit, offset=offset)
    sql = ("SELECT a.id, a.url, a.short_url, a.source, a.title, a.published, a.language,"
           " substr(coalesce(a.lead, a.body, ''), 1, 200) AS snippet, NULL AS rank\n"
           f"{base}\nORDER BY {_walk_order(base)} DESC LIMIT :limit OFFSET :offset")
    return sql, params


def export_sql(f: Filters) -> tuple[str, dict[str, Any]]:
    """Every article of ``f`` with its alias list, in export order (as
    :func:`archive.store.records.export_sql`, for :func:`archive.store.records.article_dict`)."""
    base, params = where_sql(f)
    sql = ("SELECT a.*, (SELECT json_group_array(original) FROM aliases AS al"
           f" WHERE al.article_id = a.id) AS alias_originals\n{base}\n"
           f"ORDER BY {_DATE}, a.id")
    return sql, params


def tags_of_sql(ids: Iterable[str]) -> tuple[str, dict[str, Any]]:
    """The tags (JSON text) of the articles ``ids``: columns ``id``, ``tags``."""
    params = {f"id{i}": value for i, value in enumerate(ids)}
    names = ", ".join(f":{name}" for name in params) or "NULL"
    return f"SELECT id, tags FROM articles WHERE id IN ({names})", params


# --------------------------------------------------------------------------- execution


def rows(conn: sqlite3.Connection, sql_params: tuple[str, Mapping[str, Any]]
         ) -> list[dict[str, Any]]:
    """Run one ``*_sql`` result and return its rows as dicts."""
    sql, params = sql_params
    cursor = conn.execute(sql, dict(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
