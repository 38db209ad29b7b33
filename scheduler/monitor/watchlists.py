"""Watchlist matching: which articles each watchlist raises an alert for, and when.

Alert rules
-----------
After each crawl, :func:`record_alerts` runs every watchlist's query (with its ``sources``,
``language`` and ``tags`` filters) against the **current** text of the articles in the FTS
index, and records each match in ``alerts`` (unique on watchlist, article, version;
:mod:`scheduler.monitor.alerts`):

* an article alerts once per watchlist: kind ``new`` for its first alert there;
* it alerts again only when a later version matches, kind ``update`` (a version that does
  not match raises nothing; if a later one matches again, that is an ``update``);
* only versions fetched within :data:`LOOKBACK` (24 h) before ``now`` are candidates, and
  a ``new`` alert also needs the article to be recent: published (or, without a date,
  first seen) within the watchlist's ``max_age_days`` (default 7; 0 switches this off).
  So a watchlist added to a year-old archive raises at most the last day's matches
  instead of flooding, WARC files of last month loaded by ``reindex`` or ingest raise
  nothing, and the first crawl of a new source does not alert on its sitemap's back
  catalogue. Runs happen far more often than every 24 h,
  so no fresh version is missed;
* articles marked removed (``removed_at``) raise nothing;
* a watchlist with ``edits`` (edit kinds, :mod:`archive.diffs`) raises an ``update`` only
  when the edit since the version it last alerted on has a change of one of those kinds
  (``edits = ["headline"]``: a retitled story alerts again, a typo fix does not); its
  ``new`` alerts are unchanged.

Because matching uses the current text only, an article edited twice between two runs
alerts once, for its latest version.

Which watchlists file applies is decided here too (:func:`open_watchlists`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from archive.config.watchlists import Watchlist, Watchlists, load_watchlists
from archive.store.schema import FTS_TABLE
from archive.store.search import day_bound_sql, widened_match
from archive.times import utc_text
from scheduler.monitor.alerts import Alert, insert_alerts

if TYPE_CHECKING:
    from archive.store.db import Archive

__all__ = ["LOOKBACK", "match_sql", "open_watchlists", "record_alerts"]

LOOKBACK = timedelta(hours=24)


def open_watchlists(path: str | None) -> Watchlists:
    """The watchlists in force: ``path`` (``--watchlists`` / ``MEDIAWATCH_WATCHLISTS``) when
    given, where a missing file is an error; else ``config/watchlists.toml``, where a missing
    file means no watchlists. ``ConfigError`` for a bad file."""
    return load_watchlists(path, required=path is not None)


def _prior(alias: str = "p") -> str:
    return (f"SELECT 1 FROM alerts AS {alias} WHERE {alias}.watchlist = :watchlist"
            f" AND {alias}.article_id = a.id")


def match_sql(watchlist: Watchlist, now: datetime, *,
              lookback: timedelta = LOOKBACK, match: str | None = None
              ) -> tuple[str, dict[str, Any]]:
    """SQL and parameters for the alerts ``watchlist`` should raise at ``now`` (pure);
    ``match`` is its widened FTS5 expression (default: the query as typed).

    Columns: article_id, version, kind, fetched_at. See the module docstring for the rules.
    """
    params: dict[str, Any] = {
        "watchlist": watchlist.name,
        "match": match or watchlist.match,
        "since": utc_text(now - lookback, "now"),
    }
    filters: list[str] = []
    if watchlist.max_age_days:
        params["oldest"] = utc_text(now - timedelta(days=watchlist.max_age_days), "now")
        # A story known only by its day is as recent as that day's end.
        date = day_bound_sql("coalesce(a.published, a.first_seen)", "since")
        filters.append(f"(EXISTS ({_prior()}) OR {date} >= :oldest)")
    if watchlist.sources:
        names = [f":source{i}" for i in range(len(watchlist.sources))]
        params.update(zip((n[1:] for n in names), watchlist.sources, strict=True))
        filters.append(f"a.source IN ({', '.join(names)})")
    if watchlist.language:
        filters.append("(lower(a.language) = :language OR lower(a.language) GLOB :language_glob)")
        params.update(language=watchlist.language, language_glob=watchlist.language + "-*")
    if watchlist.tags:
        names = [f":tag{i}" for i in range(len(watchlist.tags))]
        params.update(zip((n[1:] for n in names), (t.lower() for t in watchlist.tags),
                          strict=True))
        filters.append("EXISTS (SELECT 1 FROM json_each(a.tags) AS t"
                       f" WHERE lower(t.value) IN ({', '.join(names)}))")
    extra = "".join(f"\n  AND {f}" for f in filters)
    sql = f"""SELECT a.id AS article_id, a.version AS version,
  CASE WHEN EXISTS ({_prior()}) THEN 'update' ELSE 'new' END AS kind,
  v.fetched_at AS fetched_at
FROM {FTS_TABLE} JOIN articles AS a ON a.pk = {FTS_TABLE}.rowid
JOIN versions AS v ON v.article_id = a.id AND v.version = a.version
WHERE {FTS_TABLE} MATCH :match
  AND v.fetched_at >= :since
  AND a.removed_at IS NULL
  AND NOT EXISTS ({_prior()} AND p.version >= a.version){extra}
ORDER BY v.fetched_at, a.id"""
    return sql, params


def record_alerts(archive: Archive, watchlists: Iterable[Watchlist], now: datetime, *,
                  lookback: timedelta = LOOKBACK) -> list[Alert]:
    """Match every watchlist at ``now`` and record the new alerts (see the module docstring).

    Returns the alerts recorded now.
    """
    rows: list[tuple[str, str, int, str]] = []
    for watchlist in watchlists:
        # Names in every script and spelling, as a search matches them.
        match = widened_match(archive, watchlist.query, watchlist.exact)
        sql, params = match_sql(watchlist, now, lookback=lookback, match=match)
        for row in archive.db.execute(sql, params).fetchall():
            if watchlist.edits and row[2] == "update" and not _edited(
                    archive, watchlist, row[0], row[1]):
                continue
            rows.append((watchlist.name, row[0], row[1], row[2]))
    return insert_alerts(archive, rows, now)


def _edited(archive: Archive, watchlist: Watchlist, aid: str, version: int) -> bool:
    """Whether the edit of ``aid`` since the version ``watchlist`` last alerted on has a
    change of one of the watchlist's ``edits`` kinds (computed now from ``versions``)."""
    from archive.store.edits import kinds_between

    row = archive.db.execute("SELECT max(version) FROM alerts WHERE watchlist = ? AND"
                             " article_id = ?", [watchlist.name, aid]).fetchone()
    previous = row[0] if row and row[0] else version - 1
    return bool(set(watchlist.edits) & set(kinds_between(archive.db.conn, aid, previous,
                                                         version)))
