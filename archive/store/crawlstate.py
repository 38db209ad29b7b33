"""What the archive knows that the next crawl of a source needs, and where that crawl leaves
its polling state.

A crawl opens :class:`CrawlState` read-only at its start: which links are known articles
(so they are not fetched again), which articles are due for a re-check, the last full
capture of a URL (so an identical answer is written as a revisit record), and the
conditional-GET validators and poll interval of every feed, sitemap and section page. The
crawl writes back ``fetch_state`` and ``source_state`` when it ends (:func:`save_states`).

Lookups are per URL against indexed columns, not a load of the whole archive, so a source
with a million archived articles starts as fast as a new one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.models import FetchState, KnownArticle, PriorCapture, SourceState
from archive.store.connection import connect
from archive.store.identity import DECLARED_ALIAS_KINDS
from archive.store.urls import try_normalize_url
from archive.times import parse_utc, utc_text

if TYPE_CHECKING:  # only annotations: reading crawl state needs no Archive (no sqlite_utils)
    from datetime import datetime

    from archive.store.db import Archive


def _time(value: str | None) -> datetime | None:
    return parse_utc(value) if value else None


@dataclass(frozen=True, slots=True)
class EditHabits:
    """What the archive saw of one source's edits (:meth:`CrawlState.edit_habits`, the input
    of :func:`crawler.recheck.recheck_schedule`): ``articles`` first seen in the learning
    window and fetched again since (only those could show an edit), how many of them got a
    later version (``edited``), and ``delays``: seconds from ``first_seen`` to the capture
    of each later version."""

    articles: int
    edited: int
    delays: tuple[int, ...] = ()

    @property
    def rate(self) -> float:
        """The share of articles edited at least once (0 without articles)."""
        return self.edited / self.articles if self.articles else 0.0


# The learning window's articles fetched again after their first capture (only those could
# show an edit), and their later versions (versions after the first: the edits).
_HABIT_ARTICLES_SQL = """
SELECT count(*) FROM articles AS a WHERE a.source = ? AND a.first_seen >= ?
AND EXISTS (SELECT 1 FROM captures AS c WHERE c.article_id = a.id AND c.fetched_at > a.first_seen)
"""
_HABIT_DELAYS_SQL = """
SELECT v.article_id,
       CAST(round((julianday(v.fetched_at) - julianday(a.first_seen)) * 86400) AS INTEGER)
FROM articles AS a JOIN versions AS v ON v.article_id = a.id AND v.version > 1
WHERE a.source = ? AND a.first_seen >= ?
"""
_ARTICLE_COLUMNS = """
SELECT a.id, a.url, a.title, a.modified, a.first_seen, a.removed_at,
       (SELECT max(c.fetched_at) FROM captures AS c WHERE c.article_id = a.id) AS last_fetched,
       (SELECT coalesce(c.requested_url, c.url) FROM captures AS c
        WHERE c.article_id = a.id AND c.outcome IN ('inserted', 'updated', 'unchanged')
        ORDER BY c.fetched_at DESC LIMIT 1) AS link
"""
# An alias the page declared (a short link, canonical, AMP or alternate URL) that no capture
# was made under: the crawl fetches it once (crawler.incremental.article_fetch_reason).
_KNOWN_SQL = _ARTICLE_COLUMNS + f""",
       al.kind IN ({", ".join(f"'{kind}'" for kind in DECLARED_ALIAS_KINDS)})
       AND NOT EXISTS (SELECT 1 FROM captures AS c WHERE c.url_norm = al.url) AS unfetched
FROM aliases AS al JOIN articles AS a ON a.id = al.article_id
WHERE al.url = ?
"""
_RECENT_SQL = _ARTICLE_COLUMNS + """, 0 AS unfetched
FROM articles AS a
WHERE a.source = ? AND a.first_seen >= ? AND a.removed_at IS NULL
ORDER BY a.first_seen
"""

_PRIOR_SQL = """
SELECT url, fetched_at, record_id, digest FROM captures
WHERE url = ? AND revisit IS NULL AND status = 200 AND digest IS NOT NULL
ORDER BY fetched_at DESC LIMIT 1
"""


def _known(row: sqlite3.Row | tuple[Any, ...]) -> KnownArticle:
    aid, url, title, modified, first_seen, removed_at, last_fetched, link, unfetched = row
    first = _time(first_seen)
    assert first is not None
    return KnownArticle(aid, url, title, _time(modified), first,
                        _time(last_fetched) or first, removed_at is not None, link or url,
                        bool(unfetched))


class CrawlState:
    """A read-only view of the archive for one crawl (empty when there is no archive yet).

    Not thread-safe; Scrapy calls it from the reactor thread only.
    """

    def __init__(self, db_path: str | Path | None):
        self._conn: sqlite3.Connection | None = None
        if db_path is not None and Path(db_path).is_file():
            self._conn = connect(db_path, readonly=True, check_same_thread=False)
        # Captures written during this crawl are not in the database until ingest.
        self._priors: dict[str, PriorCapture] = {}

    def close(self) -> None:
        """Close the database connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        if self._conn is None:
            return []
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # an archive from before a migration: knows nothing
            return []

    def known_article(self, url: str) -> KnownArticle | None:
        """The archived article ``url`` is an alias of, if any."""
        norm = try_normalize_url(url)
        rows = self._rows(_KNOWN_SQL, [norm]) if norm else []
        return _known(rows[0]) if rows else None

    def recent_articles(self, source: str, since: datetime) -> list[KnownArticle]:
        """Articles of ``source`` first seen at or after ``since`` and not taken down."""
        return [_known(r) for r in self._rows(_RECENT_SQL, [source, utc_text(since)])]

    def edit_habits(self, source: str, now: datetime, days: int) -> EditHabits:
        """How often and how late ``source``'s articles first seen in the ``days`` before
        ``now`` were edited (the ``versions`` table; in a cluster job's snapshot, its copy)."""
        since = [source, utc_text(now - timedelta(days=days))]
        counted = self._rows(_HABIT_ARTICLES_SQL, since)
        rows = self._rows(_HABIT_DELAYS_SQL, since)
        return EditHabits(int(counted[0][0]) if counted else 0, len({r[0] for r in rows}),
                          tuple(sorted(max(0, int(r[1])) for r in rows)))

    def retries_due(self, source: str, now: datetime) -> list[FetchState]:
        """Article links of ``source`` whose fetch failed and whose retry time has come."""
        rows = self._rows(f"{_FETCH_SQL} WHERE source = ? AND kind = 'retry'"
                          " AND next_fetch <= ? ORDER BY next_fetch", [source, utc_text(now)])
        return [_fetch_state(row) for row in rows]

    def prior(self, url: str) -> PriorCapture | None:
        """The last full 200 response captured for exactly ``url``."""
        if url in self._priors:
            return self._priors[url]
        rows = self._rows(_PRIOR_SQL, [url])
        if not rows:
            return None
        found, fetched, record_id, digest = rows[0]
        fetched_at = _time(fetched)
        assert fetched_at is not None
        return PriorCapture(found, fetched_at, record_id, digest)

    def remember(self, prior: PriorCapture) -> None:
        """A full response written during this crawl."""
        self._priors[prior.url] = prior

    def fetch_state(self, url: str) -> FetchState | None:
        """Validators and polling state of a listing URL."""
        rows = self._rows(f"{_FETCH_SQL} WHERE url = ?", [url])
        return _fetch_state(rows[0]) if rows else None


_FETCH_SQL = ("SELECT url, source, kind, etag, last_modified, digest, interval_s, next_fetch,"
              " last_total, last_new FROM fetch_state")


def _fetch_state(row: tuple[Any, ...]) -> FetchState:
    url, source, kind, etag, last_modified, digest, interval_s, next_fetch, total, new = row
    return FetchState(url, source, kind, etag, last_modified, digest, interval_s,
                      _time(next_fetch), total, new)


_SOURCE_SQL = ("SELECT source, status, consecutive_failures, backoff_until, reason"
               " FROM source_state")


def source_states_from(rows: list[tuple[Any, ...]]) -> dict[str, SourceState]:
    """``source_state`` rows as values, by source."""
    return {r[0]: SourceState(r[0], r[1], int(r[2]), _time(r[3]), r[4]) for r in rows}


def source_state_at(db_path: Path, source_id: str) -> SourceState | None:
    """The recorded state of ``source_id`` in the database at ``db_path`` (the archive or a
    cluster job's snapshot), read-only; None without one."""
    if not db_path.is_file():
        return None
    conn = connect(db_path, readonly=True)
    try:
        rows = conn.execute(f"{_SOURCE_SQL} WHERE source = ?", [source_id]).fetchall()
    except sqlite3.OperationalError:  # no such table: an empty snapshot, an old archive
        rows = []
    finally:
        conn.close()
    return source_states_from([tuple(r) for r in rows]).get(source_id)


def source_states(archive: Archive) -> dict[str, SourceState]:
    """Every recorded source state."""
    return source_states_from([tuple(r) for r in archive.db.execute(_SOURCE_SQL).fetchall()])


def save_states(archive: Archive, fetches: list[FetchState], source: SourceState | None,
                now: datetime) -> None:
    """Write the polling state a crawl leaves behind, in one transaction."""
    stamp = utc_text(now)
    with archive.transaction():
        for f in fetches:
            archive.db.execute(
                "INSERT INTO fetch_state (url, source, kind, etag, last_modified, digest,"
                " interval_s, next_fetch, last_total, last_new, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET"
                " source = excluded.source, kind = excluded.kind, etag = excluded.etag,"
                " last_modified = excluded.last_modified, digest = excluded.digest,"
                " interval_s = excluded.interval_s, next_fetch = excluded.next_fetch,"
                " last_total = excluded.last_total, last_new = excluded.last_new,"
                " updated = excluded.updated",
                [f.url, f.source, f.kind, f.etag, f.last_modified, f.digest, f.interval_s,
                 utc_text(f.next_fetch) if f.next_fetch else None, f.last_total, f.last_new,
                 stamp])
        if source is not None:
            archive.db.execute(
                "INSERT INTO source_state (source, status, consecutive_failures,"
                " backoff_until, reason, updated) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET status = excluded.status,"
                " consecutive_failures = excluded.consecutive_failures,"
                " backoff_until = excluded.backoff_until, reason = excluded.reason,"
                " updated = excluded.updated",
                [source.source, source.status, source.consecutive_failures,
                 utc_text(source.backoff_until) if source.backoff_until else None,
                 source.reason, stamp])
