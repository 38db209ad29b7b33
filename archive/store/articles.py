"""The write side of the archive: article pages become articles, versions and aliases; WARC
records become captures.

The functions here apply the rules of :mod:`archive.store.identity` (read its docstring
for how pages become articles, aliases and versions) inside the transactions of an
:class:`~archive.store.db.Archive`, whose methods (:meth:`~archive.store.db.Archive.upsert`,
:meth:`~archive.store.db.Archive.record_capture`...) call them. No function reads the clock;
every time comes from a capture, so the same calls in the same order give the same
database (what ``mediawatch reindex`` relies on).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from archive.config.entities import default_gazetteer
from archive.store.identity import (
    Outcome,
    alias_records,
    article_id_candidates,
    choose_match,
    content_hash,
    decide_outcome,
    identity_key,
)
from archive.store.lookups import article_row, resolve
from archive.store.names import index_article, text_entities
from archive.store.query import FTS_COLUMNS
from archive.store.records import article_columns, merge_fields
from archive.store.schema import ENTITY_COLUMN, ArchiveError, date_key, entity_tokens, free_rowid
from archive.store.urls import UrlError, link_key, try_normalize_url
from archive.times import utc_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    import sqlite_utils

    from archive.models import Article, WarcLocation
    from archive.store.db import Archive
    from archive.store.records import CaptureRef

__all__ = ["mark_removed", "record_capture", "record_revisit", "upsert"]

# The logger of Archive, whose methods these are: log configuration and tests name it.
log = logging.getLogger("archive.store.db")

_MAX_REDIRECT_HOPS = 10


def record_capture(archive: Archive, capture: CaptureRef, article_id: str | None = None) -> None:
    """Index one WARC record that is not stored through :func:`upsert`.

    Feeds, sitemaps, robots.txt, redirects, errors, revisits. ``article_id`` links the
    record to a known article; a linked 2xx article capture also moves the article's
    ``first_seen``/``last_seen``. A redirect (``capture.redirect_to``) to a URL of an
    article makes the redirecting URL an alias of it, now or when the article arrives.
    A record already indexed (same file and offset) is left as it is.
    """
    db = archive.db
    with archive.transaction():
        if article_id is not None and article_row(db, article_id) is None:
            raise ArchiveError(f"unknown article {article_id!r} for capture {capture.url}")
        inserted = _insert_capture(db, capture, article_id, None, None)
        if not inserted:
            return
        if (
            article_id is not None
            and capture.kind == "article"
            and (200 <= capture.status < 300)
        ):
            _touch(db, article_id, utc_text(capture.fetched_at))
        target = try_normalize_url(capture.redirect_to)
        if target is not None and capture.kind == "article":
            owner = _alias_owners(db, [target]).get(target)
            if owner is not None:
                _adopt_redirects(db, owner[0], owner[1], [target])


def record_revisit(archive: Archive, capture: CaptureRef) -> str | None:
    """Index a revisit record, linked to the article of the capture it repeats.

    The capture is found by ``capture.refers_to`` (its record id), else as the last full
    capture of the same URL with the same payload digest. A revisit of an article page
    moves the article's ``last_seen``, like an unchanged re-fetch. Returns the article id.
    """
    db = archive.db
    row = None
    if capture.refers_to:
        row = db.execute("SELECT article_id FROM captures WHERE record_id = ?",
                         [capture.refers_to]).fetchone()
    if row is None:
        row = db.execute(
            "SELECT article_id FROM captures WHERE url = ? AND revisit IS NULL"
            " AND (digest = ? OR ? IS NULL) ORDER BY fetched_at DESC LIMIT 1",
            [capture.url, capture.digest, capture.digest]).fetchone()
    aid = row[0] if row else None
    with archive.transaction():
        record_capture(archive, capture, aid)
        if aid is not None:
            _touch(db, aid, utc_text(capture.fetched_at))
    return aid


def mark_removed(archive: Archive, capture: CaptureRef, kind: str = "gone", *,
                 only_known: bool = False) -> str | None:
    """Index a takedown answer (a 404 / 410, a redirect to the front or a section page, a
    "page removed" page: :mod:`crawler.takedown`); when its URL is an alias of an archived
    article, that article was taken down: ``removed_at``, ``removed_kind`` and
    ``removed_record`` (the WARC-Record-ID of this answer, the evidence) are set, the
    earliest takedown winning; the text stays. Returns the article's id. ``only_known``:
    index nothing when the URL is no archived article's (the caller parses it instead)."""
    db = archive.db
    aid = resolve(db, capture.link) or resolve(db, capture.url)
    if aid is None and only_known:
        return None
    with archive.transaction():
        record_capture(archive, capture)
        if aid is not None:
            db.execute(
                "UPDATE articles SET removed_at = :t, removed_kind = :kind,"
                " removed_record = :record WHERE id = :id"
                " AND (removed_at IS NULL OR removed_at > :t) AND last_seen < :t",
                {"t": utc_text(capture.fetched_at), "id": aid, "kind": kind,
                 "record": capture.record_id})
    return aid


def upsert(archive: Archive, article: Article, capture: CaptureRef) -> Outcome:
    """Store one parsed article page and its capture; say what that did.

    See :mod:`archive.store.identity` for matching, ids and the outcomes. Raises
    :class:`~archive.store.schema.ArchiveError` for a page whose URL cannot be normalized or
    whose dates are naive.
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
    db = archive.db
    with archive.transaction():
        stored = _capture_hash(db, capture.location)
        if stored is not None:
            return Outcome.UNCHANGED  # this record was ingested before
        pairs = [(url, kind) for url, kind, _original in records]
        owners = _alias_owners(db, [url for url, _kind in pairs])
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
        changes: dict[str, Any] = {}
        gazetteer = getattr(archive, "gazetteer", None) or default_gazetteer()
        if match.article_id is None:
            aid = _new_id(db, key, article.source)
            outcome = Outcome.INSERTED
            text = [columns[name] for name in FTS_COLUMNS]
            found = text_entities(gazetteer, *text)
            _insert_article(db, aid, {**columns, ENTITY_COLUMN: entity_tokens(found)},
                            new_hash, fetched)
        else:
            aid = match.article_id
            current = article_row(db, aid)
            assert current is not None  # aliases reference articles (foreign key)
            previous = _previous_hash(db, aid, link)
            outcome = decide_outcome(new_hash, current["content_hash"], previous)
            refresh = outcome is Outcome.UNCHANGED and new_hash == current["content_hash"]
            changes = merge_fields(current, columns, outcome, refresh)
            if outcome is Outcome.DUPLICATE and promotes(db, aid, current, article, capture):
                # The story's own page after another rendering of it (identity docstring):
                # its text and metadata become the first version's, as if fetched first.
                changes = merge_fields(current, columns, Outcome.UPDATED, refresh=False)
                changes["content_hash"] = new_hash
                db.execute("DELETE FROM versions WHERE article_id = ? AND version = 1", [aid])
                _insert_version(db, aid, 1, fetched, columns, new_hash)
            if outcome is Outcome.UPDATED:
                changes["version"] = current["version"] + 1
                changes["content_hash"] = new_hash
                _insert_version(db, aid, changes["version"], fetched, columns, new_hash)
            changes["first_seen"] = min(current["first_seen"], fetched)
            changes["last_seen"] = max(current["last_seen"], fetched)
            if current["removed_at"] and fetched > current["removed_at"]:
                # It is back.
                changes.update(removed_at=None, removed_kind=None, removed_record=None)
            if "content_hash" in changes:
                # The entities of the new text go into the index with it (one re-index).
                text = [changes.get(name, current[name]) for name in FTS_COLUMNS]
                found = text_entities(gazetteer, *text)
                changes[ENTITY_COLUMN] = entity_tokens(found)
            _update_article(db, aid, changes)
        if outcome is Outcome.INSERTED or "content_hash" in changes:
            # The words and entities of the current text (archive.store.names).
            index_article(db, aid, found, *text)
        _insert_aliases(db, aid, records)
        _adopt_redirects(db, aid, article.source, [url for url, _kind, _orig in records])
        _insert_capture(db, capture, aid, new_hash, outcome)
    return outcome


def promotes(db: sqlite_utils.Database, aid: str, current: Mapping[str, Any],
             article: Article, capture: CaptureRef) -> bool:
    """Whether ``article`` (fetched as ``capture``) replaces the text of the article
    ``current``: that has one version, whose text came from another rendering of the story
    (an AMP or print page: a URL that is not the canonical URL), and ``article`` is the
    story's own page (its URL is its canonical URL, or it names none)."""
    if current["version"] != 1 or not _own_page(capture.url, article.canonical_url):
        return False
    rows = db.execute("SELECT url FROM captures WHERE article_id = ? AND content_hash = ?",
                      [aid, current["content_hash"]]).fetchall()
    return not any(_own_page(url, current["canonical_url"]) for (url,) in rows)


def _own_page(url: str, canonical: str | None) -> bool:
    norm = try_normalize_url(canonical)
    return norm is None or norm == try_normalize_url(url)


def _insert_article(
    db: sqlite_utils.Database, aid: str, columns: dict[str, Any], digest: str, fetched: str
) -> None:
    row = {
        **columns,
        "pk": free_rowid(db, date_key(columns.get("published") or fetched)),
        "id": aid,
        "content_hash": digest,
        "version": 1,
        "first_seen": fetched,
        "last_seen": fetched,
    }
    names = ", ".join(row)
    db.execute(
        f"INSERT INTO articles ({names}) VALUES ({', '.join(':' + n for n in row)})", row
    )
    _insert_version(db, aid, 1, fetched, columns, digest)


def _insert_version(
    db: sqlite_utils.Database, aid: str, version: int, fetched: str, columns: Mapping[str, Any],
    digest: str,
) -> None:
    db.execute(
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


def _update_article(db: sqlite_utils.Database, aid: str, changes: Mapping[str, Any]) -> None:
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    db.execute(
        f"UPDATE articles SET {assignments} WHERE id = :_id", {**changes, "_id": aid}
    )


def _touch(db: sqlite_utils.Database, aid: str, fetched: str) -> None:
    db.execute(
        "UPDATE articles SET first_seen = min(first_seen, :t), last_seen = max(last_seen, :t)"
        " WHERE id = :id",
        {"t": fetched, "id": aid},
    )


def _insert_aliases(
    db: sqlite_utils.Database, aid: str, records: list[tuple[str, str, str]]
) -> None:
    db.conn.executemany(
        "INSERT OR IGNORE INTO aliases (url, article_id, kind, original) VALUES (?, ?, ?, ?)",
        [(url, aid, kind, original) for url, kind, original in records],
    )


def _adopt_redirects(db: sqlite_utils.Database, aid: str, source: str, targets: list[str]) -> None:
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
        rows = db.execute(
            "SELECT c.url_norm, min(c.url) FROM captures AS c"
            f" WHERE c.redirect_norm IN ({marks}) AND c.url_norm IS NOT NULL"
            " AND c.kind = 'article' AND (c.source IS NULL OR c.source = ?)"
            " AND NOT EXISTS (SELECT 1 FROM aliases AS al WHERE al.url = c.url_norm)"
            " GROUP BY c.url_norm ORDER BY c.url_norm",
            [*frontier, source],
        ).fetchall()
        _insert_aliases(db, aid, [(url, "redirect", original) for url, original in rows])
        frontier = [url for url, _original in rows]


def _insert_capture(
    db: sqlite_utils.Database, capture: CaptureRef, aid: str | None, digest: str | None,
    outcome: Outcome | None,
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
    cursor = db.execute(
        f"INSERT INTO captures ({names}) VALUES ({values}) "
        f'ON CONFLICT (warc_file, "offset") {conflict}',
        row,
    )
    return cursor.rowcount == 1


# -- lookups used while writing ------------------------------------------------------------


def _capture_hash(db: sqlite_utils.Database, location: WarcLocation) -> str | None:
    row = db.execute(
        'SELECT content_hash FROM captures WHERE warc_file = ? AND "offset" = ?',
        [location.file, location.offset],
    ).fetchone()
    return row[0] if row else None


def _alias_owners(db: sqlite_utils.Database, urls: list[str]) -> dict[str, tuple[str, str]]:
    if not urls:
        return {}
    marks = ", ".join("?" for _ in urls)
    rows = db.execute(
        "SELECT al.url, al.article_id, a.source FROM aliases AS al"
        f" JOIN articles AS a ON a.id = al.article_id WHERE al.url IN ({marks})",
        urls,
    ).fetchall()
    return {url: (aid, source) for url, aid, source in rows}


def _previous_hash(db: sqlite_utils.Database, aid: str, link: str) -> str | None:
    row = db.execute(
        "SELECT content_hash FROM captures WHERE article_id = ? AND link_key = ?"
        " AND content_hash IS NOT NULL ORDER BY fetched_at DESC, id DESC LIMIT 1",
        [aid, link],
    ).fetchone()
    return row[0] if row else None


def _new_id(db: sqlite_utils.Database, key: str, source: str) -> str:
    for candidate in article_id_candidates(key, source):
        if article_row(db, candidate) is None:
            return candidate
    raise AssertionError("unreachable: article_id_candidates is endless")
