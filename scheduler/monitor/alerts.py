"""Alert records and the delivery log: the ``alerts`` and ``deliveries`` tables (SQL built by
pure functions, executed by thin functions beside them).

``alerts`` holds one row per match (watchlist, article, version, kind), written by the
watchlist matching (:mod:`scheduler.monitor.watchlists`, which has the alert rules) and by the
source-health transitions (:mod:`scheduler.monitor.health`), which use the reserved
watchlist name :data:`HEALTH` (watchlist names cannot start with ``_``).

``deliveries`` holds one row per delivery attempt: ``attempts`` counts the attempts for that
alert, channel and target so far, ``status`` is ``delivered``, ``failed`` (retried on a
later run) or ``gave_up`` (the last allowed attempt failed). An alert is pending for a
channel and target while it has no ``delivered``/``gave_up`` row there and was matched
within the retry window (:func:`pending_sql`). The sending itself is
:mod:`scheduler.monitor.delivery`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archive.times import utc_text

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from archive.store.db import Archive

__all__ = [
    "ALERT_COLUMNS",
    "DELIVERY_STATUSES",
    "HEALTH",
    "Alert",
    "DeliveryLog",
    "alert_rows_sql",
    "deliveries_sql",
    "insert_alerts",
    "list_deliveries",
    "log_deliveries",
    "pending_sql",
]

HEALTH = "_health"
DELIVERY_STATUSES = ("delivered", "failed", "gave_up")
#: ``mediawatch alerts``'s table columns (its JSON has every column of :func:`deliveries_sql`).
ALERT_COLUMNS = ("time", "watchlist", "article", "title", "kind", "channel", "status",
                 "attempts")
#: Article fields every alert row carries (payloads, feeds, listings). The text (url, title,
#: lead, body, snippet) is the announced version's, not the article's current one: a feed
#: read after an edit must still show what the ``new`` alert was about. ``capture_*`` name
#: the capture holding that version (for the archive links, :mod:`scheduler.monitor.links`).
_ARTICLE_FIELDS = (
    "coalesce(v.url, a.url) AS url, a.short_url, coalesce(v.title, a.title) AS title,"
    " a.source, a.published, a.language, coalesce(v.lead, a.lead) AS lead,"
    " coalesce(v.body, a.body) AS body,"
    " coalesce(nullif(coalesce(v.lead, a.lead), ''), substr(coalesce(v.body, a.body), 1, 280))"
    " AS snippet, v.fetched_at AS version_fetched_at, c.url AS capture_url,"
    " c.fetched_at AS capture_fetched_at, c.warc_file AS capture_warc_file,"
    ' c."offset" AS capture_offset, c.record_id AS capture_record_id'
)
#: The announced version and its capture: the first capture of the article with that
#: version's text fetched when the version was or later (a text that came back later has
#: older captures too), else any capture with that text.
_VERSION_JOINS = """LEFT JOIN articles AS a ON a.id = al.article_id
LEFT JOIN versions AS v ON v.article_id = al.article_id AND v.version = al.version
LEFT JOIN captures AS c ON c.id = (
  SELECT c2.id FROM versions AS v2 JOIN captures AS c2
    ON c2.article_id = v2.article_id AND c2.content_hash = v2.content_hash
  WHERE v2.article_id = al.article_id AND v2.version = al.version
  ORDER BY c2.fetched_at < v2.fetched_at, c2.fetched_at, c2.id LIMIT 1)"""


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
            if cursor.rowcount == 1 and cursor.lastrowid is not None:
                out.append(Alert(cursor.lastrowid, watchlist, article_id, version, kind,
                                 matched_at))
    return out


def alert_rows_sql(watchlist: str, limit: int = 100) -> tuple[str, dict[str, Any]]:
    """SQL for a watchlist's newest alerts with the announced version's fields and capture
    (for the Atom feed)."""
    sql = f"""SELECT al.id, al.watchlist, al.article_id, al.version, al.kind, al.matched_at,
  {_ARTICLE_FIELDS}
FROM alerts AS al
{_VERSION_JOINS}
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
FROM alerts AS al
{_VERSION_JOINS}
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
