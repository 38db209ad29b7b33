"""Watchlist matching and the alert / delivery log (SQL built by pure functions).

Alert rules
-----------
After each crawl, :func:`record_alerts` runs every watchlist's query (with its ``sources``,
``language`` and ``tags`` filters) against the **current** text of the articles in the FTS
index, and records each match in ``alerts`` (unique on watchlist, article, version):

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
* articles marked removed (``removed_at``) raise nothing.

Because matching uses the current text only, an article edited twice between two runs
alerts once, for its latest version.

Deliveries
----------
``deliveries`` holds one row per delivery attempt: ``attempts`` counts the attempts for that
alert, channel and target so far, ``status`` is ``delivered``, ``failed`` (retried on a
later run) or ``gave_up`` (the last allowed attempt failed). An alert is pending for a
channel and target while it has no ``delivered``/``gave_up`` row there and was matched
within the retry window (:func:`pending_sql`). The sending itself is
:mod:`scheduler.monitor.delivery`.

Source-health alerts (:mod:`archive.store.health`) live in the same two tables under the
reserved watchlist name :data:`HEALTH` (watchlist names cannot start with ``_``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from archive.config.watchlists import Watchlist
from archive.store.db import Archive
from archive.store.schema import FTS_TABLE
from archive.times import utc_text

__all__ = [
    "DELIVERY_STATUSES",
    "HEALTH",
    "LOOKBACK",
    "Alert",
    "DeliveryLog",
    "alert_rows_sql",
    "deliveries_sql",
    "insert_alerts",
    "list_deliveries",
    "log_deliveries",
    "match_sql",
    "pending_sql",
    "record_alerts",
]

LOOKBACK = timedelta(hours=24)
HEALTH = "_health"
DELIVERY_STATUSES = ("delivered", "failed", "gave_up")
#: Article fields every alert row carries (payloads, feeds, listings).
_ARTICLE_FIELDS = (
    "a.url, a.short_url, a.title, a.source, a.published, a.language, a.lead,"
    " coalesce(nullif(a.lead, ''), substr(a.body, 1, 280)) AS snippet"
)


@dataclass(frozen=True, slots=True)
class Alert:
    """One recorded match: ``kind`` is ``new`` or ``update``; ``matched_at`` UTC text."""

    id: int
    watchlist: str
    article_id: str
    version: int
    kind: str
    matched_at: str


@dataclass(frozen=True, slots=True)
class DeliveryLog:
    """One delivery attempt as logged in ``deliveries``."""

    alert_id: int | None
    watchlist: str
    channel: str
    target: str
    status: str
    attempts: int
    error: str | None
    delivered_at: datetime


def _prior(alias: str = "p") -> str:
    return (f"SELECT 1 FROM alerts AS {alias} WHERE {alias}.watchlist = :watchlist"
            f" AND {alias}.article_id = a.id")


def match_sql(watchlist: Watchlist, now: datetime, *,
              lookback: timedelta = LOOKBACK) -> tuple[str, dict[str, Any]]:
    """SQL and parameters for the alerts ``watchlist`` should raise at ``now`` (pure).

    Columns: article_id, version, kind, fetched_at. See the module docstring for the rules.
    """
    params: dict[str, Any] = {
        "watchlist": watchlist.name,
        "match": watchlist.match,
        "since": utc_text(now - lookback, "now"),
    }
    filters: list[str] = []
    if watchlist.max_age_days:
        params["oldest"] = utc_text(now - timedelta(days=watchlist.max_age_days), "now")
        filters.append(f"(EXISTS ({_prior()}) OR coalesce(a.published, a.first_seen) >= :oldest)")
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


def insert_alerts(archive: Archive, rows: Iterable[tuple[str, str, int, str]],
                  now: datetime) -> list[Alert]:
    """Insert ``(watchlist, article_id, version, kind)`` rows; return those that were new."""
    matched_at = utc_text(now, "now")
    out: list[Alert] = []
    with archive.transaction():
        for watchlist, article_id, version, kind in rows:
            cursor = archive.db.execute(
                "INSERT OR IGNORE INTO alerts (watchlist, article_id, version, kind, matched_at)"
                " VALUES (?, ?, ?, ?, ?)", [watchlist, article_id, version, kind, matched_at])
            if cursor.rowcount == 1:
                out.append(Alert(int(cursor.lastrowid), watchlist, article_id, version, kind,
                                 matched_at))
    return out


def record_alerts(archive: Archive, watchlists: Iterable[Watchlist], now: datetime, *,
                  lookback: timedelta = LOOKBACK) -> list[Alert]:
    """Match every watchlist at ``now`` and record the new alerts (module docstring rules).

    Returns the alerts recorded now.
    """
    rows: list[tuple[str, str, int, str]] = []
    for watchlist in watchlists:
        sql, params = match_sql(watchlist, now, lookback=lookback)
        for row in archive.db.execute(sql, params).fetchall():
            rows.append((watchlist.name, row[0], row[1], row[2]))
    return insert_alerts(archive, rows, now)


def alert_rows_sql(watchlist: str, limit: int = 100) -> tuple[str, dict[str, Any]]:
    """SQL for a watchlist's newest alerts with their article fields (for the Atom feed)."""
    sql = f"""SELECT al.id, al.watchlist, al.article_id, al.version, al.kind, al.matched_at,
  {_ARTICLE_FIELDS}
FROM alerts AS al LEFT JOIN articles AS a ON a.id = al.article_id
WHERE al.watchlist = :watchlist
ORDER BY al.matched_at DESC, al.id DESC
LIMIT :limit"""
    return sql, {"watchlist": watchlist, "limit": limit}


def pending_sql(watchlist: str, channel: str, target: str, now: datetime, *,
                window: timedelta, max_attempts: int) -> tuple[str, dict[str, Any]]:
    """SQL for the alerts of ``watchlist`` still to deliver to ``channel``/``target``.

    Pending: matched within ``window`` before ``now``, no ``delivered`` or ``gave_up`` row
    for this channel and target, and fewer than ``max_attempts`` attempts so far. Columns:
    the alert's, ``tried`` (attempts so far) and the article fields; oldest first.
    """
    done = ("SELECT 1 FROM deliveries AS d WHERE d.alert_id = al.id AND d.channel = :channel"
            " AND d.target = :target")
    sql = f"""SELECT al.id, al.watchlist, al.article_id, al.version, al.kind, al.matched_at,
  coalesce(({done.replace("SELECT 1", "SELECT max(d.attempts)")}), 0) AS tried,
  {_ARTICLE_FIELDS}
FROM alerts AS al LEFT JOIN articles AS a ON a.id = al.article_id
WHERE al.watchlist = :watchlist
  AND al.matched_at >= :since
  AND NOT EXISTS ({done} AND d.status IN ('delivered', 'gave_up'))
  AND coalesce(({done.replace("SELECT 1", "SELECT max(d.attempts)")}), 0) < :max_attempts
ORDER BY al.matched_at, al.id"""
    return sql, {"watchlist": watchlist, "channel": channel, "target": target,
                 "since": utc_text(now - window, "now"), "max_attempts": max_attempts}


def log_deliveries(archive: Archive, logs: Iterable[DeliveryLog]) -> None:
    """Append delivery attempts to ``deliveries`` (one transaction)."""
    with archive.transaction():
        archive.db.conn.executemany(
            "INSERT INTO deliveries (alert_id, watchlist, channel, target, status, attempts,"
            " error, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(d.alert_id, d.watchlist, d.channel, d.target, d.status, d.attempts,
              d.error[:500] if d.error else None, utc_text(d.delivered_at, "delivered_at"))
             for d in logs])


def deliveries_sql(watchlist: str | None = None, limit: int = 200) -> tuple[str, dict[str, Any]]:
    """SQL listing delivery attempts, newest first (``mediawatch alerts``).

    Columns: time, watchlist, article, title, kind, version, channel, target, status,
    attempts, error.
    """
    where = "WHERE d.watchlist = :watchlist" if watchlist is not None else ""
    sql = f"""SELECT d.delivered_at AS time, d.watchlist, al.article_id AS article, a.title,
  al.kind, al.version, d.channel, d.target, d.status, d.attempts, d.error
FROM deliveries AS d
LEFT JOIN alerts AS al ON al.id = d.alert_id
LEFT JOIN articles AS a ON a.id = al.article_id
{where}
ORDER BY d.delivered_at DESC, d.id DESC
LIMIT :limit"""
    params: dict[str, Any] = {"limit": limit}
    if watchlist is not None:
        params["watchlist"] = watchlist
    return sql, params


def list_deliveries(archive: Archive, watchlist: str | None = None,
                    limit: int = 200) -> list[dict[str, Any]]:
    """Logged delivery attempts (all, or of one watchlist), newest first."""
    sql, params = deliveries_sql(watchlist, limit)
    return [dict(row) for row in archive.db.query(sql, params)]
