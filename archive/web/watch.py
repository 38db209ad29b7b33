"""The morning view: each watchlist's new and changed articles since a moment.

``/watchlists/`` lists the watchlists of the watchlists file with how many articles are new
and how many changed since ``?since=`` (default :data:`DEFAULT_SINCE` back from now);
``/watchlists/<name>`` lists them, ``/watchlists/<name>.atom`` is the same as an Atom feed.

Matching is the watchlist's own (its FTS5 expression, ``sources``, ``language`` and
``tags``, as :mod:`scheduler.monitor.watchlists` matches for alerts) against the current
text of each article, but over any period asked for rather than the alerts' last 24 h:

* **new**: first seen by the archive at or after ``since``;
* **changed**: first seen before ``since``, with a version fetched at or after it (each
  with the kinds of its change since the last version before ``since``,
  :mod:`archive.diffs`).

Articles marked removed are left out, as alerts leave them out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from archive.store.edits import kinds_between
from archive.store.provenance import capture_join_sql
from archive.store.schema import FTS_TABLE
from archive.store.search import widened_match
from archive.times import utc_text

if TYPE_CHECKING:
    import sqlite3

    from archive.config.watchlists import Watchlist

__all__ = ["DEFAULT_SINCE", "WATCH_LIMIT", "feed_rows", "watch_sql", "watchlist_view"]

#: How far back ``since`` goes when the request names none.
DEFAULT_SINCE = timedelta(hours=24)
#: At most this many new and this many changed articles per page or feed.
WATCH_LIMIT = 200


def watch_sql(watchlist: Watchlist, since: datetime, kind: str,
              limit: int = WATCH_LIMIT, match: str | None = None
              ) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of ``watchlist``'s ``new`` or ``changed`` articles since
    ``since`` (module docstring), newest first (pure). Columns: id, url, short_url,
    source, title, published, language, first_seen, version, fetched_at (of the current
    version), previous (the last version before ``since``, for ``changed``), snippet,
    capture_url and capture_fetched_at (the capture holding the current version).
    ``match``: the widened FTS5 expression (default: the query as typed)."""
    if kind not in ("new", "changed"):
        raise ValueError(f"kind must be new or changed, not {kind!r}")
    params: dict[str, Any] = {"match": match or watchlist.match, "since": utc_text(since, "since"),
                              "limit": limit}
    filters = ["a.removed_at IS NULL"]
    if kind == "new":
        filters.append("a.first_seen >= :since")
    else:
        filters += ["a.first_seen < :since",
                    "EXISTS (SELECT 1 FROM versions AS w WHERE w.article_id = a.id"
                    " AND w.fetched_at >= :since)"]
    if watchlist.sources:
        names = [f"source{i}" for i in range(len(watchlist.sources))]
        params.update(zip(names, watchlist.sources, strict=True))
        filters.append(f"a.source IN ({', '.join(':' + n for n in names)})")
    if watchlist.language:
        filters.append("(lower(a.language) = :language OR lower(a.language) GLOB :language_glob)")
        params.update(language=watchlist.language, language_glob=watchlist.language + "-*")
    if watchlist.tags:
        names = [f"tag{i}" for i in range(len(watchlist.tags))]
        params.update(zip(names, (t.lower() for t in watchlist.tags), strict=True))
        filters.append("EXISTS (SELECT 1 FROM json_each(a.tags) AS t"
                       f" WHERE lower(t.value) IN ({', '.join(':' + n for n in names)}))")
    where = "".join(f"\n  AND {f}" for f in filters)
    sql = f"""SELECT a.id, a.url, a.short_url, a.source, a.title, a.published, a.language,
  a.first_seen, a.version, v.fetched_at,
  (SELECT max(p.version) FROM versions AS p WHERE p.article_id = a.id
     AND p.fetched_at < :since) AS previous,
  coalesce(nullif(a.lead, ''), substr(a.body, 1, 280)) AS snippet,
  pc.url AS capture_url, pc.fetched_at AS capture_fetched_at
FROM {FTS_TABLE} JOIN articles AS a ON a.pk = {FTS_TABLE}.rowid
JOIN versions AS v ON v.article_id = a.id AND v.version = a.version
{capture_join_sql("a")}
WHERE {FTS_TABLE} MATCH :match{where}
ORDER BY v.fetched_at DESC, a.id
LIMIT :limit"""
    return sql, params


def _rows(conn: sqlite3.Connection, sql_params: tuple[str, dict[str, Any]]
          ) -> list[dict[str, Any]]:
    cursor = conn.execute(*sql_params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def watchlist_view(conn: sqlite3.Connection, watchlist: Watchlist, since: datetime,
                   limit: int = WATCH_LIMIT, *, kinds: bool = True) -> dict[str, Any]:
    """One watchlist's page: ``{name, query, since, new: [...], changed: [...]}``; each
    changed article has ``kinds``, the kinds of its change since ``previous`` (classified
    now, from the versions: skipped with ``kinds=False`` where only counts are shown)."""
    # Names in every script and spelling, as a search and the alerts match them.
    match = widened_match(conn, watchlist.query, watchlist.exact)
    new = _rows(conn, watch_sql(watchlist, since, "new", limit, match))
    changed = _rows(conn, watch_sql(watchlist, since, "changed", limit, match))
    for row in changed:
        row["kinds"] = kinds_between(conn, row["id"], row["previous"], row["version"]) \
            if row["previous"] and kinds else []
    return {"name": watchlist.name, "query": watchlist.query,
            "since": utc_text(since, "since"), "new": new, "changed": changed}


def feed_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    """A watchlist view as alert-shaped rows (newest first) for an Atom feed writer:
    ``watchlist, article_id, version, kind (new | update), matched_at`` (the version's
    fetch time) and the article's fields with the capture of its current version."""
    rows = []
    for kind, items in (("new", view["new"]), ("update", view["changed"])):
        for item in items:
            rows.append({**item, "watchlist": view["name"], "article_id": item["id"],
                         "kind": kind, "matched_at": item["fetched_at"], "body": None})
    return sorted(rows, key=lambda r: (r["matched_at"], r["article_id"]), reverse=True)
