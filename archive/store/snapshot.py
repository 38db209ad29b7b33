"""The crawl-state snapshot a cluster job carries: what one source's crawl reads from the
archive, copied into a small SQLite file of its own.

A crawl worker never opens ``archive.db`` (it may be on another machine). What the crawl
asks the archive (:class:`archive.store.crawlstate.CrawlState`: known articles and their
aliases, the last full capture of a URL, the listings' validators and poll intervals, the
links due for a retry, the source's health and back-off, the times of its edits for the
learned re-check schedule) is copied by the coordinator
(the process that enqueues the job, opening ``archive.db`` read-only) into a database with
the same tables and columns, restricted to the source's rows (:func:`write_snapshot`).
The worker opens that file with the same :class:`CrawlState` class, so the crawl's
decisions are the same code over the same rows.

Restricted to the source: a link to another source's article is not known to the crawl
and is fetched (the ingest links it to the article it belongs to, so nothing is duplicated).
"""

from __future__ import annotations

import sqlite3
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["pack_snapshot", "unpack_snapshot", "write_snapshot"]

# Only the columns CrawlState reads, each table with the index its lookups use.
_COPIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("articles", "SELECT id, url, title, modified, first_seen, removed_at, source"
                 " FROM src.articles WHERE source = :source", ("id", "source, first_seen")),
    ("aliases", "SELECT al.url, al.article_id, al.kind FROM src.aliases AS al"
                " JOIN src.articles AS a ON a.id = al.article_id WHERE a.source = :source",
     ("url",)),
    ("captures", "SELECT url, url_norm, article_id, fetched_at, requested_url, outcome,"
                 " revisit, status, digest, record_id FROM src.captures"
                 " WHERE source = :source", ("url", "url_norm", "article_id")),
    # Later versions only (the edits): when and how often the source edits, the input of
    # its learned re-check schedule (crawler/recheck.py).
    ("versions", "SELECT v.article_id, v.version, v.fetched_at FROM src.versions AS v"
                 " JOIN src.articles AS a ON a.id = v.article_id"
                 " WHERE a.source = :source AND v.version > 1", ("article_id",)),
    ("fetch_state", "SELECT * FROM src.fetch_state WHERE source = :source", ("url",)),
    ("source_state", "SELECT * FROM src.source_state WHERE source = :source", ()),
)


def write_snapshot(db_path: Path, source_id: str, out: Path) -> Path:
    """Copy ``source_id``'s crawl state from the archive at ``db_path`` (opened read-only;
    none there yet: empty tables) into a new SQLite file ``out``."""
    out.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(f"file:{out}", uri=True)
    try:
        if db_path.is_file():
            conn.execute("ATTACH DATABASE ? AS src", [f"{db_path.resolve().as_uri()}?mode=ro"])
            with conn:
                for table, select, indexes in _COPIES:
                    conn.execute(f"CREATE TABLE main.{table} AS {select}",
                                 {"source": source_id})
                    _index(conn, table, indexes)
            conn.execute("DETACH DATABASE src")
    finally:
        conn.close()
    return out


def _index(conn: sqlite3.Connection, table: str, indexes: Iterable[str]) -> None:
    for n, columns in enumerate(indexes):
        conn.execute(f"CREATE INDEX {table}_{n} ON {table} ({columns})")


def pack_snapshot(path: Path) -> bytes:
    """The snapshot file's bytes, compressed, for the job's arguments."""
    return zlib.compress(path.read_bytes(), 6)


def unpack_snapshot(data: bytes, out: Path) -> Path:
    """Write a packed snapshot to ``out`` (the worker's own folder); ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(zlib.decompress(data))
    return out
