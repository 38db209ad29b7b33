"""The SQLite article archive: captures, articles, aliases, versions and the run log.

:class:`Archive` applies the rules of :mod:`archive.store.identity` (read its docstring for how
pages become articles, aliases and versions) and stores the result with sqlite-utils; the
schema and its migrations are in :mod:`archive.store.schema`. Everything but the ``runs`` table
is derived from the WARC captures: calling the same methods with the same values in the
same order gives the same database, which is what ``mediawatch reindex`` relies on. No
method reads the clock; every time comes from a capture.

Times are stored as ISO 8601 UTC text with a ``Z`` and whole seconds
(``2020-11-29T23:25:00Z``): fixed width, so text order is time order; sub-second
precision is dropped. A naive datetime is an error (:class:`ArchiveError`).

An :class:`Archive` is one connection: use it from one thread. Each write method is one
short ``BEGIN IMMEDIATE`` transaction; wrap many calls in :meth:`Archive.transaction` to
make a bulk load faster (nested calls become savepoints).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from archive.store.connection import connect
from archive.store.identity import (
    Outcome,
    UrlError,
    alias_records,
    article_id_candidates,
    choose_match,
    content_hash,
    decide_outcome,
    identity_key,
    link_key,
    try_normalize_url,
)
from archive.store.query import fts_expression
from archive.store.records import (
    CAPTURE_KINDS,
    CaptureRef,
    article_columns,
    article_dict,
    export_sql,
    merge_fields,
    run_row,
)
from archive.store.schema import (
    MIGRATIONS,
    OPERATIONAL_TABLES,
    ArchiveError,
    date_key,
    free_rowid,
)
from archive.times import utc_text

if TYPE_CHECKING:
    from archive.models import Article, WarcLocation

__all__ = [
    "CAPTURE_KINDS",
    "Archive",
    "ArchiveError",
    "CaptureRef",
    "Outcome",
    "export_sql",
]

log = logging.getLogger(__name__)

_MAX_REDIRECT_HOPS = 10


class Archive:
    """The article archive in one SQLite file (see the module docstring).

    Opening creates the parent directory and the file if needed, switches to WAL mode and
    applies pending migrations.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = sqlite_utils.Database(connect(self.path))
        MIGRATIONS.apply(self.db)

    @classmethod
    def open_readonly(cls, path: str | Path) -> Archive:
        """Open an existing archive for reading only (no migration, no write)."""
        path = Path(path)
        if not path.is_file():
            raise ArchiveError(f"no archive at {path}")
        self = cls.__new__(cls)
        self.path = path
        self.db = sqlite_utils.Database(connect(path, readonly=True))
        pending = MIGRATIONS.pending(self.db)
        if pending:
            self.db.close()
            raise ArchiveError(
                f"{path} needs migrations ({', '.join(m.name for m in pending)}): "
                "open it read-write once"
            )
        return self

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Archive {self.path}>"

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Archive]:
        """One write transaction (``BEGIN IMMEDIATE``); nested, a savepoint."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.db.rollback()
            raise
        conn.execute("COMMIT")

    # -- writing ---------------------------------------------------------------------------

    def record_capture(self, capture: CaptureRef, article_id: str | None = None) -> None:
        """Index one WARC record that is not stored through :meth:`upsert`.

        Feeds, sitemaps, robots.txt, redirects, errors, revisits. ``article_id`` links the
        record to a known article; a linked 2xx article capture also moves the article's
        ``first_seen``/``last_seen``. A redirect (``capture.redirect_to``) to a URL of an
        article makes the redirecting URL an alias of it, now or when the article arrives.
        A record already indexed (same file and offset) is left as it is.
        """
        with self.transaction():
            if article_id is not None and self._article(article_id) is None:
                raise ArchiveError(f"unknown article {article_id!r} for capture {capture.url}")
            inserted = self._insert_capture(capture, article_id, None, None)
            if not inserted:
                return
            if (
                article_id is not None
                and capture.kind == "article"
                and (200 <= capture.status < 300)
            ):
                self._touch(article_id, utc_text(capture.fetched_at))
            target = try_normalize_url(capture.redirect_to)
            if target is not None and capture.kind == "article":
                owner = self._alias_owners([target]).get(target)
                if owner is not None:
                    self._adopt_redirects(owner[0], owner[1], [target])

    def record_revisit(self, capture: CaptureRef) -> str | None:
        """Index a revisit record, linked to the article of the capture it repeats.

        The capture is found by ``capture.refers_to`` (its record id), else as the last full
        capture of the same URL with the same payload digest. A revisit of an article page
        moves the article's ``last_seen``, like an unchanged re-fetch. Returns the article id.
        """
        row = None
        if capture.refers_to:
            row = self.db.execute("SELECT article_id FROM captures WHERE record_id = ?",
                                  [capture.refers_to]).fetchone()
        if row is None:
            row = self.db.execute(
                "SELECT article_id FROM captures WHERE url = ? AND revisit IS NULL"
                " AND (digest = ? OR ? IS NULL) ORDER BY fetched_at DESC LIMIT 1",
                [capture.url, capture.digest, capture.digest]).fetchone()
        aid = row[0] if row else None
        with self.transaction():
            self.record_capture(capture, aid)
            if aid is not None:
                self._touch(aid, utc_text(capture.fetched_at))
        return aid

    def mark_removed(self, capture: CaptureRef) -> str | None:
        """Index a 404 / 410 answer; when its URL is an alias of an archived article, that
        article was taken down: ``removed_at`` is set (the text stays). Returns its id."""
        aid = self.resolve(capture.link) or self.resolve(capture.url)
        with self.transaction():
            self.record_capture(capture)
            if aid is not None:
                self.db.execute(
                    "UPDATE articles SET removed_at = :t WHERE id = :id"
                    " AND (removed_at IS NULL OR removed_at > :t) AND last_seen < :t",
                    {"t": utc_text(capture.fetched_at), "id": aid})
        return aid

    def upsert(self, article: Article, capture: CaptureRef) -> Outcome:
        """Store one parsed article page and its capture; say what that did.

        See :mod:`archive.store.identity` for matching, ids and the outcomes. Raises
        :class:`ArchiveError` for a page whose URL cannot be normalized or whose dates are
        naive.
        """
        try:
            records = alias_records(article, capture.url, capture.requested_url)
            key = identity_key(article)
        except UrlError as exc:
            raise ArchiveError(
                f"article from {capture.location.file}@{capture.location.offset}: {exc}"
            ) from None
        if capture.source is None:
            capture = replace(capture, source=article.source)
        columns = article_columns(article, records)
        new_hash = content_hash(article)
        fetched = utc_text(capture.fetched_at)
        link = link_key(capture.link)
        with self.transaction():
            stored = self._capture_hash(capture.location)
            if stored is not None:
                return Outcome.UNCHANGED  # this record was ingested before
            pairs = [(url, kind) for url, kind, _original in records]
            owners = self._alias_owners([url for url, _kind in pairs])
            match = choose_match(pairs, owners, article.source)
            for url, other in match.conflicts:
                log.warning(
                    "page %s belongs to article %s, but its alias %s belongs to "
                    "article %s: not merged",
                    article.url,
                    match.article_id,
                    url,
                    other,
                )
            if match.article_id is None:
                aid = self._new_id(key, article.source)
                outcome = Outcome.INSERTED
                self._insert_article(aid, columns, new_hash, fetched)
            else:
                aid = match.article_id
                current = self._article(aid)
                assert current is not None  # aliases reference articles (foreign key)
                previous = self._previous_hash(aid, link)
                outcome = decide_outcome(new_hash, current["content_hash"], previous)
                refresh = outcome is Outcome.UNCHANGED and new_hash == current["content_hash"]
                changes = merge_fields(current, columns, outcome, refresh)
                if outcome is Outcome.UPDATED:
                    changes["version"] = current["version"] + 1
                    changes["content_hash"] = new_hash
                    self._insert_version(aid, changes["version"], fetched, columns, new_hash)
                changes["first_seen"] = min(current["first_seen"], fetched)
                changes["last_seen"] = max(current["last_seen"], fetched)
                if current["removed_at"] and fetched > current["removed_at"]:
                    changes["removed_at"] = None  # it is back
                self._update_article(aid, changes)
            self._insert_aliases(aid, records)
            self._adopt_redirects(aid, article.source, [url for url, _kind, _orig in records])
            self._insert_capture(capture, aid, new_hash, outcome)
        return outcome

    def _insert_article(self, aid: str, columns: dict[str, Any], digest: str, fetched: str) -> None:
        row = {
            **columns,
            "pk": free_rowid(self.db, date_key(columns.get("published") or fetched)),
            "id": aid,
            "content_hash": digest,
            "version": 1,
            "first_seen": fetched,
            "last_seen": fetched,
        }
        names = ", ".join(row)
        self.db.execute(
            f"INSERT INTO articles ({names}) VALUES ({', '.join(':' + n for n in row)})", row
        )
        self._insert_version(aid, 1, fetched, columns, digest)

    def _insert_version(
        self, aid: str, version: int, fetched: str, columns: Mapping[str, Any], digest: str
    ) -> None:
        self.db.execute(
            "INSERT INTO versions (article_id, version, fetched_at, url, title, lead, body,"
            " content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                aid,
                version,
                fetched,
                columns["url"],
                columns["title"],
                columns["lead"],
                columns["body"],
                digest,
            ],
        )

    def _update_article(self, aid: str, changes: Mapping[str, Any]) -> None:
        assignments = ", ".join(f"{name} = :{name}" for name in changes)
        self.db.execute(
            f"UPDATE articles SET {assignments} WHERE id = :_id", {**changes, "_id": aid}
        )

    def _touch(self, aid: str, fetched: str) -> None:
        self.db.execute(
            "UPDATE articles SET first_seen = min(first_seen, :t), last_seen = max(last_seen, :t)"
            " WHERE id = :id",
            {"t": fetched, "id": aid},
        )

    def _insert_aliases(self, aid: str, records: list[tuple[str, str, str]]) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO aliases (url, article_id, kind, original) VALUES (?, ?, ?, ?)",
            [(url, aid, kind, original) for url, kind, original in records],
        )

    def _adopt_redirects(self, aid: str, source: str, targets: list[str]) -> None:
        """Make URLs whose recorded redirects lead to ``targets`` aliases of ``aid``.

        Follows chains backwards (a short link to an extensionless URL to the page), at most
        :data:`_MAX_REDIRECT_HOPS` steps. Only captures of kind ``article`` count (a
        section's ``/latest`` redirecting to today's story is no alias of it); redirects
        recorded for another source, and URLs that already belong to an article, are left
        alone.
        """
        frontier = targets
        for _hop in range(_MAX_REDIRECT_HOPS):
            if not frontier:
                return
            marks = ", ".join("?" for _ in frontier)
            rows = self.db.execute(
                "SELECT c.url_norm, min(c.url) FROM captures AS c"
                f" WHERE c.redirect_norm IN ({marks}) AND c.url_norm IS NOT NULL"
                " AND c.kind = 'article' AND (c.source IS NULL OR c.source = ?)"
                " AND NOT EXISTS (SELECT 1 FROM aliases AS al WHERE al.url = c.url_norm)"
                " GROUP BY c.url_norm ORDER BY c.url_norm",
                [*frontier, source],
            ).fetchall()
            self._insert_aliases(aid, [(url, "redirect", original) for url, original in rows])
            frontier = [url for url, _original in rows]

    def _insert_capture(
        self, capture: CaptureRef, aid: str | None, digest: str | None, outcome: Outcome | None
    ) -> bool:
        """Insert the capture row; an article capture completes a row recorded before."""
        row = {
            "warc_file": capture.location.file,
            "offset": capture.location.offset,
            "length": capture.location.length,
            "record_id": capture.record_id,
            "url": capture.url,
            "url_norm": try_normalize_url(capture.url),
            "requested_url": capture.requested_url,
            "link_key": link_key(capture.link),
            "redirect_to": capture.redirect_to,
            "redirect_norm": try_normalize_url(capture.redirect_to),
            "status": capture.status,
            "fetched_at": utc_text(capture.fetched_at),
            "digest": capture.digest,
            "content_hash": digest,
            "kind": capture.kind,
            "source": capture.source,
            "article_id": aid,
            "outcome": outcome.value if outcome else None,
            "revisit": capture.revisit,
            "refers_to": capture.refers_to,
        }
        names = ", ".join(f'"{name}"' for name in row)
        values = ", ".join(f":{name}" for name in row)
        conflict = (
            "DO NOTHING"
            if digest is None
            else "DO UPDATE SET article_id = excluded.article_id, content_hash ="
            " excluded.content_hash, outcome = excluded.outcome, kind = excluded.kind,"
            " source = coalesce(excluded.source, source)"
        )
        cursor = self.db.execute(
            f"INSERT INTO captures ({names}) VALUES ({values}) "
            f'ON CONFLICT (warc_file, "offset") {conflict}',
            row,
        )
        return cursor.rowcount == 1

    # -- lookups used while writing --------------------------------------------------------

    def _article(self, aid: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM articles WHERE id = ?", [aid]))
        return rows[0] if rows else None

    def _capture_hash(self, location: WarcLocation) -> str | None:
        row = self.db.execute(
            'SELECT content_hash FROM captures WHERE warc_file = ? AND "offset" = ?',
            [location.file, location.offset],
        ).fetchone()
        return row[0] if row else None

    def _alias_owners(self, urls: list[str]) -> dict[str, tuple[str, str]]:
        if not urls:
            return {}
        marks = ", ".join("?" for _ in urls)
        rows = self.db.execute(
            "SELECT al.url, al.article_id, a.source FROM aliases AS al"
            f" JOIN articles AS a ON a.id = al.article_id WHERE al.url IN ({marks})",
            urls,
        ).fetchall()
        return {url: (aid, source) for url, aid, source in rows}

    def _previous_hash(self, aid: str, link: str) -> str | None:
        row = self.db.execute(
            "SELECT content_hash FROM captures WHERE article_id = ? AND link_key = ?"
            " AND content_hash IS NOT NULL ORDER BY fetched_at DESC, id DESC LIMIT 1",
            [aid, link],
        ).fetchone()
        return row[0] if row else None

    def _new_id(self, key: str, source: str) -> str:
        for candidate in article_id_candidates(key, source):
            if self._article(candidate) is None:
                return candidate
        raise AssertionError("unreachable: article_id_candidates is endless")

    # -- reading ---------------------------------------------------------------------------

    def resolve(self, url_or_id: str) -> str | None:
        """The id of the article ``url_or_id`` names: an article id or any alias URL."""
        text = url_or_id.strip()
        if not text:
            return None
        row = self.db.execute("SELECT id FROM articles WHERE id = ?", [text]).fetchone()
        if row:
            return str(row[0])
        norm = try_normalize_url(text)
        if norm is None:
            return None
        row = self.db.execute("SELECT article_id FROM aliases WHERE url = ?", [norm]).fetchone()
        return str(row[0]) if row else None

    def show(self, url_or_id: str) -> dict[str, Any] | None:
        """Everything about one article: current fields, aliases, versions and captures.

        Captures are those linked to the article plus unlinked ones of its alias URLs (a
        short link's redirect, a later 404).
        """
        aid = self.resolve(url_or_id)
        if aid is None:
            return None
        row = self._article(aid)
        assert row is not None
        aliases = [
            r[0]
            for r in self.db.execute("SELECT original FROM aliases WHERE article_id = ?", [aid])
        ]
        out = article_dict(row, aliases)
        out["removed_at"] = row["removed_at"]
        out["versions"] = list(
            self.db.query(
                "SELECT version, fetched_at, url, title, lead, body, content_hash FROM versions"
                " WHERE article_id = ? ORDER BY version",
                [aid],
            )
        )
        out["captures"] = list(
            self.db.query(
                'SELECT warc_file, "offset", length, fetched_at, status, url, digest, record_id,'
                " kind, outcome FROM captures WHERE article_id = :id OR (article_id IS NULL AND"
                " url_norm IN (SELECT url FROM aliases WHERE article_id = :id))"
                " ORDER BY fetched_at, id",
                {"id": aid},
            )
        )
        return out

    def export(self, query: str | None = None) -> Iterator[dict[str, Any]]:
        """Every article (or the full-text matches of ``query``), in export order.

        Each item is :meth:`show` without ``versions`` and ``captures``. ``query`` uses the
        syntax of :func:`archive.store.search.fts_expression` and may raise
        :class:`archive.store.search.QueryError`.
        """
        sql, params = export_sql(fts_expression(query) if query is not None else None)
        for row in self.db.query(sql, params):
            yield article_dict(row, json.loads(row["alias_originals"]))

    def count(self, query: str | None = None) -> int:
        """How many articles :meth:`export` gives for ``query`` (all when None)."""
        sql, params = export_sql(fts_expression(query) if query is not None else None)
        return int(self.db.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])

    def stats(self) -> dict[str, int]:
        """Row counts: articles, versions, aliases, captures."""
        return {
            name: self.db[name].count for name in ("articles", "versions", "aliases", "captures")
        }

    # -- derived data and the run log ------------------------------------------------------

    def ingested_files(self) -> set[str]:
        """Names of the WARC files :meth:`mark_ingested` recorded (ingest skips them)."""
        return {row[0] for row in self.db.execute("SELECT name FROM warc_files")}

    def mark_ingested(self, name: str, records: int) -> None:
        """Record that WARC file ``name`` (``records`` response records) has been loaded."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO warc_files (name, records) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET records = excluded.records",
                [name, records],
            )

    def checkpoint(self) -> None:
        """Fold the WAL into the database file (before copying or renaming the file)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def reset(self) -> None:
        """Delete everything derived from the WARCs, keeping the run log (for reindex)."""
        with self.transaction():
            for table in ("warc_files", "captures", "versions", "aliases", "articles"):
                self.db.execute(f"DELETE FROM {table}")

    def log_run(self, run: Mapping[str, Any]) -> None:
        """Append one crawl run to the operational log.

        Known keys (source, started, finished, status, pages, failed, new, updated,
        unchanged, duplicates, warc_bytes) become columns; datetimes must be aware; every
        other key (and the items of an ``extra`` dict) goes to the ``extra`` JSON.
        """
        row = run_row(run)
        names = ", ".join(row)
        with self.transaction():
            self.db.execute(
                f"INSERT INTO runs ({names}) VALUES ({', '.join(':' + n for n in row)})", row
            )

    def carry_over(self, old_path: str | Path) -> None:
        """Copy the operational tables (run log, polling state, alerts) of the archive at
        ``old_path`` into this one; ``reindex`` uses it, since WARCs cannot rebuild them."""
        old = Archive(old_path)  # brings an older file up to the current schema first
        old.close()
        self.db.execute("ATTACH DATABASE ? AS old", [str(old_path)])
        try:
            with self.transaction():
                for table in OPERATIONAL_TABLES:
                    columns = ", ".join(f'"{c}"' for c in self.db[table].columns_dict)
                    self.db.execute(f"INSERT INTO main.{table} ({columns})"
                                    f" SELECT {columns} FROM old.{table}")
        finally:
            self.db.execute("DETACH DATABASE old")

    def amend_run(self, run_id: int, status: str, **extra: Any) -> None:
        """Change a logged run's status and add ``extra`` items to its ``extra`` JSON."""
        with self.transaction():
            row = self.db.execute("SELECT extra FROM runs WHERE id = ?", [run_id]).fetchone()
            if row is None:
                raise ArchiveError(f"no run {run_id}")
            merged = {**json.loads(row[0]), **extra}
            self.db.execute("UPDATE runs SET status = ?, extra = ? WHERE id = ?",
                            [status, json.dumps(merged, ensure_ascii=False, sort_keys=True),
                             run_id])

    def runs(self, source: str | None = None) -> list[dict[str, Any]]:
        """Logged runs (all, or of one source), oldest first; ``extra`` parsed back."""
        where, params = ("WHERE source = ?", [source]) if source is not None else ("", [])
        rows = self.db.query(f"SELECT * FROM runs {where} ORDER BY started, id", params)
        return [{**row, "extra": json.loads(row["extra"])} for row in rows]
